"""The send_notification activity against a real SMTP server and a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Notifier, SmtpConfig
from activities.rendering import Templates, message_id
from definitions import definition_hash, shipped
from tests.activities.support import (
    END,
    REFUSED_DOMAIN,
    START,
    WEBHOOK_SECRET,
    Inbox,
    Receiver,
    free_port,
    notification,
)
from workflows.lifecycle import Lifecycle
from workflows.messages import (
    Actor,
    Attendee,
    DeliveryRecord,
    EventDetails,
    InviteAttendees,
    InvitationSend,
    InviteSpeaker,
    NotificationRequest,
    Person,
    Postpone,
)

HOSTILE = "<script>alert(1)</script> {{ 7*7 }}"


async def send(notifier: Notifier, request: NotificationRequest) -> DeliveryRecord:
    return await ActivityEnvironment().run(notifier.send_notification, request)


def parts(message: Any) -> tuple[str, str, list[Any]]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html, list(message.iter_attachments())


def invitations_from_lifecycle(roster: str = "memory") -> list[Any]:
    """The invitation effects the real lifecycle emits for one Chinese speaker and two attendees: notification
    requests for all three with the roster in memory; with it in the database, the attendees' invitations
    are one InvitationSend (what `send_invitations` gets)."""
    return lifecycle_with_invitations(roster)[1]


def lifecycle_with_invitations(roster: str = "database", extra: list[Attendee] | None = None) -> tuple[Lifecycle, list[Any]]:
    """The lifecycle of :func:`invitations_from_lifecycle` (with `extra` attendees invited too) and its effects."""
    definition = shipped().get("conference")
    now = START - timedelta(days=120)
    event = EventDetails(
        id="summit-2026", title="Convene Summit", kind="conference", start=START, end=END,
        timezone="Asia/Shanghai", venue="Hall A", owner="pia",
        team={"activity_planner": [Person(id="pat", name="Pat", email="pat@example.org")],
              "project_manager": [Person(id="pia", name="Pia", email="pia@example.org")],
              "pr_communications": [Person(id="prue", name="Prue", email="prue@example.org")]},
    )
    lc = Lifecycle.start(definition, event, now, definition_hash(definition), roster=roster)
    lc.take_effects()
    lc.apply(InviteSpeaker(key="inv-li", actor=Actor(id="pat", role="activity_planner"),
                           speaker=Person(id="li", name="Li Wei", email="li@example.org", locale="zh"),
                           slot="keynote", topic="Durable workflows"))
    lc.apply(InviteAttendees(key="inv-att", actor=Actor(id="prue", role="pr_communications"), attendees=[
        Attendee(id="ada", name="Ada", email="ada@example.org", key_client=True),
        Attendee(id="bo", name="Bo", email="bo@example.org", locale="zh-TW"), *(extra or []),
    ]))
    return lc, [e for e in lc.take_effects() if isinstance(e, (NotificationRequest, InvitationSend))]


async def test_each_person_gets_their_invitation_in_their_language_with_an_ics(
    notifier: Notifier, inbox: Inbox
) -> None:
    """Invitations emitted by the lifecycle reach each person once, in their locale, with a parseable invite:
    Li's stored ``zh`` reads as Simplified Chinese, Bo's ``zh-TW`` as Traditional."""
    requests = invitations_from_lifecycle()
    assert {r.recipient.email for r in requests} == {"li@example.org", "ada@example.org", "bo@example.org"}
    for request in requests:
        record = await send(notifier, request)
        assert record.status == "sent" and record.to == request.recipient.email

    [li] = inbox.to("li@example.org")
    [ada] = inbox.to("ada@example.org")
    [bo] = inbox.to("bo@example.org")
    assert li["Subject"] == "演讲邀请：Convene Summit"
    assert li["Content-Language"] == "zh-Hans"
    text, html, attachments = parts(li)
    assert "尊敬的Li Wei" in text and "您的演讲主题：Durable workflows" in text and "地点：Hall A" in text
    assert "2026年5月5日星期二 09:00（Asia/Shanghai）" in text  # 01:00 UTC in the event's zone, CLDR's zh-Hans date
    assert "议程确定后" in text  # the agenda hint
    assert '<html lang="zh-Hans">' in html and "Durable workflows" in html
    li_key = next(r.key for r in requests if r.recipient.person_id == "li")
    assert li["Message-ID"] == message_id(li_key)

    assert ada["Subject"] == "Invitation: Convene Summit"
    ada_text, _, _ = parts(ada)
    assert ada_text.startswith("Dear Ada,") and "You are invited to Convene Summit." in ada_text
    assert bo["Subject"] == "活動邀請：Convene Summit" and bo["Content-Language"] == "zh-Hant"
    assert "2026年5月5日 星期二 上午9:00（Asia/Shanghai）" in parts(bo)[0]  # CLDR's zh-Hant-TW date and time

    for message in (li, ada, bo):
        [ics] = parts(message)[2]
        assert ics.get_content_type() == "text/calendar"
        assert ics.get_param("method") == "REQUEST"
        calendar = Calendar.from_ical(ics.get_content())
        assert str(calendar["METHOD"]) == "REQUEST"
        [vevent] = calendar.walk("VEVENT")
        assert str(vevent["UID"]) == "summit-2026@convene"
        assert vevent.decoded("DTSTART") == START and vevent.decoded("DTEND") == END
        assert str(vevent["SUMMARY"]) == "Convene Summit" and str(vevent["LOCATION"]) == "Hall A"


async def test_attendee_invitation_includes_fee_and_contact_when_given(notifier: Notifier, inbox: Inbox) -> None:
    """An attendee invitation shows the fee and the contact for questions when the context has them."""
    request = notification(audience="attendee", fee="EUR 250 (early bird)", contact="Prue, prue@example.org")
    await send(notifier, request)
    text, html, attachments = parts(inbox.to("ann@example.org")[0])
    assert "Fee: EUR 250 (early bird)" in text and "Questions: Prue, prue@example.org" in text
    assert "EUR 250 (early bird)" in html
    assert attachments == []  # attach_ics was not asked for


async def test_a_retried_email_is_sent_once(notifier: Notifier, inbox: Inbox) -> None:
    """Running the activity twice with the same key delivers one email and answers the same both times."""
    request = notification(kind="confirmation", audience="speaker")
    first = await send(notifier, request)
    second = await send(notifier, request)
    assert len(inbox.to("ann@example.org")) == 1
    assert first.status == second.status == "sent" and first.detail == second.detail


async def test_a_recipient_without_email_is_skipped(notifier: Notifier, inbox: Inbox) -> None:
    """An email to a recipient with no address is recorded as skipped, naming the role."""
    record = await send(notifier, notification(email=None))
    assert (record.status, record.detail) == ("skipped", "no email address for guest")
    assert inbox.messages == []


async def test_email_without_an_smtp_host_is_skipped() -> None:
    """With no SMTP host configured, emails are skipped with a clear detail instead of failing."""
    notifier = Notifier(smtp=SmtpConfig(host=None), webhook_secret="x")
    record = await send(notifier, notification())
    assert record.status == "skipped" and "no SMTP host" in record.detail


async def test_an_address_refused_by_the_server_is_not_retried(notifier: Notifier, inbox: Inbox) -> None:
    """A recipient the mail server refuses raises a non-retryable PermanentDeliveryFailure."""
    with pytest.raises(ApplicationError) as err:
        await send(notifier, notification(email=f"nobody@{REFUSED_DOMAIN}"))
    assert err.value.non_retryable and err.value.type == "PermanentDeliveryFailure"
    assert "550" in str(err.value) and "nobody" not in str(err.value)
    assert inbox.messages == []


async def test_an_unreachable_mail_server_is_retried() -> None:
    """A mail server that cannot be reached raises a retryable error."""
    notifier = Notifier(smtp=SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2), webhook_secret="x")
    with pytest.raises(ApplicationError) as err:
        await send(notifier, notification())
    assert not err.value.non_retryable and err.value.type == "TransientDeliveryFailure"


async def test_a_hostile_title_renders_inert(notifier: Notifier, inbox: Inbox) -> None:
    """Markup and template syntax in a title or name are escaped in HTML and printed literally in text."""
    await send(notifier, notification(title=HOSTILE, name="Eve <img src=x onerror=alert(1)>", audience="speaker",
                                      topic="{% raw %}{{ config }}"))
    [message] = inbox.to("ann@example.org")
    text, html, _ = parts(message)
    assert HOSTILE in text and "{% raw %}{{ config }}" in text
    assert "49" not in text and "49" not in html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
    assert "Eve &lt;img src=x onerror=alert(1)&gt;" in html
    assert message["Subject"] == f"Invitation to speak: {HOSTILE}"


def test_the_evaluation_report_message_quotes_the_lessons_or_says_why_not() -> None:
    """The report's message carries its summary and the lessons; a confidential kind's has none and says so."""
    templates = Templates()
    open_kind = templates.render("evaluation_report", "en", {"title": "Summit", "summary": "tasks 20/26",
                                                              "lessons": "Open doors earlier.", "confidential": False})
    assert open_kind.subject == "Evaluation report: Summit"
    assert "tasks 20/26" in open_kind.text and "Open doors earlier." in open_kind.text
    assert "Open doors earlier." in open_kind.html
    closed = templates.render("evaluation_report", "zh-Hant", {"title": "Talks", "summary": "tasks 3/9",
                                                              "lessons": "", "confidential": True})
    assert "機密" in closed.text and "tasks 3/9" in closed.text and "經驗教訓：" not in closed.text


async def test_every_kind_renders_in_every_language() -> None:
    """Every notification kind has a subject, a text and an HTML part in English and both Chinese scripts."""
    templates = Templates()
    for kind in ("invitation", "confirmation", "reminder", "escalation", "thanks", "cancellation",
                 "stage_entered", "stage_left", "decision", "evaluation_report"):
        for locale in ("en", "zh-Hans", "zh-Hant"):
            rendered = templates.render(kind, locale, {"title": "T", "recipient_name": "R", "stage": "planning"})
            assert rendered.subject and rendered.text.strip() and f'<html lang="{locale}">' in rendered.html
            assert ("尊敬的" in rendered.text) == (locale != "en")
            assert ("Dear R," in rendered.text) == (locale == "en")


async def test_a_message_without_a_translation_prints_in_english(tmp_path: Path) -> None:
    """A message the catalogue does not translate prints as its English msgid; values stay escaped in HTML,
    a translated one (``Dear %(name)s,``) still translates, and an unknown locale reads English."""
    for suffix, body in (("subject.txt", "{% trans %}Thanks {{ title }}{% endtrans %}"), ("txt", "Thank you"),
                         ("html", "<p>{% trans name=title %}Dear {{ name }},{% endtrans %} {% trans %}Hi {{ title }}{% endtrans %}</p>")):
        (tmp_path / f"thanks.{suffix}").write_text(body, encoding="utf-8")
    rendered = Templates(tmp_path).render("thanks", "zh-Hant", {"title": "<b>"})
    assert rendered.subject == "Thanks <b>" and rendered.html == "<p>尊敬的&lt;b&gt;： Hi &lt;b&gt;</p>"
    assert Templates(tmp_path).render("thanks", "fr", {"title": "x"}).subject == "Thanks x"


async def test_an_unknown_kind_is_refused() -> None:
    """A kind without templates raises a non-retryable error instead of sending an empty message."""
    notifier = Notifier(smtp=SmtpConfig(host=None), webhook_secret="x")
    with pytest.raises(ApplicationError) as err:
        await send(notifier, notification(kind="../../etc/passwd", channel="log"))
    assert err.value.non_retryable and err.value.type == "UnknownNotificationKind"


async def test_the_log_channel_writes_ids_not_addresses() -> None:
    """A log notification is one structured line with the recipient's id and no email address."""
    notifier = Notifier(smtp=SmtpConfig(host=None), webhook_secret="x")
    with capture_logs() as logs:
        record = await send(notifier, notification(channel="log"))
    assert (record.status, record.to) == ("sent", "ann")
    [line] = [entry for entry in logs if entry["event"] == "notification"]
    assert line["recipient_id"] == "ann" and line["kind"] == "invitation"
    assert "ann@example.org" not in json.dumps(line, default=str)


