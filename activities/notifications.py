"""Notifications: email over SMTP, signed webhooks, chat rooms through apprise (:mod:`activities.chat`), log lines.

One activity, ``send_notification`` (:class:`~workflows.messages.NotificationRequest` in,
:class:`~workflows.messages.DeliveryRecord` out), bound to a :class:`Notifier` that holds
the injected SMTP settings, HTTP client factory and webhook secret.

A retried activity must never deliver twice:

* every email carries a ``Message-ID`` derived from the request's key, and this
  worker remembers the keys it has delivered (a bounded LRU), so a retry after a
  lost completion is answered from memory instead of sending again;
* every webhook carries the key as ``Idempotency-Key`` (and ``webhook-id``), so the receiver drops a
  repeat, and is signed by the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``: :mod:`activities.webhook_signing`), with the older
  ``X-Convene-Signature: sha256=<hmac of the body>`` beside it for one release. A header
  is ASCII: the key is sent percent-encoded (:func:`header_key`: UTF-8, ``%XX`` for
  every byte outside visible ASCII and for ``%`` itself), so an ASCII key is sent as
  it is and ``延期-1`` as ``%E5%BB%B6%E6%9C%9F-1``; the body's ``key`` is the key itself.

Failures that retrying cannot fix (a refused address, a 4xx answer, a message whose
text cannot be encoded) are raised as non-retryable ``PermanentDeliveryFailure``; the rest are raised retryable and
the workflow's retry policy paces the next attempt.

Given a :class:`~store.journal.Journal` (every worker built by ``build_activities``
has one), the notifier also writes every outcome to the database, keyed by the
notification's key: ``sent`` and ``skipped`` and a permanent failure at once, a
failure that may pass as ``retrying`` (``failed`` on the activity's last attempt).
Before sending it asks the journal whether *any* worker delivered the key already,
so a retry that lands on another worker (after a crash, a lost completion) does not
send again either.

Given :class:`~store.subscriptions.Subscriptions`, ``send_notification`` also delivers each team
notification to the webhook subscriptions of the event's organisation (:mod:`activities.subscriptions`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import socket
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from temporalio import activity

from temporalio.exceptions import ApplicationError

from activities.chat import ChatRooms, post
from activities.errors import permanent, transient
from activities.links import PersonalLinks
from activities.rendering import Templates, build_email, build_ics, message_id, redact_url, template_variables
from convene import i18n
from activities.webhook_signing import legacy_signature, secret_bytes, signed_headers
from convene.logs import get_logger
from convene.metrics import count_delivery
from convene.settings import Settings
from store.journal import Journal
from store.subscriptions import Subscriptions
from workflows.messages import DeliveryRecord, NotificationRequest

_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


def header_key(key: str) -> str:
    """An idempotency key as an HTTP header value: visible ASCII as is, every other byte of its UTF-8 (and
    ``%``) as ``%XX``; ``urllib.parse.unquote`` gives the key back."""
    return urllib.parse.quote(key, safe=_HEADER_SAFE)


MAX_RETRY_AFTER = timedelta(hours=1)
"""The longest a receiver's ``Retry-After`` may hold back the next attempt."""


@functools.cache
def _local_hostname() -> str:
    """The name this host gives in EHLO, looked up once per process."""
    return socket.getfqdn()


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail server; ``host`` None means email is not configured (sends are skipped)."""

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_tls: bool = False
    mail_from: str = "Convene <convene@localhost>"
    timeout: float = 30.0
    mail_dir: Path | None = None
    """Without a host: write each email as an ``.eml`` file here instead (the dev stack's mail sink)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host or None,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            mail_from=settings.mail_from,
            mail_dir=settings.mail_dir,
        )


