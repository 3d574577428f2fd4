"""The roster database's activities against a real SMTP server, on SQLite and on PostgreSQL.

Invitations and notices are paged through the roster and sent a few at a time; a retry resumes
from the last heartbeat; the notifier's journal keeps a key from being sent twice by any worker.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Notifier, RosterActivities, SmtpConfig
from store import Database, Journal, Roster
from store.schema import deliveries
from tests.activities.support import END, REFUSED_DOMAIN, START, T0, Inbox, context, free_port, notification
from tests.activities.test_notifications import invitations_from_lifecycle
from workflows.messages import (
    Attendee,
    AttendeeRecord,
    AuditBatch,
    AuditEntry,
    DeliveryRecord,
    EventFacts,
    Actor,
    Cancel,
    InvitationSend,
    LegacyRoster,
    Postpone,
    NotificationRequest,
    RosterNotice,
    SurveyResponse,
)

EVENT = "summit-2026"


def people(n: int, start: int = 1, **overrides: Any) -> list[Attendee]:
    return [Attendee(id=f"p{i:04d}", name=f"Person {i}", email=f"p{i:04d}@example.org", **overrides)
            for i in range(start, start + n)]


def env(attempt: int = 1, maximum: int = 20, details: list[Any] | None = None,
        beats: list[tuple[Any, ...]] | None = None) -> ActivityEnvironment:
    """An activity attempt as Temporal would start it: its number, its retry policy, the last heartbeat."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        ActivityEnvironment.default_info(), attempt=attempt, retry_policy=RetryPolicy(maximum_attempts=maximum),
        heartbeat_details=details or [])
    if beats is not None:
        environment.on_heartbeat = lambda *d: beats.append(d)
    return environment


def invitation(batch: str, attendees: list[Attendee] | None = None) -> InvitationSend:
    return InvitationSend(event_id=EVENT, batch=batch, invited_at=T0, attendees=attendees or [],
                          cause=f"attendee.{batch}", context=context(audience="attendee"))


def activities(db: Database, notifier: Notifier, **options: Any) -> RosterActivities:
    return RosterActivities(Roster(db), Journal(db), notifier, per_second=options.pop("per_second", 0), **options)


async def delivery_rows(db: Database) -> dict[str, Any]:
    """Every delivery row by key, read from the table itself (statuses the models do not list included)."""
    async with db.read() as conn:
        return {r.key: r for r in await conn.execute(select(deliveries))}


class WorkerLost(BaseException):
    """The worker process is gone: nothing in an activity catches this (as nothing runs after a kill)."""


