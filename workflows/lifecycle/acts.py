"""Acts: the table of handlers, and what every act goes through (idempotency, authorisation, check, apply).

Each act is declared once, by its class in :mod:`workflows.messages.acts` (its update name and who may do
it); its handler (a check and an apply) is listed in the ``HANDLERS`` table of the module for its part of
the event (:mod:`.handlers_plan`, :mod:`.handlers_people`, :mod:`.handlers_day`, :mod:`.handlers_moves`).
:data:`HANDLERS` joins them; ``tests/unit/test_acts_catalogue.py`` fails when an act has no handler.
"""

from __future__ import annotations

from collections.abc import Collection

from definitions.schema import Definition
from workflows.lifecycle import handlers_day, handlers_moves, handlers_people, handlers_plan, handlers_records
from workflows.lifecycle.core import (
    GUEST,
    IDEMPOTENCY_WINDOW,
    IDEMPOTENCY_WINDOW_DB,
    REFUSALS_KEPT,
    act_digest,
)
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import ACT_NAMES, Act, ActResult, Allowed, CompleteTask, Decide, EventDetails, GateMay, MayAsk
from workflows.refusals import ActRefused
from workflows.refusals import conflict as _conflict
from workflows.refusals import forbidden as _forbidden

HANDLERS: dict[type[Act], Handler] = {
    **handlers_plan.HANDLERS, **handlers_people.HANDLERS, **handlers_day.HANDLERS, **handlers_moves.HANDLERS,
    **handlers_records.HANDLERS,
}
"""Every act class and its handler."""


def handler_of(act: Act) -> Handler:
    """The handler of `act`'s class (every act class has one: see :data:`HANDLERS`)."""
    return HANDLERS[type(act)]


def allowed_roles(definition: Definition, act: Act) -> list[str]:
    """The roles that may do `act` on an event of `definition`, as the act's class declares them: a gate's
    approvers, a task's owner, the permissions table (the definition's owner role where it names nobody).

    The workflow's validator and the API both call this, so their rules cannot drift apart.

    Raises:
        ActRefused: the act names an unknown gate or task.
    """
    return act.roles(definition)


def acts_as(definition: Definition, event: EventDetails, person_id: str, role: str) -> bool:
    """Whether `person_id` may act as `role` on this event: a role the event's team names is held by those
    people only (the owner role by the event's owner); any other role by whoever holds it."""
    people = event.team.get(role)
    if people:
        return person_id in {p.id for p in people}
    if role == definition.owner_role:
        return person_id == event.owner
    return True


def role_for(definition: Definition, event: EventDetails, person_id: str, held: Collection[str],
             allowed: list[str], what: str, as_role: str | None = None) -> str:
    """The role `person_id` (holding the roles `held`) does an act as, when `allowed` roles may do it: `as_role`
    if given, else the first allowed role they hold and act as on this event (:func:`acts_as`). The one rule
    for choosing a role: the API's acts and the page's buttons (query ``may``) both use it.

    Raises:
        ActRefused: ``forbidden``, saying which roles it takes or which team they are not on.
    """
    if as_role is not None:
        if as_role not in held:
            raise _forbidden(f"{person_id} does not hold the role {as_role}")
        candidates = [as_role] if as_role in allowed else []
    else:
        candidates = [r for r in allowed if r in held]
    if not candidates:
        raise _forbidden(f"to {what} here takes one of: {', '.join(allowed) or 'nobody'}")
    for role in candidates:
        if acts_as(definition, event, person_id, role):
            return role
    raise _forbidden(f"{person_id} is not on this event's team as {' or '.join(candidates)}")


