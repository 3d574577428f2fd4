"""Meeting documents over HTTP: attach one (multipart), list them, download one, send the papers, record a receipt.

Attaching goes ``file -> archive store -> database row -> the workflow's small fact``: the file is checked
(a type the definition archives, a format it allows, at most ``document_max_mb``, bytes that look like the
format), written to the event's folder in the archive store (``<dossier>/uploads/<doc id>.<ext>``), recorded
as the next version of its type and title (:mod:`store.documents`, idempotent by the upload's key), and
then the event is told "type X is there as version n" (``record_document``, the same key), which its
documents checks read. A refused act removes the row and the file again: nothing is kept of a refusal.

Reads follow the event's read rules (:func:`api.visibility.readable`); a confidential document (every
document of a confidential kind unless marked otherwise) is shown only to the event's owner and team,
the people who need it: principals granted the event or its kind see the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from activities.archive import LocalFolderStore, dossier_path
from activities.places import person_notice
from api.acts import perform
from api.auth import Principal as PrincipalModel
from api.auth import choose_role, on_team
from api.deps import AppState, EventId, IdempotencyKey, Principal, Registry, State, TemporalClient, Writer
from api.errors import ACT_PROBLEMS, READ_PROBLEMS, Problem, to_problem
from api.models import ActOutcome
from api.places import _start
from api.visibility import readable
from definitions import Definition
from definitions.schema import PapersAcknowledged
from store.documents import Document, Documents, KeyReused, document_id
from workflows.messages import AcknowledgePapers, Actor, Attendee, EventDetails, RecordDocument

router = APIRouter(prefix="/events", tags=["documents"])
log = structlog.stdlib.get_logger("convene.api")

SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",), **{z: (b"PK\x03\x04",) for z in ("docx", "xlsx", "pptx", "odt", "ods", "odp", "key")},
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
}
"""What a file of each format starts with (Office, OpenDocument and Keynote files are ZIP archives); MP4 and
M4A carry ``ftyp`` at byte 4; CSV and text must be UTF-8 without NUL bytes."""

MEDIA = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8",
         "mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "video/mp4"}


def looks_like(ext: str, data: bytes) -> bool:
    """Whether `data` starts as a file of format `ext` does (a renamed file of another kind is refused)."""
    if ext in ("mp4", "m4a"):
        return data[4:8] == b"ftyp"
    if ext in ("csv", "txt"):
        try:
            return b"\0" not in data and bool(data.decode("utf-8") is not None)
        except UnicodeDecodeError:
            return False
    return data.startswith(SIGNATURES.get(ext, (b"\0\0\0\0",)))


class DocumentOut(BaseModel):
    """One stored version. `size` in bytes; `download` the path to fetch it with the same credentials."""

    doc_id: str
    type: str
    title: str
    version: int
    filename: str
    format: str
    size: int
    sha256: str
    confidential: bool
    uploaded_by: str
    role: str
    uploaded_at: datetime
    download: str

    @classmethod
    def of(cls, d: Document) -> DocumentOut:
        return cls(doc_id=d.doc_id, type=d.doc_type, title=d.title, version=d.version, filename=d.filename,
                   format=d.ext, size=d.size, sha256=d.sha256, confidential=d.confidential,
                   uploaded_by=d.uploaded_by, role=d.role, uploaded_at=d.uploaded_at,
                   download=f"/events/{d.event_id}/documents/{d.doc_id}")


class Receipt(BaseModel):
    person_id: str
    name: str
    acknowledged_at: datetime | None
    in_time: bool


class PapersProgress(BaseModel):
    """The papers' receipts: `acknowledged` of `of` people in `role` acknowledged; `in_time` by `deadline`."""

    role: str
    types: list[str]
    deadline: datetime
    acknowledged: int
    in_time: int
    of: int
    people: list[Receipt]


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    hidden: int = Field(description="Confidential documents this reader is not shown.")
    papers: PapersProgress | None = None


class DocumentAttached(BaseModel):
    document: DocumentOut
    result: Any = Field(description="The record_document act's result (its audit seq, stage, status).")


class PapersSent(BaseModel):
    sent_to: list[str] = Field(description="The people in the papers' role a message with their link went to.")


