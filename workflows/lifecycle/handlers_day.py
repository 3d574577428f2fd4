"""Acts of the day: time control of the agenda (start and end an item, change its plan) and incidents
(report, acknowledge, resolve). Each act's ``check_``/``apply_`` pair is listed in :data:`HANDLERS`."""

from __future__ import annotations

from definitions.schema import Notify
from workflows import agenda
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    AcknowledgeIncident,
    Act,
    AgendaChange,
    AgendaItem,
    ChangeItem,
    EndItem,
    IncidentRecord,
    RecordEmergencyPlan,
    ReportIncident,
    ResolveIncident,
    RunRecord,
    StartItem,
)
from workflows.refusals import conflict as _conflict
from workflows.refusals import invalid as _invalid


def _item(lc: Moves, item_id: str) -> AgendaItem:
    for item in lc.record.agenda:
        if item.id == item_id:
            return item
    raise _invalid("unknown agenda item %(item)r", item=item_id)


def check_start_item(lc: Moves, act: StartItem) -> None:
    _item(lc, act.item_id)
    if not lc._on_site():
        raise _conflict("the programme runs on site; the event is in %(current)s", current=lc.record.stage)
    run = lc.record.run.get(act.item_id)
    if run and run.started_at:
        raise _conflict("%(item)s already started at %(at)s", item=act.item_id, at=run.started_at.isoformat())


def apply_start_item(lc: Moves, act: StartItem) -> str:
    item = _item(lc, act.item_id)
    lc.record.run[item.id] = RunRecord(started_at=lc.now)
    late = (lc.now - item.start).total_seconds() / 60
    return f"{item.title} started" + (f", {late:.0f} min late" if late >= 1 else "")


def check_end_item(lc: Moves, act: EndItem) -> None:
    _item(lc, act.item_id)
    run = lc.record.run.get(act.item_id)
    if run is None or run.started_at is None:
        raise _conflict("%(item)s has not started", item=act.item_id)
    if run.ended_at is not None:
        raise _conflict("%(item)s already ended", item=act.item_id)


def apply_end_item(lc: Moves, act: EndItem) -> str:
    item = _item(lc, act.item_id)
    run = lc.record.run[item.id]
    run.ended_at = lc.now
    took = (lc.now - run.started_at).total_seconds() / 60 if run.started_at else 0
    return f"{item.title} ended after {took:.0f} of {item.minutes} min"


def _not_started(lc: Moves, item_id: str, change: str) -> None:
    run = lc.record.run.get(item_id)
    if run and run.started_at:
        raise _conflict("%(item)s has started: it cannot %(change)s", item=item_id, change=change)


def check_change_item(lc: Moves, act: ChangeItem) -> None:
    field = ChangeItem.NEEDS.get(act.change)
    if field and getattr(act, field) is None:
        raise _invalid("%(change)s needs %(field)s", change=act.change, field=field)
    if act.change == "swap" and act.with_item_id == act.item_id:
        raise _invalid("an item cannot be swapped with itself")
    if not lc._on_site():
        raise _conflict("the programme runs on site; the event is in %(current)s", current=lc.record.stage)
    _item(lc, act.item_id)
    run = lc.record.run.get(act.item_id)
    if run and run.ended_at:
        raise _conflict("%(item)s already ended", item=act.item_id)
    if act.change in ("move", "swap", "drop"):
        _not_started(lc, act.item_id, act.change)
    if act.change == "swap":
        _item(lc, act.with_item_id or "")
        _not_started(lc, act.with_item_id or "", act.change)
    if act.change == "move" and act.new_start is not None and act.new_start < lc.now:
        raise _invalid("%(item)s cannot move into the past (%(at)s)", item=act.item_id, at=act.new_start.isoformat())
    try:
        after = agenda.changed(lc.record.agenda, act)
    except ValueError:
        raise _invalid("%(item)s must keep between 1 minute and a day", item=act.item_id) from None
    if not act.allow_overlap:
        before = {frozenset((o.first, o.second)) for o in agenda.layout(lc.record.agenda).overlaps}
        new = [o for o in agenda.layout(after).overlaps if frozenset((o.first, o.second)) not in before]
        if new:
            o = new[0]
            raise _conflict("%(first)s and %(second)s would overlap in %(where)s (allow_overlap to change it anyway)",
                            first=o.first, second=o.second, where=o.room or o.speaker or "")


