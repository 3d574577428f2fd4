"""Organisations' webhook subscriptions, at the activity: each team notification of an organisation's event
reaches each of its subscriptions of that kind exactly once, signed with the subscription's own secret and
verified by a real receiver with the ``standardwebhooks`` library, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities import Notifier, SmtpConfig
from activities.subscriptions import notification_key
from store import Database, Journal
from store.subscriptions import Subscriptions
from tests.subscribers import Subscriber, subscribers
from workflows.messages import NotificationRequest, Recipient

NORTHWIND, CONTOSO = "summit-nw", "board-co"


def team_notification(event_id: str, cause: str, kind: str) -> list[NotificationRequest]:
    """The deliveries the workflow makes of one team notification: two roles, log and email, and the event's
    own webhook (keys as workflows.lifecycle makes them)."""
    made = []
    for role, pid in (("project_manager", "pia"), ("finance", "fay")):
        for channel in ("log", "email"):
            made.append(NotificationRequest(
                key=f"{event_id}:{cause}:{role}:{pid}:{channel}", event_id=event_id, kind=kind, channel=channel,
                recipient=Recipient(role=role, person_id=pid, name=pid.title(), email=None),
                context={"event_id": event_id, "title": "Summit", "stage": "planning"}))
    return made


async def _setup(db: Database, endpoints: list[Subscriber]) -> tuple[Notifier, Subscriptions, list[str]]:
    subs = Subscriptions(db)
    assert await subs.own(NORTHWIND, "Northwind") and await subs.own(CONTOSO, "Contoso")
    assert not await subs.own(NORTHWIND, "Contoso"), "a second record moved the event to another organisation"
    ids = []
    for endpoint, (org, kinds) in zip(endpoints, (("Northwind", ["stage_entered"]), ("Northwind", []),
                                                  ("Contoso", [])), strict=True):
        sub, secret = await subs.create(org, endpoint.url, kinds, "ida")
        endpoint.secret = secret
        ids.append(sub.id)
    notifier = Notifier(smtp=SmtpConfig(), webhook_secret="the event webhooks' secret", journal=Journal(db),
                        subscriptions=subs)
    return notifier, subs, ids


def test_the_notification_key_is_the_key_without_its_recipient():
    """Every delivery of a team notification names the same notification; a guest's message names none."""
    made = team_notification("e1", "enter.planning.3.0", "stage_entered")
    assert {notification_key(r) for r in made} == {"e1:enter.planning.3.0"}
    hook = NotificationRequest(key="e1:enter.planning.3.0:webhook:" + __import__("hashlib").sha256(
        b"https://x.example.org/h").hexdigest()[:12], event_id="e1", kind="stage_entered", channel="webhook",
        recipient=Recipient(role="subscriber", webhook_url="https://x.example.org/h"))
    assert notification_key(hook) == "e1:enter.planning.3.0"
    guest = NotificationRequest(key="e1:attendee.k1:ann:email", event_id="e1", kind="invitation", channel="email",
                                recipient=Recipient(role="guest", person_id="ann", email="ann@example.org"))
    assert notification_key(guest) is None
    odd = made[0].model_copy(update={"key": "something else"})
    assert notification_key(odd) is None


async def test_each_subscription_gets_its_kinds_of_its_organisation_once(db: Database):
    """A kind filter lets only its kinds through, another organisation's event sends nothing, and the
    deliveries of a notification (sent at once, then all retried) reach each subscription once."""
    with subscribers(3) as endpoints:
        only_entered, every_kind, contoso = endpoints
        notifier, _, (a, b, c) = await _setup(db, endpoints)
        entered = team_notification(NORTHWIND, "enter.planning.3.0", "stage_entered")
        left = team_notification(NORTHWIND, "leave.preparation.3.0", "stage_left")
        for _ in range(2):  # the second round is every activity retried (a lost completion): nothing new
            await asyncio.gather(*(notifier.send_notification(r) for r in entered + left))
        # a guest's own message is not a team notification
        await notifier.send_notification(NotificationRequest(
            key=f"{NORTHWIND}:attendee.k1:ann:log", event_id=NORTHWIND, kind="stage_entered", channel="log",
            recipient=Recipient(role="guest", person_id="ann")))

        assert only_entered.keys() == [f"{NORTHWIND}:enter.planning.3.0:sub:{a}"]
        assert sorted(every_kind.keys()) == sorted([f"{NORTHWIND}:enter.planning.3.0:sub:{b}",
                                                    f"{NORTHWIND}:leave.preparation.3.0:sub:{b}"])
        assert every_kind.kinds() == {"stage_entered", "stage_left"}
        assert contoso.hits == 0, "another organisation's subscription got Northwind's notification"
        assert only_entered.refused == every_kind.refused == []
        assert only_entered.hits == 1 and every_kind.hits == 2
        body = only_entered.accepted[0]
        assert (body["event_id"], body["kind"], body["recipient"]) == (
            NORTHWIND, "stage_entered", {"role": "subscriber", "person_id": None})
        # each subscription's own secret: the other's does not verify
        assert only_entered.secret != every_kind.secret

        await notifier.send_notification(team_notification(CONTOSO, "enter.agenda.2.0", "stage_entered")[0])
        assert contoso.keys() == [f"{CONTOSO}:enter.agenda.2.0:sub:{c}"] and only_entered.hits == 1

        journal = Journal(db)
        page = await journal.deliveries_page(NORTHWIND)
        mine = {d.key: d for d in page.items if ":sub:" in d.key}
        assert set(mine) == {f"{NORTHWIND}:enter.planning.3.0:sub:{a}", f"{NORTHWIND}:enter.planning.3.0:sub:{b}",
                             f"{NORTHWIND}:leave.preparation.3.0:sub:{b}"}
        assert {(d.channel, d.status, d.to) for d in mine.values()} == {
            ("webhook", "sent", only_entered.url), ("webhook", "sent", every_kind.url)}


