"""The activities of an event whose roster is in the database.

The workflow never holds the roster of such an event (``record.roster ==
"database"``); it asks these activities, by name:

* ``send_invitations`` (:class:`~workflows.messages.InvitationSend`): add the
  listed attendees to the roster (idempotent), then send the batch's invitations
  a page at a time, a few at once, paced to ``per_second``; each person's
  outcome is written on their roster row (``sent``, ``failed``, ``skipped``) and
  the activity heartbeats how far it got, so a retry after a crash resumes there;
* ``notify_roster`` (:class:`~workflows.messages.RosterNotice`): tell an audience
  of the roster something (a reminder, a cancellation), paged and paced the same;
* ``record_audit``, ``sync_event`` and ``import_legacy_record``: write the audit,
  the event's facts, and a record kept in memory before, into the database.

Each send is keyed ``<event>:<cause>:<attendee>:<channel>``, the key the
workflow used when it sent to people itself, and goes through the
:class:`~activities.notifications.Notifier` with its journal: a person already
sent to by any worker is not sent to again, whatever attempt or worker resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import batch_outcomes, ready
from activities.errors import transient
from activities.notifications import Notifier, attempt_info
from convene.logs import get_logger
from store.journal import Journal
from store.roster import Roster
from workflows.messages import (
    Attendee,
    AuditBatch,
    EventFacts,
    InvitationSend,
    LegacyRoster,
    NotificationRequest,
    Recipient,
    RosterNotice,
)

PAGE = 200
"""People read from the roster per query (and whose outcomes are written per transaction)."""

CONCURRENCY = 8
"""Sends in flight at once, per activity."""

OUTCOMES = ("sent", "failed", "skipped")


class Pacer:
    """At most `per_second` starts per second, shared by every send of this worker (0 or less: no limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval  # taken before sleeping: the next caller queues behind it
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class Progress:
    """How far a send got: every person up to roster position `mark` is done, and `counts` says how."""

    mark: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def resumed(cls) -> Progress:
        """Where the previous attempt's last heartbeat left off (the start, on a first attempt)."""
        details: Sequence[Any] = activity.info().heartbeat_details
        if not details:
            return cls()
        counts = details[1] if len(details) > 1 and isinstance(details[1], dict) else {}
        return cls(mark=int(details[0]), counts=Counter({k: int(v) for k, v in counts.items() if k in OUTCOMES}))

    def heartbeat(self) -> None:
        activity.heartbeat(self.mark, {k: self.counts[k] for k in OUTCOMES})

    def summary(self) -> str:
        return f"{self.counts['sent']} sent, {self.counts['failed']} failed, {self.counts['skipped']} skipped"


Page = list[tuple[int, Attendee]]


class RosterActivities:
    """The roster database's activities; each bound method below is one.

    Args:
        roster: attendees and their acts.
        journal: the audit and the deliveries.
        notifier: sends each message (and records it in its journal).
        per_second: the most sends this worker starts per second, all batches together
            (``CONVENE_INVITATIONS_PER_SECOND``: mail relays limit senders).
        concurrency: sends in flight at once per activity.
        page: people read per query.
    """

    def __init__(self, roster: Roster, journal: Journal, notifier: Notifier, per_second: float = 50.0, *,
                 concurrency: int = CONCURRENCY, page: int = PAGE) -> None:
        self.roster = roster
        self.journal = journal
        self.notifier = notifier
        self.pacer = Pacer(per_second)
        self.concurrency = max(1, concurrency)
        self.page = max(1, page)

    # ------------------------------------------------------------------ sending to the roster

    @activity.defn(name="send_invitations")
    async def send_invitations(self, req: InvitationSend) -> str:
        """Send one invitation batch: add its listed attendees, then invite everyone of it not invited yet.

        Returns:
            ``"<n> sent, <n> failed, <n> skipped"`` over the whole batch, attempts before this one included.

        Raises:
            ApplicationError: ``TransientDeliveryFailure`` (retryable) when some sends failed for a reason
                that may pass; the retry resumes from the last heartbeat and sends to nobody twice.
        """
        await ready(self.roster, self.journal)
        if req.attendees:
            await self.roster.add(req.event_id, req.batch, req.attendees, req.invited_at)

        def request(person: Attendee) -> NotificationRequest:
            return self._request(req.event_id, req.cause, "invitation", person, req.locale, req.context, ics=True)

        async def fetch(after: int) -> Page:
            return await self.roster.pending_invitations(req.event_id, req.batch, after, self.page)

        async def record(outcomes: dict[str, str]) -> None:
            await self.roster.set_invitations(req.event_id, outcomes)

        log = get_logger(__name__, event_id=req.event_id, batch=req.batch)
        await self._send(log, "invitation", fetch, request, record, resolved_leave_the_query=True)
        # Counted on the roster rows, not from heartbeats: attempts before this one are included exactly.
        counts = await batch_outcomes(self.roster, req.event_id, req.batch)
        return f"{counts['sent']} sent, {counts['failed']} failed, {counts['skipped']} skipped"

    @activity.defn(name="notify_roster")
    async def notify_roster(self, req: RosterNotice) -> str:
        """Tell an audience of the roster (``not_declined``, ``survey_pending``, ``all``) `req.kind`.

        Returns:
            ``"<n> sent, <n> failed, <n> skipped"``.

        Raises:
            ApplicationError: ``TransientDeliveryFailure`` (retryable), as for :meth:`send_invitations`.
        """
        await ready(self.roster, self.journal)

        def request(person: Attendee) -> NotificationRequest:
            return self._request(req.event_id, req.cause, req.kind, person, req.locale, req.context,
                                 ics=req.attach_ics)

        async def fetch(after: int) -> Page:
            return await self.roster.audience(req.event_id, req.audience, after, self.page)

        async def record(outcomes: dict[str, str]) -> None:
            return None  # the journal has each delivery; the roster row keeps the invitation's only

        log = get_logger(__name__, event_id=req.event_id, kind=req.kind, audience=req.audience)
        return await self._send(log, req.kind, fetch, request, record, resolved_leave_the_query=False)

    @staticmethod
    def _request(event_id: str, cause: str, kind: str, person: Attendee, locale: str, context: dict[str, Any],
                 ics: bool) -> NotificationRequest:
        """The message to one person, keyed as the workflow keyed it when it sent to people itself."""
        channel = "email" if person.email else "log"
        return NotificationRequest(
            key=f"{event_id}:{cause}:{person.id}:{channel}", event_id=event_id, kind=kind, channel=channel,
            recipient=Recipient(role="guest", person_id=person.id, name=person.name, email=person.email),
            locale=person.locale or locale, context=context, attach_ics=ics,  # type: ignore[arg-type]
        )

    async def _send(self, log: Any, what: str, fetch: Callable[[int], Awaitable[Page]],
                    request: Callable[[Attendee], NotificationRequest],
                    record: Callable[[dict[str, str]], Awaitable[None]], *, resolved_leave_the_query: bool) -> str:
        """Page through `fetch` from the last heartbeat's mark and send to each person.

        After each page its outcomes are written (`record`) and the heartbeat says how far every
        person is done. A person whose send may succeed later is left for the next attempt: the mark
        stops before them (on the last attempt they count as failed instead). A page where every send
        was left for later ends the attempt at once (the relay is down: the retry resumes at the mark).

        `resolved_leave_the_query`: a person done no longer comes back from `fetch` (pending
        invitations), so outcomes past a person left for later are counted now; otherwise (an
        audience) they come back on the retry and are counted then, answered from the journal.
        """
        progress = Progress.resumed()
        resumed_at = progress.mark
        _, last = attempt_info()
        left: list[str] = []  # people left for the next attempt
        after = progress.mark
        while True:
            page = await fetch(after)
            if not page:
                break
            outcomes = await self._send_page(page, request, last, progress)
            await record({pid: status for pid, status in outcomes.items() if status is not None})
            for position, person in page:
                status = outcomes[person.id]
                if status is None:
                    left.append(person.id)
                elif resolved_leave_the_query or not left:  # else the retry sees them again, counts them then
                    progress.counts[status] += 1
                if not left:
                    progress.mark = position
            progress.heartbeat()
            after = page[-1][0]
            if all(status is None for status in outcomes.values()):
                break  # nothing in a whole page went out: the relay is down, no use asking it for the rest now
        if left:
            log.warning(f"{what} sends deferred", deferred=len(left), resume_after=progress.mark)
            raise transient(f"{len(left)} {what}(s) failed for a reason that may pass (the first: {left[0]}); "
                            f"the retry resumes after roster position {progress.mark}")
        log.info(f"{what} sends done", resumed_after=resumed_at, **{k: progress.counts[k] for k in OUTCOMES})
        return progress.summary()

    async def _send_page(self, page: Page, request: Callable[[Attendee], NotificationRequest], last: bool,
                         progress: Progress) -> dict[str, str | None]:
        """Send to a page of people, `self.concurrency` at a time, paced: each one's status, None when the
        failure may pass and this is not the last attempt. A permanent failure marks that person failed
        and the others go on; so does any other error for one person (the next attempt tries them again):
        one person's odd data never holds up the batch, and a database gone fails every send of the page,
        which ends the attempt."""
        slots = asyncio.Semaphore(self.concurrency)

        async def one(person: Attendee) -> str | None:
            async with slots:
                await self.pacer.wait()
                try:
                    delivered = await self.notifier.deliver(request(person))
                except Exception as err:
                    permanent_failure = isinstance(err, ApplicationError) and err.non_retryable
                    if not isinstance(err, ApplicationError):
                        get_logger(__name__).warning("send failed unexpectedly", person_id=person.id,
                                                     error=f"{type(err).__name__}: {err}")
                    return "failed" if permanent_failure or last else None
                finally:
                    progress.heartbeat()  # alive, at the mark already written (the SDK throttles these)
                return delivered.status

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {person.id: group.create_task(one(person)) for _, person in page}
        except BaseExceptionGroup as failed:  # the first cause, as Temporal should report it
            raise failed.exceptions[0] from None
        return {pid: task.result() for pid, task in tasks.items()}

    # ------------------------------------------------------------------ writing the event's records

    @activity.defn(name="record_audit")
    async def record_audit(self, batch: AuditBatch) -> int:
        """Write the workflow's audit entries (each once, by sequence number); how many were new."""
        await ready(self.journal)
        return await self.journal.record_audit(batch.event_id, batch.entries)

    @activity.defn(name="sync_event")
    async def sync_event(self, facts: EventFacts) -> None:
        """Write the event's facts (stage, dates, check-in open) unless a newer version is there."""
        await ready(self.roster)
        await self.roster.sync_event(facts)

    @activity.defn(name="import_legacy_record")
    async def import_legacy_record(self, part: LegacyRoster) -> None:
        """Write part of a record kept in memory before: attendees, survey, audit, deliveries (idempotent)."""
        await ready(self.roster, self.journal)
        await self.roster.import_legacy(part)
        await self.journal.record_audit(part.event_id, part.audit)
        for delivery in part.deliveries:
            await self.journal.record_delivery(part.event_id, delivery)
