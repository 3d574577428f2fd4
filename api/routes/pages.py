"""The web dashboard: a board of events by stage, an approvals inbox and one page per event.

The pages themselves are public shells (HTML, CSS, a little JavaScript, all served from
``api/static``, nothing from elsewhere). The browser calls the JSON API either with a pasted
bearer token kept in session storage, or with the session cookie of a sign-in through the
identity provider (:mod:`api.signin`; its writes carry the CSRF token), so authentication and
authorisation stay where they are, and every answer is scoped to what the person may read
(:func:`api.auth.may_read`): a viewer's page shows no decision buttons, and a forged decision is still
answered 403 by ``POST /events/{id}/decisions``.

Besides the pages, a few JSON helpers under ``/ui/api`` answer what the pages need and the
event API does not say in one call: who is signed in, the approvals waiting for them, each
visible card's progress, which decisions they may take on an event (the API's own rule,
:func:`api.auth.choose_role`, called rather than copied) and the lifecycle as an SVG strip
drawn from the same state machine as ``convene definitions diagram``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import escape

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.templating import Jinja2Templates
from starlette.types import Scope
from temporalio.client import Client

from api.auth import Principal as PrincipalModel
from api.auth import Unauthenticated, check_read, may_read, visibility_clause
from api.deps import SAFE_ID, EventId, Language, Principal, Registry, State, TemporalClient
from api.errors import not_found
from api.visibility import definition_of
from convene import i18n, reasons
from definitions import CANCELLED, CLOSED, Definition, UnknownKind, definition_hash
from definitions import Registry as DefinitionRegistry
from workflows import search
from workflows.client import list_query, may, state, workflow_id
from workflows.lifecycle import ActRefused, machine_config, role_for
from workflows.messages import Allowed, Decide, MayAsk, StateView

router = APIRouter(tags=["dashboard"])
log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

HERE = Path(__file__).resolve().parent.parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
LANGS = i18n.SHIPPED
"""The page's languages; ``?lang=`` and the cookie also take any spelling (``zh``, ``zh-TW``) of one of them."""
LANG_COOKIE = "convene_lang"

INBOX_CANDIDATES = 200
"""At most this many events (one visibility page) are read for the inbox; the rest are reported as not scanned."""
PROGRESS_IDS = 60
"""At most this many cards' progress per call (about two screens of the board)."""
READS_AT_ONCE = 16
"""State queries in flight at once for one request, so a big inbox cannot flood the workers."""
READ_TIMEOUT = timedelta(seconds=3)

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=TEMPLATES_DIR)


# --- language and static files -----------------------------------------------------------------


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    """Every page label in every shipped language: ``{language: {label id: text}}``.

    The English texts are ``convene/locale/labels.json``; the translations come from the one catalogue
    (:mod:`convene.i18n`, each label keyed by its id as msgctxt). Pages and scripts share them (the
    page embeds its language's table).
    """
    return {lang: i18n.labels(lang) for lang in LANGS}


@lru_cache(maxsize=256)
def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: a changed file is fetched again, an unchanged one stays cached."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


class Static(StaticFiles):
    """``api/static``: a versioned URL (``?v=<hash>``) is cached for good, any other is revalidated each time
    (the scripts import each other by plain relative URLs, so those must never be stale)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = b"v=" in (scope.get("query_string") or b"")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> Static:
    return Static(directory=STATIC_DIR)


def language(request: Request) -> str:
    """``?lang=``, else the cookie the toggle sets, else the browser's ``Accept-Language`` by its q-values
    (``fr,zh-TW;q=0.9,en;q=0.8`` → ``zh-Hant``), else English. A shipped language: ``en``, ``zh-Hans``, ``zh-Hant``."""
    return i18n.preferred(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                          accept_language=request.headers.get("accept-language"))


def _page(request: Request, page: str, title_key: str, boot: dict[str, Any] | None = None) -> HTMLResponse:
    lang = language(request)
    table = messages()[lang]
    english = messages()["en"]

    def t(key: str) -> str:
        return table.get(key) or english.get(key) or key

    response = templates.TemplateResponse(request, f"{page}.html", {
        "page": page, "lang": lang, "html_lang": lang, "t": t, "title": t(title_key),
        "static": static_url, "messages": table, "boot": boot or {},
    }, headers=_PAGE_HEADERS)
    if i18n.shipped_language(request.query_params.get("lang")) is not None:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _columns(registry: DefinitionRegistry) -> list[dict[str, Any]]:
    """The board's columns: every stage of every definition, in walking order, then closed and cancelled."""
    order: list[str] = []
    kinds: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for d in registry:
        path = d.path()
        kinds[d.kind] = path
        for i, stage_id in enumerate(path):
            titles.setdefault(stage_id, d.stage(stage_id).title)
            if stage_id in order:
                continue
            before = next((order.index(s) for s in path[i + 1:] if s in order), len(order))
            order.insert(before, stage_id)
    columns = [{"id": s, "title": titles[s], "kinds": [k for k, p in kinds.items() if s in p]} for s in order]
    every = sorted(kinds)
    return columns + [{"id": CLOSED, "title": "Closed", "kinds": every},
                      {"id": CANCELLED, "title": "Cancelled", "kinds": every}]


