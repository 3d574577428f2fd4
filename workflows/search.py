"""The search attributes every event publishes, so dashboards list thousands in one visibility query.

``temporal workflow list --query "EventStage='planning' AND EventAtRisk=true"``
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair

__all__ = ["SearchAttributePair"]  # re-exported: the workflow and its client build pairs with it

from definitions.schema import Definition
from workflows.messages import EventDetails

KIND = SearchAttributeKey.for_keyword("EventKind")
STAGE = SearchAttributeKey.for_keyword("EventStage")
START = SearchAttributeKey.for_datetime("EventStart")
ESCALATION = SearchAttributeKey.for_int("EventEscalation")
OWNER = SearchAttributeKey.for_keyword("EventOwner")
AT_RISK = SearchAttributeKey.for_bool("EventAtRisk")
TITLE = SearchAttributeKey.for_text("EventTitle")
PROGRESS_DONE = SearchAttributeKey.for_int("EventProgressDone")
PROGRESS_TOTAL = SearchAttributeKey.for_int("EventProgressTotal")
AWAITING = SearchAttributeKey.for_keyword_list("EventAwaiting")
"""Roles whose decision a gate of the current stage awaits: the approvals inbox is one query."""

READERS = SearchAttributeKey.for_keyword_list("EventReaders")
"""Who may read the event (:func:`readers`): listing, counting and the inbox scope their one query by it."""

BOARD = (TITLE, PROGRESS_DONE, PROGRESS_TOTAL, AWAITING)
"""What a board card shows besides the basics, so the board needs no per-event reads."""

ALL = (KIND, STAGE, START, ESCALATION, OWNER, AT_RISK, *BOARD, READERS)
"""Registered on the dev server by ``convene dev`` and on a cluster by ``convene setup``."""


def attributes(event: EventDetails, kind: str, stage: str, level: int, at_risk: bool) -> list[SearchAttributePair[Any]]:
    """The values an event publishes for its current state."""
    return [
        SearchAttributePair(KIND, kind),
        SearchAttributePair(STAGE, stage),
        SearchAttributePair(START, event.start),
        SearchAttributePair(ESCALATION, level),
        SearchAttributePair(OWNER, event.owner),
        SearchAttributePair(AT_RISK, at_risk),
    ]


def board_attributes(title: str, done: int, total: int, awaiting: list[str]) -> list[SearchAttributePair[Any]]:
    """The card's title, progress and the roles awaited."""
    return [
        SearchAttributePair(TITLE, title),
        SearchAttributePair(PROGRESS_DONE, done),
        SearchAttributePair(PROGRESS_TOTAL, total),
        SearchAttributePair(AWAITING, awaiting),
    ]


def readers(event: EventDetails, definition: Definition) -> list[str]:
    """``EventReaders``: who may read the event, as sorted keywords (deterministic: the workflow upserts it).

    ``p:<id>`` for the owner and every person on the team; ``role:<role>`` for each role of the kind the
    team names nobody for (any holder may act as it there, :func:`api.auth.choose_role`, so may read);
    ``kind:<kind>`` for principals granted the whole kind; ``org:<organisation>`` for principals granted
    the organisation that owns it (events without one, all those started before, publish none). A
    principal presents the matching keywords (:func:`api.auth.reader_keywords`).
    """
    people = {f"p:{event.owner}"} | {f"p:{p.id}" for members in event.team.values() for p in members}
    staffed = {role for role, members in event.team.items() if members}
    open_roles = {f"role:{r}" for r in definition.role_ids() if r not in staffed and r != definition.owner_role}
    owner = {f"org:{event.organisation}"} if event.organisation else set()
    return sorted(people | open_roles | {f"kind:{definition.kind}"} | owner)


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    names = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "INT": "Int", "BOOL": "Bool", "TEXT": "Text",
             "KEYWORD_LIST": "KeywordList"}
    return [f"--search-attribute={k.name}={names[k.indexed_value_type.name]}" for k in ALL]


async def register(client: Any, namespace: str) -> None:
    """Register the search attributes on a server (idempotent: already-registered ones are kept).

    Used by ``convene setup`` on a self-hosted cluster and by the tests on the
    time-skipping server. (On Temporal Cloud, add them in the namespace settings.)
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    try:
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        known = set(existing.custom_attributes)
    except RPCError as err:  # the time-skipping test server can add but not list
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in ALL if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
