"""What a notification says: one template per kind, rendered in the reader's language; the MIME message; the ``.ics``.

Templates live in ``activities/templates/email/<kind>.{subject.txt,txt,html}`` (one set for every
language) and say everything a person reads through Jinja2's i18n extension (``{% trans %}`` and
``_()``), translated from the one catalogue in ``convene/locale`` (see :mod:`convene.i18n`). They render
in a Jinja2 :class:`~jinja2.sandbox.SandboxedEnvironment`: event titles and people's names are data
typed by users, so HTML parts are autoescaped (translations are trusted, the values put into them are
escaped) and nothing a user types is ever parsed as a template (a title of ``{{ 7*7 }}`` prints as
itself). A message without a translation prints in English.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress
from jinja2 import FileSystemLoader, TemplateNotFound, pass_context, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from convene import i18n

from activities.errors import UNKNOWN_NOTIFICATION_KIND, permanent
from definitions.schema import NotificationKind
from workflows.messages import NotificationRequest

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "email"
DEFAULT_LOCALE = i18n.DEFAULT
_FONTS = {
    "en": "Helvetica, Arial, sans-serif",
    "zh-Hans": "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif",
    "zh-Hant": "'PingFang TC', 'Microsoft JhengHei', 'Noto Sans CJK TC', sans-serif",
}
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


@pass_context
def _when(ctx: Context, value: Any) -> str:
    """An ISO time in the event's zone, as the reader's language writes dates (CLDR, through Babel)."""
    at = parse_time(value)
    if at is None:
        return "" if isinstance(value, Undefined) or value is None else str(value)
    return i18n.format_when(at, ctx.get("timezone") or "UTC", ctx.get("locale") or DEFAULT_LOCALE)


def _strong(value: Any) -> Markup:
    """``<strong>value</strong>`` with the value escaped: how HTML parts stress a name inside a sentence."""
    return Markup("<strong>%s</strong>") % escape(value)


@pass_context
def _named(ctx: Context, ident: Any, prefix: str) -> str:
    """The reader's name for an id the labels know (a stage, a slot, a severity), else the id, spaced."""
    return i18n.named(ctx.get("locale") or DEFAULT_LOCALE, prefix, str(ident))


@pass_eval_context
def _labelled(eval_ctx: EvalContext, label: str, value: Any) -> str:
    """``Reason: value``: a translated label, then the value; a space follows a Latin colon, none a full-width
    one (``原因：value``). HTML parts stress the label."""
    gap = "" if str(label).endswith("\uff1a") else " "
    if eval_ctx.autoescape:
        return Markup("<strong>%s</strong>%s%s") % (label, gap, value)
    return f"{label}{gap}{value}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Templates:
    """The notification templates, rendered in a sandbox, one environment per shipped language.

    Args:
        folder: where the ``<kind>.*`` files are; the shipped ones by default.
    """

    def __init__(self, folder: Path = TEMPLATES_DIR) -> None:
        loader = FileSystemLoader(str(folder))
        self._envs = {language: self._environment(loader, language) for language in i18n.SHIPPED}

    @staticmethod
    def _environment(loader: FileSystemLoader, language: str) -> SandboxedEnvironment:
        env = SandboxedEnvironment(
            loader=loader,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.policies["ext.i18n.trimmed"] = True  # msgids without the template's line breaks (babel.cfg says the same)
        env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
        # A missing context key (an optional fee, a topic) renders empty: templates test with `if`.
        env.filters["when"] = _when
        env.filters["strong"] = _strong
        env.filters["labelled"] = _labelled
        env.filters["named"] = _named
        return env

    def render(self, kind: str, locale: str | None, variables: dict[str, Any]) -> Rendered:
        """Render the three parts of ``kind`` in the shipped language ``locale`` resolves to
        (``zh`` and ``zh-CN`` → ``zh-Hans``, ``zh-TW`` → ``zh-Hant``, anything unknown → English).

        Raises:
            ApplicationError: ``UnknownNotificationKind`` (non-retryable) for a kind without templates.
        """
        if kind not in KINDS:
            raise permanent(f"no templates for notification kind {kind!r}", type=UNKNOWN_NOTIFICATION_KIND)
        language = i18n.resolve(locale)
        env = self._envs[language]
        variables = {**variables, "locale": language, "html_lang": language, "font_family": _FONTS[language]}
        parts = []
        for part in ("subject.txt", "txt", "html"):
            try:
                template = env.get_template(f"{kind}.{part}")
            except TemplateNotFound:
                raise permanent(f"no {part} template for {kind!r}", type=UNKNOWN_NOTIFICATION_KIND) from None
            parts.append(template.render(variables))
        subject, text, html = parts
        return Rendered(subject=one_line(subject), text=_tidy(text), html=html)


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """A text part with no run of more than one blank line, ending in one newline."""
    return _BLANK_RUNS.sub("\n\n", text.strip()) + "\n"


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


def ticket_png(request: NotificationRequest) -> bytes | None:
    """The ticket's QR code as a PNG (segno, no imaging library) when the message carries a ticket code."""
    code = request.context.get("ticket_code")
    if not code:
        return None
    import io

    import segno

    out = io.BytesIO()
    segno.make(str(code), error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _ticket_part(png: bytes, inline: bool) -> Message:
    part = MIMEImage(png, "png")
    if inline:
        part.add_header("Content-ID", "<ticket@convene>")
        part.add_header("Content-Disposition", "inline", filename="ticket.png")
    else:
        part.add_header("Content-Disposition", "attachment", filename="ticket.png")
    return part


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
    html = MIMEText(rendered.html, "html", "utf-8")
    ticket = ticket_png(request)
    if ticket is not None:  # the HTML shows the ticket inline (cid:ticket@convene); it is attached for the text too
        related = MIMEMultipart("related")
        related.attach(html)
        related.attach(_ticket_part(ticket, inline=True))
        body.attach(related)
    else:
        body.attach(html)
    msg: Message = body
    if ics is not None or ticket is not None:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
    if ticket is not None:
        msg.attach(_ticket_part(ticket, inline=False))
    if ics is not None:
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
    msg["Content-Language"] = i18n.resolve(request.locale)
    return msg