async def test_a_receiver_that_is_down_is_retried_and_gets_it_once(db: Database):
    """A subscription answering 503 fails the activity (retryable), its delivery journaled ``retrying``;
    the retry delivers it, and nothing already delivered (the other subscription's) is sent again."""
    with subscribers(3) as endpoints:
        only_entered, every_kind, _ = endpoints
        notifier, _, (a, b, _) = await _setup(db, endpoints)
        every_kind.unavailable = 1
        first = team_notification(NORTHWIND, "enter.planning.4.0", "stage_entered")[0]
        with pytest.raises(ApplicationError) as failed:
            await notifier.send_notification(first)
        assert not failed.value.non_retryable and b in str(failed.value)
        journal = Journal(db)
        assert await journal.delivered(f"{NORTHWIND}:enter.planning.4.0:sub:{b}") is None
        assert await journal.delivered(first.key) is not None, "the request's own delivery waited for a subscriber"
        statuses = {d.key: d.status for d in (await journal.deliveries_page(NORTHWIND)).items}
        assert statuses[f"{NORTHWIND}:enter.planning.4.0:sub:{b}"] == "retrying"

        await notifier.send_notification(first)  # the retry
        await notifier.send_notification(first)  # and one more (a lost completion)
        assert only_entered.hits == 1 and every_kind.hits == 2 and len(every_kind.accepted) == 1
        assert every_kind.accepted[0]["key"] == f"{NORTHWIND}:enter.planning.4.0:sub:{b}"


async def test_a_rotation_keeps_two_secrets_valid(db: Database):
    """After a rotation each delivery is signed by the new secret and the previous one (until its time is
    up): a receiver holding either verifies; with no time left only the new one signs."""
    with subscribers(3) as endpoints:
        _, every_kind, _ = endpoints
        notifier, subs, (_, b, _) = await _setup(db, endpoints)
        old = every_kind.secret
        rotated = await subs.rotate("Northwind", b, timedelta(hours=1))
        assert rotated is not None and rotated[0].previous_secret_until is not None
        new = rotated[1]
        assert await subs.rotate("Contoso", b, timedelta(hours=1)) is None, "rotated another organisation's"
        await notifier.send_notification(team_notification(NORTHWIND, "enter.planning.5.0", "stage_left")[0])
        assert every_kind.accepted and every_kind.headers[0]["webhook-signature"].count("v1,") == 2
        every_kind.secret = new  # the receiver moved to the new secret: the same delivery verifies with it too
        every_kind.unavailable = 0
        await notifier.send_notification(team_notification(NORTHWIND, "enter.planning.6.0", "stage_left")[0])
        assert every_kind.refused == [] and len(every_kind.accepted) == 2 and old != new

        again = await subs.rotate("Northwind", b, timedelta(0))  # the replaced secret stops at once
        assert again is not None and again[0].previous_secret_until is None
        await notifier.send_notification(team_notification(NORTHWIND, "enter.planning.7.0", "stage_left")[0])
        assert len(every_kind.refused) == 1 and len(every_kind.accepted) == 2, "signed by a dropped secret"
        every_kind.secret = again[1]
        await notifier.send_notification(team_notification(NORTHWIND, "enter.planning.8.0", "stage_left")[0])
        assert len(every_kind.accepted) == 3 and every_kind.headers[-1]["webhook-signature"].count("v1,") == 1