# --- pages -------------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/board", status_code=307)


@router.get("/ui", include_in_schema=False)
@router.get("/ui/", include_in_schema=False)
async def ui_home() -> RedirectResponse:
    return RedirectResponse("/ui/board", status_code=307)


@router.get("/ui/signin", include_in_schema=False, response_class=HTMLResponse)
async def signin_page(request: Request, app: State) -> HTMLResponse:
    """The sign-in page: a link to the identity provider when one is configured (api/signin.py), the dev
    stack's people, and the token form (for scripts' tokens and the dev stack)."""
    oidc = bool(app.settings.oidc_issuer and app.settings.oidc_client_id)
    return _page(request, "signin", "signin.title", {"oidc": oidc})


@router.get("/ui/board", include_in_schema=False, response_class=HTMLResponse)
async def board_page(request: Request, registry: Registry) -> HTMLResponse:
    kinds = [{"kind": d.kind, "title": d.title} for d in registry]
    return _page(request, "board", "board.title", {"columns": _columns(registry), "kinds": kinds})


@router.get("/ui/inbox", include_in_schema=False, response_class=HTMLResponse)
async def inbox_page(request: Request) -> HTMLResponse:
    return _page(request, "inbox", "inbox.title")


@router.get("/ui/events/{event_id}", include_in_schema=False, response_class=HTMLResponse)
async def event_page(request: Request, event_id: Annotated[str, PathParam(pattern=SAFE_ID)]) -> HTMLResponse:
    return _page(request, "event", "event.title", {"event_id": event_id})


# --- JSON for the pages ---------------------------------------------------------------------------

_PROBLEM = {"application/problem+json": {}}
_SIGNED_IN = {401: {"description": "No valid bearer token or session", "content": _PROBLEM}}


class Me(BaseModel):
    id: str
    name: str
    roles: list[str]
    read_only: bool


@router.get("/ui/api/me", response_model=Me, responses=_SIGNED_IN)
async def me(principal: Principal) -> Me:
    """Who the token belongs to: the sign-in page checks a pasted token with this."""
    return Me(id=principal.id, name=principal.name, roles=list(principal.roles), read_only=principal.read_only)


class DevPerson(BaseModel):
    id: str
    name: str
    roles: list[str]
    token: str


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _loopback_only(request: Request) -> bool:
    """Asked from this machine, by this machine's name: a page elsewhere reaching 127.0.0.1 through DNS
    rebinding still sends its own host name, and is answered nobody."""
    host = request.headers.get("host", "")
    hostname = host.rsplit(":", 1)[0].strip("[]") if not host.startswith("[") else host[1:host.find("]")]
    return bool(request.client and request.client.host in _LOOPBACK and hostname in _LOOPBACK)


