"""Personal pages: an attendee or speaker answers for themselves through their own link, no account.

``/p/{token}`` is the person's page: an attendee answers the RSVP (and may change their mind
until the definition's ``rsvp_closes_hours_before_start``), notes special needs, downloads the
event's calendar file, reads the agenda and, once they said yes, shows their ticket (a QR code
holding an opaque signed ticket id). A speaker accepts or declines (an accepted keynote counts
towards its gate) and gives their itinerary. After the event an attendee who came answers the
survey. Every answer is the same act staff would do (an RSVP, a survey answer in the roster
database; a speaker reply or itinerary as the workflow's update), done with the person as the
actor (role ``guest``) and an idempotency key from the form, so a form sent twice is one answer.

The pages are plain HTML forms (they work on any phone, without script), in the person's
language. Links are secrets: they are never logged (the route's template is), and every answer
that the link does not open looks the same (:class:`store.LinkRefused`), whatever the reason
beyond "expired" or "revoked". Each client address may open at most ``public_requests_per_minute`` pages a
minute (``public_requests_per_minute``; ``limits``, a moving window in memory per API process).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import segno
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from limits import parse as parse_limit
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import ValidationError
from starlette.templating import Jinja2Templates
from temporalio.client import WorkflowUpdateFailedError

from activities.archive import LocalFolderStore, dossier_path
from activities.rendering import build_ics
from api.deps import AppState, State
from api.errors import Problem
from api.places import after_answer, after_registration
from convene import i18n
from convene.languages import shipped_language
from convene.settings import link_key
from store import Link, LinkRefused, Links
from store.registration import Place, Places
from workflows.client import act, state
from workflows.lifecycle import GUEST
from workflows.messages import (
    Actor,
    Attendee,
    AttendeeRecord,
    EventDetails,
    Itinerary,
    NotificationRequest,
    Recipient,
    RecordSurvey,
    Rsvp,
    SpeakerItinerary,
    SpeakerRecord,
    SpeakerReply,
    StateView,
    SurveyResponse,
)

router = APIRouter(tags=["personal pages"], include_in_schema=False)
log = structlog.stdlib.get_logger("convene.api")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))

_LIMITER = MovingWindowRateLimiter(MemoryStorage())

class _Texts(dict[str, str]):
    """A page's texts by short key (``t.hello``), from the catalogue's labels ``personal.*`` / ``desk.*``."""

    def __getattr__(self, key: str) -> str:
        return self[key]


@lru_cache(maxsize=16)
def texts(lang: str, prefix: str = "personal") -> _Texts:
    """The labels ``<prefix>.*`` of ``convene/locale/labels.json`` in `lang` (translated in the catalogue)."""
    cut = len(prefix) + 1
    return _Texts({k[cut:]: v for k, v in i18n.labels(lang).items() if k.startswith(prefix + ".")})


class _ByLanguage(dict[str, _Texts]):
    def __missing__(self, lang: str) -> _Texts:
        return texts(lang)


TEXT = _ByLanguage()
"""``TEXT[lang][key]``: the personal pages' texts in a shipped language."""


def language(*asked: str | None, accept: str = "", default: str | None = None) -> str:
    """The first `asked` tag (``?lang=``, the person's own locale) naming a shipped language, else what the
    Accept-Language header prefers by q-value (:func:`convene.i18n.negotiate`), else `default` (the event's
    locale): ``zh``, ``zh-CN`` read Simplified, ``zh-TW``, ``zh-HK`` Traditional, anything else English."""
    for tag in asked:
        if (found := shipped_language(tag)) is not None:
            return found
    return i18n.negotiate(accept, default=i18n.resolve(default))


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


async def _limited(request: Request, app: AppState) -> bool:
    """Over the per-address budget (``public_requests_per_minute``, a moving window; one per app)."""
    rate = parse_limit(f"{app.settings.public_requests_per_minute}/minute")
    return not await _LIMITER.hit(rate, "personal", str(id(app)), _client_address(request))


def _links(app: AppState) -> Links:
    return Links(app.database, link_key(app.settings))


def _local(at: datetime, zone: str, lang: str) -> str:
    """A time in the event's zone as the reader's language writes it (CLDR), without naming the zone."""
    return i18n.format_when(at, zone or "UTC", lang, name_zone=False)


