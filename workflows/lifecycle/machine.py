"""The stages as a state machine: the ``transitions`` configuration a definition compiles to, and its picture.

Nothing here knows about acts or records: the same configuration drives the runtime machine
(:class:`~workflows.lifecycle.core.Core`), the mermaid diagram and the pages' lifecycle strip.
"""

from __future__ import annotations

from typing import Any

from definitions.schema import CANCELLED, CLOSED, Definition


def machine_config(definition: Definition) -> dict[str, Any]:
    """The ``transitions`` configuration a definition compiles to.

    States are the stages plus ``closed`` and ``cancelled``. Triggers:
    ``advance`` (to the next stage, guarded by the stage's gates),
    ``send_back_to_<stage>`` (to any earlier stage on the path) and ``cancel``.
    The same dict feeds the runtime Machine and the diagram, so the picture is
    the behaviour.
    """
    path = definition.path()
    on_site = definition.stages[definition.first_on_site_index()].id
    before_event = path[: path.index(on_site)] if on_site in path else path
    transitions: list[dict[str, Any]] = []
    for i, stage_id in enumerate(path):
        transitions.append(
            {"trigger": "advance", "source": stage_id, "dest": definition.next_stage(stage_id), "conditions": "gates_pass"}
        )
        if stage_id in before_event:  # once the doors open there is no going back, only forward or cancel
            for earlier in path[:i]:
                transitions.append({"trigger": f"send_back_to_{earlier}", "source": stage_id, "dest": earlier})
    # An event can be called off until it has happened; after that it can only close.
    transitions.append({"trigger": "cancel", "source": [*before_event, on_site], "dest": CANCELLED})
    return {
        "states": [*path, CLOSED, CANCELLED],
        "transitions": transitions,
        "initial": path[0],
        "auto_transitions": False,
    }


def mermaid_diagram(definition: Definition, current: str | None = None) -> str:
    """The lifecycle as a mermaid state diagram, drawn from the same machine config."""
    from transitions.extensions.diagrams import GraphMachine  # optional, only for pictures

    config = machine_config(definition)
    config = {**config, "initial": current or config["initial"]}

    class _Model:
        def gates_pass(self) -> bool:  # pragma: no cover - only drawn, never called
            return True

    machine = GraphMachine(model=_Model(), graph_engine="mermaid", title=definition.title, show_conditions=True, **config)
    text: str = machine.get_graph().draw(None).replace("\n  Class ", "\n  class ")  # mermaid's keyword is lowercase
    titles = {s.id: s.title for s in definition.stages} | {CLOSED: "Closed", CANCELLED: "Cancelled"}
    for state_id, title in titles.items():  # show each stage's title, keep its id as the node
        text = text.replace(f'state "{state_id}" as {state_id}', f'state "{title}" as {state_id}')
    return text


_SHARED_DEFINITIONS: dict[str, Definition] = {}


def shared_definition(definition: Definition, definition_hash: str) -> Definition:
    """The one Definition object of this content in this worker process.

    Every event's input carries its definition (about 120 KiB once decoded) and the SDK keeps the
    input for the run's life; definitions are frozen, so events of one kind can share one copy.
    A copy is reused only when equal to the one given, so a wrong hash cannot alias two contents.
    """
    known = _SHARED_DEFINITIONS.get(definition_hash)
    if known is None:
        if definition_hash and len(_SHARED_DEFINITIONS) < 256:
            _SHARED_DEFINITIONS[definition_hash] = definition
        return definition
    return known if known == definition else definition
