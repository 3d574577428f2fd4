"""Acts of preparing the event: gate decisions, tasks, the budget, speakers and the agenda.

Each act has a ``check_<act>`` (refuse with :class:`~workflows.refusals.ActRefused`, change nothing) and an
``apply_<act>`` (change the record, queue effects, return the audit's summary), listed in :data:`HANDLERS`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from definitions.schema import Notify
from workflows.lifecycle.checks import blocks, reasons_of
from workflows.lifecycle.core import LESSONS_TASK, RunActivity
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    Act,
    CompleteTask,
    Decide,
    GateRecord,
    InviteSpeaker,
    RecordBudget,
    RemoveBudgetLine,
    SetAgenda,
    SpeakerItinerary,
    SpeakerRecord,
    SpeakerReply,
    TaskRecord,
)
from workflows.refusals import conflict as _conflict
from workflows.refusals import invalid as _invalid


def check_decide(lc: Moves, act: Decide) -> None:
    stage, gate = lc.definition.gate(act.gate)
    lc._in_current_stage(stage, f"gate {gate.id}")
    view = lc.gate_view(stage, gate)
    if act.decision == "waive":
        if not (act.reason or "").strip():
            raise _invalid("waiving a gate needs a reason")
        if view.status in ("passed", "waived"):
            raise _conflict("gate %(gate)s is already %(status)s", gate=gate.id, status=view.status)
        return
    if gate.approval is None:
        raise _invalid("gate %(gate)s is computed from the record; it takes no decision (it can be waived)", gate=gate.id)
    if act.decision == "reject" and not (act.reason or "").strip():
        raise _invalid("a rejection needs a reason")
    rec = lc.record.gates.get(gate.id)
    if rec is not None and rec.decision == {"approve": "approved", "reject": "rejected"}[act.decision]:
        raise _conflict("gate %(gate)s is already %(status)s", gate=gate.id, status=rec.decision)
    if act.decision == "approve":
        blockers = [r for c in gate.checks if blocks(c) for r in reasons_of(lc, c, stage)]
        if blockers:  # the reasons' messages ride along, for the API to say them in the reader's language
            raise _conflict("cannot approve %(gate)s yet: %(reasons)s", gate=gate.id,
                            reasons="; ".join(r.text for r in blockers),
                            reason_messages=[r.message.model_dump() for r in blockers])


DECISIONS: dict[str, Literal["approved", "rejected", "waived"]] = {
    "approve": "approved", "reject": "rejected", "waive": "waived"}
"""A decision as the gate's record says it."""


def apply_decide(lc: Moves, act: Decide) -> str:
    decision = DECISIONS[act.decision]
    _, gate = lc.definition.gate(act.gate)
    lc.record.gates[gate.id] = GateRecord(
        decision=decision, by=act.actor.id, role=act.actor.role, at=lc.now, reason=act.reason
    )
    return f"{gate.title}: {decision}"


def check_complete_task(lc: Moves, act: CompleteTask) -> None:
    stage, task = lc.definition.task(act.task)
    if not lc._is_past(stage.id) and stage.id != lc.record.stage:
        raise _conflict("task %(task)s belongs to %(stage)s; the event is in %(current)s", task=task.id, stage=stage.id,
                        current=lc.record.stage)
    if task.id in lc.record.tasks:
        raise _conflict("task %(task)s is already done", task=task.id)
    if task.activity:
        raise _conflict("task %(task)s is done by the engine (%(activity)s), not by hand", task=task.id, activity=task.activity)
    before = [t for t in task.after if t not in lc.record.tasks]
    if before:
        raise _conflict("task %(task)s comes after %(tasks)s, not done yet", task=task.id, tasks=", ".join(before))
    if task.note_required and not (act.note or "").strip():
        raise _invalid("task %(task)s is done with a note saying what (%(title)s)", task=task.id, title=task.title)


def apply_complete_task(lc: Moves, act: CompleteTask) -> str:
    stage, task = lc.definition.task(act.task)
    lc.record.tasks[task.id] = TaskRecord(done_at=lc.now, by=act.actor.id, note=act.note)
    if task.id == LESSONS_TASK and lc.report_after_lessons:
        # The report quotes the lessons: one written before they were recorded is written again.
        for report in stage.tasks:
            if report.activity != "evaluation_report":
                continue
            if report.id in lc.record.tasks:
                lc.effects.append(RunActivity(report.id, report.activity))
                return f"task done: {task.title}; the evaluation report is written again with the lessons"
            if report.id in lc.record.started_activities:  # being written now, from a record without them
                lc.record.report_stale = True
                return f"task done: {task.title}; the evaluation report is written again once the one under way ends"
    return f"task done: {task.title}"


def check_record_budget(lc: Moves, act: RecordBudget) -> None:
    cats = [line.category for line in act.lines]
    if len(set(cats)) != len(cats):
        raise _invalid("each budget category may appear once per act")


def apply_record_budget(lc: Moves, act: RecordBudget) -> str:
    for line in act.lines:
        lc.record.budget[line.category] = line
    total = sum((line.planned for line in lc.record.budget.values()), Decimal(0))
    return f"budget lines recorded ({', '.join(line.category for line in act.lines)}); planned total {total:,.2f}"


