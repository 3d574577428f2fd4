"""What is due with no act: deadline ladders, speaker reminders, item-end and overrun warnings, unacknowledged
incidents.

Each timer has a time it is due (``next_wakeup`` is the earliest) and fires once, recorded in the record's
``fired`` steps, so a replayed or repeated tick never fires it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from definitions.schema import Deadline, EventEnded, Notify
from workflows.lifecycle.checks import Gates
from workflows.lifecycle.core import SYSTEM
from workflows.lifecycle.notify import Notifier
from workflows.messages import DeadlineView, FiredStep, StepView


class Timers(Gates, Notifier):
    """The core with its gates, its notifications and its timers."""

    def _deadline_met(self, d: Deadline) -> bool:
        """Met, or not asked of this event (its ``required_when`` leaves the expected attendees out)."""
        if d.required_when is not None and not d.required_when.holds(self.event.expected_attendees):
            return True
        if d.met_when.gate:
            stage, gate = self.definition.gate(d.met_when.gate)
            if self._is_past(stage.id):
                return True
            return self.gate_status(stage, gate)[0] in ("passed", "waived")
        return d.met_when.task in self.record.tasks

    def _fired(self, d: Deadline, step: int, at: datetime) -> bool:
        return any(f.deadline == d.id and f.step == step and f.anchor == at for f in self.record.fired)

    def deadline_views(self) -> list[DeadlineView]:
        views = []
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None:
                continue
            met = self._deadline_met(d)
            steps = [
                StepView(
                    index=i,
                    at=self._step_at(at, s),
                    kind=s.kind,
                    notify=list(s.notify),
                    level=s.level,
                    fired=self._fired(d, i, at),
                )
                for i, s in enumerate(d.ladder)
            ]
            status: Literal["pending", "met", "missed", "void"]
            if d.required_when is not None and not d.required_when.holds(self.event.expected_attendees):
                status = "void"  # not asked of an event of this scale
            elif not self.active and not met:
                status = "void"
            elif met:
                status = "met"
            elif self.now >= at:
                status = "missed"
            else:
                status = "pending"
            nxt = next((s for s in steps if not s.fired), None) if status in ("pending", "missed") else None
            views.append(
                DeadlineView(
                    id=d.id,
                    title=d.title,
                    at=at,
                    status=status,
                    seconds_left=(at - self.now).total_seconds(),
                    next_step=nxt,
                    steps=steps,
                )
            )
        return views

    def escalation(self) -> tuple[int, bool]:
        """(escalation level, at risk) from fired steps of deadlines not yet met, and failed effects."""
        level, at_risk = 0, False
        if not self.active:
            return 0, False
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            for i, step in enumerate(d.ladder):
                if self._fired(d, i, at):
                    level = max(level, step.level)
                    at_risk = at_risk or step.at_risk
        if self._failing_effects():
            level, at_risk = max(level, 1), True
        for inc in self.record.incidents.values():
            if inc.resolved_at is None and self._fired_key(f"incident:{inc.id}", 0, inc.reported_at):
                level, at_risk = max(level, 2), True
        return level, at_risk

    def _failing_effects(self) -> list[str]:
        last: dict[str, bool] = {}
        for e in self.record.effects:
            last[e.name] = e.ok
        return [name for name, ok in last.items() if not ok]

    def next_wakeup(self) -> datetime | None:
        """The next time something is due with no act: a ladder step, the event's end, an activity task."""
        if not self.active:
            return None
        times: list[datetime] = []
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            times += [self._step_at(at, s) for i, s in enumerate(d.ladder) if not self._fired(d, i, at)]
        stage = self.current_stage()
        if any(isinstance(c, EventEnded) for g in stage.gates for c in g.checks) and self.now < self.event.end:
            times.append(self.event.end)
        for task in stage.tasks:
            if task.activity and task.run_at and task.id not in self.record.started_activities:
                when = self._anchor(task.run_at, stage.id)
                if when is not None:
                    times.append(when)
        times += [when for when, _ in self._people_timers()]
        return min(times) if times else None

    def _people_timers(self) -> list[tuple[datetime, Any]]:
        """Timers of people and the day: speaker reminders, overrun warnings, unacknowledged incidents.

        Each is (when, fire) where fire() does the step; each fires once (recorded in `fired`).
        """
        out: list[tuple[datetime, Any]] = []
        r = self.record
        for sp in r.speakers.values():
            if sp.status != "invited":
                continue
            for i, days in enumerate(self.definition.speaker_reminder_days):
                if not self._fired_key(f"speaker:{sp.person.id}", i, sp.invited_at):
                    out.append((self._plus(sp.invited_at, days), ("speaker", sp, i)))
        warn = timedelta(minutes=self.definition.item_end_warning_minutes) if self.item_end_warnings else None
        for item in r.agenda:
            run = r.run.get(item.id)
            if not (run and run.started_at and not run.ended_at):
                continue
            end = run.started_at + timedelta(minutes=item.minutes)
            if not self._fired_key(f"overrun:{item.id}", 0, run.started_at):
                out.append((end, ("overrun", item, run)))
            # anchored on the planned end: an item shortened or extended after its warning is warned again
            if warn and end - warn >= run.started_at and not self._fired_key(f"item-end:{item.id}", 0, end):
                out.append((end - warn, ("item_end", item, end)))
        for inc in r.incidents.values():
            if inc.severity == "high" and inc.acknowledged_at is None and inc.resolved_at is None:
                if not self._fired_key(f"incident:{inc.id}", 0, inc.reported_at):
                    out.append((inc.reported_at + timedelta(minutes=self.definition.incident_ack_minutes),
                                ("incident", inc, None)))
        return out

    def _fire_people_timers(self) -> list[str]:
        fired: list[str] = []
        for when, (what, subject, extra) in sorted(self._people_timers(), key=lambda t: t[0]):
            if when > self.now:
                continue
            if what == "speaker":
                sp, i = subject, extra
                self.record.fired.append(FiredStep(deadline=f"speaker:{sp.person.id}", step=i, at=self.now,
                                                   anchor=sp.invited_at))
                self._notify_people("reminder", [sp.person], cause=f"speaker-reminder.{sp.person.id}.{i}",
                                    extra={"audience": "speaker", "slot": sp.slot, "topic": sp.topic or ""})
                planner = self.definition.told(self.definition.escalate_to.speaker_silent)
                self._notify(Notify(kind="reminder", roles=planner, channels=["email", "log"]),
                             cause=f"speaker-silent.{sp.person.id}.{i}",
                             context={"speaker": sp.person.name, "invited": sp.invited_at.isoformat()})
                self._audit("remind", SYSTEM, "system", None, None,
                            f"speaker {sp.person.name} has not answered; reminder {i + 1} sent, planner told")
                fired.append(f"speaker:{sp.person.id}[{i}]")
            elif what == "overrun":
                item, run = subject, extra
                self.record.fired.append(FiredStep(deadline=f"overrun:{item.id}", step=0, at=self.now,
                                                   anchor=run.started_at))
                told = self.definition.told(self.definition.escalate_to.overrun)
                self._notify(Notify(kind="escalation", roles=told, channels=["log", "email"]),
                             cause=f"overrun.{item.id}", context={"item": item.title, "minutes": item.minutes})
                self._audit("overrun", SYSTEM, "system", None, None,
                            f"{item.title} ({item.id}) has overrun its {item.minutes} minutes")
                fired.append(f"overrun:{item.id}")
            elif what == "item_end":
                item, end = subject, extra
                self.record.fired.append(FiredStep(deadline=f"item-end:{item.id}", step=0, at=self.now, anchor=end))
                escalate = self.definition.escalate_to
                told = self.definition.told(escalate.item_ending or escalate.overrun)
                minutes = self.definition.item_end_warning_minutes
                self._notify(Notify(kind="escalation", roles=told, channels=["log", "email"]),
                             cause=f"item-end.{item.id}.{end.isoformat()}",
                             context={"item": item.title, "item_ending": f"{minutes:g}", "ends": end.isoformat()})
                self._audit("item_ending", SYSTEM, "system", None, None,
                            f"{item.title} ({item.id}) ends in {minutes:g} minutes; {', '.join(told)} told")
                fired.append(f"item-end:{item.id}")
            elif what == "incident":
                inc = subject
                self.record.fired.append(FiredStep(deadline=f"incident:{inc.id}", step=0, at=self.now,
                                                   anchor=inc.reported_at))
                told = self.definition.told(self.definition.escalate_to.incident_unacknowledged)
                self._notify(Notify(kind="escalation", roles=told, channels=["email", "log"]),
                             cause=f"incident-unacknowledged.{inc.id}",
                             context={"incident": inc.summary, "severity": inc.severity})
                self._audit("escalate", SYSTEM, "system", None, None,
                            f"incident {inc.id} not acknowledged within {self.definition.incident_ack_minutes:g} "
                            f"minutes; {', '.join(told)} told")
                fired.append(f"incident:{inc.id}")
        return fired
