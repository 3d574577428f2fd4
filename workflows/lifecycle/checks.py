"""Gate checks: one function per check kind, each returning the reasons a gate is still open.

A check kind is a model in :mod:`definitions.schema` (``check: tasks_done``...); :data:`CHECKS` maps each
to the function that reads the record. A reason is a message id with parameters
(:class:`~workflows.reasons.Reason`), said in the reader's language by the API. :class:`Gates` adds a
gate's status (passed, waived, rejected, awaiting a decision, open) to the core.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from definitions.schema import (
    INCIDENT_CATEGORIES,
    AgendaReady,
    BudgetHasLine,
    BudgetWithinLimit,
    Definition,
    DocumentsPresent,
    EmergencyPlanReady,
    EventEnded,
    Gate,
    InvitationsSent,
    ItinerariesRecorded,
    KeynotesConfirmed,
    NoOpenIncidents,
    ObjectivesRecorded,
    PapersAcknowledged,
    RiskRegister,
    Stage,
    TasksDone,
    TeamNamed,
    WorkingDay,
)
from workflows.agenda import layout
from workflows.lifecycle.core import Core, _span, _span_parts
from workflows.messages import GateView
from workflows.reasons import Reason, because, because_n


def tasks_done(lc: Core, check: TasksDone, stage: Stage) -> list[Reason]:
    """The tasks named (default: the stage's required ones) are done; a task whose ``required_when`` does not
    hold for the event's expected attendees is not asked for."""
    r = lc.record
    ids = check.tasks or [t.id for t in stage.tasks if t.required]
    scale = {t.id: t.required_when for t in stage.tasks if t.required_when is not None}
    ids = [i for i in ids if i not in scale or scale[i].holds(lc.event.expected_attendees)]
    missing = [i for i in ids if i not in r.tasks]
    if missing:
        titles = {t.id: t.title for t in stage.tasks}
        return [because("task not done: %(title)s (%(task)s)", title=titles.get(i, i), task=i) for i in missing]
    return []


def budget_within_limit(lc: Core, check: BudgetWithinLimit, stage: Stage) -> list[Reason]:
    r = lc.record
    if not r.budget:
        return [because("no budget lines recorded yet")]
    total = sum((line.planned for line in r.budget.values()), Decimal(0))
    limit, currency = lc.event.budget_limit, lc.event.currency
    if total > limit:
        return [because(
            "planned budget %(total)s exceeds the limit %(limit)s",
            english=f"planned budget {total:,.2f} {currency} exceeds the limit {limit:,.2f} {currency}",
            total=str(total), limit=str(limit), currency=currency,
        )]
    return []


def budget_has_line(lc: Core, check: BudgetHasLine, stage: Stage) -> list[Reason]:
    r = lc.record
    line = r.budget.get(check.category)
    if line is not None and line.planned > 0:
        return []
    return [because("the budget has no %(budget_category)s line", budget_category=check.category)]


def keynotes_confirmed(lc: Core, check: KeynotesConfirmed, stage: Stage) -> list[Reason]:
    r = lc.record
    keynotes = [i for i in r.agenda if i.kind == "keynote"]
    if keynotes:  # with an agenda, every keynote item needs its own confirmed speaker
        reasons = []
        for item in keynotes:
            sp = r.speakers.get(item.speaker_id or "")
            if sp is None:
                reasons.append(because("keynote %(item)s (%(title)s) has no speaker",
                                       item=item.id, title=item.title))
            elif not sp.on_board:
                reasons.append(because("keynote %(item)s (%(title)s): %(name)s has %(speaker_status)s",
                                       item=item.id, title=item.title, name=sp.person.name,
                                       speaker_status=sp.status))
        return reasons
    slots = 1 if lc.event.keynote_slots is None else lc.event.keynote_slots
    confirmed = sum(1 for s in r.speakers.values() if s.slot == "keynote" and s.on_board)
    if confirmed < slots:
        return [because_n(
            "%(confirmed)s of %(count)s keynote slot has a confirmed speaker",
            "%(confirmed)s of %(count)s keynote slots have a confirmed speaker", slots,
            english=f"{confirmed} of {slots} keynote slot(s) have a confirmed speaker", confirmed=confirmed,
        )]
    return []


def agenda_ready(lc: Core, check: AgendaReady, stage: Stage) -> list[Reason]:
    reasons = agenda_reasons(lc, check.min_buffer_share)
    if check.opening_and_closing and lc.record.agenda:
        reasons += opening_and_closing(lc)
    return reasons


def opening_and_closing(lc: Core) -> list[Reason]:
    """The earliest item is an opening (welcome, background, goals) and the one ending last a closing."""
    items = lc.record.agenda
    first = min(items, key=lambda i: (i.start, i.id))
    last = max(items, key=lambda i: (i.end, i.id))
    reasons = []
    if first.kind != "opening":
        reasons.append(because("the agenda starts with %(item)s, not an opening", item=first.id))
    if last.kind != "closing":
        reasons.append(because("the agenda ends with %(item)s, not a closing", item=last.id))
    return reasons


def itineraries_recorded(lc: Core, check: ItinerariesRecorded, stage: Stage) -> list[Reason]:
    """Every speaker who accepted has an itinerary (``speaker_itinerary``)."""
    return [because("speaker %(name)s has no itinerary yet", name=s.person.name)
            for s in lc.record.speakers.values() if s.on_board and s.itinerary is None]


def invitations_sent(lc: Core, check: InvitationsSent, stage: Stage) -> list[Reason]:
    r = lc.record
    latest = lc._plus(lc.event.start, -check.days_before_start)
    span = _span(check.days_before_start)
    span_value, span_unit = _span_parts(check.days_before_start)
    if lc.in_database:
        if not r.invitations:
            return [because("no invitations sent yet")]
        late_batches = [b for b in r.invitations if b.at > latest]
        if late_batches:
            n = sum(b.count for b in late_batches)
            last = max(b.at for b in late_batches)
            return [because_n(
                "%(count)s invitation was sent less than %(span)s before the start (the latest at %(latest)s)",
                "%(count)s invitations were sent less than %(span)s before the start "
                "(the latest at %(latest)s)", n,
                english=f"{n} invitation(s) sent less than {span} before the start "
                        f"(the latest at {last.isoformat()})",
                span_value=span_value, span_unit=span_unit, latest=last.isoformat(), zone=lc.event.timezone,
            )]
        return []
    if not r.attendees:
        return [because("no invitations sent yet")]
    late = sorted(a.person.id for a in r.attendees.values() if a.invited_at > latest)
    if late:
        shown = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
        return [because_n(
            "%(count)s invitation was sent less than %(span)s before the start (%(people)s)",
            "%(count)s invitations were sent less than %(span)s before the start (%(people)s)", len(late),
            english=f"{len(late)} invitation(s) sent less than {span} before the start ({shown})",
            span_value=span_value, span_unit=span_unit, people=late[:5], more=max(len(late) - 5, 0),
        )]
    return []


def no_open_incidents(lc: Core, check: NoOpenIncidents, stage: Stage) -> list[Reason]:
    r = lc.record
    open_ = [i.id for i in r.incidents.values() if i.resolved_at is None]
    return [because("incident %(incident)s is still open", incident=i) for i in open_]


def event_ended(lc: Core, check: EventEnded, stage: Stage) -> list[Reason]:
    if lc.now < lc.event.end:
        return [because("the event ends at %(end)s", english=f"the event ends at {lc.event.end.isoformat()}",
                        end=lc.event.end.isoformat(), zone=lc.event.timezone)]
    return []


def agenda_reasons(lc: Core, min_buffer: float) -> list[Reason]:
    if not lc.record.agenda:
        return [because("no agenda recorded yet")]
    shape = layout(lc.record.agenda)
    reasons: list[Reason] = []
    for o in shape.overlaps:
        if o.room is not None:
            reasons.append(because("%(first)s and %(second)s overlap in room %(room)s",
                                   first=o.first, second=o.second, room=o.room))
        else:
            reasons.append(because("%(first)s and %(second)s overlap for speaker %(speaker)s",
                                   first=o.first, second=o.second, speaker=o.speaker))
    for room in shape.rooms:
        if len(room.items) > 1 and room.share < min_buffer:
            ids = ", ".join(room.items)
            reasons.append(because(
                "room %(room)s keeps %(share)s buffer, less than %(min_share)s (%(items)s)",
                english=f"room {room.room} keeps {room.share:.0%} buffer, less than {min_buffer:.0%} ({ids})",
                room=room.room, share=room.share, min_share=min_buffer, items=ids,
            ))
    return reasons


def documents_present(lc: Core, check: DocumentsPresent, stage: Stage) -> list[Reason]:
    """Each type named is attached (the record keeps the newest version per type: ``record_document``)."""
    return [because("no %(document)s attached yet", document=t) for t in check.types
            if t not in lc.record.documents]


def papers_acknowledged(lc: Core, check: PapersAcknowledged, stage: Stage) -> list[Reason]:
    """The papers are attached, and every person the team names in ``check.role`` acknowledged them by start
    minus ``days_before_start`` (calendar days in the event's zone)."""
    missing = [t for t in check.types if t not in lc.record.documents]
    if missing:
        return [because("no %(document)s attached yet", document=t) for t in missing]
    people = lc.event.team.get(check.role, [])
    if not people:
        return [because("the team names nobody as %(role)s", role=check.role)]
    by = lc._plus(lc.event.start, -check.days_before_start)
    late = sorted(p.id for p in people if p.id not in lc.record.receipts or lc.record.receipts[p.id] > by)
    if not late:
        return []
    done = len(people) - len(late)
    return [because_n(
        "%(done)s of %(count)s %(role)s acknowledged the papers in time (missing: %(people)s)",
        "%(done)s of %(count)s %(role)s acknowledged the papers in time (missing: %(people)s)", len(people),
        english=f"{done} of {len(people)} {check.role} acknowledged the papers by {by.isoformat()} "
                f"(missing: {', '.join(late[:5])})",
        done=done, role=check.role, people=late[:5],
    )]


def papers_checks(definition: Definition) -> list[PapersAcknowledged]:
    """The definition's papers checks (which role acknowledges which papers)."""
    return [c for s in definition.stages for g in s.gates for c in g.checks if isinstance(c, PapersAcknowledged)]


def risk_register(lc: Core, check: RiskRegister, stage: Stage) -> list[Reason]:
    """A register is kept (at least ``min_risks`` risks) and every high risk has an owner (the summary the API
    sends with ``record_risks`` after each write)."""
    fact = lc.record.risks
    count = fact.count if fact is not None else 0
    if count < check.min_risks:
        if count == 0:
            return [because("no risk register kept yet")]
        return [because_n("the risk register holds %(count)s risk; at least %(min)s expected",
                          "the risk register holds %(count)s risks; at least %(min)s expected", count,
                          min=check.min_risks)]
    return [because("high risk %(risk)s has no owner", risk=r) for r in (fact.high_unowned if fact else [])]


def objectives_recorded(lc: Core, check: ObjectivesRecorded, stage: Stage) -> list[Reason]:
    """At least ``min_objectives`` objectives are recorded (the count the API sends with ``record_objectives``)."""
    fact = lc.record.objectives
    count = fact.objectives if fact is not None else 0
    if count >= check.min_objectives:
        return []
    if count == 0:
        return [because("no objective recorded yet (metric, baseline and target)")]
    return [because_n("%(count)s objective recorded; at least %(min)s expected",
                      "%(count)s objectives recorded; at least %(min)s expected", count, min=check.min_objectives)]
def team_named(lc: Core, check: TeamNamed, stage: Stage) -> list[Reason]:
    """The event's team names a person for each role listed (default: every role of the definition)."""
    roles = check.roles or [r.id for r in lc.definition.roles]
    return [because("the team names nobody as %(role)s", role=role) for role in roles if not lc.event.team.get(role)]


def working_day(lc: Core, check: WorkingDay, stage: Stage) -> list[Reason]:
    """The start's day (in the event's zone) is neither a Saturday, a Sunday nor one of ``check.holidays``."""
    day = lc.event.start.astimezone(ZoneInfo(lc.event.timezone)).date()
    if day in check.holidays:
        return [because("the event starts on a holiday (%(day)s)", day=day.isoformat())]
    if day.weekday() >= 5:
        return [because("the event starts on a weekend day (%(day)s)", day=day.isoformat())]
    return []


def emergency_plan(lc: Core, check: EmergencyPlanReady, stage: Stage) -> list[Reason]:
    """Every incident category listed (default: all) has an owner in the plan, and each person the plan names
    for a role the team staffs is one of the team's people in that role (by name or id)."""
    plan = lc.record.emergency_plan
    if not plan:
        return [because("no emergency plan recorded yet")]
    owned = {e.category for e in plan}
    reasons = [because("the emergency plan names no owner for %(category)s incidents", category=c)
               for c in (check.categories or INCIDENT_CATEGORIES) if c not in owned]
    for e in plan:
        people = lc.event.team.get(e.role, [])
        if people and e.person not in {p.name for p in people} | {p.id for p in people}:
            reasons.append(because("the emergency plan names %(name)s for %(role)s, who is not on the team as "
                                   "%(role)s", name=e.person, role=e.role))
    return reasons


CHECKS: dict[type, Callable[[Core, Any, Stage], list[Reason]]] = {
    TeamNamed: team_named,
    WorkingDay: working_day,
    EmergencyPlanReady: emergency_plan,
    DocumentsPresent: documents_present,
    PapersAcknowledged: papers_acknowledged,
    RiskRegister: risk_register,
    ObjectivesRecorded: objectives_recorded,
    TasksDone: tasks_done,
    BudgetWithinLimit: budget_within_limit,
    BudgetHasLine: budget_has_line,
    KeynotesConfirmed: keynotes_confirmed,
    AgendaReady: agenda_ready,
    InvitationsSent: invitations_sent,
    NoOpenIncidents: no_open_incidents,
    EventEnded: event_ended,
    ItinerariesRecorded: itineraries_recorded,
}
"""Each check kind of the definition schema and the function that says why it does not hold (empty: it holds)."""


def reasons_of(lc: Core, check: Any, stage: Stage) -> list[Reason]:
    """Why `check` (of a gate in `stage`) does not hold yet; empty when it holds, or when its ``required_when``
    leaves the event out (its expected attendees are out of scale)."""
    if check.required_when is not None and not check.required_when.holds(lc.event.expected_attendees):
        return []
    return CHECKS[type(check)](lc, check, stage)


def blocks(check: Any) -> bool:
    """Whether the check holds its gate; a check with ``blocks: false`` only gives its reasons."""
    return bool(getattr(check, "blocks", True))


class Gates(Core):
    """The core with its gates' status."""

    def gate_status(self, stage: Stage, gate: Gate) -> tuple[str, list[Reason]]:
        """(status, reasons it is still open): the work of `gate_view` without building the view,
        which matters on the hot path (every act asks every gate of the stage)."""
        rec = self.record.gates.get(gate.id)
        if rec is not None and rec.decision == "waived":
            return "waived", []
        if rec is not None and rec.decision == "approved" and self._is_past(stage.id):
            return "passed", []
        reasons = [reason for check in gate.checks if blocks(check) for reason in reasons_of(self, check, stage)]
        notes = [reason for check in gate.checks if not blocks(check) for reason in reasons_of(self, check, stage)]
        if rec is not None and rec.decision == "rejected":
            rejected = (because("rejected by %(by)s (%(role)s): %(why)s", by=rec.by, role=rec.role, why=rec.reason)
                        if rec.reason else because("rejected by %(by)s (%(role)s)", by=rec.by, role=rec.role))
            return "rejected", [rejected, *reasons, *notes]
        if reasons:
            return "open", [*reasons, *notes]
        if gate.approval and (rec is None or rec.decision != "approved"):
            roles = list(gate.approval.roles)
            return "awaiting_decision", [because("awaiting a decision by %(roles)s",
                                                 english=f"awaiting a decision by {' or '.join(roles)}", roles=roles),
                                         *notes]
        return "passed", notes

    def gate_view(self, stage: Stage, gate: Gate) -> GateView:
        status, reasons = self.gate_status(stage, gate)
        return GateView(
            id=gate.id, stage=stage.id, title=gate.title, status=status,  # type: ignore[arg-type]
            reasons=[r.text for r in reasons], reason_messages=[r.message for r in reasons],
            approvers=list(gate.approval.roles) if gate.approval else [], decision=self.record.gates.get(gate.id),
        )

    def gates_pass(self) -> bool:
        """The condition of `advance`: every gate of the current stage passed or waived."""
        stage = self.current_stage()
        return all(self.gate_status(stage, g)[0] in ("passed", "waived") for g in stage.gates)