class CrashingNotifier(Notifier):
    """A worker that dies when asked for its (n+1)th send."""

    def __init__(self, crash_after: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crash_after = crash_after
        self.calls = 0

    async def deliver(self, request: NotificationRequest) -> Any:
        self.calls += 1
        if self.calls > self.crash_after:
            raise WorkerLost()
        return await super().deliver(request)


def crashing(make: Callable[[], Notifier], crash_after: int) -> CrashingNotifier:
    model = make()
    return CrashingNotifier(crash_after, smtp=model.smtp, webhook_secret=model._secret, journal=model.journal)


# --------------------------------------------------------------------------------------- invitations


async def test_a_batch_of_1200_invitations_reaches_each_person_once(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """1,200 people written as a batch get one invitation each (a refused address is marked failed and the
    rest go on), the roster shows every invitation done, and the journal has one delivery per person."""
    roster = Roster(db)
    batch = people(1195) + [Attendee(id=f"bad{i}", name=f"Bad {i}", email=f"bad{i}@{REFUSED_DOMAIN}")
                            for i in range(3)] + [Attendee(id=f"nomail{i}", name=f"No Mail {i}") for i in range(2)]
    await roster.add(EVENT, "inv-1", batch, T0)
    assert await roster.batch_size(EVENT, "inv-1") == 1200

    summary = await env().run(activities(db, workers()).send_invitations, invitation("inv-1"))

    assert summary == "1197 sent, 3 failed, 0 skipped"
    recipients = Counter(rcpt for m in inbox.messages for rcpt in m.rcpt_tos)
    assert len(inbox.messages) == 1195 and len(recipients) == 1195 and set(recipients.values()) == {1}
    assert "p0001@example.org" in recipients and "p1195@example.org" in recipients
    progress = await roster.invitation_progress(EVENT)
    assert (progress.invited, progress.sent, progress.failed, progress.skipped, progress.pending) == (
        1200, 1197, 3, 0, 0)
    rows = await delivery_rows(db)
    assert Counter(r.status for r in rows.values()) == {"sent": 1197, "failed": 3}
    assert rows[f"{EVENT}:attendee.inv-1:p0042:email"].status == "sent"
    assert rows[f"{EVENT}:attendee.inv-1:nomail0:log"].status == "sent"
    assert "550" in rows[f"{EVENT}:attendee.inv-1:bad0:email"].detail


async def test_listed_attendees_are_added_and_keyed_as_the_workflow_keyed_them(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """The InvitationSend the lifecycle emits adds its attendees and sends under the keys the lifecycle used
    when the roster was in memory, each with the .ics and in the person's language; a repeat adds nobody."""
    memory = [r for r in invitations_from_lifecycle("memory") if r.recipient.person_id in ("ada", "bo")]
    [send] = [e for e in invitations_from_lifecycle("database") if isinstance(e, InvitationSend)]
    rosters = activities(db, workers())

    assert await env().run(rosters.send_invitations, send) == "2 sent, 0 failed, 0 skipped"
    assert await env().run(rosters.send_invitations, send) == "2 sent, 0 failed, 0 skipped"

    rows = await delivery_rows(db)
    assert sorted(rows) == sorted(r.key for r in memory)
    assert len(inbox.messages) == 2
    [bo] = inbox.to("bo@example.org")
    assert bo["Subject"] == "活動邀請：Convene Summit"
    assert [p.get_content_type() for p in bo.iter_attachments()] == ["text/calendar"]
    assert (await Roster(db).invitation_progress(EVENT)).invited == 2


async def test_postponing_then_cancelling_updates_every_calendar_that_holds_the_invitation(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """Issue 17, items 6-7, from the real lifecycle's effects to the SMTP server: the unanswered speaker and the
    attendees whose invitation went out get the new dates as an .ics with the invitation's UID and SEQUENCE 1;
    the person whose invitation bounced gets nothing; the cancellation reaches the same people as
    ``METHOD:CANCEL``, SEQUENCE 2, STATUS CANCELLED. A retried notice sends nobody twice."""
    from icalendar import Calendar

    from tests.activities.test_notifications import lifecycle_with_invitations

    lc, effects = lifecycle_with_invitations(extra=[Attendee(id="gone", name="Gone", email=f"gone@{REFUSED_DOMAIN}")])
    rosters = activities(db, workers())
    notifier = workers()

    async def run(effects: list[Any]) -> None:
        for e in effects:
            if isinstance(e, InvitationSend):
                await env().run(rosters.send_invitations, e)
            elif isinstance(e, RosterNotice):
                await env().run(rosters.notify_roster, e)
            elif isinstance(e, NotificationRequest) and e.channel == "email" and e.recipient.role == "guest":
                await ActivityEnvironment().run(notifier.send_notification, e)

    def calendars(who: str) -> list[Any]:
        out = []
        for message in inbox.to(f"{who}@example.org"):
            for part in message.iter_attachments():
                assert part.get_param("charset") == "utf-8"
                [vevent] = Calendar.from_ical(part.get_content()).walk("VEVENT")
                out.append((part.get_param("method"), str(vevent["UID"]), int(vevent.get("SEQUENCE", 0)),
                            vevent.decoded("DTSTART"), str(vevent.get("STATUS"))))
        return out

    await run(effects)
    first = {who: calendars(who) for who in ("li", "ada", "bo")}
    assert {who: [c[:3] for c in cals] for who, cals in first.items()} == {
        who: [("REQUEST", "summit-2026@convene", 0)] for who in ("li", "ada", "bo")}

    moved = START + timedelta(days=30)
    lc.apply(Postpone(key="延期-1", actor=Actor(id="pia", role="project_manager"), new_start=moved,
                      new_end=END + timedelta(days=30)))
    postponed = lc.take_effects()
    await run(postponed)
    await run(postponed)  # a retry after lost completions: nobody is told twice
    for who in ("li", "ada", "bo"):
        assert calendars(who)[1:] == [("REQUEST", "summit-2026@convene", 1, moved, "CONFIRMED")], who
    assert not inbox.to(f"gone@{REFUSED_DOMAIN}")

    lc.apply(Cancel(key="c-1", actor=Actor(id="sam", role="sponsor"), reason="typhoon"))
    await run(lc.take_effects())
    for who in ("li", "ada", "bo"):
        assert calendars(who)[2:] == [("CANCEL", "summit-2026@convene", 2, moved, "CANCELLED")], who
    [li_cancel] = inbox.to("li@example.org")[2:]
    assert li_cancel["Subject"] == "取消通知：Convene Summit"


async def test_sends_are_paced_to_the_configured_rate(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """At 60 sends a second, 31 invitations take at least half a second (30 intervals of 1/60 s)."""
    await Roster(db).add(EVENT, "inv-1", people(31), T0)
    started = time.monotonic()
    summary = await env().run(activities(db, workers(), per_second=60).send_invitations, invitation("inv-1"))
    elapsed = time.monotonic() - started
    assert summary == "31 sent, 0 failed, 0 skipped" and len(inbox.messages) == 31
    assert elapsed >= 0.49, elapsed


async def test_an_invitation_batch_retried_after_a_crash_sends_nobody_twice(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """A worker dying after 250 of 400 sends leaves a heartbeat at the last page written; the retry on another
    worker resumes there, and the 50 sent since (in the journal, not yet on the roster) are not sent again."""
    roster = Roster(db)
    await roster.add(EVENT, "inv-1", people(400), T0)
    beats: list[tuple[Any, ...]] = []
    first = activities(db, crashing(workers, 250), concurrency=1, page=100)
    with pytest.raises(WorkerLost):
        await env(beats=beats).run(first.send_invitations, invitation("inv-1"))
    assert len(inbox.messages) == 250
    assert beats[-1] == (200, {"sent": 200, "failed": 0, "skipped": 0})  # positions 1..200 written
    assert (await roster.invitation_progress(EVENT)).sent == 200

    retry_roster = Roster(db)
    asked: list[int] = []
    pending = retry_roster.pending_invitations

    async def spy(event_id: str, batch: str, after: int, limit: int) -> Any:
        asked.append(after)
        return await pending(event_id, batch, after, limit)

    retry_roster.pending_invitations = spy  # type: ignore[method-assign]
    second = RosterActivities(retry_roster, Journal(db), workers(), per_second=0, page=100)
    summary = await env(attempt=2, details=list(beats[-1])).run(second.send_invitations, invitation("inv-1"))

    assert asked[0] == 200
    assert summary == "400 sent, 0 failed, 0 skipped"
    recipients = Counter(rcpt for m in inbox.messages for rcpt in m.rcpt_tos)
    assert len(inbox.messages) == 400 and len(recipients) == 400 and set(recipients.values()) == {1}


async def test_a_send_that_may_pass_is_left_for_the_retry_then_sent(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """One message the server defers (451) leaves that person pending and fails the attempt retryably; the
    next attempt sends to them alone, and the batch ends with everyone sent once."""
    roster = Roster(db)
    await roster.add(EVENT, "inv-1", people(40), T0)
    inbox.defer = 1
    beats: list[tuple[Any, ...]] = []
    rosters = activities(db, workers())
    with pytest.raises(ApplicationError) as err:
        await env(beats=beats).run(rosters.send_invitations, invitation("inv-1"))
    assert err.value.type == "TransientDeliveryFailure" and not err.value.non_retryable
    progress = await roster.invitation_progress(EVENT)
    assert (progress.sent, progress.pending) == (39, 1)
    assert len(inbox.messages) == 39
    [left] = [r for r in (await delivery_rows(db)).values() if r.status == "retrying"]

    summary = await env(attempt=2, details=list(beats[-1])).run(activities(db, workers()).send_invitations,
                                                                invitation("inv-1"))
    assert summary == "40 sent, 0 failed, 0 skipped"
    assert len(inbox.messages) == 40 and len({m.rcpt_tos[0] for m in inbox.messages}) == 40
    assert (await delivery_rows(db))[left.key].status == "sent"


async def test_one_person_whose_send_breaks_does_not_hold_up_the_batch(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """An unexpected error sending to one person leaves them pending while the other 29 are invited; the
    attempt then fails retryably, and on the last attempt that person is marked failed."""
    roster = Roster(db)
    await roster.add(EVENT, "inv-1", people(30), T0)
    broken = workers()
    real = broken._deliver

    async def deliver(request: NotificationRequest) -> Any:
        if request.recipient.person_id == "p0003":
            raise ValueError("odd data")
        return await real(request)

    broken._deliver = deliver  # type: ignore[method-assign]
    with pytest.raises(ApplicationError) as err:
        await env().run(activities(db, broken).send_invitations, invitation("inv-1"))
    assert "p0003" in str(err.value) and not err.value.non_retryable
    progress = await roster.invitation_progress(EVENT)
    assert (progress.sent, progress.pending, len(inbox.messages)) == (29, 1, 29)

    summary = await env(attempt=20, maximum=20).run(activities(db, broken).send_invitations, invitation("inv-1"))
    assert summary == "29 sent, 1 failed, 0 skipped"
    assert (await delivery_rows(db))[f"{EVENT}:attendee.inv-1:p0003:email"].status == "failed"


async def test_a_relay_that_is_down_ends_the_attempt_after_one_page(db: Database) -> None:
    """When no send of a whole page goes out (the relay refuses connections) the attempt stops there, retryably,
    with the mark where it was, instead of trying every person of the batch."""
    roster = Roster(db)
    await roster.add(EVENT, "inv-1", people(500), T0)
    down = Notifier(smtp=SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2), webhook_secret="x",
                    journal=Journal(db))
    beats: list[tuple[Any, ...]] = []
    with pytest.raises(ApplicationError) as err:
        await env(beats=beats).run(activities(db, down, page=100).send_invitations, invitation("inv-1"))
    assert err.value.type == "TransientDeliveryFailure" and "100 invitation(s)" in str(err.value)
    assert beats[-1] == (0, {"sent": 0, "failed": 0, "skipped": 0})
    assert Counter(r.status for r in (await delivery_rows(db)).values()) == {"retrying": 100}
    assert (await roster.invitation_progress(EVENT)).pending == 500


async def test_on_the_last_attempt_a_send_that_may_pass_counts_as_failed(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """On the retry policy's last attempt a deferred message marks its person failed and the batch completes."""
    roster = Roster(db)
    await roster.add(EVENT, "inv-1", people(10), T0)
    inbox.defer = 1
    summary = await env(attempt=20, maximum=20).run(activities(db, workers()).send_invitations, invitation("inv-1"))
    assert summary == "9 sent, 1 failed, 0 skipped"
    progress = await roster.invitation_progress(EVENT)
    assert (progress.sent, progress.failed, progress.pending) == (9, 1, 0)
    assert Counter(r.status for r in (await delivery_rows(db)).values()) == {"sent": 9, "failed": 1}


# --------------------------------------------------------------------------------------- notices


async def audience_roster(db: Database) -> None:
    """Seven people: RSVP yes, no, maybe, none; checked in without an RSVP; and two who answered the survey."""
    def rec(pid: str, rsvp: str | None = None, checked: bool = False, email: bool = True) -> AttendeeRecord:
        who = Attendee(id=pid, name=pid.upper(), email=f"{pid}@example.org" if email else None)
        return AttendeeRecord(person=who, invited_at=T0, rsvp=rsvp,  # type: ignore[arg-type]
                              checked_in_at=START if checked else None)

    await Roster(db).import_legacy(LegacyRoster(event_id=EVENT, attendees=[
        rec("yes1", "yes"), rec("no1", "no"), rec("maybe1", "maybe"), rec("none1"), rec("walkin", checked=True),
        rec("answered", "yes", checked=True), rec("nomail", "yes", email=False),
    ], survey=[SurveyResponse(respondent="answered", content=5, organisation=5, service=5)]))


def notice(audience: str, cause: str) -> RosterNotice:
    return RosterNotice(event_id=EVENT, kind="reminder", audience=audience, cause=cause,  # type: ignore[arg-type]
                        context=context(survey=audience == "survey_pending"))


async def test_a_notice_reaches_its_audience_only(db: Database, workers: Callable[[], Notifier], inbox: Inbox) -> None:
    """not_declined leaves out who answered no; survey_pending is who came or said yes and has not answered;
    each send is keyed <event>:<cause>:<attendee>:<channel>."""
    await audience_roster(db)
    rosters = activities(db, workers())

    assert await env().run(rosters.notify_roster, notice("not_declined", "d1.auto-reminder")) == (
        "6 sent, 0 failed, 0 skipped")
    told = sorted(m.rcpt_tos[0].split("@")[0] for m in inbox.messages)
    assert told == ["answered", "maybe1", "none1", "walkin", "yes1"]  # and nomail, logged

    inbox.messages.clear()
    assert await env().run(rosters.notify_roster, notice("survey_pending", "d2.survey-reminder")) == (
        "3 sent, 0 failed, 0 skipped")
    assert sorted(m.rcpt_tos[0].split("@")[0] for m in inbox.messages) == ["walkin", "yes1"]

    keys = {k for k in await delivery_rows(db) if ":d2.survey-reminder:" in k}
    assert keys == {f"{EVENT}:d2.survey-reminder:yes1:email", f"{EVENT}:d2.survey-reminder:walkin:email",
                    f"{EVENT}:d2.survey-reminder:nomail:log"}


async def test_a_notice_retried_after_a_crash_resumes_from_its_heartbeat(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """A notice to 300 people interrupted after 150 resumes after the last position heartbeated: the retry
    asks for 150 more, and everyone has the message once."""
    await Roster(db).add(EVENT, "inv-1", people(300), T0)
    beats: list[tuple[Any, ...]] = []
    first = activities(db, crashing(workers, 150), concurrency=1, page=50)
    with pytest.raises(WorkerLost):
        await env(beats=beats).run(first.notify_roster, notice("all", "cancel"))
    assert beats[-1] == (150, {"sent": 150, "failed": 0, "skipped": 0})

    retry = workers()
    asked = 0
    deliver = retry.deliver

    async def counting(request: NotificationRequest) -> Any:
        nonlocal asked
        asked += 1
        return await deliver(request)

    retry.deliver = counting  # type: ignore[method-assign]
    summary = await env(attempt=2, details=list(beats[-1])).run(activities(db, retry, page=50).notify_roster,
                                                                notice("all", "cancel"))
    assert summary == "300 sent, 0 failed, 0 skipped"
    assert asked == 150
    assert len(inbox.messages) == 300 and len({m.rcpt_tos[0] for m in inbox.messages}) == 300


# --------------------------------------------------------------------------------------- the notifier's journal


async def test_two_workers_sharing_the_database_deliver_a_key_once(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """A key one worker delivered is not sent again by another (its own memory empty): the journal answers."""
    request = notification(kind="confirmation", audience="speaker")
    first = await ActivityEnvironment().run(workers().send_notification, request)
    second = await ActivityEnvironment().run(workers().send_notification, request)
    assert len(inbox.to("ann@example.org")) == 1
    assert first.status == second.status == "sent" and first.detail == second.detail
    row = (await delivery_rows(db))[request.key]
    assert (row.status, row.recipient, row.event_id, row.attempts) == ("sent", "ann@example.org", EVENT, 1)


async def test_a_transient_smtp_failure_is_recorded_retrying_then_sent(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """A 451 on attempt 1 of 8 is written as retrying; attempt 2 delivers and the row becomes sent, 2 attempts."""
    request = notification()
    inbox.defer = 1
    with pytest.raises(ApplicationError) as err:
        await env(attempt=1, maximum=8).run(workers().send_notification, request)
    assert not err.value.non_retryable
    row = (await delivery_rows(db))[request.key]
    assert (row.status, row.attempts) == ("retrying", 1) and "451" in row.detail

    record = await env(attempt=2, maximum=8).run(workers().send_notification, request)
    row = (await delivery_rows(db))[request.key]
    assert record.status == "sent" and (row.status, row.attempts) == ("sent", 2)
    assert len(inbox.messages) == 1


async def test_the_last_attempts_transient_failure_and_a_permanent_one_are_recorded_failed(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """A 451 on attempt 8 of 8 and a refused address (on any attempt) are both written as failed."""
    late = notification(key=f"{EVENT}:late:ann:email")
    refused = notification(key=f"{EVENT}:refused:ann:email", email=f"ann@{REFUSED_DOMAIN}")
    inbox.defer = 1
    with pytest.raises(ApplicationError):
        await env(attempt=8, maximum=8).run(workers().send_notification, late)
    with pytest.raises(ApplicationError) as err:
        await env(attempt=1, maximum=8).run(workers().send_notification, refused)
    assert err.value.non_retryable
    rows = await delivery_rows(db)
    assert (rows[late.key].status, rows[late.key].attempts) == ("failed", 8)
    assert (rows[refused.key].status, rows[refused.key].recipient) == ("failed", f"ann@{REFUSED_DOMAIN}")
    assert inbox.messages == []


async def test_a_notifier_without_a_journal_writes_nothing(db: Database, notifier: Notifier, inbox: Inbox) -> None:
    """Without a journal the notifier sends as before and the database stays empty."""
    record = await ActivityEnvironment().run(notifier.send_notification, notification())
    assert record.status == "sent" and len(inbox.messages) == 1
    assert await delivery_rows(db) == {}


# --------------------------------------------------------------------------------------- the event's records


async def test_audit_facts_and_an_old_record_are_written_once(db: Database, workers: Callable[[], Notifier]) -> None:
    """record_audit writes each entry once however often a batch is retried, an older sync_event never
    overwrites a newer one, and importing an old record twice leaves one copy of its attendees, audit and
    deliveries."""
    rosters = activities(db, workers())
    environment = ActivityEnvironment()
    journal = Journal(db)
    entries = [AuditEntry(seq=n, at=T0 + timedelta(minutes=n), act="decide", actor="finn", role="finance_approver",
                          summary=f"entry {n}") for n in range(1, 4)]
    await environment.run(rosters.record_audit, AuditBatch(event_id=EVENT, entries=entries[:2]))
    await environment.run(rosters.record_audit, AuditBatch(event_id=EVENT, entries=entries))
    written = await journal.audit_page(EVENT)
    assert (written.total, [e.seq for e in written.items]) == (3, [1, 2, 3])

    def facts(stage: str, version: int) -> EventFacts:
        return EventFacts(event_id=EVENT, kind="conference", title="Convene Summit", stage=stage, status="active",
                          on_site=False, start=START, end=END, timezone="UTC", locale="en", confidential=False,
                          version=version)

    await environment.run(rosters.sync_event, facts("promotion", 7))
    await environment.run(rosters.sync_event, facts("planning", 5))  # late, older: ignored
    assert (await Roster(db).facts(EVENT)).stage == "promotion"  # type: ignore[union-attr]

    old = LegacyRoster(
        event_id="old-1",
        attendees=[AttendeeRecord(person=a, invited_at=T0, rsvp="yes") for a in people(3)],
        audit=[e.model_copy(update={"summary": f"old {e.seq}"}) for e in entries],
        deliveries=[notification_record(f"old-1:k{i}") for i in range(2)],
    )
    await environment.run(rosters.import_legacy_record, old)
    await environment.run(rosters.import_legacy_record, old)
    assert (await Roster(db).counts("old-1")) == {"invited": 3, "rsvp_yes": 3, "rsvp_no": 0, "rsvp_maybe": 0,
                                                  "checked_in": 0}
    assert [e.summary for e in (await journal.audit_page("old-1")).items] == ["old 1", "old 2", "old 3"]
    assert (await journal.deliveries_page("old-1")).counts == {"sent": 2}


def notification_record(key: str) -> DeliveryRecord:
    return DeliveryRecord(key=key, kind="invitation", channel="email", to="x@example.org", status="sent", at=T0)