# --------------------------------------------------------------------------------------- webhooks


async def deliver_with_retries(notifier: Notifier, request: NotificationRequest, attempts: int = 5) -> DeliveryRecord:
    """What Temporal does with a retryable failure: run the activity again with the same input."""
    for _ in range(attempts):
        try:
            return await send(notifier, request)
        except ApplicationError as err:
            if err.non_retryable:
                raise
    raise AssertionError("still failing after retries")


async def test_a_webhook_failing_twice_is_delivered_once(notifier: Notifier, receiver: Receiver) -> None:
    """A receiver answering 503 twice gets three signed requests with one key and accepts the message once."""
    receiver.script = [503, 503]
    request = notification(channel="webhook", email=None, webhook_url=receiver.url, kind="stage_entered")
    record = await deliver_with_retries(notifier, request)

    assert record.status == "sent" and record.detail == "accepted (200)"
    assert record.to.endswith("/hooks/convene") and "token" not in record.to  # no secret in the record
    assert [h.status for h in receiver.hits] == [503, 503, 200]
    assert {h.headers["idempotency-key"] for h in receiver.hits} == {request.key}
    assert len(receiver.accepted) == 1 and receiver.accepted[0]["kind"] == "stage_entered"
    for hit in receiver.hits:
        expected = hmac.new(WEBHOOK_SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hit.headers["x-convene-signature"], f"sha256={expected}")

    again = await send(notifier, request)  # a retry after a lost completion: not posted again
    assert again.status == "sent" and len(receiver.hits) == 3


