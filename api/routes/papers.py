"""A board member's papers on their own page: read them, download each, acknowledge receipt.

The link (purpose ``papers``) comes in the message ``POST /events/{id}/papers/send`` sends each person the
team names in the papers' role (:func:`api.routes.documents.papers_check`). ``/p/{token}`` shows the newest
version of each paper with its checksum and, until they have, a button to acknowledge them: the receipt
goes to the database (the first counts) and to the event as ``acknowledge_papers`` with the member as the
actor (role ``guest``), which the readiness gate's ``papers_acknowledged`` check reads. Links are secrets:
never logged (the link id at most).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from temporalio.client import WorkflowUpdateFailedError

from api.deps import AppState, State
from api.routes.documents import file_response, newest_papers, papers_check, papers_deadline
from api.routes.personal import TEMPLATES, TEXT, _again, _form, _load, _local, _message, _open, _Page
from store.documents import Documents
from workflows.client import act
from workflows.lifecycle import GUEST
from workflows.messages import AcknowledgePapers, Actor, Person

router = APIRouter(tags=["personal pages"], include_in_schema=False)
log = structlog.stdlib.get_logger("convene.api")


async def _papers_page(request: Request, app: AppState, token: str) -> _Page | Response:
    link = await _open(request, app, token)
    if isinstance(link, Response):
        return link
    page = await _load(request, app, link)
    if link.purpose != "papers" or _member(app, page) is None:
        return _message(request, "link_unknown", page.lang, 404)
    return page


def _member(app: AppState, page: _Page) -> Person | None:
    """The person behind the link, while the team still names them in the papers' role."""
    try:
        check = papers_check(app.registry.get(page.view.kind))
    except Exception:  # noqa: BLE001 - a kind no longer shipped sends no papers
        return None
    if check is None:
        return None
    return next((p for p in page.event.team.get(check.role, []) if p.id == page.link.person_id), None)


async def render(request: Request, app: AppState, page: _Page, notice: str | None = None,
                 status: int = 200) -> Response:
    """The papers page: the newest version of each paper, the receipt (or the button to give it)."""
    e, lang, t = page.event, page.lang, TEXT[page.lang]
    member = _member(app, page)
    check = papers_check(app.registry.get(page.view.kind))
    if member is None or check is None:
        return _message(request, "link_unknown", lang, 404)
    docs = Documents(app.database)
    papers = newest_papers(await docs.list(e.id), list(check.types))
    first = (await docs.receipts(e.id)).get(member.id)
    zone = e.timezone or "UTC"
    context = {
        "t": t, "lang": lang, "page": "papers", "notice": notice, "message": None,
        "token_path": request.url.path.rstrip("/").removesuffix("/acknowledge"), "title": e.title, "name": member.name,
        "when": _local(e.start, zone, lang), "venue": e.venue or t["tba"], "cancelled": page.view.status == "cancelled",
        "agenda": [], "key": uuid.uuid4().hex,
        "papers": [{"doc_id": d.doc_id, "title": d.title, "version": d.version, "format": d.ext, "sha256": d.sha256}
                   for d in papers],
        "acknowledged": _local(first, zone, lang) if first else None,
        "papers_by": _local(papers_deadline(e, check), zone, lang),
    }
    return TEMPLATES.TemplateResponse(request, "personal.html", context, status_code=status)


DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]


@router.get("/p/{token}/papers/{doc_id}")
async def personal_paper(token: str, doc_id: DocId, request: Request, app: State) -> Response:
    """One paper's file, for the member whose link it is (only documents of the papers' types)."""
    page = await _papers_page(request, app, token)
    if isinstance(page, Response):
        return page
    check = papers_check(app.registry.get(page.view.kind))
    doc = await Documents(app.database).get(page.event.id, doc_id)
    if doc is None or check is None or doc.doc_type not in check.types:
        return _message(request, "link_unknown", page.lang, 404)
    log.info("paper downloaded", link=page.link.link_id, doc_id=doc_id)
    return file_response(app, doc)


@router.post("/p/{token}/acknowledge")
async def personal_acknowledge(token: str, request: Request, app: State) -> Response:
    """The member acknowledges the papers their page shows: once in the database (the first counts), and as
    ``acknowledge_papers`` to the event (keyed by the form, so a form sent twice is one receipt)."""
    page = await _papers_page(request, app, token)
    if isinstance(page, Response):
        return page
    link, t = page.link, TEXT[page.lang]
    check = papers_check(app.registry.get(page.view.kind))
    assert check is not None  # _papers_page found the member in its role
    docs = Documents(app.database)
    papers = newest_papers(await docs.list(link.event_id), list(check.types))
    if not papers:
        return await render(request, app, page, notice=t["papers_none"], status=409)
    form = await _form(request)
    key = f"p:{form.get('key') or uuid.uuid4().hex}"[:200]
    act_ = AcknowledgePapers(key=key, actor=Actor(id=link.person_id, role=GUEST), person_id=link.person_id)
    try:
        await act(await app.client(), link.event_id, act_, rpc_timeout=timedelta(seconds=20))
    except WorkflowUpdateFailedError as failed:
        reason = str(getattr(failed.cause, "message", None) or failed.cause or failed)
        return await render(request, app, page, notice=t["refused"].format(reason=reason), status=409)
    await docs.acknowledge(link.event_id, link.person_id, [d.doc_id for d in papers], link.person_id,
                           datetime.now(UTC))
    log.info("papers acknowledged", link=link.link_id)
    return _again(request, page.lang, "papers_done")
