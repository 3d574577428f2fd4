"""Moving through time and stages: firing what is due, advancing while the gates allow, entering and
leaving stages (their notifications and engine tasks), moving the dates, cancelling, activity outcomes."""

from __future__ import annotations

from datetime import datetime

from definitions.schema import CLOSED, Deadline, Notify
from workflows.lifecycle.core import LESSONS_TASK, SYSTEM, Compensate, RunActivity, _span
from workflows.lifecycle.timers import Timers
from workflows.messages import EffectRecord, FiredStep, GateRecord, TaskRecord, not_deliverable


class Moves(Timers):
    """Everything below, and the moves of time and stage."""

    def tick(self) -> list[str]:
        """Fire every ladder step and activity task that is due, then advance if the gates allow.

        Returns what fired, for logging. Each step fires once per deadline date.
        """
        fired: list[str] = []
        if not self.active:
            return fired
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            for i, step in enumerate(d.ladder):
                if self.now < self._step_at(at, step) or self._fired(d, i, at):
                    continue
                self.record.fired.append(FiredStep(deadline=d.id, step=i, at=self.now, anchor=at))
                fired.append(f"{d.id}[{i}]")
                self._audit("escalate" if step.kind == "escalation" else "remind", SYSTEM, "system", None, None,
                            f"{d.title}: {step.kind} step {i + 1} (due {at.isoformat()}), told {', '.join(step.notify) or 'nobody'}")
                level, _ = self.escalation()
                self._notify(
                    Notify(kind=step.kind, roles=list(step.notify), channels=["email", "log"]) if step.notify else None,
                    cause=f"{d.id}.{i}.{at.isoformat()}",
                    context={"deadline": d.title, "due": at.isoformat(), "level": level, "step": i + 1},
                )
                self._ladder_action(d, step.action, step.postpone_days)
                if not self.active:
                    return fired
        fired += self._fire_people_timers()
        self._start_due_activities()
        self._settle()
        return fired

    def _ladder_action(self, d: Deadline, action: str | None, postpone_days: float | None) -> None:
        if action is None:
            return
        if action == "send_attendee_reminder":
            cause = f"{d.id}.auto-reminder"
            at = self._anchor(d.at)
            if any(f.deadline == d.id and f.anchor != at for f in self.record.fired):
                cause += f".{at.isoformat() if at else ''}"  # again for a new date: a new message, not a retry
            if self.in_database:
                self._notify_roster("reminder", "not_declined", cause=cause)
                told = "reminders sent to every attendee who has not declined"
            else:
                people = [a.person for a in self.record.attendees.values() if a.rsvp != "no"]
                self._notify_people("reminder", people, cause=cause)
                told = f"reminders sent to {len(people)} attendee(s)"
            if self.speaker_reminders:
                speakers = [s.person for s in sorted(self.record.speakers.values(), key=lambda s: s.person.id)
                            if s.on_board]
                self._notify_people("reminder", speakers, cause=f"{cause}.speakers", extra={"audience": "speaker"})
                told += f", and to {len(speakers)} speaker(s) on board"
            if d.met_when.task and d.met_when.task not in self.record.tasks:
                self.record.tasks[d.met_when.task] = TaskRecord(done_at=self.now, by=SYSTEM, note="sent automatically")
            self._audit("auto_reminder", SYSTEM, "system", None, None, told)
        elif action == "send_survey_reminder":
            if self.in_database:
                self._notify_roster("reminder", "survey_pending", cause=f"{d.id}.survey-reminder",
                                    extra={"survey": True})
                told = "survey reminder sent to every attendee who came and has not answered"
            else:
                people = [a.person for a in self.record.attendees.values()
                          if (a.checked_in_at or a.rsvp == "yes") and a.person.id not in self.record.survey]
                self._notify_people("reminder", people, cause=f"{d.id}.survey-reminder", extra={"survey": True})
                told = f"survey reminder sent to {len(people)} attendee(s) who have not answered"
            self._audit("survey_reminder", SYSTEM, "system", None, None, told)
        elif action == "auto_reject" and d.met_when.gate:
            stage, gate = self.definition.gate(d.met_when.gate)
            if stage.id == self.record.stage and gate.approval:
                self.record.gates[gate.id] = GateRecord(
                    decision="rejected", by=SYSTEM, role="system", at=self.now, reason=f"no decision by {d.title}"
                )
                self._audit("auto_reject", SYSTEM, "system", None, None, f"{gate.title}: rejected, no decision in time")
        elif action == "postpone" and postpone_days:
            old = self.event.start
            self._move_dates(self._plus(self.event.start, postpone_days), self._plus(self.event.end, postpone_days))
            if self.calendar_updates:
                self._update_calendars("postponement", "REQUEST", {"postponed_from": old.isoformat()})
            self._audit("auto_postpone", SYSTEM, "system", None, None, f"postponed by {_span(postpone_days)}")
        elif action == "cancel" and self.machine_may("cancel"):
            self._cancel(f"{d.title} missed")
            self._audit("auto_cancel", SYSTEM, "system", None, None, f"cancelled: {d.title} missed")

    def _settle(self) -> None:
        """Advance while the gates allow; entering a stage queues its notifications and tasks."""
        while self.active and self.record.hold != self.record.stage and self.machine_may("advance"):
            origin = self.record.stage
            self.machine_fire("advance")
            if self.record.stage == CLOSED:
                self.record.status = "closed"
                self._audit("close", SYSTEM, "system", None, None, "all stages done; event closed")
                self._stage_notes(self.definition.stage(origin).on_exit, origin, "exit")
                break
            self._entered(self.record.stage, previous=origin)

    def _entered(self, stage_id: str, previous: str | None = None) -> None:
        self.record.stage_entered_at = self.now
        self.record.stages_entered[stage_id] = self.now
        if previous is not None:
            self._audit("advance" if self._path_index(stage_id) > self._path_index(previous) else "move",
                        SYSTEM, "system", None, None, f"{previous} -> {stage_id}")
            self._stage_notes(self.definition.stage(previous).on_exit, previous, "exit")
        self._stage_notes(self.definition.stage(stage_id).on_enter, stage_id, "enter")
        self._start_due_activities()

    def _stage_notes(self, notes: list[Notify], stage_id: str, when: str) -> None:
        for n, note in enumerate(notes):
            self._notify(note, cause=f"{when}.{stage_id}.{self.audit_count}.{n}", context={"stage": stage_id})

    def _start_due_activities(self) -> None:
        stage = self.current_stage() if self.active else None
        if stage is None:
            return
        for task in stage.tasks:
            if not task.activity or task.id in self.record.started_activities or task.id in self.record.tasks:
                continue
            when = self._anchor(task.run_at, stage.id) if task.run_at else self.now
            if when is not None and when <= self.now:
                self.record.started_activities.append(task.id)
                self.effects.append(RunActivity(task.id, task.activity))

    def activity_finished(self, task_id: str, ok: bool, detail: str) -> None:
        """Record an activity task's outcome; success completes the task."""
        self._effect(EffectRecord(name=task_id, ok=ok, detail=detail, at=self.now))
        if self.record.report_stale and self._task_activity(task_id) == "evaluation_report":
            self.record.report_stale = False  # that run read the record before the lessons: once more with them
            self.effects.append(RunActivity(task_id, "evaluation_report"))
        if ok and self._task_activity(task_id) == "evaluation_report" and self.definition.report_to:
            self._send_report(detail)
        if ok and self._task_activity(task_id) == "send_thanks":  # who was thanked: a rerun skips them
            refused = not_deliverable(detail)
            for sp in self.record.speakers.values():
                if sp.on_board and sp.person.id not in refused:
                    sp.thanked = True
        if ok and task_id not in self.record.tasks:
            self.record.tasks[task_id] = TaskRecord(done_at=self.now, by=SYSTEM, note=detail)
            self._audit("task_done", SYSTEM, "system", None, None, f"task done by the engine: {task_id}")
        elif not ok:
            self._audit("effect_failed", SYSTEM, "system", None, None, f"{task_id} failed: {detail}")
            self._notify(Notify(kind="escalation", roles=[self.definition.owner_role], channels=["email", "log"]),
                         cause=f"failed.{task_id}.{self.audit_count if self.in_database else len(self.record.effects)}", context={"failed": task_id, "detail": detail})
        self._settle()

    def _send_report(self, summary: str) -> None:
        """Tell the definition's ``report_to`` roles that the evaluation report is written (again, after the
        lessons): its one-line summary and the lessons it quotes. A confidential kind's copy leaves the lessons
        out (free text, which may name people and how to reach them): they read them in the dossier. Only
        definitions that name ``report_to`` do this (none did before it existed), so running events are unchanged."""
        lessons = self.record.tasks.get(LESSONS_TASK)
        quoted = lessons.note if lessons and lessons.note and not self.definition.confidential else ""
        note = Notify(kind="evaluation_report", roles=list(self.definition.report_to), channels=["email", "log"])
        self._notify(note, cause=f"report.{self.audit_count if self.in_database else len(self.record.effects)}", context={"summary": summary, "lessons": quoted or ""})

    def _move_dates(self, start: datetime, end: datetime) -> None:
        """Shift the event; ladder steps already fired stay fired unless their new time is still ahead.

        A step that did the deadline's own work for the old date (the automatic attendee reminder, which
        marks its task done) is re-armed with it: the task is reopened when the step's new time is ahead,
        so the deadline is pending again and the reminder goes out before the new date.
        """
        before = {d.id: self._anchor(d.at) for d in self.definition.deadlines}
        self.event = self.event.model_copy(update={"start": start, "end": end})
        for d in self.definition.deadlines:
            old_at, new_at = before[d.id], self._anchor(d.at)
            if old_at is None or new_at is None or old_at == new_at:
                continue
            for i, step in enumerate(d.ladder):
                if not self._fired(d, i, old_at):
                    continue
                if self._step_at(new_at, step) <= self.now:
                    self.record.fired.append(FiredStep(deadline=d.id, step=i, at=self.now, anchor=new_at))
                elif self.rearm_own_steps and step.action == "send_attendee_reminder" and d.met_when.task:
                    done = self.record.tasks.get(d.met_when.task)
                    if done is not None and done.by == SYSTEM:  # done by this step, for the old date
                        del self.record.tasks[d.met_when.task]

    def _cancel(self, reason: str) -> None:
        if self.calendar_updates:
            self._update_calendars("cancellation", "CANCEL", {"reason": reason})
        else:  # runs recorded before: a text notice to those who had not declined
            people = [s.person for s in self.record.speakers.values() if s.on_board]
            if self.in_database:
                self._notify_roster("cancellation", "not_declined", cause="cancel", extra={"reason": reason})
            else:
                people += [a.person for a in self.record.attendees.values() if a.rsvp != "no"]
            self._notify_people("cancellation", people, cause="cancel", extra={"reason": reason})
        self._notify(Notify(kind="cancellation", roles=sorted(self.definition.role_ids()), channels=["log"]),
                     cause="cancel.team", context={"reason": reason})
        for booking in self.definition.on_cancel:
            self.effects.append(Compensate(booking))
        self.machine_fire("cancel")
        self.record.status = "cancelled"
