"""``EventLifecycle``: one durable workflow per event, whatever its kind.

The workflow is a thin deterministic shell around :class:`workflows.lifecycle.Lifecycle`:
updates are checked by the lifecycle in their validators (so a refused act never
reaches history) and applied by it in their handlers, except acts sent with final
refusals (update id ``act:<key>``, the API's): those are decided in the handler,
which remembers a refusal with its key; the main loop sleeps until
the next deadline step *or* an act, lets the lifecycle fire what is due, and runs
the effects it asks for as activities. Activities are called by name, so this
module imports none of their (non-deterministic) dependencies.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from convene.metrics import count_escalations
    from workflows import search
    from workflows.effects import ROSTER_RETRY, run_effect
    from workflows.lifecycle import ActRefused, Lifecycle, shared_definition
    from workflows.messages import (
        ACT_NAMES,
        ACT_UPDATE_PREFIX,
        Act,
        ActResult,
        Allowed,
        AttendeePage,
        AttendeeQuery,
        AuditBatch,
        EventFacts,
        InvitationSend,
        MayAsk,
        StateView,
        WorkflowInput,
    )

WORKFLOW_NAME = "EventLifecycle"

def _refusal(err: ActRefused) -> ApplicationError:
    """A refused act as the error the client sees: its type says which kind of refusal."""
    # details: the message id and its parameters, so the API can say it in the reader's language
    return ApplicationError(err.message, {"message_id": err.message_id, "params": err.params},
                            type=err.kind.capitalize(), non_retryable=True)


def _act_update(model: type[Act]) -> Any:
    """An update named after the act (``model.update``), validated and applied by the lifecycle.

    Every act is handled the same way, so the handlers are made here rather than
    written out; Temporal sees ordinary typed update handlers with validators.
    """
    name = model.update

    def handler(self: EventLifecycle, act: Any) -> ActResult:
        return self._apply(act)

    def validator(self: EventLifecycle, act: Any) -> None:
        self._check(act)

    for fn in (handler, validator):
        fn.__name__ = fn.__qualname__ = f"{name}_{fn.__name__}"
    handler.__annotations__ = {"act": model, "return": ActResult}
    validator.__annotations__ = {"act": model, "return": None}
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


def _with_act_updates(cls: type[EventLifecycle]) -> type[EventLifecycle]:
    """Give the workflow one update per act class (:data:`~workflows.messages.ACT_NAMES`): an act declared
    by its class is an update without another line here."""
    for model, name in ACT_NAMES.items():
        setattr(cls, name, _act_update(model))
    return cls


@workflow.defn(name=WORKFLOW_NAME)
@_with_act_updates
class EventLifecycle:
    @workflow.init
    def __init__(self, inp: WorkflowInput) -> None:
        now = workflow.now()
        # One decoded definition shared by this worker's events of that kind (the SDK keeps `inp`).
        inp.definition = shared_definition(inp.definition, inp.definition_hash)
        # Attendees, survey, deliveries and the whole audit live in the roster database since this
        # change; histories recorded before it replay with the roster in memory (patched() is False).
        self._database = workflow.patched("roster-in-database")
        if inp.record is None:
            self._lc = Lifecycle.start(inp.definition, inp.event, now, inp.definition_hash,
                                       roster="database" if self._database else "memory")
        else:
            self._lc = Lifecycle(inp.definition, inp.event, inp.record, inp.definition_hash).at(now)
        # A postponement re-arms the automatic attendee reminder (issue 17, item 8); runs recorded
        # before that change keep the old behaviour so their histories replay.
        self._lc.rearm_own_steps = workflow.patched("postpone-rearms-own-steps")
        # Postponing and cancelling update every invitation's calendar entry, and whole days count as
        # calendar days in the event's zone across clock changes (issue 17); one patch for both.
        calendar = workflow.patched("calendar-updates")
        self._lc.calendar_updates = self._lc.zone_days = calendar
        # The start-7-days reminder reaches the speakers on board too (issue 20, defect 3).
        self._lc.speaker_reminders = workflow.patched("speaker-reminders")
        # Lessons recorded after the evaluation report write the report again (issue 20, defect 5).
        self._lc.report_after_lessons = workflow.patched("report-after-lessons")
        # A warning before a running agenda item's end (issue 20, item 2): a new timer for events on site.
        self._lc.item_end_warnings = workflow.patched("item-end-warning")
        # An incident reported without an owner takes the emergency plan's owner for its category (issue 20).
        self._lc.owner_from_plan = workflow.patched("incident-owner-from-plan")
        # A record kept in memory is moved once, at the start of the first run under this code.
        self._legacy = self._lc.move_roster() if self._database and not self._lc.in_database else []
        self._flushing = False
        self._syncing = False
        self._synced: tuple[Any, ...] | None = None
        self._acted = False
        self._timer: asyncio.Task[None] | None = None
        self._running: set[asyncio.Future[None]] = set()
        self._inviting: set[asyncio.Future[None]] = set()  # invitation sends in flight
        self._timer_at: datetime | None = None
        # What the starter already set need not be upserted again (one history event saved per event).
        self._attributes: dict[str, Any] = {p.key.name: p.value for p in workflow.info().typed_search_attributes}
        self._bound = {"event_id": inp.event.id, "kind": inp.definition.kind}

    @workflow.run
    async def run(self, inp: WorkflowInput) -> StateView:
        lc = self._lc
        # Effects (notifications, archive, compensations) run beside the loop, so a notification
        # retrying for half an hour no longer holds back deadlines or the stage in visibility.
        # Events started before this ran them in line; patched() keeps their histories valid.
        beside = workflow.patched("effects-beside-the-loop")
        for part in self._legacy:  # before anything reads the roster database
            await workflow.execute_activity("import_legacy_record", part, start_to_close_timeout=timedelta(minutes=5),
                                            retry_policy=ROSTER_RETRY)
        if self._legacy:
            self._log("info", "roster moved to the database", parts=len(self._legacy))
            self._legacy = []
        while True:
            if beside:
                self._start_effects()
            else:
                await self._run_effects()
            self._publish()
            if lc.in_database:
                self._write_records()
            if not lc.active:
                await self._drain_effects(final=True)  # compensations and last notices finish before the end
                break
            info = workflow.info()
            if info.is_continue_as_new_suggested() or (
                inp.history_limit is not None and info.get_current_history_length() >= inp.history_limit
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._drain_effects()
                workflow.continue_as_new(
                    WorkflowInput(event=lc.event, definition=lc.definition, definition_hash=lc.definition_hash,
                                  record=lc.record, history_limit=inp.history_limit)
                )
            timer = self._timer_for(lc.at(workflow.now()).next_wakeup())
            await workflow.wait_condition(lambda: self._acted or bool(lc.effects) or (timer is not None and timer.done()))
            self._acted = False
            seq = lc.audit_count
            fired = lc.at(workflow.now()).tick()
            if fired:
                self._log("info", "deadline steps fired", steps=fired, stage=lc.record.stage)
                self._count_escalations(seq)
        self._log("info", "event finished", status=lc.record.status)
        return lc.at(workflow.now()).view()

    def _count_escalations(self, after_seq: int) -> None:
        """Count the escalations the last tick fired (audit entries after `after_seq`), by the event's
        escalation level now. Metrics are no commands: nothing here changes the history, and the
        workflow's meter records nothing while replaying."""
        lc = self._lc
        escalations = [e for e in lc.record.audit if e.seq > after_seq and e.act in ("escalate", "overrun")]
        if escalations:
            level, _ = lc.at(workflow.now()).escalation()
            count_escalations([level] * len(escalations))

    def _log(self, level: str, message: str, **fields: Any) -> None:
        """Log with the event id bound; workflow.logger drops lines while replaying."""
        getattr(workflow.logger, level)(message, extra=self._bound | fields)

    def _timer_for(self, wake_at: datetime | None) -> asyncio.Task[None] | None:
        """One durable timer for the next thing due, kept while that time does not move.

        Re-creating a timer on every act would add two history events per act;
        an act rarely changes the next deadline, so the timer usually stays.
        """
        if wake_at == self._timer_at and self._timer is not None and not self._timer.done():
            return self._timer
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer_at, self._timer = wake_at, None
        if wake_at is not None:
            delay = max((wake_at - workflow.now()).total_seconds(), 0.001)
            self._timer = asyncio.ensure_future(workflow.sleep(delay, summary=f"next due at {wake_at.isoformat()}"))
        return self._timer

    # -------------------------------------------------------------- effects

    async def _run_effects(self) -> None:
        """Run what the lifecycle asked for, until it asks for nothing more (in line: the old path)."""
        while effects := self._lc.take_effects():
            await asyncio.gather(*(self._run_effect(e) for e in effects))

    def _start_effects(self) -> None:
        """Start each effect the lifecycle asked for as a task of its own; the loop goes on."""
        for effect in self._lc.take_effects():
            task = asyncio.ensure_future(self._run_effect(effect))
            self._running.add(task)
            task.add_done_callback(self._effect_done)
            if isinstance(effect, InvitationSend):
                self._inviting.add(task)
                task.add_done_callback(self._inviting.discard)

    def _effect_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._acted = True  # its outcome may complete a task or queue more effects: look again

    async def _drain_effects(self, final: bool = False) -> None:
        """Wait until every effect, and every effect those queue, has finished; at the `final` end, also
        until the audit and the event's facts are in the database (a new run carries what is unwritten
        in its record and writes it itself)."""
        while self._lc.effects or self._running or (final and self._unwritten()):
            self._start_effects()
            if self._lc.in_database:
                self._write_records()
            if self._running:
                await asyncio.gather(*list(self._running))

    def _unwritten(self) -> bool:
        lc = self._lc
        return lc.in_database and (bool(lc.record.audit_outbox) or self._facts_key(lc.facts()) != self._synced)

    @staticmethod
    def _facts_key(facts: EventFacts) -> tuple[Any, ...]:
        return facts.stage, facts.status, facts.on_site, facts.start, facts.end, facts.title

    def _write_records(self) -> None:
        """Write the audit entries not yet in the database (one batch in flight at a time: under load
        batches grow instead of activities multiplying), and the event's facts when they changed."""
        lc = self._lc
        if lc.record.audit_outbox and not self._flushing:
            self._flushing = True
            batch = AuditBatch(event_id=lc.event.id, entries=list(lc.record.audit_outbox[:500]))
            self._beside(self._write_audit(batch))
        facts = lc.at(workflow.now()).facts()
        if self._facts_key(facts) != self._synced and not self._syncing:
            self._syncing = True
            self._beside(self._sync(facts))

    def _beside(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._effect_done)

    async def _write_audit(self, batch: AuditBatch) -> None:
        try:
            await workflow.execute_activity("record_audit", batch, start_to_close_timeout=timedelta(minutes=1),
                                            retry_policy=ROSTER_RETRY)
            self._lc.audit_written(batch.entries[-1].seq)
        finally:
            self._flushing = False

    async def _sync(self, facts: EventFacts) -> None:
        try:
            await workflow.execute_activity("sync_event", facts, start_to_close_timeout=timedelta(minutes=1),
                                            retry_policy=ROSTER_RETRY)
            self._synced = self._facts_key(facts)
        finally:
            self._syncing = False

    async def _run_effect(self, effect: Any) -> None:
        await run_effect(self._lc, effect, self._inviting, self._log)

    def _publish(self) -> None:
        """Upsert the search attributes that changed, so dashboards list by stage in one query."""
        view = self._lc.at(workflow.now())
        level, at_risk = view.escalation()
        wanted = search.attributes(self._lc.event, self._lc.definition.kind, self._lc.record.stage, level, at_risk)
        if workflow.patched("board-attributes"):  # events started before this change keep their history
            done, total, awaiting = view.board_summary()
            wanted += search.board_attributes(self._lc.event.title, done, total, awaiting)
        # Who may read it (issue 16): events started before carry no EventReaders, and get it here on
        # their next step; their histories replay without it.
        if workflow.patched("event-readers"):
            wanted.append(search.SearchAttributePair(search.READERS, search.readers(self._lc.event, self._lc.definition)))
        changed = [pair for pair in wanted if self._attributes.get(pair.key.name) != pair.value]
        if changed:
            workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in changed])
            self._attributes.update({pair.key.name: pair.value for pair in changed})

    # -------------------------------------------------------------- acts

    @staticmethod
    def _refusals_final() -> bool:
        """The act was sent with final refusals (its update id is ``act_update_id(key)``: the API's acts)."""
        info = workflow.current_update_info()
        return info is not None and info.id.startswith(ACT_UPDATE_PREFIX)

    def _check(self, act: Any) -> None:
        """The validator. An act sent with final refusals is refused here only if its key was refused
        before: whatever else would refuse it, the handler does, and remembers. A refusal made here leaves
        no trace in history, so it could not be remembered: a stalled attempt with the same key could then
        pass once the event has moved (issue 19). Other acts are checked here, as before."""
        try:
            if self._refusals_final():
                self._lc.check_remembered(act)
            else:
                self._lc.at(workflow.now()).check(act)
        except ActRefused as err:
            raise _refusal(err) from None

    def _apply(self, act: Any) -> ActResult:
        # No workflow.patched here: a refusal in the handler emits no command (an update's outcome is a
        # protocol message) and histories from before this change hold no update with an act: id.
        try:
            result = self._lc.at(workflow.now()).apply(act)
        except ActRefused as err:
            if self._refusals_final():  # refused for good: a later attempt with this key gets the same answer
                self._lc.remember_refusal(act, err)
                self._log("info", "act refused", act=act.update, kind=err.kind, actor=act.actor.id)
            raise _refusal(err) from None
        self._acted = True
        self._log("info", "act applied", act=result.act, seq=result.seq, stage=result.stage, actor=act.actor.id,
                  role=act.actor.role)
        return result

    # -------------------------------------------------------------- reads

    @workflow.query
    def state(self) -> StateView:
        """Everything a dashboard shows: stage, tasks, gates with reasons, deadlines, audit."""
        return self._lc.at(workflow.now()).view()

    @workflow.query
    def may(self, ask: MayAsk) -> Allowed:
        """What a person may do now, each as the role they would act as (the rule the acts themselves use)."""
        return self._lc.at(workflow.now()).may(ask)

    @workflow.query
    def attendees(self, q: AttendeeQuery | None = None) -> AttendeePage:
        """A page of the attendee list of an event recorded before the roster database (events since
        keep their roster in the database: page it through the API)."""
        try:
            return self._lc.attendee_page(q or AttendeeQuery())
        except ActRefused as err:
            raise _refusal(err) from None