def check_remove_budget_line(lc: Moves, act: RemoveBudgetLine) -> None:
    if act.category not in lc.record.budget:
        raise _invalid("the budget has no %(budget_category)s line", budget_category=act.category)


def apply_remove_budget_line(lc: Moves, act: RemoveBudgetLine) -> str:
    del lc.record.budget[act.category]
    total = sum((line.planned for line in lc.record.budget.values()), Decimal(0))
    return f"budget line removed ({act.category}); planned total {total:,.2f}"


def check_invite_speaker(lc: Moves, act: InviteSpeaker) -> None:
    existing = lc.record.speakers.get(act.speaker.id)
    if existing is not None and existing.status != "declined":
        raise _conflict("speaker %(speaker)s is already %(status)s", speaker=act.speaker.id, status=existing.status)


def apply_invite_speaker(lc: Moves, act: InviteSpeaker) -> str:
    lc.record.speakers[act.speaker.id] = SpeakerRecord(
        person=act.speaker, slot=act.slot, topic=act.topic, invited_at=lc.now
    )
    lc._notify_people("invitation", [act.speaker], cause=f"speaker.{act.speaker.id}.{act.key}",
                        extra=lc._invitation_context() | {"slot": act.slot, "topic": act.topic or "",
                                                "audience": "speaker"}, ics=True)
    return f"speaker invited: {act.speaker.name} ({act.slot})"


def check_speaker_reply(lc: Moves, act: SpeakerReply) -> None:
    sp = lc._speaker(act.speaker_id)
    if sp.status == act.response or (act.response == "accepted" and sp.status == "confirmed"):
        raise _conflict("speaker %(speaker)s has already %(status)s", speaker=act.speaker_id, status=sp.status)


def apply_speaker_reply(lc: Moves, act: SpeakerReply) -> str:
    sp = lc.record.speakers[act.speaker_id]
    sp.status = act.response
    sp.replied_at = lc.now
    if act.response == "accepted":
        lc._notify_people("confirmation", [sp.person], cause=f"speaker.{sp.person.id}.{act.key}",
                            extra={"slot": sp.slot, "topic": sp.topic or "", "audience": "speaker"})
        return f"speaker {sp.person.name} accepted ({sp.slot})"
    items = [i.id for i in lc.record.agenda if i.speaker_id == sp.person.id]
    if sp.slot == "keynote" or items:
        planner = lc.definition.told(lc.definition.escalate_to.speaker_declined)
        lc._notify(Notify(kind="escalation", roles=planner, channels=["email", "log"]),
                     cause=f"speaker-declined.{sp.person.id}.{act.key}",
                     context={"speaker": sp.person.name, "items": ", ".join(items) or sp.slot})
    reopened = f"; reopens {', '.join(items)}" if items else ("; the keynote slot is open again" if sp.slot == "keynote" else "")
    return f"speaker {sp.person.name} declined ({sp.slot}){reopened}"


def check_speaker_itinerary(lc: Moves, act: SpeakerItinerary) -> None:
    sp = lc._speaker(act.speaker_id)
    if not sp.on_board:
        raise _conflict("speaker %(speaker)s has %(status)s; an itinerary is for a speaker who accepted",
                        speaker=act.speaker_id, status=sp.status)


def apply_speaker_itinerary(lc: Moves, act: SpeakerItinerary) -> str:
    sp = lc.record.speakers[act.speaker_id]
    sp.itinerary = act.itinerary
    sp.status = "confirmed"
    return f"itinerary recorded for {sp.person.name}; confirmed"


def check_set_agenda(lc: Moves, act: SetAgenda) -> None:
    ids = [i.id for i in act.items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise _invalid("agenda item ids must be unique: %(items)s", items=", ".join(dupes))
    unknown = sorted({i.speaker_id for i in act.items if i.speaker_id and i.speaker_id not in lc.record.speakers})
    if unknown:
        raise _invalid("agenda names speakers not invited: %(speakers)s", speakers=", ".join(unknown))
    if any(run.started_at for run in lc.record.run.values()):
        raise _conflict("the programme has started; the agenda can no longer be replaced")


def apply_set_agenda(lc: Moves, act: SetAgenda) -> str:
    lc.record.agenda = sorted(act.items, key=lambda i: (i.start, i.room, i.id))
    return f"agenda set: {len(act.items)} item(s)"


HANDLERS: dict[type[Act], Handler] = {
    Decide: Handler(check_decide, apply_decide),
    CompleteTask: Handler(check_complete_task, apply_complete_task),
    RecordBudget: Handler(check_record_budget, apply_record_budget),
    RemoveBudgetLine: Handler(check_remove_budget_line, apply_remove_budget_line),
    InviteSpeaker: Handler(check_invite_speaker, apply_invite_speaker),
    SpeakerReply: Handler(check_speaker_reply, apply_speaker_reply),
    SpeakerItinerary: Handler(check_speaker_itinerary, apply_speaker_itinerary),
    SetAgenda: Handler(check_set_agenda, apply_set_agenda),
}