class _Page:
    """What one personal page shows: the link, the event, the person (attendee record or speaker)."""

    def __init__(self, link: Link, view: StateView, lang: str, attendee: AttendeeRecord | None,
                 speaker: SpeakerRecord | None, closes: datetime) -> None:
        self.link, self.view, self.lang = link, view, lang
        self.attendee, self.speaker, self.closes = attendee, speaker, closes
        self.place: Place | None = None
        self.question = ""

    @property
    def event(self) -> EventDetails:
        return self.view.event


async def _open(request: Request, app: AppState, token: str) -> Link | Response:
    """The link, or the page that says why it opens nothing (same page for every unknown link)."""
    if await _limited(request, app):
        return _message(request, "too_many", language(accept=request.headers.get("accept-language", "")), 429)
    await app.store_ready()
    try:
        return await _links(app).open(token)
    except LinkRefused as refused:
        lang = language(request.query_params.get("lang"), accept=request.headers.get("accept-language", ""))
        log.info("personal link refused", reason=refused.reason)
        return _message(request, f"link_{refused.reason}", lang, 404 if refused.reason == "unknown" else 410)


def _message(request: Request, key: str, lang: str, status: int) -> Response:
    return TEMPLATES.TemplateResponse(request, "personal.html", {
        "t": TEXT[lang], "lang": lang, "message": TEXT[lang][key], "page": None}, status_code=status)


async def _load(request: Request, app: AppState, link: Link) -> _Page:
    client = await app.client()
    view = await state(client, link.event_id, rpc_timeout=timedelta(seconds=10))
    app.events.remember(view)
    attendee = speaker = None
    place = None
    if link.purpose in ("attendee", "ticket"):
        attendee = await app.roster.person(link.event_id, link.person_id)
        place = await Places(app.database).place(link.event_id, link.person_id)
    elif link.purpose == "speaker":
        speaker = next((s for s in view.speaker_list if s.person.id == link.person_id), None)
    person_locale = attendee.person.locale if attendee else speaker.person.locale if speaker else None
    lang = language(request.query_params.get("lang"), person_locale,
                    accept=request.headers.get("accept-language", ""), default=view.event.locale)
    try:
        hours = app.registry.get(view.kind).rsvp_closes_hours_before_start
    except Exception:  # noqa: BLE001 - a kind no longer shipped: answers close at the start
        hours = 0.0
    page = _Page(link, view, lang, attendee, speaker, closes=view.event.start - timedelta(hours=hours))
    page.place = place
    if attendee is not None:
        page.question = await app.roster.question(link.event_id, link.person_id) or ""
    return page


def _slide_formats(request: Request, page: _Page) -> list[str]:
    try:
        return list(request.app.state.convene.registry.get(page.view.kind).slide_formats)
    except Exception:  # noqa: BLE001 - a kind no longer shipped: the defaults
        return ["pdf", "pptx", "odp", "key"]


def _render(request: Request, page: _Page, notice: str | None = None, status: int = 200) -> Response:
    e, t, lang = page.event, TEXT[page.lang], page.lang
    zone = e.timezone or "UTC"
    closes = page.closes
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "t": t, "lang": lang, "page": page.link.purpose, "notice": notice, "message": None,
        "token_path": request.url.path.rstrip("/"),
        "title": e.title, "when": i18n.with_zone(f"{_local(e.start, zone, lang)} – {_local(e.end, zone, lang)}", zone,
                                                lang),
        "venue": e.venue or t["tba"], "cancelled": page.view.status == "cancelled",
        "agenda": [(i18n.format_clock(i.projected_start, zone, lang), i.item.title, i.item.room or "")
                   for i in page.view.agenda],
        "key": uuid.uuid4().hex, "open": now < closes and page.view.status == "active",
        "closes": _local(closes, zone, lang),
    }
    if page.attendee is not None:
        a = page.attendee
        place = page.place
        context |= {
            "waitlisted": place.waitlist_position if place and place.status == "waitlisted" else None,
            "offered_until": (_local(place.offer_expires_at, zone, lang)
                              if place and place.status == "offered" and place.offer_expires_at
                              and place.offer_expires_at > now else None),
            "name": a.person.name, "rsvp": a.rsvp, "needs_note": a.person.needs_note or "",
            "question": page.question,
            "checked_in": _local(a.checked_in_at, zone, lang) if a.checked_in_at else None,
            "survey_open": bool(a.checked_in_at or a.rsvp == "yes") and page.view.stage == "post_event",
        }
    if page.speaker is not None:
        s = page.speaker
        formats = _slide_formats(request, page)
        context |= {"name": s.person.name, "status": s.status, "slot": s.slot.replace("_", " "),
                    "topic": s.topic or "", "itinerary": s.itinerary, "slide_formats": ", ".join(formats),
                    "slide_accept": ",".join(f".{f}" for f in formats),
                    "survey_open": s.on_board and page.view.stage == "post_event"}
    return TEMPLATES.TemplateResponse(request, "personal.html", context, status_code=status)