class Acts(Moves):
    """Everything below, and acts: checked, applied once per idempotency key, audited."""

    def check(self, act: Act) -> ActResult | None:
        """Refuse an act that cannot be applied, or return the earlier answer for a repeated key.

        Raises:
            ActRefused: with a message a person understands; nothing changes.
        """
        seen = self.record.applied.get(act.key)
        if seen is not None:
            digest, result = seen
            if digest != act_digest(act):
                raise _conflict("idempotency key %(key)r was already used for a different act (%(act)s)", key=act.key, act=result.act)
            return result
        self.check_remembered(act)
        if not self.active:
            raise _conflict("the event is %(status)s; it takes no more acts", status=self.record.status)
        self._authorize(act)
        handler_of(act).check(self, act)
        return None

    def check_remembered(self, act: Act) -> None:
        """Refuse an act whose key was refused before, with the reason it was given then.

        Raises:
            ActRefused: the earlier refusal (or a conflict, when the key stood for another act).
        """
        refused = self.record.refused.get(act.key)
        if refused is None:
            return
        digest, kind, message = refused
        if digest != act_digest(act):
            raise _conflict(f"idempotency key {act.key!r} was already used for a different act")
        raise ActRefused(kind, message)

    def remember_refusal(self, act: Act, refusal: ActRefused) -> None:
        """Keep `act`'s key as refused for good (the newest :data:`REFUSALS_KEPT`), so that a later attempt
        with the same key, even one that would pass now, is refused with the same reason. A key already
        applied or already refused keeps what it has."""
        if act.key in self.record.applied or act.key in self.record.refused:
            return
        self.record.refused[act.key] = (act_digest(act), refusal.kind, refusal.message)
        while len(self.record.refused) > REFUSALS_KEPT:  # dicts keep insertion order: drop the oldest
            del self.record.refused[next(iter(self.record.refused))]

    def apply(self, act: Act) -> ActResult:
        """Apply an act (after :meth:`check`), record it, advance if the gates now allow."""
        earlier = self.check(act)
        if earlier is not None:
            return earlier
        name = act.update
        self.record.hold = None  # any act in a stage sent back to releases it (send_back sets it anew)
        summary = handler_of(act).apply(self, act)
        entry = self._audit(name, act.actor.id, act.actor.role, act.key, act.reason, summary)
        self._settle()
        result = ActResult(
            act=name, key=act.key, seq=entry.seq, stage=self.record.stage, status=self.record.status, message=summary
        )
        self.record.applied[act.key] = (act_digest(act), result)
        window = IDEMPOTENCY_WINDOW_DB if self.in_database else IDEMPOTENCY_WINDOW
        while len(self.record.applied) > window:  # dicts keep insertion order: drop the oldest
            del self.record.applied[next(iter(self.record.applied))]
        return result

    def _authorize(self, act: Act) -> None:
        actor = act.actor
        if actor.role == GUEST:  # a person outside the team, answering for themselves through their link
            field = type(act).self_service
            if field is not None and getattr(act, field) == actor.id:
                return  # the act's own check refuses a person it does not know
            own = ", ".join(name.replace("_", " ") for model, name in ACT_NAMES.items() if model.self_service)
            raise _forbidden(f"{actor.id} may answer only for themselves ({own})")
        if actor.role not in self.definition.role_ids():
            raise _forbidden("%(role)r is not a role of a %(kind)s", role=actor.role, kind=self.definition.kind)
        if not acts_as(self.definition, self.event, actor.id, actor.role):
            raise _forbidden("%(person)s does not hold the role %(role)s for this event", person=actor.id, role=actor.role)
        allowed = allowed_roles(self.definition, act)
        if actor.role not in allowed:
            raise _forbidden(
                "a %(role)s may not %(act)s here; allowed: %(allowed)s", role=actor.role,
                act=act.update.replace("_", " "), allowed=", ".join(allowed) or "nobody",
            )

    def may(self, ask: MayAsk) -> Allowed:
        """What `ask`'s person may do now, each as the role they would act as (:func:`role_for`): decisions on
        the current stage's gates, its open tasks done by hand, every other act. Empty once the event is over."""
        out = Allowed()
        if not self.active:
            return out
        d, held = self.definition, set(ask.roles)

        def role(allowed: list[str], what: str) -> str | None:
            try:
                return role_for(d, self.event, ask.person_id, held, allowed, what)
            except ActRefused:
                return None

        stage = self.current_stage()
        for gate in stage.gates:
            approvable = gate.approval is not None
            out.gates[gate.id] = GateMay(
                approve=role(Decide.roles_for(d, gate.id, "approve"), "decide") if approvable else None,
                reject=role(Decide.roles_for(d, gate.id, "reject"), "decide") if approvable else None,
                waive=role(Decide.roles_for(d, gate.id, "waive"), "decide"),
            )
        for task in stage.tasks:
            if task.id not in self.record.tasks and not task.activity:
                out.tasks[task.id] = role(CompleteTask.roles_for(d, task.id), "complete task")
        for model, name in ACT_NAMES.items():
            if model not in (Decide, CompleteTask):
                out.acts[name] = role(model.permitted_roles(d), name.replace("_", " "))
        out.send_back_to = [s for s in d.path() if self.machine_may(f"send_back_to_{s}")]
        out.cancellable = self.machine_may("cancel")
        return out