# --- shared rules -----------------------------------------------------------------------------


def sees_confidential(principal: PrincipalModel, event: EventDetails) -> bool:
    """Confidential documents are for the event's owner and team (any role): the people who need them."""
    return on_team(principal, event)


def papers_check(definition: Definition) -> PapersAcknowledged | None:
    """The definition's papers check (the first, if it has several): who gets the papers and which types."""
    return next((c for s in definition.stages for g in s.gates for c in g.checks
                 if isinstance(c, PapersAcknowledged)), None)


def papers_deadline(event: EventDetails, check: PapersAcknowledged) -> datetime:
    from definitions.schema import calendar_plus

    return calendar_plus(event.start, -check.days_before_start, 0, event.timezone or "UTC")


def newest_papers(docs: list[Document], types: list[str]) -> list[Document]:
    """The newest version of each title of the papers' types: what a member reads and acknowledges."""
    newest: dict[tuple[str, str], Document] = {}
    for d in docs:
        if d.doc_type in types and (newest.get((d.doc_type, d.title)) is None
                                    or newest[(d.doc_type, d.title)].version < d.version):
            newest[(d.doc_type, d.title)] = d
    return sorted(newest.values(), key=lambda d: (types.index(d.doc_type), d.title))


async def progress(app: AppState, event: EventDetails, definition: Definition) -> PapersProgress | None:
    check = papers_check(definition)
    if check is None:
        return None
    receipts = await Documents(app.database).receipts(event.id)
    deadline = papers_deadline(event, check)
    people = [Receipt(person_id=p.id, name=p.name, acknowledged_at=receipts.get(p.id),
                      in_time=p.id in receipts and receipts[p.id] <= deadline)
              for p in event.team.get(check.role, [])]
    return PapersProgress(role=check.role, types=list(check.types), deadline=deadline,
                          acknowledged=sum(1 for p in people if p.acknowledged_at),
                          in_time=sum(p.in_time for p in people),
                          of=len(people), people=people)


def store_of(app: AppState) -> LocalFolderStore:
    return LocalFolderStore(app.settings.archive_root)


async def _outcome(result: ActOutcome | JSONResponse) -> Any:
    if isinstance(result, JSONResponse):  # the key's answer given again
        if result.status_code >= 400:
            raise Problem(result.status_code, json.loads(bytes(result.body)).get("detail", "refused"))
        return json.loads(bytes(result.body))["result"]
    return result.result.model_dump(mode="json")


# --- routes -----------------------------------------------------------------------------------


@router.post("/{event_id}/documents", name="record_document", response_model=DocumentAttached,
             responses=ACT_PROBLEMS)