def apply_change_item(lc: Moves, act: ChangeItem) -> str:
    """Change the agenda, keep each touched item's plan from before the day's first change, tell the
    speakers of the items whose time changed (one message per item and change, keyed by its count)."""
    r = lc.record
    before = {i.id: i for i in r.agenda}
    r.agenda = agenda.changed(r.agenda, act)
    after = {i.id: i for i in r.agenda}
    touched = [i for i in before.values() if after.get(i.id) != i]
    for old in touched:
        note = r.agenda_changes.setdefault(old.id, AgendaChange(planned=old, at=lc.now))
        note.changes += 1
        note.last_change, note.reason, note.at = act.change, act.reason, lc.now
        note.dropped = old.id not in after
        sp = r.speakers.get(old.speaker_id or "")
        if sp is None:
            continue
        now = after.get(old.id)
        lc._notify_people("reminder", [sp.person], cause=f"agenda-change.{old.id}.{note.changes}", extra={
            "audience": "speaker", "agenda_change": act.change, "item": old.title, "reason": act.reason,
            "was_start": old.start.isoformat(), "new_start": now.start.isoformat() if now else "",
            "new_minutes": now.minutes if now else 0, "room": now.room if now else old.room,
        })
    item = before[act.item_id]
    what = {"shorten": f"shortened by {act.minutes} min", "extend": f"extended by {act.minutes} min",
            "move": f"moved to {act.new_start.isoformat() if act.new_start else ''}"
                    + (f" in {act.room}" if act.room and act.room != item.room else ""),
            "swap": f"swapped with {act.with_item_id}", "drop": "dropped"}[act.change]
    return f"{item.title} ({item.id}) {what}: {act.reason}"


def check_report_incident(lc: Moves, act: ReportIncident) -> None:
    if act.incident_id in lc.record.incidents:
        raise _conflict("incident %(incident)s is already recorded", incident=act.incident_id)


def apply_report_incident(lc: Moves, act: ReportIncident) -> str:
    owner = act.owner
    if owner is None and lc.owner_from_plan:
        owner = next((e.role for e in lc.record.emergency_plan if e.category == act.category), None)
    lc.record.incidents[act.incident_id] = IncidentRecord(
        id=act.incident_id, category=act.category, severity=act.severity, summary=act.summary,
        reported_at=lc.now, reported_by=act.actor.id, owner=owner,
    )
    if act.severity == "high":
        roles = lc.definition.told(lc.definition.escalate_to.incident_high)
        lc._notify(Notify(kind="escalation", roles=roles, channels=["email", "log"]),
                     cause=f"incident.{act.incident_id}", context={"incident": act.summary, "severity": "high"})
    return f"incident {act.incident_id} ({act.severity} {act.category}): {act.summary}"


def check_acknowledge_incident(lc: Moves, act: AcknowledgeIncident) -> None:
    inc = lc.record.incidents.get(act.incident_id)
    if inc is None:
        raise _invalid("unknown incident %(incident)r", incident=act.incident_id)
    if inc.resolved_at is not None:
        raise _conflict("incident %(incident)s is already resolved", incident=act.incident_id)
    if inc.acknowledged_at is not None and not act.action:
        raise _conflict("incident %(incident)s is already acknowledged", incident=act.incident_id)


def apply_acknowledge_incident(lc: Moves, act: AcknowledgeIncident) -> str:
    inc = lc.record.incidents[act.incident_id]
    inc.acknowledged_at = inc.acknowledged_at or lc.now
    if act.action:
        inc.actions.append(act.action)
    return f"incident {inc.id} acknowledged" + (f": {act.action}" if act.action else "")


def check_resolve_incident(lc: Moves, act: ResolveIncident) -> None:
    inc = lc.record.incidents.get(act.incident_id)
    if inc is None:
        raise _invalid("unknown incident %(incident)r", incident=act.incident_id)
    if inc.resolved_at is not None:
        raise _conflict("incident %(incident)s is already resolved", incident=act.incident_id)


def apply_resolve_incident(lc: Moves, act: ResolveIncident) -> str:
    lc.record.incidents[act.incident_id].resolved_at = lc.now
    return f"incident {act.incident_id} resolved"


def check_record_emergency_plan(lc: Moves, act: RecordEmergencyPlan) -> None:
    cats = [e.category for e in act.entries]
    dupes = sorted({c for c in cats if cats.count(c) > 1})
    if dupes:
        raise _invalid("the emergency plan names each incident category once: %(categories)s",
                       categories=", ".join(dupes))
    roles = lc.definition.role_ids()
    unknown = sorted({e.role for e in act.entries if e.role not in roles})
    if unknown:
        raise _invalid("the emergency plan names unknown roles: %(roles)s", roles=", ".join(unknown))


def apply_record_emergency_plan(lc: Moves, act: RecordEmergencyPlan) -> str:
    lc.record.emergency_plan = list(act.entries)
    return f"emergency plan recorded: {', '.join(f'{e.category} -> {e.role}' for e in act.entries)}"


HANDLERS: dict[type[Act], Handler] = {
    RecordEmergencyPlan: Handler(check_record_emergency_plan, apply_record_emergency_plan),
    StartItem: Handler(check_start_item, apply_start_item),
    EndItem: Handler(check_end_item, apply_end_item),
    ChangeItem: Handler(check_change_item, apply_change_item),
    ReportIncident: Handler(check_report_incident, apply_report_incident),
    AcknowledgeIncident: Handler(check_acknowledge_incident, apply_acknowledge_incident),
    ResolveIncident: Handler(check_resolve_incident, apply_resolve_incident),
}
