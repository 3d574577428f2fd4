"""Acts of the day: time control of the agenda (start and end an item) and incidents (report,
acknowledge, resolve). Each act's ``check_``/``apply_`` pair is listed in :data:`HANDLERS`."""

from __future__ import annotations

from definitions.schema import Notify
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    AcknowledgeIncident,
    Act,
    AgendaItem,
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
    ReportIncident: Handler(check_report_incident, apply_report_incident),
    AcknowledgeIncident: Handler(check_acknowledge_incident, apply_acknowledge_incident),
    ResolveIncident: Handler(check_resolve_incident, apply_resolve_incident),
}