class SentKeys:
    """The idempotency keys this worker has delivered, newest last, at most ``size`` of them."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._keys: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        detail = self._keys.get(key)
        if detail is not None:
            self._keys.move_to_end(key)
        return detail

    def add(self, key: str, detail: str) -> None:
        self._keys[key] = detail
        self._keys.move_to_end(key)
        while len(self._keys) > self._size:
            self._keys.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Convene-Signature`` header value of a webhook body: ``sha256=<hex HMAC-SHA256>``."""
    return legacy_signature(secret, body)


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: let the retry policy pace it
    return min(timedelta(seconds=max(seconds, 0)), MAX_RETRY_AFTER)


def attempt_info() -> tuple[int, bool]:
    """This activity attempt's number, and whether it is the last its retry policy allows.

    Outside an activity (a direct call) it is attempt 1 of an unknown number.
    """
    try:
        info = activity.info()
    except RuntimeError:
        return 1, False
    maximum = info.retry_policy.maximum_attempts if info.retry_policy is not None else 0
    return info.attempt, maximum > 0 and info.attempt >= maximum


class Notifier:
    """Sends notifications; its bound :meth:`send_notification` is the activity.

    Args:
        smtp: the mail server; with no host, emails are recorded as skipped.
        http_client: makes a fresh :class:`httpx.AsyncClient` for each webhook (closed after use).
        webhook_secret: the HMAC key webhook receivers verify signatures with (``whsec_<base64>`` or text:
            :func:`activities.webhook_signing.secret_bytes`).
        webhook_secrets: every key in use, newest first, when rotating (each signs ``webhook-signature``;
            the first signs ``X-Convene-Signature``); empty: `webhook_secret` alone.
        clock: when a webhook is signed (``webhook-timestamp``); the system clock by default.
        webhook_timeout: seconds for one webhook request, connect to last byte.
        templates: the message templates; the shipped ones by default.
        remember: how many delivered keys this worker remembers.
        journal: where every delivery outcome is written, and asked whether a key was delivered by
            any worker; None sends as before, remembering delivered keys in this worker only.
        links: puts each person's own link in their emails (``personal_link``); None leaves it out.
        chat: the chat rooms (:mod:`activities.chat`); none by default (chat messages are skipped).
        subscriptions: organisations' webhook subscriptions, each team notification fanned out to them
            (:mod:`activities.subscriptions`); None: only the event's own webhooks.
    """

    def __init__(
        self,
        *,
        smtp: SmtpConfig,
        webhook_secret: str | bytes,
        http_client: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
        webhook_timeout: float = 10.0,
        templates: Templates | None = None,
        remember: int = 10_000,
        journal: Journal | None = None,
        links: PersonalLinks | None = None,
        chat: ChatRooms | None = None,
        webhook_secrets: Sequence[str | bytes] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self._clock = clock
        self.subscriptions = subscriptions
        self.smtp = smtp
        self._secrets = [secret_bytes(s) for s in webhook_secrets] or [secret_bytes(webhook_secret)]
        self._secret = self._secrets[0]
        self._http_client = http_client
        self._webhook_timeout = webhook_timeout
        self.templates = templates or Templates()
        self.sent = SentKeys(remember)
        self.journal = journal
        self.links = links
        self.chat = chat or ChatRooms()

    @classmethod
    def from_settings(cls, settings: Settings, journal: Journal | None = None) -> Notifier:
        default = Settings.model_fields["webhook_secret"].default
        if settings.webhook_secret == default and not settings.webhook_secrets:
            get_logger(__name__).warning("webhooks are signed with the default secret; set CONVENE_WEBHOOK_SECRET"
                                         + ("" if settings.link_secret else " (personal links are derived "
                                            "from it too: set CONVENE_LINK_SECRET, or anyone can make them)"))
        return cls(
            smtp=SmtpConfig.from_settings(settings),
            webhook_secret=settings.webhook_secret.get_secret_value(),
            webhook_secrets=[s.get_secret_value() for s in settings.webhook_secrets],
            webhook_timeout=settings.webhook_timeout_seconds,
            journal=journal,
            chat=ChatRooms(settings.chat_urls),
        )

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotificationRequest) -> DeliveryRecord:
        """Deliver one notification on its channel (the ``send_notification`` activity).

        Raises:
            ApplicationError: ``PermanentDeliveryFailure`` (non-retryable) when the message can never be
                delivered; ``TransientDeliveryFailure`` when a later attempt may succeed.
        """
        if self.journal is not None:
            await self.journal.db.migrate()  # a no-op once the worker migrated at start
        if self.subscriptions is None:
            return await self.deliver(request)
        from activities.subscriptions import fan_out

        try:
            record = await self.deliver(request)
        except Exception as err:
            # the notification still reaches the subscriptions; the request's own error is what is raised
            await fan_out(self, request, own_failed=True,
                          own_final=isinstance(err, ApplicationError) and err.non_retryable)
            raise
        await fan_out(self, request)
        return record

    async def deliver(self, request: NotificationRequest) -> DeliveryRecord:
        """Deliver ``request`` (also used by other activities, e.g. thanks); see :meth:`send_notification`.

        With a journal: a key any worker delivered is answered from the database without sending,
        and the outcome (or the failure) is written there before this returns (or raises).
        """
        return await self._journaled(request, self._enriched)

    async def deliver_signed(self, request: NotificationRequest, secrets: Sequence[str], *,
                             final: bool = False) -> DeliveryRecord:
        """Deliver the webhook ``request`` signed with `secrets` (``whsec_...``, newest first) instead of the
        configured ones: a subscription's (:mod:`activities.subscriptions`). Journaled as :meth:`deliver`;
        with `final`, a failure is recorded ``failed`` (no attempt follows)."""
        keys = [secret_bytes(s) for s in secrets]
        return await self._journaled(request, lambda r: self._webhook(r, keys), final=final)

    async def _enriched(self, request: NotificationRequest) -> DeliveryRecord:
        if self.links is not None:
            request = await self.links.enrich(request)
        return await self._deliver(request)

    async def _journaled(self, request: NotificationRequest,
                         send: Callable[[NotificationRequest], Awaitable[DeliveryRecord]],
                         final: bool = False) -> DeliveryRecord:
        if self.journal is None:
            record = await send(request)
            count_delivery(record.channel, record.status)
            return record
        earlier = await self.journal.delivered(request.key)
        if earlier is not None:
            self._log(request).info("already delivered (by this or another worker); not sent again")
            return earlier
        attempt, last = attempt_info()
        last = last or final
        try:
            record = await send(request)
        except Exception as err:
            permanent_failure = isinstance(err, ApplicationError) and err.non_retryable
            status = "failed" if permanent_failure or last else "retrying"
            await self._write_failure(request, status, str(err) or type(err).__name__, attempt)
            count_delivery(request.channel, status)
            raise
        await self.journal.record_delivery(request.event_id, record, attempts=attempt)
        count_delivery(record.channel, record.status)
        return record

    async def _write_failure(self, request: NotificationRequest, status: str, detail: str, attempt: int) -> None:
        """Record a failed attempt; a database that fails too is logged, never hides the send's own error."""
        assert self.journal is not None
        record = DeliveryRecord(
            key=request.key, kind=request.kind, channel=request.channel, to=self._target(request),
            status=status, detail=detail, at=datetime.now(UTC),
        )
        try:
            await self.journal.record_delivery(request.event_id, record, attempts=attempt)
        except Exception as err:  # noqa: BLE001 - the delivery's failure is what the caller must see
            self._log(request).warning("could not record the failed delivery", status=status,
                                       error=f"{type(err).__name__}: {err}")

    def _target(self, request: NotificationRequest) -> str:
        """Who a delivery was for, as the records show it (never a webhook's secret query, never a chat URL)."""
        r = request.recipient
        if request.channel == "chat":
            room = self.chat.room(request.event_id, r.role)
            return f"chat:{room.name}" if room else r.role
        if request.channel == "webhook":
            return (redact_url(r.webhook_url) or r.webhook_url) if r.webhook_url else r.role
        if request.channel == "email" and r.email:
            return r.email
        return r.person_id or r.role

    async def _deliver(self, request: NotificationRequest) -> DeliveryRecord:
        try:
            if request.channel == "email":
                return await self._email(request)
            if request.channel == "webhook":
                return await self._webhook(request)
            if request.channel == "chat":
                return await self._chat(request)
            return self._log_line(request)
        except UnicodeError as err:  # the same text fails the same way on every attempt: never retried
            raise permanent(f"the {request.channel} message cannot be encoded: {type(err).__name__}: {err}") from None

    # -------------------------------------------------------------- channels

    def _record(self, request: NotificationRequest, to: str, status: str, detail: str) -> DeliveryRecord:
        return DeliveryRecord(
            key=request.key, kind=request.kind, channel=request.channel, to=to, status=status,  # type: ignore[arg-type]
            detail=detail, at=datetime.now(UTC),
        )

    def _log(self, request: NotificationRequest) -> Any:
        r = request.recipient
        return get_logger(
            __name__, event_id=request.event_id, key=request.key, kind=request.kind, channel=request.channel,
            recipient_role=r.role, recipient_id=r.person_id,
        )

    async def _email(self, request: NotificationRequest) -> DeliveryRecord:
        log = self._log(request)
        r = request.recipient
        to = r.email or r.person_id or r.role
        if not r.email:
            return self._record(request, to, "skipped", f"no email address for {r.role}")
        if not self.smtp.host and self.smtp.mail_dir is None:
            log.info("email skipped: no SMTP server configured")
            return self._record(request, to, "skipped", "email is not configured (no SMTP host)")
        if (done := self.sent.get(request.key)) is not None:
            log.info("email already delivered by this worker; not sent again")
            return self._record(request, to, "sent", done)

        rendered = self.templates.render(request.kind, request.locale, template_variables(request))
        ics = build_ics(request, self.smtp.mail_from) if request.attach_ics else None
        try:
            message = build_email(request, rendered, self.smtp.mail_from, ics)
        except ValueError as err:
            raise permanent(f"cannot address an email to {r.role}: {err}") from None
        if not self.smtp.host and self.smtp.mail_dir is not None:
            who = re.sub(r"[^A-Za-z0-9._-]", "_", r.person_id or r.role)[:64]  # a file a person can find
            name = f"{request.kind}-{who}-{hashlib.sha256(request.key.encode()).hexdigest()[:12]}.eml"
            path = self.smtp.mail_dir / re.sub(r"[^A-Za-z0-9._-]", "_", request.event_id) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(message.as_bytes())
            log.info("email written to the mail folder (no SMTP server configured)")
            return self._record(request, to, "sent", f"written to {path}")
        sender = parseaddr(self.smtp.mail_from)[1] or self.smtp.mail_from
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[r.email],
                hostname=self.smtp.host,
                port=self.smtp.port,
                local_hostname=_local_hostname(),  # else a name lookup in a thread for every message
                username=self.smtp.username,
                password=self.smtp.password,
                start_tls=self.smtp.starttls,
                use_tls=self.smtp.use_tls,
                timeout=self.smtp.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as err:
            codes = ", ".join(str(e.code) for e in err.recipients)
            log.warning("email refused by the server", smtp_codes=codes)
            raise permanent(f"the mail server refused the address of {r.role} ({codes})") from None
        except aiosmtplib.SMTPAuthenticationError as err:
            # A wrong password stays wrong; fix the settings and the next event's mail goes out.
            raise permanent(f"SMTP authentication failed ({err.code})") from None
        except aiosmtplib.SMTPResponseException as err:
            if err.code >= 500:
                raise permanent(f"the mail server rejected the message ({err.code} {err.message})") from None
            raise transient(f"the mail server deferred the message ({err.code} {err.message})") from None
        except (aiosmtplib.SMTPException, OSError) as err:
            raise transient(f"mail server unreachable: {type(err).__name__}: {err}") from None
        detail = f"sent {message_id(request.key)}" + (" with invite.ics" if ics else "")
        self.sent.add(request.key, detail)
        log.info("email sent", attachments=1 if ics else 0)
        return self._record(request, r.email, "sent", detail)

    async def _webhook(self, request: NotificationRequest, secrets: Sequence[bytes] | None = None) -> DeliveryRecord:
        log = self._log(request)
        url, role = request.recipient.webhook_url, request.recipient.role
        if not url:
            return self._record(request, role, "skipped", f"no webhook URL for {role}")
        shown = redact_url(url) or url
        if (done := self.sent.get(request.key)) is not None:
            log.info("webhook already delivered by this worker; not sent again")
            return self._record(request, shown, "sent", done)

        rendered = self.templates.render(request.kind, request.locale, template_variables(request))
        payload = {
            "key": request.key,
            "event_id": request.event_id,
            "kind": request.kind,
            "locale": i18n.resolve(request.locale),  # the language the text is in (a stored "zh" reads zh-Hans)
            "recipient": {"role": request.recipient.role, "person_id": request.recipient.person_id},
            "subject": rendered.subject,
            "text": rendered.text,
            "context": request.context,
        }
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "convene-webhook/1",
            **signed_headers(secrets or self._secrets, request.key, body, self._clock()),
            "X-Convene-Kind": request.kind,
            "Idempotency-Key": header_key(request.key),
        }
        try:
            async with self._http_client() as client:
                response = await client.post(url, content=body, headers=headers, timeout=self._webhook_timeout)
        except httpx.UnsupportedProtocol as err:
            raise permanent(f"webhook URL not usable: {err}") from None
        except httpx.InvalidURL as err:
            raise permanent(f"webhook URL not usable: {err}") from None
        except httpx.TimeoutException:
            raise transient(f"webhook {shown} timed out after {self._webhook_timeout:g}s") from None
        except httpx.TransportError as err:
            raise transient(f"webhook {shown} unreachable: {type(err).__name__}") from None

        status = response.status_code
        if 200 <= status < 300:
            detail = f"accepted ({status})"
            self.sent.add(request.key, detail)
            log.info("webhook delivered", status=status)
            return self._record(request, shown, "sent", detail)
        if status == 429 or status >= 500:
            log.warning("webhook deferred", status=status)
            raise transient(f"webhook {shown} answered {status}", _retry_after(response.headers.get("Retry-After")))
        # Other 4xx (and 3xx: redirects are not followed, a webhook must name its real endpoint).
        log.warning("webhook refused", status=status)
        raise permanent(f"webhook {shown} refused the message ({status})")

    async def _chat(self, request: NotificationRequest) -> DeliveryRecord:
        log = self._log(request)
        role = request.recipient.role
        room = self.chat.room(request.event_id, role)
        if room is None:
            return self._record(request, role, "skipped", f"no chat room for {role} (CONVENE_CHAT_URLS)")
        shown = f"chat:{room.name}"
        if (done := self.sent.get(request.key)) is not None:
            log.info("chat message already delivered by this worker; not sent again", room=room.name)
            return self._record(request, shown, "sent", done)
        rendered = self.templates.render(request.kind, request.locale, template_variables(request))
        if not await post(room, rendered.subject, rendered.text, header_key(request.key)):
            log.warning("chat room did not take the message", room=room.name)
            raise transient(f"the chat room {room.name} did not take the message")
        detail = f"posted to {len(room.urls)} room URL(s)"
        self.sent.add(request.key, detail)
        log.info("chat message delivered", room=room.name)
        return self._record(request, shown, "sent", detail)

    def _log_line(self, request: NotificationRequest) -> DeliveryRecord:
        rendered = self.templates.render(request.kind, request.locale, template_variables(request))
        # Only ids and the subject (event-level text): never an address, a body or a secret.
        self._log(request).info("notification", subject=rendered.subject, locale=request.locale)
        r = request.recipient
        return self._record(request, r.person_id or r.role, "sent", "logged")