@router.get("/ui/api/dev-people", response_model=list[DevPerson])
async def dev_people(request: Request, response: Response, app: State) -> list[DevPerson]:
    """The dev stack's people and their tokens, for one-click sign-in; nobody unless ``dev_sign_in`` is set
    and the request comes from this machine, addressed to it by a loopback name.

    Only tokens the API itself accepts are offered, with the name and roles it knows them by.
    """
    response.headers["Cache-Control"] = "no-store"
    path = app.settings.dev_sign_in
    if path is None or not _loopback_only(request):
        return []  # not a dev stack (an empty answer, not a 404: the sign-in page always asks)
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("dev sign-in file unreadable", path=str(path))
        return []
    people: list[DevPerson] = []
    for token in tokens.values() if isinstance(tokens, dict) else []:
        try:
            who = app.tokens.authenticate(str(token))
        except Unauthenticated:
            continue
        people.append(DevPerson(id=who.id, name=who.name, roles=list(who.roles), token=str(token)))
    return people


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def _read_states(client: Client, event_ids: list[str]) -> dict[str, StateView | Exception]:
    """Each event's state, a few at a time; a failure is kept per event instead of failing them all."""
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def one(event_id: str) -> StateView | Exception:
        async with gate:
            try:
                return await state(client, event_id, rpc_timeout=READ_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - one unreadable event must not hide the others
                return exc

    results = await asyncio.gather(*(one(e) for e in event_ids))
    return dict(zip(event_ids, results, strict=True))


def _may(principal: PrincipalModel, definition: Definition, view: StateView, gate: str, decision: str) -> str | None:
    """The role `principal` would take `decision` on `gate` as, or None (the one rule: :func:`role_for`)."""
    if principal.read_only:
        return None
    try:
        return role_for(definition, view.event, principal.id, set(principal.roles),
                        Decide.roles_for(definition, gate, decision), "decide")
    except ActRefused:
        return None


class InboxItem(BaseModel):
    event_id: str
    title: str
    kind: str
    stage: str
    stage_title: str
    start: str
    owner: str
    at_risk: bool
    escalation: int
    gate: str
    gate_title: str
    status: str
    reasons: list[str]
    approvers: list[str]
    role: str = Field(description="The role the signed-in person decides as.")
    waive_role: str | None = Field(default=None, description="The role they may waive it as, if any.")
    budget: dict[str, Any] | None = Field(default=None, description="Planned against the limit, for budget gates.")
    deadline: dict[str, Any] | None = Field(default=None, description="The deadline this gate meets, if any.")


class Inbox(BaseModel):
    items: list[InboxItem]
    scanned: int = Field(description="Events read to find these.")
    truncated: bool = Field(description="More events could hold decisions than were read (one page at most).")


def _candidate_query(principal: PrincipalModel, registry: DefinitionRegistry, task_queue: str) -> str | None:
    """One visibility query for running events in a stage with a gate one of the principal's roles approves.

    Only events on this deployment's task queue: their state is answered by its workers (an event of
    another deployment sharing the namespace could leave a query waiting for a worker that never comes).
    """
    clauses = []
    for d in registry:
        stages = [s.id for s in d.stages if any(g.approval and set(g.approval.roles) & set(principal.roles)
                                                 for g in s.gates)]
        if stages:
            clauses.append(f"({search.KIND.name} = {_quote(d.kind)} AND "
                           f"{search.STAGE.name} IN ({', '.join(map(_quote, stages))}))")
    if not clauses:
        return None
    # Events publish the roles their gates await (EventAwaiting): those are exact candidates. Events
    # started before that attribute existed are found by stage, as before, and checked by their state.
    awaited = f"{search.AWAITING.name} IN ({', '.join(map(_quote, sorted(principal.roles)))})"
    older = f"({search.PROGRESS_TOTAL.name} IS NULL AND ({' OR '.join(clauses)}))"
    scope = visibility_clause(principal, workflow_id)
    return (f"{list_query()} AND ExecutionStatus = 'Running' AND TaskQueue = {_quote(task_queue)} "
            f"AND ({awaited} OR {older})" + (f" AND {scope}" if scope else ""))


@router.get("/ui/api/inbox", response_model=Inbox, responses=_SIGNED_IN)
async def inbox(principal: Principal, client: TemporalClient, registry: Registry, app: State,
                language: Language) -> Inbox:
    """The gates awaiting a decision by a role the caller holds, on events whose team lets them take it.

    Candidates come from one visibility query (events in a stage with such a gate, newest first, at
    most ``INBOX_CANDIDATES``); each candidate's state says whether its gate really awaits a decision.
    Events name the roles they await in ``EventAwaiting``, so candidates are exact; the state read
    gives each gate's title and reasons and re-checks it (the attribute may lag a decision by a moment).
    """
    query = None if principal.read_only else _candidate_query(principal, registry, app.settings.task_queue)
    if query is None:
        return Inbox(items=[], scanned=0, truncated=False)
    pages = client.list_workflows(query, page_size=INBOX_CANDIDATES, rpc_timeout=READ_TIMEOUT)
    await pages.fetch_next_page()
    ids = [ex.id.removeprefix(workflow_id("")) for ex in pages.current_page or []]
    states = await _read_states(client, ids)
    items: list[InboxItem] = []
    for event_id, view in states.items():
        if isinstance(view, Exception) or view.status != "active":
            continue
        try:
            definition = registry.get(view.kind)
        except UnknownKind:
            continue
        if not may_read(principal, view.event, definition):
            continue
        for gate in view.gates:
            if gate.stage != view.stage or gate.status != "awaiting_decision":
                continue
            role = _may(principal, definition, view, gate.id, "approve")
            if role is None:
                continue
            budget = None
            if any(c.check.startswith("budget") for c in definition.gate(gate.id)[1].checks):
                budget = {"planned": str(view.budget.planned), "limit": str(view.budget.limit),
                          "currency": view.budget.currency,
                          "lines": [{"category": line.category, "planned": str(line.planned)}
                                    for line in view.budget.lines]}
            met = next((d for d in definition.deadlines if d.met_when.gate == gate.id), None)
            deadline = next(({"title": dv.title, "at": dv.at.isoformat(), "status": dv.status,
                              "seconds_left": dv.seconds_left} for dv in view.deadlines if met and dv.id == met.id),
                            None)
            items.append(InboxItem(
                event_id=event_id, title=view.event.title, kind=view.kind, stage=view.stage,
                stage_title=view.stage_title, start=view.event.start.isoformat(), owner=view.event.owner,
                at_risk=view.at_risk, escalation=view.escalation_level, gate=gate.id, gate_title=gate.title,
                status=gate.status, reasons=reasons.localise_gates([gate], language)[0].reasons,
                approvers=gate.approvers, role=role,
                waive_role=_may(principal, definition, view, gate.id, "waive"),
                budget=budget, deadline=deadline,
            ))
    items.sort(key=lambda i: (not i.at_risk, i.start, i.event_id))
    return Inbox(items=items, scanned=len(ids), truncated=bool(pages.next_page_token))


class CardProgress(BaseModel):
    title: str | None = None
    stage_title: str | None = None
    tasks_done: int = 0
    tasks_total: int = 0
    gates_done: int = 0
    gates_total: int = 0
    done: int = 0
    total: int = 0
    awaiting: int = Field(default=0, description="Gates of the current stage awaiting a decision.")
    open_incidents: int = 0
    error: str | None = None


@router.get("/ui/api/progress", response_model=dict[str, CardProgress], responses=_SIGNED_IN)
async def progress(
    principal: Principal, client: TemporalClient, registry: Registry,
    ids: Annotated[str, Query(max_length=PROGRESS_IDS * 130, pattern=r"^[A-Za-z0-9._,-]*$",
                              description="Comma-separated event ids.")],
) -> dict[str, CardProgress]:
    """Progress of the cards on screen (tasks and gates done of all), read from each event's state.

    The board lists events from the search attributes alone; progress is not one of them, so the
    page asks for the cards a person can see, a screenful at a time. An event the caller may not read
    is answered as one that does not exist (``error: "unreadable"``).
    """
    wanted = list(dict.fromkeys(i for i in ids.split(",") if i))[:PROGRESS_IDS]
    safe = [i for i in wanted if re.fullmatch(SAFE_ID, i)]
    states = await _read_states(client, safe)
    out: dict[str, CardProgress] = {}
    for event_id, view in states.items():
        if isinstance(view, Exception) or not may_read(principal, view.event, definition_of(registry, view.kind)):
            out[event_id] = CardProgress(error="unreadable")
            continue
        tasks_done = sum(t.done for t in view.tasks)
        gates_done = sum(g.status in ("passed", "waived") for g in view.gates)
        out[event_id] = CardProgress(
            title=view.event.title, stage_title=view.stage_title, tasks_done=tasks_done,
            tasks_total=len(view.tasks), gates_done=gates_done, gates_total=len(view.gates),
            done=view.progress.done, total=view.progress.total,
            awaiting=sum(g.stage == view.stage and g.status == "awaiting_decision" for g in view.gates),
            open_incidents=len(view.open_incidents),
        )
    return out


@router.get("/ui/api/events/{event_id}/may", response_model=Allowed, responses={
    **_SIGNED_IN, 404: {"description": "No such event, or not one the caller may read", "content": _PROBLEM}})
async def may_act(event_id: EventId, principal: Principal, client: TemporalClient, registry: Registry,
                  app: State) -> Allowed:
    """What the page may offer the caller on this event: decisions on the current stage's gates, the
    current stage's open tasks, and every other act. Empty for viewers and for events that are over.

    The event answers itself (query ``may``) by the one rule its acts are authorised by, so a button shown is
    an act the API accepts from this person (the lifecycle may still refuse it, saying why, e.g. out of stage).
    """
    info = await app.events.get(client, event_id)  # kept per process: the team never changes after the start
    definition = definition_of(registry, info.kind)
    check_read(principal, info.details, definition)  # 404 for an event not theirs, as for an unknown one
    if principal.read_only or definition is None:
        return Allowed()
    return await may(client, event_id, MayAsk(person_id=principal.id, roles=principal.roles), rpc_timeout=READ_TIMEOUT)


# --- the lifecycle strip --------------------------------------------------------------------------

def _transitions(definition: Definition) -> list[tuple[str, str, str]]:
    """Each (source, destination, trigger) of the state machine the workflow runs
    (:func:`workflows.lifecycle.machine_config`), a transition from several sources once per source."""
    edges = []
    for transition in machine_config(definition)["transitions"]:
        sources = transition["source"] if isinstance(transition["source"], list) else [transition["source"]]
        edges += [(source, transition["dest"], transition["trigger"]) for source in sources]
    return edges


def stage_strip(definition: Definition, current: str | None, lang: str = "en") -> str:
    """The lifecycle as an inline SVG: the stages in a row, send-backs as arcs below, cancel as a rail above.

    Drawn from the states and transitions of the state machine the workflow runs, so it shows the same
    transitions the workflow takes.
    """
    lang = i18n.resolve(lang)
    titles = {s.id: s.title for s in definition.stages} | {CLOSED: "Closed", CANCELLED: "Cancelled"}
    edges = _transitions(definition)
    words = messages()[lang]
    english = messages()["en"]

    def word(key: str, fallback: str = "") -> str:
        return words.get(key) or english.get(key) or fallback

    def title(stage_id: str) -> str:
        if lang != "en" and f"stage.{stage_id}" in words:
            return words[f"stage.{stage_id}"]
        return titles.get(stage_id, stage_id)

    row = [s for s in definition.path() if s in titles] + [CLOSED]
    at = {s: i for i, s in enumerate(row)}
    current_index = at.get(current or "", -1)
    w, h, gap, left, top = 132, 46, 38, 16, 52
    x = {s: left + i * (w + gap) for i, s in enumerate(row)}
    width = left * 2 + len(row) * w + (len(row) - 1) * gap + 70
    backs = [(s, d) for s, d, label in edges if label.startswith("send_back") and s in at and d in at]
    cancels = [s for s, d, _ in edges if d == CANCELLED and s in at]
    depth = max([at[s] - at[d] for s, d in backs] or [0])
    height = top + h + (30 + 18 * depth if backs else 12) + 8
    cancelled_x = width - left - 92
    parts: list[str] = []
    done_word, now_word = word("diagram.done", "done"), word("diagram.current", "current stage")
    desc_bits = []
    for s in row:
        i = at[s]
        state_word = now_word if i == current_index else done_word if i < current_index else ""
        desc_bits.append(f"{title(s)}{f' ({state_word})' if state_word else ''}")
    desc = " → ".join(desc_bits)
    if backs:
        desc += ". " + word("diagram.send_back", "send back") + ": " + ", ".join(
            f"{title(s)} → {title(d)}" for s, d in backs)
    if cancels:
        desc += ". " + word("diagram.cancel_from", "can be cancelled from") + ": " + ", ".join(map(title, cancels))
    parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" viewBox="0 0 {width} {height}" '
                 f'role="img" aria-labelledby="strip-title strip-desc" preserveAspectRatio="xMinYMid meet">')
    parts.append(f'<title id="strip-title">{escape(word("diagram.title", "Lifecycle"))}: '
                 f'{escape(definition.title)}</title><desc id="strip-desc">{escape(desc)}</desc>')
    parts.append('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="strip-arrowhead"/></marker>'
                 '<marker id="arrow-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
                 'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="strip-backhead"/></marker></defs>')
    # cancel rail above the row
    if cancels:
        rail = top - 22
        first = min(x[s] + w / 2 for s in cancels)
        parts.append(f'<path class="strip-cancel" d="M{first},{rail} H{cancelled_x}"/>')
        for s in cancels:
            cx = x[s] + w / 2
            parts.append(f'<path class="strip-cancel" d="M{cx},{top} V{rail}"/>')
        cls = "strip-node is-cancelled" + (" is-current" if current == CANCELLED else "")
        parts.append(f'<g class="{cls}"><rect x="{cancelled_x}" y="{rail - 14}" width="92" height="28" rx="14"/>'
                     f'<text x="{cancelled_x + 46}" y="{rail + 5}" text-anchor="middle">'
                     f'{escape(title(CANCELLED))}</text></g>')
    # forward arrows
    for a, b in zip(row, row[1:], strict=False):
        parts.append(f'<path class="strip-edge" d="M{x[a] + w + 2},{top + h / 2} H{x[b] - 3}" '
                     f'marker-end="url(#arrow)"/>')
    # send-back arcs below
    for s, d in backs:
        span = at[s] - at[d]
        sx, dx, y0 = x[s] + w / 2 - 10, x[d] + w / 2 + 10, top + h
        y1 = y0 + 14 + 18 * span
        parts.append(f'<path class="strip-back" d="M{sx},{y0 + 2} C{sx},{y1} {dx},{y1} {dx},{y0 + 4}" '
                     f'marker-end="url(#arrow-back)"><title>{escape(word("diagram.send_back", "send back"))}: '
                     f'{escape(title(s))} → {escape(title(d))}</title></path>')
    if backs:
        parts.append(f'<text class="strip-note" x="{left}" y="{height - 6}">↶ '
                     f'{escape(word("diagram.send_back", "send back"))}</text>')
    # the stages
    for s in row:
        i = at[s]
        cls = "strip-node"
        if current == CANCELLED:
            cls += " is-future"
        elif i == current_index:
            cls += " is-current"
        elif i < current_index:
            cls += " is-done"
        else:
            cls += " is-future"
        mark = "✓ " if "is-done" in cls else ""
        aria = ' aria-current="step"' if "is-current" in cls else ""
        parts.append(f'<g class="{cls}"{aria}><rect x="{x[s]}" y="{top}" width="{w}" height="{h}" rx="10"/>'
                     f'<text x="{x[s] + w / 2}" y="{top + h / 2 + 5}" text-anchor="middle">'
                     f'{escape(mark + title(s))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


@router.get("/ui/api/diagram/{kind}", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}, **_SIGNED_IN,
                       404: {"description": "Unknown kind", "content": _PROBLEM}})
async def diagram(
    request: Request, principal: Principal, registry: Registry,
    kind: Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,63}$")],
    current: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
) -> Response:
    """The lifecycle of `kind` as an SVG strip with `current` highlighted (for the event page)."""
    try:
        definition = registry.get(kind)
    except UnknownKind as exc:
        raise not_found(str(exc)) from None
    svg = stage_strip(definition, current, language(request))
    return Response(svg, media_type="image/svg+xml", headers={
        "Cache-Control": "private, max-age=300", "X-Definition-Hash": definition_hash(definition)})