@router.get("/p/{token}", response_class=HTMLResponse)
async def personal_page(token: str, request: Request, app: State) -> Response:
    """The person's page (attendee or speaker); a ticket link shows the ticket page."""
    page = await _page_for(request, app, token)
    if isinstance(page, Response):
        return page
    done = request.query_params.get("done")
    if page.link.purpose == "papers":  # a board member's papers (api/routes/papers.py)
        from api.routes import papers

        return await papers.render(request, app, page, notice=TEXT[page.lang]["papers_done"]
                                   if done == "papers_done" else None)
    return _render(request, page, notice=TEXT[page.lang].get(done)
                   if done in ("done", "survey_done", "slides_done") else None)


async def _page_for(request: Request, app: AppState, token: str, purpose: str | None = None) -> _Page | Response:
    """The person's page behind `token`, or the page that says why it opens nothing: a link that opens nothing, or
    (with `purpose`) one for another purpose or a person no longer on the event, reads as unknown."""
    link = await _open(request, app, token)
    if isinstance(link, Response):
        return link
    page = await _load(request, app, link)
    if purpose is not None and (link.purpose != purpose or (page.attendee if purpose == "attendee" else page.speaker)
                                is None):
        return _message(request, "link_unknown", page.lang, 404)
    return page


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > 16_384:
        raise Problem(413, "the form is larger than a personal page takes")
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _again(request: Request, lang: str, done: str = "done") -> Response:
    return RedirectResponse(f"{request.url.path.rsplit('/', 1)[0]}?done={done}&lang={lang}", status_code=303)


@router.post("/p/{token}/rsvp")
async def personal_rsvp(token: str, request: Request, app: State) -> Response:
    """An attendee's RSVP (``response`` yes / no / maybe, optional ``needs_note`` and ``question`` for the named
    contact, at most 500 and 1,000 characters), with the form's ``key``."""
    page = await _page_for(request, app, token, "attendee")
    if isinstance(page, Response):
        return page
    link, form = page.link, await _form(request)
    if datetime.now(UTC) >= page.closes:
        return _render(request, page, notice=TEXT[page.lang]["closed"].format(until=_local(
            page.closes, page.event.timezone, page.lang)), status=409)
    try:
        rsvp = Rsvp(key=f"p:{form.get('key') or uuid.uuid4().hex}"[:200], actor=Actor(id=link.person_id, role=GUEST),
                    attendee_id=link.person_id, response=form.get("response", ""))  # type: ignore[arg-type]
    except ValidationError:
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason="yes / no / maybe"), status=422)
    from workflows.lifecycle import ActRefused

    try:
        await app.roster.rsvp(link.event_id, rsvp, datetime.now(UTC))
        await after_answer(app, await app.client(), link.event_id, link.person_id, rsvp.response, rsvp.key)
        note = form.get("needs_note", "").strip()[:500]
        if note != (page.attendee.person.needs_note or ""):
            await app.roster.set_needs_note(link.event_id, link.person_id, note or None)
        if "question" in form:  # for the event's named contact; an emptied field takes it back
            await app.roster.set_question(link.event_id, link.person_id, form["question"].strip()[:1000] or None)
    except ActRefused as refused:
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason=refused.message), status=409)
    log.info("personal answer", act="rsvp", link=link.link_id, response=rsvp.response)
    return _again(request, page.lang)


