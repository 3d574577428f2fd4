"""What a notification says: templates per kind and locale, the MIME message, the ``.ics`` invite.

Templates live in ``activities/templates/<locale>/<kind>.{subject.txt,txt,html}``
and render in a Jinja2 :class:`~jinja2.sandbox.SandboxedEnvironment`: event
titles and people's names are data typed by users, so HTML parts are
autoescaped and nothing a user types is ever parsed as a template (a title of
``{{ 7*7 }}`` prints as itself). A locale without a template falls back to
English.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from jinja2 import FileSystemLoader, TemplateNotFound, pass_context, select_autoescape
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import SandboxedEnvironment

from activities.errors import UNKNOWN_NOTIFICATION_KIND, permanent
from definitions.schema import NotificationKind
from workflows.messages import NotificationRequest

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_LOCALE = "en"
KINDS = frozenset(get_args(NotificationKind))
"""Every notification kind a definition may name."""

_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (no CR/LF can reach a mail header) and cut to ``limit`` characters."""
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact_url(url: str | None) -> str | None:
    """A URL fit for logs and records: no credentials, query or fragment (any of them may carry a token)."""
    if not url:
        return url
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def message_id(key: str) -> str:
    """The Message-ID of the email sent for an idempotency key: the same key always gives the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@convene>"


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from a context value (ISO text or datetime), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds; an odd zone must not stop a message
        return ZoneInfo("UTC")


@pass_context
def _when(ctx: Context, value: Any) -> str:
    """Format an ISO time in the event's zone, the way the reader's locale writes dates."""
    at = parse_time(value)
    if at is None:
        return "" if isinstance(value, Undefined) or value is None else str(value)
    tz_name = ctx.get("timezone") or "UTC"
    local = at.astimezone(_zone(tz_name))
    if ctx.get("locale") == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{tz_name}）"
    return f"{local:%A %d %B %Y, %H:%M} ({tz_name})"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Templates:
    """The notification templates, rendered in a sandbox.

    Args:
        folder: where the ``<locale>/<kind>.*`` files are; the shipped ones by default.
    """

    def __init__(self, folder: Path = TEMPLATES_DIR) -> None:
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        # A missing context key (an optional fee, a topic) renders empty: templates test with `if`.
        self._env.filters["when"] = _when

    def render(self, kind: str, locale: str, variables: dict[str, Any]) -> Rendered:
        """Render the three parts of ``kind`` in ``locale`` (English when the locale has no template).

        Raises:
            ApplicationError: ``UnknownNotificationKind`` (non-retryable) for a kind without templates.
        """
        if kind not in KINDS:
            raise permanent(f"no templates for notification kind {kind!r}", type=UNKNOWN_NOTIFICATION_KIND)
        variables = {**variables, "locale": locale}
        parts = []
        for part in ("subject.txt", "txt", "html"):
            names = [f"{locale}/{kind}.{part}", f"{DEFAULT_LOCALE}/{kind}.{part}"]
            try:
                template = self._env.select_template(names)
            except TemplateNotFound:
                raise permanent(f"no {part} template for {kind!r}", type=UNKNOWN_NOTIFICATION_KIND) from None
            parts.append(template.render(variables))
        subject, text, html = parts
        return Rendered(subject=one_line(subject), text=text.strip() + "\n", html=html)


def template_variables(request: NotificationRequest) -> dict[str, Any]:
    """What a template sees: the request's context plus who it is for.

    ``kind`` in the context is the event's kind (its definition); the notification's own kind is
    ``notification_kind``.
    """
    r = request.recipient
    return {
        **request.context,
        "notification_kind": request.kind,
        "recipient_name": r.name or r.role.replace("_", " "),
        "recipient_role": r.role,
        "event_id": request.event_id,
    }


def ics_method(request: NotificationRequest) -> str:
    """``CANCEL`` for a cancellation's calendar update, else ``REQUEST`` (an invitation or its update)."""
    return "CANCEL" if request.context.get("ics_method") == "CANCEL" else "REQUEST"


def build_ics(request: NotificationRequest, organizer: str, now: datetime | None = None) -> bytes | None:
    """An iCalendar object (RFC 5545/5546) for the event in ``request.context``; None without start/end.

    The UID is derived from the event id, so the invitation and every later update are one calendar
    entry. ``context["ics_sequence"]`` (default 0) is its SEQUENCE, raised by the workflow at each
    postponement and at the cancellation so calendars apply the newest; ``context["ics_method"]`` is
    ``REQUEST`` (default) or ``CANCEL``, which also marks the entry ``STATUS:CANCELLED``.
    """
    ctx = request.context
    start, end = parse_time(ctx.get("start")), parse_time(ctx.get("end"))
    if start is None or end is None:
        return None
    method = ics_method(request)
    cal = Calendar()
    cal.add("prodid", "-//Convene//Event invitation//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"{request.event_id}@convene")
    event.add("sequence", int(ctx.get("ics_sequence") or 0))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", one_line(str(ctx.get("title") or request.event_id), 300))
    if ctx.get("venue"):
        event.add("location", one_line(str(ctx["venue"]), 300))
    _, organizer_addr = parseaddr(organizer)
    if organizer_addr:
        event.add("organizer", vCalAddress(f"mailto:{organizer_addr}"))
    if request.recipient.email:
        attendee = vCalAddress(f"mailto:{request.recipient.email}")
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["RSVP"] = "TRUE"
        event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()


def build_email(
    request: NotificationRequest, rendered: Rendered, mail_from: str, ics: bytes | None = None
) -> Message:
    """A multipart (text + HTML, and the .ics when given) email with a Message-ID derived from the request's key.

    Built with the ``compat32`` MIME classes: the same message as the modern ``EmailMessage`` API builds,
    at a tenth of its cost (its header parser took 5 ms a message, which bounded a 50,000-person
    invitation run to about 100 messages a second per worker).

    Raises:
        ValueError: the recipient's address cannot be put in a header.
    """
    email = request.recipient.email
    if not email:
        raise ValueError("no email address")
    local, _, domain = email.rpartition("@")
    to = Address(display_name=one_line(request.recipient.name or ""), username=local, domain=domain)  # validates
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(rendered.text, "plain", "utf-8"))
    body.attach(MIMEText(rendered.html, "html", "utf-8"))
    msg: Message = body
    if ics is not None:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
        part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")  # icalendar writes UTF-8; say so (issue 17, item 4)
        part.set_param("method", ics_method(request))
        part.add_header("Content-Disposition", "attachment", filename=f"{request.event_id}.ics")
        msg.attach(part)
    msg["Subject"] = Header(one_line(rendered.subject, 998), "utf-8")
    msg["From"] = mail_from
    msg["To"] = formataddr((to.display_name, to.addr_spec), charset="utf-8")
    msg["Message-ID"] = message_id(request.key)
    msg["Date"] = formatdate(usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Convene-Event"] = one_line(request.event_id, 128)
    msg["X-Convene-Kind"] = request.kind
    msg["Content-Language"] = request.locale
    return msg