async def test_a_webhook_answering_400_is_not_retried(notifier: Notifier, receiver: Receiver) -> None:
    """A 4xx other than 429 raises a non-retryable PermanentDeliveryFailure after one request."""
    receiver.script = [400]
    with pytest.raises(ApplicationError) as err:
        await deliver_with_retries(notifier, notification(channel="webhook", webhook_url=receiver.url))
    assert err.value.non_retryable and err.value.type == "PermanentDeliveryFailure"
    assert "400" in str(err.value) and "token=abc" not in str(err.value)
    assert len(receiver.hits) == 1


async def test_a_webhook_answering_429_is_retried(notifier: Notifier, receiver: Receiver) -> None:
    """Too Many Requests is a retryable failure."""
    receiver.script = [429]
    with pytest.raises(ApplicationError) as err:
        await send(notifier, notification(channel="webhook", webhook_url=receiver.url))
    assert not err.value.non_retryable


async def test_an_unreachable_webhook_is_retried(notifier: Notifier) -> None:
    """A refused connection is a retryable failure."""
    request = notification(channel="webhook", webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    with pytest.raises(ApplicationError) as err:
        await send(notifier, request)
    assert not err.value.non_retryable and err.value.type == "TransientDeliveryFailure"


async def test_a_webhook_body_is_json_with_the_rendered_message(notifier: Notifier, receiver: Receiver) -> None:
    """The webhook body is JSON carrying the key, the kind, the rendered subject and the context."""
    await send(notifier, notification(channel="webhook", webhook_url=receiver.url, locale="zh", kind="cancellation",
                                      reason="Typhoon"))
    body = json.loads(receiver.hits[0].body)
    assert body["key"] == receiver.hits[0].headers["idempotency-key"]
    assert body["subject"] == "取消通知：Convene Summit" and "原因：Typhoon" in body["text"] and "很遗憾" in body["text"]
    assert body["locale"] == "zh-Hans"  # a stored "zh" is Simplified Chinese
    assert body["context"]["reason"] == "Typhoon" and body["recipient"] == {"role": "guest", "person_id": "ann"}
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", receiver.hits[0].headers["x-convene-signature"])


# --- issue 17, items 4 and 5: the invitation's .ics says its charset and writes instants -----------------------


def _sent_ics(message: Any) -> Any:
    [ics] = parts(message)[2]
    return ics


async def test_the_ics_attachment_says_charset_utf8_and_decodes_to_the_chinese_title(
    notifier: Notifier, inbox: Inbox
) -> None:
    """Item 4: a Chinese invitation's .ics part is ``text/calendar; method=REQUEST; charset=utf-8`` and its text,
    decoded by that charset, names 年度技术大会 at 上海国际会议中心; its times are UTC, with a DTSTAMP."""
    request = notification(locale="zh", attach_ics=True, title="年度技术大会", venue="上海国际会议中心")
    record = await send(notifier, request)
    assert record.status == "sent"
    [message] = inbox.to("ann@example.org")
    ics = _sent_ics(message)
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("charset") == "utf-8" and ics.get_param("method") == "REQUEST"
    assert ics.get_content_charset() == "utf-8"
    text = ics.get_payload(decode=True).decode(ics.get_content_charset())
    assert "SUMMARY:年度技术大会\r\n" in text and "LOCATION:上海国际会议中心\r\n" in text
    assert ics.get_content() == text  # what a mail client does with the declared charset
    [vevent] = Calendar.from_ical(text).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "年度技术大会"
    assert "DTSTART:20260505T010000Z\r\n" in text and vevent.decoded("DTSTART") == START
    assert vevent.decoded("DTEND") == END and "DTSTAMP" in vevent


async def test_a_european_invitation_ics_in_another_zone_is_utf8_and_utc(notifier: Notifier, inbox: Inbox) -> None:
    """Another message: an English invitation for a Europe/Paris event at 09:00 +02:00 (Genève, Zürich):
    charset utf-8, accents intact, DTSTART written 07:00Z and read back as the same instant."""
    start = datetime.fromisoformat("2030-05-01T09:00:00+02:00")
    request = notification(attach_ics=True, title="Sommet à Genève", venue="Kongresshaus Zürich",
                           start=start.isoformat(), end=(start + timedelta(hours=8)).isoformat(),
                           timezone="Europe/Paris")
    assert (await send(notifier, request)).status == "sent"
    [message] = inbox.to("ann@example.org")
    ics = _sent_ics(message)
    assert ics.get_param("charset") == "utf-8"
    [vevent] = Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Sommet à Genève" and str(vevent["LOCATION"]) == "Kongresshaus Zürich"
    assert "DTSTART:20300501T070000Z" in ics.get_content()
    assert vevent.decoded("DTSTART") == start and vevent.decoded("DTEND") == start + timedelta(hours=8)
    assert vevent.decoded("DTSTAMP").tzinfo is not None


# --- issue 17, item 10: keys outside ASCII in headers --------------------------------------------------------


def postponement_webhooks(act_key: str, url: str) -> list[NotificationRequest]:
    """The webhook notifications the real lifecycle emits for a postponement keyed ``act_key``."""
    definition = shipped().get("conference")
    now = START - timedelta(days=120)
    event = EventDetails(id="summit-2026", title="年度技术大会", kind="conference", start=START, end=END,
                         timezone="Asia/Shanghai", owner="pia", webhooks=[url])
    lc = Lifecycle.start(definition, event, now, definition_hash(definition))
    lc.take_effects()
    lc.apply(Postpone(key=act_key, actor=Actor(id="pia", role="project_manager"),
                      new_start=START + timedelta(days=30), new_end=END + timedelta(days=30)))
    return [e for e in lc.take_effects() if isinstance(e, NotificationRequest) and e.channel == "webhook"]


async def test_a_postpone_keyed_in_chinese_delivers_its_webhook_once_with_an_ascii_header(
    notifier: Notifier, receiver: Receiver
) -> None:
    """Item 10: a postponement keyed ``延期-1`` on an event with a webhook: the receiver answers 503 once, the
    retry is delivered, the Idempotency-Key header is ASCII (percent-encoded UTF-8) and the same on both
    tries, it decodes to the notification's key, and the message is accepted once."""
    [request] = postponement_webhooks("延期-1", receiver.url)
    assert request.key == f"summit-2026:postpone.延期-1:webhook:{request.key.rsplit(':', 1)[1]}"
    receiver.script = [503]
    record = await deliver_with_retries(notifier, request)
    assert record.status == "sent" and record.detail == "accepted (200)"
    assert [h.status for h in receiver.hits] == [503, 200]
    sent = {h.headers["idempotency-key"] for h in receiver.hits}
    assert sent == {request.key.replace("延期", "%E5%BB%B6%E6%9C%9F")}
    [header] = sent
    assert header.isascii() and urllib.parse.unquote(header) == request.key
    assert len(receiver.accepted) == 1 and receiver.accepted[0]["key"] == request.key
    again = await send(notifier, request)  # a retry after a lost completion: not posted again
    assert again.status == "sent" and len(receiver.hits) == 2


async def test_ascii_keys_are_sent_as_they_are_and_other_scripts_and_percent_signs_round_trip(
    notifier: Notifier, receiver: Receiver
) -> None:
    """Another kind of key: ASCII keys (with ``:`` ``.`` ``+``) are unchanged in the header; a European key with a
    space and a ``%`` and a cancellation in Greek are encoded so that unquoting gives each key back."""
    for key in ("summit-2026:cancel.team:webhook:2030-01-01T00:00:00+00:00", "Zürich 100%", "ακύρωση/1"):
        request = notification(channel="webhook", email=None, webhook_url=receiver.url, kind="cancellation",
                               key=key, reason="Typhoon")
        assert (await send(notifier, request)).status == "sent"
        header = receiver.hits[-1].headers["idempotency-key"]
        assert header.isascii() and urllib.parse.unquote(header) == key
        assert (header == key) is (key.isascii() and "%" not in key and " " not in key)
    assert receiver.hits[1].headers["idempotency-key"] == "Z%C3%BCrich%20100%25"
    assert len(receiver.accepted) == 3


async def test_a_message_that_cannot_be_encoded_fails_once_not_retried(receiver: Receiver) -> None:
    """No plain exception escapes as retryable: a UnicodeEncodeError while sending (here from the HTTP client)
    becomes a non-retryable PermanentDeliveryFailure."""

    class Refusing(httpx.AsyncClient):
        async def post(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
            raise UnicodeEncodeError("ascii", "延", 0, 1, "ordinal not in range(128)")

    notifier = Notifier(smtp=SmtpConfig(host=None, port=25, mail_from="convene@example.org"),
                        webhook_secret=WEBHOOK_SECRET, http_client=Refusing)
    with pytest.raises(ApplicationError) as err:
        await send(notifier, notification(channel="webhook", email=None, webhook_url=receiver.url))
    assert err.value.non_retryable and err.value.type == "PermanentDeliveryFailure"
    assert "cannot be encoded" in str(err.value) and "UnicodeEncodeError" in str(err.value)


async def test_stages_slots_and_severities_are_named_in_the_reader_language() -> None:
    """Ids the page labels name (a stage, a slot, a severity) read in the reader's language; an id without a
    label prints with its underscores as spaces."""
    templates = Templates()
    entered = templates.render("stage_entered", "zh-Hans", {"title": "T", "stage": "planning"})
    assert "已进入“会议策划”阶段" in entered.text and "会议策划" in entered.subject
    assert "「會議策劃」" in templates.render("stage_entered", "zh-Hant", {"title": "T", "stage": "planning"}).text
    assert "the post meeting stage" in templates.render("stage_left", "en", {"title": "T", "stage": "post_meeting"}).text
    incident = templates.render("escalation", "en", {"title": "T", "incident": "Fire", "severity": "high"})
    assert incident.subject == "Incident (High): T" and "A high-severity incident" in incident.text
    speaker = templates.render("invitation", "zh-Hans", {"title": "T", "audience": "speaker", "slot": "keynote"})
    assert "演讲类别：主题演讲" in speaker.text


async def test_without_a_mail_server_a_mail_folder_keeps_each_email_once(tmp_path: Path) -> None:
    """The dev stack's sink: no SMTP host but a mail folder: the email is written there as an .eml file (the same
    bytes a server would get), recorded sent, and a retry of its key writes it once."""
    from email import message_from_bytes

    notifier = Notifier(smtp=SmtpConfig(host=None, mail_dir=tmp_path / "mail"), webhook_secret=WEBHOOK_SECRET)
    request = notification(attach_ics=True)
    record = await send(notifier, request)
    assert record.status == "sent" and record.detail.startswith(f"written to {tmp_path / 'mail'}")
    await send(notifier, request)
    [eml] = list((tmp_path / "mail" / "summit-2026").glob("invitation-ann-*.eml"))  # kind and person in its name
    message = message_from_bytes(eml.read_bytes())
    assert message["To"].endswith("<ann@example.org>") and message["Message-ID"] == message_id(request.key)


@pytest.mark.parametrize("locale", ["en", "zh-Hans", "zh-Hant"])
async def test_the_day_s_agenda_notices_say_what_changed(locale: str) -> None:
    """A speaker whose item moved or was dropped reads the new time and the reason; the programme roles read
    that an item ends in N minutes, and an overrun names the item (not an empty deadline)."""
    templates = Templates()
    base = {"title": "Summit", "recipient_name": "Kim", "timezone": "UTC", "audience": "speaker",
            "item": "Durable events", "reason": "the room is late", "room": "main"}
    moved = templates.render("reminder", locale, base | {"agenda_change": "move", "new_minutes": 45,
                                                         "new_start": "2030-05-01T10:05:00+00:00"})
    assert "Durable events" in moved.subject and "the room is late" in moved.text and "45" in moved.text
    assert "10:05" in moved.text and "the room is late" in moved.html
    dropped = templates.render("reminder", locale, base | {"agenda_change": "drop"})
    assert "Durable events" in dropped.text and "the room is late" in dropped.text and "10:05" not in dropped.text
    assert dropped.text != moved.text
    ending = templates.render("escalation", locale, {"title": "Summit", "recipient_name": "Pat", "timezone": "UTC",
                                                     "item": "Durable events", "item_ending": "5",
                                                     "ends": "2030-05-01T10:15:00+00:00"})
    assert "Durable events" in ending.subject and "5" in ending.subject and "10:15" in ending.text
    overrun = templates.render("escalation", locale, {"title": "Summit", "recipient_name": "Pat", "item": "Keynote",
                                                      "minutes": 45})
    assert "Keynote" in overrun.subject and "45" in overrun.text and "“”" not in overrun.text
    if locale == "en":
        assert moved.subject == "Programme change: Durable events (Summit)"
        assert "taken off today's programme" in dropped.text
        assert "is due to end in 5 minutes" in ending.text