@router.post("/p/{token}/reply")
async def personal_speaker_reply(token: str, request: Request, app: State) -> Response:
    """A speaker accepts or declines (``response`` accepted / declined), as the workflow's own update."""
    return await _speaker_act(token, request, app, lambda form, who, key: SpeakerReply(
        key=key, actor=Actor(id=who, role=GUEST), speaker_id=who, response=form.get("response", "")))


@router.post("/p/{token}/itinerary")
async def personal_itinerary(token: str, request: Request, app: State) -> Response:
    """A speaker's itinerary: ``arrival`` (local time of the event's zone), ``lodging``, ``pickup``, ``meals``."""
    def build(form: dict[str, str], who: str, key: str, zone: str = "UTC") -> SpeakerItinerary:
        arrival = None
        if form.get("arrival"):
            arrival = datetime.fromisoformat(form["arrival"]).replace(tzinfo=ZoneInfo(zone))
        return SpeakerItinerary(key=key, actor=Actor(id=who, role=GUEST), speaker_id=who, itinerary=Itinerary(
            arrival=arrival, lodging=form.get("lodging") or None, pickup=form.get("pickup") or None,
            meals=form.get("meals") or None))

    return await _speaker_act(token, request, app, build, zoned=True)


async def _speaker_act(token: str, request: Request, app: AppState, build: Any, zoned: bool = False) -> Response:
    page = await _page_for(request, app, token, "speaker")
    if isinstance(page, Response):
        return page
    link = page.link
    form = await _form(request)
    key = f"p:{form.get('key') or uuid.uuid4().hex}"[:200]
    try:
        act_ = (build(form, link.person_id, key, page.event.timezone or "UTC") if zoned
                else build(form, link.person_id, key))
    except (ValidationError, ValueError):
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason="?"), status=422)
    try:
        await act(await app.client(), link.event_id, act_, rpc_timeout=timedelta(seconds=20))
    except WorkflowUpdateFailedError as failed:
        reason = str(getattr(failed.cause, "message", None) or failed.cause or failed)
        page = await _load(request, app, link)
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason=reason), status=409)
    log.info("personal answer", act=type(act_).__name__, link=link.link_id)
    return _again(request, page.lang)


@router.post("/p/{token}/survey")
async def personal_survey(token: str, request: Request, app: State) -> Response:
    """An attendee who came, or a speaker who spoke, answers the survey: ``content``, ``organisation``,
    ``service`` (1-5), ``comment``; a speaker's answer is filed with the speaker as respondent (the same survey
    responses the report counts)."""
    page = await _page_for(request, app, token)
    if isinstance(page, Response):
        return page
    if (page.link.purpose, page.attendee is None, page.speaker is None) not in (
            ("attendee", False, True), ("speaker", True, False)):
        return _message(request, "link_unknown", page.lang, 404)
    if page.speaker is not None and not page.speaker.on_board:
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(
            reason=TEXT[page.lang]["survey_speakers"]), status=409)
    link = page.link
    form = await _form(request)
    # Anonymous: the answer is filed under an id only this server can derive from the person (so answering
    # again replaces it), never their own; the report counts it like any other.
    secret = hmac.new(link_key(app.settings), f"survey|{link.event_id}|{link.person_id}".encode(), hashlib.sha256)
    respondent = f"anon-{secret.hexdigest()[:24]}" if form.get("anonymous") else link.person_id
    try:
        answer = SurveyResponse(respondent=respondent, content=int(form.get("content", 0)),
                                organisation=int(form.get("organisation", 0)), service=int(form.get("service", 0)),
                                comment=form.get("comment", "").strip()[:2000] or None)
    except (ValidationError, ValueError):
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason="1-5"), status=422)
    from workflows.lifecycle import ActRefused

    survey = RecordSurvey(key=f"p:{form.get('key') or uuid.uuid4().hex}"[:200],
                          actor=Actor(id=link.person_id, role=GUEST), responses=[answer])
    try:
        await app.roster.record_survey(link.event_id, survey, datetime.now(UTC))
    except ActRefused as refused:
        return _render(request, page, notice=TEXT[page.lang]["refused"].format(reason=refused.message), status=409)
    return _again(request, page.lang, "survey_done")


