"""What the event looks like: the state view, the board summary, the agenda as projected, the facts the
roster database needs, and moving a roster kept in memory (events recorded before the database) out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

from workflows.lifecycle.core import AUDIT_TAIL, IDEMPOTENCY_WINDOW_DB
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    AgendaItemView,
    AttendeePage,
    AttendeeQuery,
    BudgetView,
    Counts,
    EmergencyPlanView,
    EventFacts,
    GateView,
    InvitationBatch,
    LegacyRoster,
    NeedView,
    Progress,
    RunRecord,
    StateView,
    TaskView,
)


class Views(Moves):
    """Everything below, and how it is shown."""

    def facts(self) -> EventFacts:
        """What the roster database needs of the event (stage, dates, whether check-in is open)."""
        e = self.event
        return EventFacts(event_id=e.id, kind=self.definition.kind, title=e.title, stage=self.record.stage,
                          status=self.record.status, on_site=self.on_site(), start=e.start, end=e.end,
                          timezone=e.timezone, locale=e.locale, confidential=self.definition.confidential,
                          registration=self.definition.registration, capacity=e.capacity,
                          offer_hours=self.definition.offer_hours, version=self.audit_count)

    def move_roster(self, chunk: int = 500) -> list[LegacyRoster]:
        """Move a record kept before the roster database: returns what to write there (in chunks) and
        leaves a record bounded by the definition. Idempotent writes make a repeated move harmless."""
        r, event_id = self.record, self.event.id
        if self.in_database:
            return []
        people = sorted(r.attendees.values(), key=lambda a: a.invited_at)
        parts = [LegacyRoster(event_id=event_id, attendees=people[i:i + chunk]) for i in range(0, len(people), chunk)]
        survey = list(r.survey.values())
        parts += [LegacyRoster(event_id=event_id, survey=survey[i:i + chunk]) for i in range(0, len(survey), chunk)]
        parts += [LegacyRoster(event_id=event_id, deliveries=r.deliveries[i:i + chunk])
                  for i in range(0, len(r.deliveries), chunk)]
        parts += [LegacyRoster(event_id=event_id, audit=r.audit[i:i + chunk]) for i in range(0, len(r.audit), chunk)]
        for a in people:
            if r.invitations and r.invitations[-1].at == a.invited_at:
                r.invitations[-1].count += 1
            else:
                self._add_invitation_batch(InvitationBatch(at=a.invited_at, count=1))
        r.roster = "database"
        r.audit_seq = len(r.audit)
        r.audit = r.audit[-AUDIT_TAIL:]
        r.attendees, r.survey, r.deliveries = {}, {}, []
        while len(r.applied) > IDEMPOTENCY_WINDOW_DB:
            del r.applied[next(iter(r.applied))]
        return parts

    def board_summary(
        self, tasks: list[TaskView] | None = None, gates: list[GateView] | None = None
    ) -> tuple[int, int, list[str]]:
        """(items done, items in all, roles awaited): tasks and gates of every stage, and the approver
        roles of the current stage's gates that await a decision."""
        d, r = self.definition, self.record
        if tasks is None:
            done = sum(t.id in r.tasks for s in d.stages for t in s.tasks)
            total = sum(len(s.tasks) for s in d.stages)
        else:
            done, total = sum(t.done for t in tasks), len(tasks)
        views = gates if gates is not None else [self.gate_view(s, g) for s in d.stages for g in s.gates]
        done += sum(g.status in ("passed", "waived") for g in views)
        total += len(views)
        awaiting = sorted({role for g in views if g.stage == r.stage and g.status == "awaiting_decision"
                           for role in g.approvers}) if self.active else []
        return done, total, awaiting

    def _agenda_view(self) -> list[AgendaItemView]:
        """Each item with its projected start: overruns and late starts push later items in the same room.

        The day's changes (``change_item``) are already in each item's plan (its start and minutes), so the
        projection starts from them; ``planned`` and ``change_reason`` say what it was before and why."""
        views: list[AgendaItemView] = []
        shift: dict[str, timedelta] = {}
        for item in sorted(self.record.agenda, key=lambda i: (i.start, i.id)):
            run = self.record.run.get(item.id) or RunRecord()
            projected = item.start + shift.get(item.room, timedelta(0))
            if run.started_at:
                projected = run.started_at
            expected_end = projected + timedelta(minutes=item.minutes)
            status: Literal["planned", "running", "overrun", "done"]
            if run.ended_at:
                actual_end, status = run.ended_at, "done"
            elif run.started_at:
                actual_end = max(expected_end, self.now)
                status = "overrun" if self.now > expected_end else "running"
            else:
                actual_end, status = expected_end, "planned"
            shift[item.room] = max(timedelta(0), actual_end - item.end)
            sp = self.record.speakers.get(item.speaker_id or "")
            change = self.record.agenda_changes.get(item.id)
            views.append(AgendaItemView(
                item=item, projected_start=projected, shift_minutes=(projected - item.start).total_seconds() / 60,
                status=status, started_at=run.started_at, ended_at=run.ended_at,
                speaker_status=sp.status if sp else None,
                planned=change.planned if change else None, change_reason=change.reason if change else None,
            ))
        return views

    def attendee_page(self, q: AttendeeQuery) -> AttendeePage:
        """A page of attendees in invitation order, filtered by `q` (a name, RSVP, checked in or not).

        Raises:
            ActRefused: the roster lives in the database (page it through the API instead).
        """
        self._roster_in_memory("attendees", "GET /events/{id}/attendees")
        needle = q.search.strip().casefold()
        found = [
            a for a in self.record.attendees.values()
            if (not needle or any(needle in (v or "").casefold() for v in (a.person.id, a.person.name, a.person.email)))
            and (q.rsvp == "any" or (a.rsvp or "none") == q.rsvp)
            and (q.checked_in is None or (a.checked_in_at is not None) == q.checked_in)
        ]
        return AttendeePage(total=len(self.record.attendees), matched=len(found),
                            items=found[q.offset:q.offset + q.limit])

    def view(self) -> StateView:
        d, e, r = self.definition, self.event, self.record
        tasks: list[TaskView] = []
        gates: list[GateView] = []
        for stage in d.stages:
            for t in stage.tasks:
                done = r.tasks.get(t.id)
                due = self._anchor(t.due, stage.id) if t.due else None
                in_scale = t.required_when is None or t.required_when.holds(e.expected_attendees)
                tasks.append(TaskView(
                    id=t.id, stage=stage.id, title=t.title, owner=t.owner, required=t.required and in_scale,
                    done=done is not None, done_at=done.done_at if done else None, done_by=done.by if done else None,
                    due=due, overdue=bool(due and done is None and self.now > due and self.active and in_scale),
                    automatic=bool(t.activity),
                ))
            gates += [self.gate_view(stage, g) for g in stage.gates]
        level, at_risk = self.escalation()
        lines = list(r.budget.values())
        planned = sum((line.planned for line in lines), Decimal(0))
        actual = sum((line.actual or Decimal(0) for line in lines), Decimal(0))
        speakers = list(r.speakers.values())
        attendees = list(r.attendees.values())  # the roster in memory only (events recorded before the database)
        done_items, total_items, _ = self.board_summary(tasks, gates)
        title = d.stage(r.stage).title if r.stage in d.stage_ids() else r.stage.title()
        return StateView(
            event=e, kind=d.kind, definition_hash=self.definition_hash, status=r.status, stage=r.stage,
            stage_title=title, stages=d.path(), stage_entered_at=r.stage_entered_at, now=self.now,
            can_advance=self.active and self.record.hold != r.stage and self.gates_pass(), tasks=tasks, gates=gates,
            deadlines=self.deadline_views(), escalation_level=level, at_risk=at_risk,
            budget=BudgetView(limit=e.budget_limit, currency=e.currency, planned=planned, actual=actual, lines=lines),
            speakers=Counts(
                invited=len(speakers), accepted=sum(s.on_board for s in speakers),
                declined=sum(s.status == "declined" for s in speakers),
                confirmed_keynotes=sum(s.on_board and s.slot == "keynote" for s in speakers),
                keynote_slots=1 if e.keynote_slots is None else e.keynote_slots,
            ),
            attendees=Counts(
                invited=self.invited_count(), rsvp_yes=sum(a.rsvp == "yes" for a in attendees),
                rsvp_no=sum(a.rsvp == "no" for a in attendees), rsvp_maybe=sum(a.rsvp == "maybe" for a in attendees),
                checked_in=sum(a.checked_in_at is not None for a in attendees), expected=e.expected_attendees,
            ),
            speaker_list=speakers,
            agenda=self._agenda_view(),
            dropped_items=[c for c in r.agenda_changes.values() if c.dropped],
            special_needs=[
                NeedView(attendee_id=a.person.id, name=a.person.name, needs=list(a.person.needs),
                         note=a.person.needs_note, checked_in=a.checked_in_at is not None)
                for a in attendees if a.person.needs and a.rsvp != "no"
            ],
            incidents=list(r.incidents.values()),
            emergency_plan=[EmergencyPlanView(**e.model_dump()) for e in r.emergency_plan],
            open_incidents=[i for i in r.incidents.values() if i.resolved_at is None],
            progress=Progress(done=done_items, total=total_items),
            audit=r.audit, audit_total=self.audit_count, deliveries=r.deliveries, effects=r.effects, roster=r.roster,
            calendar_sequence=r.calendar_sequence, on_site=self.on_site(), doors_open=self.doors_open(),
        )
