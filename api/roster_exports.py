"""What each spreadsheet export of an event holds: its columns, and its rows read a page at a time.

Five kinds (:data:`KINDS`): ``attendees`` (with RSVP, invitation, check-in and needs), ``check-ins``
(in check-in order), ``deliveries`` (every notification sent, oldest first), ``survey`` (the answers)
and ``budget`` (planned against actual per category, with the variance, and a total row). The first
four page through the roster database by keyset (:meth:`store.Roster.records`,
:meth:`store.Roster.check_ins`, :meth:`store.Roster.survey_responses`, :meth:`store.Journal.deliveries`),
so a 50,000-person roster is never held; the budget is the workflow's own (``StateView.budget``,
at most 100 lines).

Contact details follow the dossier's rule: a confidential event's exports withhold attendees' and
email recipients' addresses (``withheld``); webhook addresses are always written without credentials,
query or fragment. Times are UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from activities.figures import budget_row
from activities.rendering import redact_url
from convene.spreadsheet import Cell
from store import Journal, Roster
from workflows.messages import AttendeeRecord, BudgetView, DeliveryRecord

Kind = Literal["attendees", "check-ins", "deliveries", "survey", "budget"]
Format = Literal["csv", "xlsx"]
WITHHELD = "withheld"
PAGE = 2000
"""Rows per database page."""

Row = list[Cell]


@dataclass(frozen=True)
class Sources:
    """Where the rows come from, and what the reader may see."""

    event_id: str
    roster: Roster
    journal: Journal
    contact: bool
    """False for a confidential event: addresses are withheld."""
    budget: BudgetView | None = None
    """The workflow's budget (only the ``budget`` kind reads it)."""
    page: int = PAGE


@dataclass(frozen=True)
class Sheet:
    title: str
    header: list[str]
    rows: Callable[[Sources], AsyncIterator[Row]]


def _email(a: AttendeeRecord, contact: bool) -> str | None:
    return a.person.email if contact else WITHHELD


async def _attendees(s: Sources) -> AsyncIterator[Row]:
    async for a in s.roster.records(s.event_id, page=s.page):
        p = a.person
        yield [p.id, p.name, _email(a, s.contact), p.locale, p.category, p.key_client, "; ".join(p.needs),
               p.needs_note, a.rsvp, a.invitation, a.invited_at, a.checked_in_at, a.checked_in_by,
               a.checked_in_desk]


async def _check_ins(s: Sources) -> AsyncIterator[Row]:
    async for a in s.roster.check_ins(s.event_id, page=s.page):
        p = a.person
        yield [a.checked_in_at, p.id, p.name, a.checked_in_desk, a.checked_in_by, p.category, p.key_client,
               "; ".join(p.needs), p.needs_note]


def _recipient(d: DeliveryRecord, contact: bool) -> str:
    if d.to.startswith(("http://", "https://")):
        return redact_url(d.to) or ""
    if d.channel == "email" and not contact:
        return WITHHELD
    return d.to


async def _deliveries(s: Sources) -> AsyncIterator[Row]:
    async for d in s.journal.deliveries(s.event_id, page=s.page):
        yield [d.at, d.kind, d.channel, _recipient(d, s.contact), d.status, d.detail, d.key]


async def _survey(s: Sources) -> AsyncIterator[Row]:
    async for r in s.roster.survey_responses(s.event_id, page=s.page):
        yield [r.respondent, r.content, r.organisation, r.service, r.comment]


async def _budget(s: Sources) -> AsyncIterator[Row]:
    b = s.budget
    if b is None:
        return
    for line in sorted(b.lines, key=lambda line: line.category):
        r = budget_row(line)
        yield [r.category, b.currency, r.planned, r.actual, r.variance, r.variance_pct, r.note]
    yield ["total", b.currency, b.planned, b.actual, None, None, f"limit {b.limit}" if b.limit else None]


KINDS: dict[str, Sheet] = {
    "attendees": Sheet("Attendees", [
        "id", "name", "email", "locale", "category", "key_client", "needs", "needs_note", "rsvp", "invitation",
        "invited_at_utc", "checked_in_at_utc", "checked_in_by", "checked_in_desk"], _attendees),
    "check-ins": Sheet("Check-ins", [
        "checked_in_at_utc", "id", "name", "desk", "checked_in_by", "category", "key_client", "needs",
        "needs_note"], _check_ins),
    "deliveries": Sheet("Deliveries", ["at_utc", "kind", "channel", "to", "status", "detail", "key"], _deliveries),
    "survey": Sheet("Survey", ["respondent", "content", "organisation", "service", "comment"], _survey),
    "budget": Sheet("Budget", ["category", "currency", "planned", "actual", "variance", "variance_pct", "note"],
                    _budget),
}
"""Each export kind, by the name in its URL and on the command line."""


def filename(event_id: str, kind: str, fmt: str) -> str:
    """``<event id>-<kind>.<csv|xlsx>`` (event ids are safe in a file name)."""
    return f"{event_id}-{kind}.{fmt}"