@router.get("/p/{token}/event.ics")
async def personal_calendar(token: str, request: Request, app: State) -> Response:
    """The event as a calendar entry for this person (the invitation's UID, so it updates the same entry)."""
    page = await _page_for(request, app, token)
    if isinstance(page, Response):
        return page
    link, e = page.link, page.event
    person = page.attendee.person if page.attendee else page.speaker.person if page.speaker else None
    request_ = NotificationRequest(
        key=f"{e.id}:personal:{link.person_id}", event_id=e.id, kind="invitation", channel="email",
        recipient=Recipient(role="guest", person_id=link.person_id, name=person.name if person else None,
                            email=person.email if person else None),
        context={"title": e.title, "venue": e.venue or "", "start": e.start.isoformat(), "end": e.end.isoformat(),
                 "ics_sequence": page.view.calendar_sequence,
                 "ics_method": "CANCEL" if page.view.status == "cancelled" else "REQUEST"})
    ics = build_ics(request_, app.settings.mail_from) or b""
    return Response(ics, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{e.id}.ics"'})


@router.get("/p/{token}/ticket.svg")
async def personal_ticket(token: str, request: Request, app: State) -> Response:
    """The attendee's ticket as a QR code (SVG), once they said yes: it holds their ticket link, nothing else."""
    link = await _open(request, app, token)
    if isinstance(link, Response):
        return link
    if link.purpose != "attendee":
        return Response(status_code=404)
    person = await app.roster.person(link.event_id, link.person_id)
    if person is None or person.rsvp != "yes":
        return Response(status_code=404)
    facts = await app.roster.facts(link.event_id)
    expires = (facts.end if facts else link.expires_at) + timedelta(days=1)
    ticket = await _links(app).token(link.event_id, link.person_id, "ticket", max(expires, link.expires_at))
    return Response(ticket_svg(ticket), media_type="image/svg+xml", headers={"Cache-Control": "private, no-store"})


def ticket_svg(code: str) -> bytes:
    """A ticket's QR code as a standalone SVG (with its namespace, so an <img> shows it; white quiet zone)."""
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", xmldecl=False, svgns=True, scale=6, border=4, light="#fff")
    return out.getvalue()


# --- open registration -------------------------------------------------------------------------------------


@router.get("/r/{event_id}", response_class=HTMLResponse)
async def registration_page(event_id: str, request: Request, app: State) -> Response:
    """An open event's public registration form (name and email); other events answer that they take none."""
    if await _limited(request, app):
        return _message(request, "too_many", language(accept=request.headers.get("accept-language", "")), 429)
    await app.store_ready()
    facts = await app.roster.facts(event_id) if len(event_id) <= 128 else None
    lang = language(request.query_params.get("lang"), accept=request.headers.get("accept-language", ""),
                    default=facts.locale if facts else None)
    if facts is None or facts.registration != "open" or facts.status != "active":
        return _message(request, "register_closed", lang, 404)
    zone = facts.timezone or "UTC"
    return TEMPLATES.TemplateResponse(request, "personal.html", {
        "t": TEXT[lang], "lang": lang, "page": "register", "message": None, "notice": None,
        "title": facts.title, "name": "", "key": uuid.uuid4().hex, "token_path": request.url.path.rstrip("/"),
        "when": i18n.with_zone(f"{_local(facts.start, zone, lang)} – {_local(facts.end, zone, lang)}", zone, lang),
        "venue": TEXT[lang]["tba"], "agenda": [], "cancelled": False})


@router.post("/r/{event_id}")
async def register(event_id: str, request: Request, app: State) -> Response:
    """Register (``name``, ``email``): a place if one is free, else the waiting list; the answer comes by email.

    The page says the same whatever happened (registered, waiting, or already registered with that address),
    so it never tells a stranger whether an address is registered.
    """
    if await _limited(request, app):
        return _message(request, "too_many", language(accept=request.headers.get("accept-language", "")), 429)
    await app.store_ready()
    form = await _form(request)
    facts = await app.roster.facts(event_id) if len(event_id) <= 128 else None
    lang = language(request.query_params.get("lang"), accept=request.headers.get("accept-language", ""),
                    default=facts.locale if facts else None)
    name, email = form.get("name", "").strip(), form.get("email", "").strip()
    try:
        person = Attendee(id="r-new", name=name, email=email or None, locale=lang)
        if not person.email:
            raise ValueError("an email address is needed")
    except (ValidationError, ValueError):
        return _message(request, "register_invalid", lang, 422)
    from workflows.refusals import ActRefused

    try:
        place = await Places(app.database).register(event_id, person.name, str(person.email), lang, datetime.now(UTC))
    except ActRefused:
        return _message(request, "register_closed", lang, 404)
    person = person.model_copy(update={"id": place.attendee_id})
    await after_registration(app, await app.client(), event_id, place, person)
    log.info("registration", status=place.status)
    return _message(request, "register_done", lang, 200)


# --- a speaker's slides --------------------------------------------------------------------------------------

_SIGNATURES = {"pdf": (b"%PDF-",), "pptx": (b"PK\x03\x04",), "odp": (b"PK\x03\x04",), "key": (b"PK\x03\x04",)}
"""What a file of each format starts with (PowerPoint, OpenDocument and Keynote files are ZIP archives)."""


@router.post("/p/{token}/slides")
async def personal_slides(token: str, request: Request, app: State) -> Response:
    """An accepted speaker uploads their slides (``file``, multipart/form-data) in a format the definition
    allows (``slide_formats``; ``slide_max_mb``); they are stored in the event's archive folder as
    ``slides-<speaker id>.<format>`` (a newer upload replaces the older), where the archive's index and
    manifest pick them up."""
    page = await _page_for(request, app, token, "speaker")
    if isinstance(page, Response):
        return page
    link = page.link
    definition = app.registry.get(page.view.kind)
    t = TEXT[page.lang]
    if page.speaker.status not in ("accepted", "confirmed"):
        return _render(request, page, notice=t["refused"].format(reason=t["slides_after_accept"]), status=409)
    limit = definition.slide_max_mb * 1024 * 1024
    if int(request.headers.get("content-length") or 0) > limit + 65536:
        return _render(request, page, notice=t["slides_too_large"].format(mb=definition.slide_max_mb), status=413)
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return _render(request, page, notice=t["slides_bad"].format(formats=", ".join(definition.slide_formats)),
                           status=422)
        ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        data = await upload.read(limit + 1)
    if len(data) > limit:
        return _render(request, page, notice=t["slides_too_large"].format(mb=definition.slide_max_mb), status=413)
    if ext not in definition.slide_formats or not data.startswith(_SIGNATURES.get(ext, (b"\0\0",))):
        return _render(request, page, notice=t["slides_bad"].format(formats=", ".join(definition.slide_formats)),
                       status=422)
    store = LocalFolderStore(app.settings.archive_root)
    path = f"{dossier_path(page.event, page.view.kind)}/slides-{link.person_id}.{ext}"
    for other in definition.slide_formats:  # one file of slides per speaker: the newest
        if other != ext:
            store.remove(f"{dossier_path(page.event, page.view.kind)}/slides-{link.person_id}.{other}")
    store.write(path, data)
    await _slides_record(app, page, store, ext, data, request.headers.get("idempotency-key"))
    log.info("slides uploaded", link=link.link_id, format=ext, bytes=len(data))
    return _again(request, page.lang, "slides_done")


async def _slides_record(app: AppState, page: _Page, store: Any, ext: str, data: bytes, key: str | None) -> None:
    """The slides as a document record too (type ``slides``, titled by the speaker, the next version; the file kept
    under ``uploads/`` so earlier versions stay), uploaded by the speaker as ``guest``. No gate reads slides, so
    the event is not told (see store/documents.py)."""
    from store.documents import Documents, document_id

    sha = hashlib.sha256(data).hexdigest()
    key = key or f"slides:{page.link.person_id}:{sha}"
    doc_path = f"{dossier_path(page.event, page.view.kind)}/uploads/{document_id(page.event.id, key)}.{ext}"
    store.write(doc_path, data)
    await Documents(app.database).add(
        event_id=page.event.id, key=key[:200], doc_type="slides", title=page.link.person_id,
        filename=f"slides-{page.link.person_id}.{ext}", ext=ext, size=len(data), sha256=sha, path=doc_path,
        confidential=app.registry.get(page.view.kind).confidential,
        uploaded_by=page.link.person_id, role=GUEST, at=datetime.now(UTC))