async def record_document(event_id: EventId, request: Request, client: TemporalClient, registry: Registry,
                          principal: Writer, app: State, idempotency_key: IdempotencyKey = None) -> DocumentAttached:
    """Attach a meeting document: multipart/form-data with ``file``, ``type`` (one of the definition's
    ``archive_includes``), optional ``title`` (default: the type; the same type and title again is the next
    version), ``confidential`` (``true``/``false``; default: the kind's), ``as_role``, ``key``.

    Who: the definition's ``manage_documents`` roles (else its owner role). Errors: 404 (not theirs to read),
    403, 413 (larger than ``document_max_mb``), 422 (unknown type, format not allowed, content not that
    format, a key used for another file), 409 (the event refuses: closed...); nothing is kept of a refusal.
    """
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    if definition is None:
        raise Problem(409, f"the kind {info.kind} is no longer loaded here; documents cannot be attached")

    def probe(key: str, role: str | None) -> RecordDocument:
        return RecordDocument(key=key, actor=Actor(id=principal.id, role=role or principal.roles[0]),
                              doc_type="probe", version=1, sha256="0" * 64)

    choose_role(principal, definition, info.details, probe("probe", None))  # 403 before the body is read
    limit = definition.document_max_mb * 1024 * 1024
    if int(request.headers.get("content-length") or 0) > limit + 65536:
        raise Problem(413, f"the file is larger than {definition.document_max_mb} MB")
    async with request.form(max_files=1, max_fields=8) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise Problem(422, "attach the document as the form's file field")
        filename = upload.filename
        data = await upload.read(limit + 1)
    doc_type, as_role = fields.get("type", ""), fields.get("as_role") or None
    title = (fields.get("title") or doc_type).strip()[:200]
    key = idempotency_key or fields.get("key") or uuid.uuid4().hex
    role = choose_role(principal, definition, info.details, probe(key, as_role), as_role)
    if doc_type not in definition.archive_includes:
        raise Problem(422, f"unknown document type {doc_type!r}; a {definition.kind} keeps: "
                      f"{', '.join(definition.archive_includes) or 'none'}")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if len(data) > limit:
        raise Problem(413, f"the file is larger than {definition.document_max_mb} MB")
    if ext not in definition.document_formats or not looks_like(ext, data):
        raise Problem(422, f"a document must be a file in one of these formats: "
                      f"{', '.join(definition.document_formats)} (its content matching its name)")
    confidential = {"true": True, "false": False}.get(fields.get("confidential", "").lower(), definition.confidential)
    sha = hashlib.sha256(data).hexdigest()
    doc_id = document_id(event_id, key)
    path = f"{dossier_path(info.details, definition.kind)}/uploads/{doc_id}.{ext}"
    store = store_of(app)
    docs = Documents(app.database)
    existing = await docs.get(event_id, doc_id)
    if existing is not None and existing.sha256 != sha:
        raise Problem(422, f"Idempotency-Key {key!r} was used for another file on this event; a new document "
                      "needs a new key", slug="idempotency-key-reused")
    wrote = await asyncio.to_thread(store.write, path, data)
    try:
        doc, made = await docs.add(event_id=event_id, key=key, doc_type=doc_type, title=title, filename=filename,
                                   ext=ext, size=len(data), sha256=sha, path=path, confidential=confidential,
                                   uploaded_by=principal.id, role=role, at=datetime.now(UTC))
    except KeyReused:
        raise Problem(422, f"Idempotency-Key {key!r} was used for another file on this event",
                      slug="idempotency-key-reused") from None
    if not made and doc.path != path and wrote:  # the same file again: the version it already is
        await asyncio.to_thread(store.remove, path)
    act_ = RecordDocument(key=key, actor=Actor(id=principal.id, role=role), doc_type=doc_type, version=doc.version,
                          sha256=sha)
    try:
        result = await _outcome(await perform(client, registry, app, principal, event_id, key, role, act_))
    except Exception as exc:
        if made and to_problem(exc).status in (403, 404, 409, 422):  # refused: keep nothing of it
            await docs.remove(event_id, doc.doc_id)
            await asyncio.to_thread(store.remove, doc.path)
        raise
    log.info("document attached", event_id=event_id, doc_id=doc.doc_id, type=doc_type, version=doc.version,
             bytes=len(data))
    return DocumentAttached(document=DocumentOut.of(doc), result=result)


@router.get("/{event_id}/documents", response_model=DocumentList, responses=READ_PROBLEMS)
async def list_documents(event_id: EventId, client: TemporalClient, registry: Registry, principal: Principal,
                         app: State) -> DocumentList:
    """Every version of the event's documents this reader may see (confidential ones only for the team), and
    the papers' receipts (who acknowledged, whether by the deadline) where the kind sends papers."""
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    docs = await Documents(app.database).list(event_id)
    shown = [d for d in docs if not d.confidential or sees_confidential(principal, info.details)]
    papers = await progress(app, info.details, definition) if definition is not None else None
    return DocumentList(documents=[DocumentOut.of(d) for d in shown], hidden=len(docs) - len(shown), papers=papers)


DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]


@router.get("/{event_id}/documents/{doc_id}", response_class=Response, responses=READ_PROBLEMS)
async def download_document(event_id: EventId, doc_id: DocId, client: TemporalClient, registry: Registry,
                            principal: Principal, app: State) -> Response:
    """The file of one version, with its checksum (``X-Content-SHA256``); 404 for a document this reader may not
    see, as for one that does not exist."""
    await app.store_ready()
    info, _ = await readable(app.events, client, registry, principal, event_id)
    doc = await Documents(app.database).get(event_id, doc_id)
    if doc is None or (doc.confidential and not sees_confidential(principal, info.details)):
        raise Problem(404, "no such document")
    return file_response(app, doc)


def file_response(app: AppState, doc: Document) -> Response:
    data = store_of(app).read(doc.path)
    if data is None or hashlib.sha256(data).hexdigest() != doc.sha256:
        log.warning("document file missing or changed", event_id=doc.event_id, doc_id=doc.doc_id)
        raise Problem(503, "the document's file cannot be read from the archive store now")
    name = f"{doc.doc_type}-v{doc.version}.{doc.ext}"
    return Response(data, media_type=MEDIA.get(doc.ext, "application/octet-stream"), headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": doc.sha256,
        "Cache-Control": "private, no-store"})


@router.post("/{event_id}/papers/send", name="send_papers", response_model=PapersSent,
             responses=ACT_PROBLEMS)
async def send_papers(event_id: EventId, client: TemporalClient, registry: Registry, principal: Writer,
                      app: State) -> PapersSent:
    """Send each person the team names in the papers' role a message with their own link to the papers (the
    newest version of each). Sent once per person and set of papers (a resend after a new version goes again).
    Who: the ``manage_documents`` roles. 409 when no papers are attached yet or the kind sends none."""
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    if definition is None:
        raise Problem(409, f"the kind {info.kind} is no longer loaded here")
    probe = AcknowledgePapers(key="probe", actor=Actor(id=principal.id, role=principal.roles[0]), person_id="probe")
    choose_role(principal, definition, info.details, probe)  # 403 first
    check = papers_check(definition)
    if check is None:
        raise Problem(409, "this kind of event sends no papers to acknowledge")
    papers = newest_papers(await Documents(app.database).list(event_id), list(check.types))
    if not papers:
        raise Problem(409, f"no {' or '.join(check.types)} attached yet: attach the papers first")
    e = info.details
    facts = await app.roster.facts(event_id)
    if facts is None:
        raise Problem(409, "the event has not written its details to the database yet; try again in a moment")
    which = hashlib.sha256("|".join(d.doc_id for d in papers).encode()).hexdigest()[:12]
    sent: list[str] = []
    for person in e.team.get(check.role, []):
        notice = person_notice(facts, Attendee(id=person.id, name=person.name, email=person.email,
                                               locale=person.locale), "reminder", f"papers.{which}",
                               {"audience": "papers", "papers": len(papers)})
        await _start(await app.client(), app, "SendNotices", [notice], f"notices-papers-{event_id}-{person.id}-{which}")
        sent.append(person.id)
    log.info("papers sent", event_id=event_id, people=len(sent), papers=len(papers))
    return PapersSent(sent_to=sent)


PersonId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


class ReceiptIn(BaseModel):
    key: str | None = Field(default=None, max_length=200)
    as_role: str | None = None


@router.post("/{event_id}/papers/{person_id}/acknowledge", name="acknowledge_papers", response_model=ActOutcome,
             responses=ACT_PROBLEMS)
async def acknowledge_papers(event_id: EventId, person_id: PersonId,
                             client: TemporalClient, registry: Registry, principal: Writer, app: State,
                             body: ReceiptIn | None = None,
                             idempotency_key: IdempotencyKey = None) -> ActOutcome | JSONResponse:
    """Record a receipt the person gave outside their page (on paper, in person), as a ``manage_documents`` role.
    Members normally acknowledge on their own page (``/p/{token}``)."""
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    key = idempotency_key or (body.key if body else None) or uuid.uuid4().hex
    as_role = body.as_role if body else None
    act_ = AcknowledgePapers(key=key, actor=Actor(id=principal.id, role=as_role or principal.roles[0]),
                             person_id=person_id)
    if definition is not None:
        choose_role(principal, definition, info.details, act_, as_role)
    outcome = await perform(client, registry, app, principal, event_id, key, as_role, act_)
    if isinstance(outcome, ActOutcome) and definition is not None:
        check = papers_check(definition)
        papers = newest_papers(await Documents(app.database).list(event_id), list(check.types)) if check else []
        await Documents(app.database).acknowledge(event_id, person_id, [d.doc_id for d in papers], principal.id,
                                                  datetime.now(UTC))
    return outcome


