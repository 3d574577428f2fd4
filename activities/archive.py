"""The event's dossier: numbered documents, a searchable index and a checksum manifest.

The ``archive`` activity writes ``<root>/<YYYY>/<kind>/<event_id>/``::

    01-definition.json   the definition the event ran by, and its hash
    02-audit-log.json    every act, in order
    03-decisions.json    gate decisions and the checklist
    04-people.json       team, speakers, the attendee contact book (key clients marked)
    05-budget.json       planned against actual per category
    06-deliveries.json   notifications sent and engine effects
    07-incidents.json    incidents and their resolution
    08-evaluation.*      (written by the evaluation report)
    09-<type>-v<n>.*     meeting documents attached to the event (minutes, resolutions, papers...), every
                         version, copied from the archive store's ``uploads/`` (store/documents.py)
    index.md             what is where, and the words to find it by
    MANIFEST.sha256      checksums in ``sha256sum`` format (``sha256sum -c MANIFEST.sha256``)

Everything written is a function of the request alone (sorted keys, no clock),
so archiving twice gives byte-identical files and the same manifest. An event
whose roster is in the database (``record.roster == "database"``) has its
attendees, deliveries and whole audit read from there instead, a page at a
time, each entry rendered as it arrives and put in a fixed order (the files are
laid out exactly as for an event kept in memory): archived twice over the same
database, the files are the same too. Files are written atomically (temporary
file, then rename). Confidential events are
marked CONFIDENTIAL in the index and the manifest, and their dossier holds no
attendee or speaker contact details.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from temporalio import activity

from activities.database import in_database, ready, require
from activities.errors import unsafe_path
from activities.figures import budget_figures
from activities.report_format import Formats
from activities.rendering import redact_url
from convene import i18n
from convene.logs import get_logger
from definitions.loader import definition_hash
from store.documents import Document, Documents
from store.journal import Journal
from store.roster import Roster
from workflows.messages import AttendeeRecord, AuditEntry, DeliveryRecord, DossierRequest, EventDetails

MANIFEST = "MANIFEST.sha256"
INDEX = "index.md"

def N_(text: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction, translate later"
    """``text`` itself: marks a message for ``pybabel extract`` where the language is not known yet."""
    return text


DOCUMENTS: dict[str, str] = {
    "01-definition.json": N_("The lifecycle definition the event ran by, with its hash"),
    "02-audit-log.json": N_("Audit log: every act, who did it and when"),
    "03-decisions.json": N_("Gate decisions (approvals, rejections, waivers) and the task checklist"),
    "04-people.json": N_("Team, speakers and the attendee contact book (key clients marked)"),
    "05-budget.json": N_("Budget: planned against actual per category"),
    "06-deliveries.json": N_("Notifications delivered and engine effects"),
    "07-incidents.json": N_("Incidents: severity, summary, resolution"),
    "08-evaluation.md": N_("Evaluation report (Markdown)"),
    "08-evaluation.html": N_("Evaluation report (HTML, with charts)"),
}
"""The standard numbering: every file name the dossier may hold, and what it holds."""
OTHER_DOCUMENT = N_("Other document")
MEETING_DOCUMENT = N_("Meeting document (a version as attached; its checksum is in the manifest)")
MEETING_NUMBER = "09"
"""Meeting documents (minutes, resolutions, papers...) are numbered ``09-<type>[-<title>]-v<version>.<ext>``."""
_NUMBERED = re.compile(r"^\d\d-")

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


PRODUCED: dict[str, tuple[str, ...]] = {
    "decisions": ("03-decisions.json",),
    "contact_book": ("04-people.json",),
    "reports": ("08-evaluation.md", "08-evaluation.html"),
}
"""Documents a definition's ``archive_includes`` may name that the engine writes itself."""


def archive_coverage(includes: Iterable[str], files: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Which of a definition's ``archive_includes`` the dossier holds (pure).

    A document ``board_papers`` is present when a file is named ``board_papers.<ext>``,
    ``board-papers.<ext>`` or starts with ``board_papers-`` / ``board-papers-`` (``slides-kim.pdf`` is
    ``slides``), or when it is one the engine writes (:data:`PRODUCED`).

    Returns:
        (present: document -> the file names that hold it, sorted; missing: documents with none, in order).
    """
    names = sorted(files)
    present: dict[str, list[str]] = {}
    missing: list[str] = []
    for doc in includes:
        stems = {doc, doc.replace("_", "-")}
        found = [n for n in names if n in PRODUCED.get(doc, ())
                 or (bare := _NUMBERED.sub("", n)).split(".", 1)[0] in stems
                 or any(bare.startswith(f"{s}-") for s in stems)]
        if found:
            present[doc] = found
        else:
            missing.append(doc)
    return present, missing


# --------------------------------------------------------------------------------------- the store


class ArchiveStore(Protocol):
    """Where dossiers are kept. Paths are relative POSIX paths (``2025/conference/evt-1/index.md``)."""

    def write(self, path: str, data: bytes) -> bool:
        """Write ``data`` atomically; return False if the file already held exactly that."""
        ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, None if there is none."""
        ...

    def list(self, folder: str) -> list[str]:
        """Names of the visible files directly in ``folder``, sorted; empty if there is no folder."""
        ...

    def remove(self, path: str) -> bool:
        """Delete the file; return False if there was none."""
        ...

    def append_once(self, path: str, unique_by: str, record: dict[str, Any]) -> bool:
        """Append ``record`` as a JSON line unless a line with the same ``unique_by`` value is there.

        Returns True if the line was appended.
        """
        ...

    def locked(self, folder: str) -> AbstractContextManager[None]:
        """Hold ``folder`` for one writer (the archive and the report may refresh one manifest at once)."""
        ...


class LocalFolderStore:
    """An :class:`ArchiveStore` in a local folder.

    Every path is resolved (symlinks included) and must stay under the root; anything else is
    refused with a non-retryable ``UnsafePath`` error.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, path: str) -> Path:
        """The absolute local path of ``path``, checked to be inside the root."""
        rel = PurePosixPath(path)
        if rel.is_absolute() or any(part in ("", ".", "..") for part in rel.parts) or "\\" in path or "\0" in path:
            raise unsafe_path(f"refused path {path!r}: not a plain relative path")
        root = self.root.resolve()
        full = (root / rel).resolve()
        if not full.is_relative_to(root) or full == root:
            raise unsafe_path(f"refused path {path!r}: it leads outside the archive")
        return full

    def remove(self, path: str) -> bool:
        try:
            self.path(path).unlink()
        except FileNotFoundError:
            return False
        return True

    def write(self, path: str, data: bytes) -> bool:
        full = self.path(path)
        try:
            if full.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        full.parent.mkdir(parents=True, exist_ok=True)
        self.path(path)  # again, now the folders exist: a symlinked folder cannot lead out
        fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=f".{full.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, full)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def read(self, path: str) -> bytes | None:
        try:
            return self.path(path).read_bytes()
        except FileNotFoundError:
            return None

    def list(self, folder: str) -> list[str]:
        full = self.path(folder)
        if not full.is_dir():
            return []
        return sorted(p.name for p in full.iterdir() if p.is_file() and not p.name.startswith("."))

    @contextmanager
    def locked(self, folder: str) -> Iterator[None]:
        # The lock file sits outside the dossier, so the dossier holds only its own documents.
        lock = self.path(f".locks/{folder.replace('/', '~')}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # across worker processes on this host too
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def append_once(self, path: str, unique_by: str, record: dict[str, Any]) -> bool:
        full = self.path(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        self.path(path)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        fd = os.open(full, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        with os.fdopen(fd, "r+", encoding="utf-8") as f:
            # The lock makes read-check-append one step, across processes on this host too.
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                for existing in f:
                    try:
                        if json.loads(existing).get(unique_by) == record.get(unique_by):
                            return False
                    except (ValueError, AttributeError):
                        continue  # a torn or foreign line: not ours to judge
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
                return True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------- layout


def safe_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SAFE_PART.fullmatch(value) or value in (".", ".."):
        raise unsafe_path(f"refused {what} {value!r} as a folder name")
    return value


def dossier_folder(request: DossierRequest) -> str:
    """``<YYYY>/<kind>/<event_id>``: the year the event starts (in its own zone), its kind, its id."""
    return dossier_path(request.event, request.definition.kind)


def dossier_path(event: EventDetails, kind: str) -> str:
    """The dossier folder of `event` of `kind` (see :func:`dossier_folder`); also where documents sent before
    the archive is written wait for it (a speaker's slides).

    Raises:
        ApplicationError: ``UnsafePath`` for a kind or id that would leave the archive root.
    """
    try:
        start = event.start.astimezone(ZoneInfo(event.timezone))
    except Exception:  # noqa: BLE001 - an unknown zone only changes the year at the turn of it
        start = event.start
    kind = safe_name(kind, "kind")
    event_id = safe_name(event.id, "event id")
    return f"{start.year:04d}/{kind}/{event_id}"


def classification(request: DossierRequest) -> str:
    return "CONFIDENTIAL" if request.definition.confidential else "internal"


# --------------------------------------------------------------------------------------- documents


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and a trailing newline: the same value always gives the same bytes."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def _json_at(value: Any, level: int) -> str:
    """``value`` as :func:`canonical_json` lays it out `level` levels deep (without the first indent)."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str).replace(
        "\n", "\n" + "  " * level)


def list_item(value: Any) -> str:
    """One item of a list held by a document's top-level key, rendered as :func:`canonical_json` would."""
    return "    " + _json_at(value, 2)


def assembled_json(fields: dict[str, Any], lists: dict[str, Iterable[str]]) -> bytes:
    """The same bytes as ``canonical_json(fields | {key: [items...]})`` for a document whose long lists
    (`lists`, their items already rendered by :func:`list_item`) were built an entry at a time, so no
    list of models the size of the roster is ever held."""
    parts = []
    for key in sorted({*fields, *lists}):
        if key in lists:
            items = list(lists[key])
            body = "[\n" + ",\n".join(items) + "\n  ]" if items else "[]"
        else:
            body = _json_at(fields[key], 1)
        parts.append(f"  {json.dumps(key, ensure_ascii=False)}: {body}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def _person(person: Any, contact: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": person.id, "name": person.name, "locale": person.locale}
    if contact:
        entry["email"] = person.email
    return entry


def _definition_doc(request: DossierRequest) -> dict[str, Any]:
    event = request.event.model_dump(mode="json")
    event["webhooks"] = [redact_url(u) for u in request.event.webhooks]
    for people in event.get("team", {}).values():
        for p in people:
            p["webhook_url"] = redact_url(p.get("webhook_url"))
    recomputed = definition_hash(request.definition)
    return {
        "classification": classification(request),
        "definition": request.definition.model_dump(mode="json"),
        "definition_hash": request.definition_hash,
        "definition_hash_recomputed": recomputed,
        "definition_hash_matches": recomputed == request.definition_hash,
        "event": event,
    }


def _decisions_doc(request: DossierRequest) -> dict[str, Any]:
    record, definition = request.record, request.definition
    gates = {}
    for stage in definition.stages:
        for gate in stage.gates:
            decision = record.gates.get(gate.id)
            gates[gate.id] = {
                "stage": stage.id,
                "title": gate.title,
                "needs_approval": gate.approval is not None,
                "decision": decision.model_dump(mode="json") if decision else None,
            }
    tasks = {}
    for stage in definition.stages:
        for task in stage.tasks:
            done = record.tasks.get(task.id)
            tasks[task.id] = {
                "stage": stage.id,
                "title": task.title,
                "owner": task.owner,
                "required": task.required,
                "done": done.model_dump(mode="json") if done else None,
            }
    return {"event_id": request.event.id, "final_status": record.status, "final_stage": record.stage,
            "gates": gates, "tasks": tasks}


def _people_doc(request: DossierRequest) -> dict[str, Any]:
    record = request.record
    contact = not request.definition.confidential
    book = [_contact(a, contact) for a in sorted(record.attendees.values(), key=_book_order)]
    return _people_head(request) | {
        "contact_book": book,
        "key_clients": [e["id"] for e in book if e["key_client"]],
    }


def _people_head(request: DossierRequest) -> dict[str, Any]:
    """The people document without its contact book: team and speakers (both from the record)."""
    record = request.record
    contact = not request.definition.confidential
    team = {
        role: sorted((_person(p, True) for p in people), key=lambda e: e["id"])
        for role, people in request.event.team.items()
    }
    speakers = [
        {**_person(s.person, contact), "slot": s.slot, "topic": s.topic, "status": s.status,
         "invited_at": s.invited_at.isoformat(), "replied_at": s.replied_at.isoformat() if s.replied_at else None}
        for s in sorted(record.speakers.values(), key=lambda s: s.person.id)
    ]
    return {
        "classification": classification(request),
        "contact_details": "withheld (confidential event)" if not contact else "included",
        "team": team,
        "speakers": speakers,
    }


def _book_order(a: AttendeeRecord) -> tuple[bool, str]:
    """Key clients first, then everyone else, each by id."""
    return not a.person.key_client, a.person.id


def _contact(a: AttendeeRecord, contact: bool) -> dict[str, Any]:
    return {**_person(a.person, contact), "category": a.person.category, "key_client": a.person.key_client,
            "rsvp": a.rsvp, "invited_at": a.invited_at.isoformat(),
            "checked_in_at": a.checked_in_at.isoformat() if a.checked_in_at else None}


def _budget_doc(request: DossierRequest) -> dict[str, Any]:
    b = budget_figures(request.record, request.event.budget_limit, request.event.currency)
    return {
        "currency": b.currency,
        "limit": b.limit,
        "planned_total": b.planned,
        "actual_total": b.actual,
        "variance_reported_lines": b.variance,
        "variance_reported_lines_pct": b.variance_pct,
        "unreported": b.unreported,
        "within_limit": b.within_limit,
        "lines": [
            {"category": r.category, "planned": r.planned, "actual": r.actual, "variance": r.variance,
             "variance_pct": r.variance_pct, "note": r.note}
            for r in b.rows
        ],
    }


def _delivery(d: DeliveryRecord, confidential: bool) -> dict[str, Any]:
    entry = d.model_dump(mode="json")
    if d.channel == "webhook":
        entry["to"] = redact_url(d.to)
    elif d.channel == "email" and confidential:
        entry["to"] = "withheld"
    return entry


def _deliveries_doc(request: DossierRequest) -> dict[str, Any]:
    confidential = request.definition.confidential
    return {
        "deliveries": [_delivery(d, confidential) for d in request.record.deliveries],
        "effects": [e.model_dump(mode="json") for e in request.record.effects],
    }


def _incidents_doc(request: DossierRequest) -> dict[str, Any]:
    items = sorted(request.record.incidents.values(), key=lambda i: (i.reported_at, i.id))
    return {
        "total": len(items),
        "open": sum(1 for i in items if i.resolved_at is None),
        "incidents": [i.model_dump(mode="json") for i in items],
    }


def dossier_documents(request: DossierRequest) -> dict[str, bytes]:
    """Documents 01 to 07 of the dossier, by file name (pure)."""
    r = request
    return {
        "01-definition.json": canonical_json(_definition_doc(r)),
        "02-audit-log.json": canonical_json(
            {"event_id": r.event.id, "entries": [e.model_dump(mode="json") for e in r.record.audit]}
        ),
        "03-decisions.json": canonical_json(_decisions_doc(r)),
        "04-people.json": canonical_json(_people_doc(r)),
        "05-budget.json": canonical_json(_budget_doc(r)),
        "06-deliveries.json": canonical_json(_deliveries_doc(r)),
        "07-incidents.json": canonical_json(_incidents_doc(r)),
    }


def _audit_order(e: AuditEntry) -> tuple[Any, str]:
    """Time order, ties broken as the database breaks them (``wf:<seq>`` and ``act:<key>``), in Python
    so PostgreSQL's collation and SQLite's give the same file."""
    return e.at, f"wf:{e.seq:09d}" if e.seq else f"act:{e.key}"


async def _audit_items(request: DossierRequest, journal: Journal) -> list[str]:
    """Every audit entry: the database's, and those the record holds that are not written there yet."""
    rows: list[tuple[tuple[Any, str], str]] = []
    seen: set[str] = set()

    def add(e: AuditEntry) -> None:
        order = _audit_order(e)
        if order[1] not in seen:  # a page boundary crossed by a write shows an entry twice: once here
            seen.add(order[1])
            rows.append((order, list_item(e.model_dump(mode="json"))))

    async for entry in journal.audit(request.event.id):
        add(entry)
    for entry in [*request.record.audit, *request.record.audit_outbox]:
        add(entry)
    rows.sort(key=lambda r: r[0])
    return [text for _, text in rows]


async def _people_items(request: DossierRequest, roster: Roster) -> tuple[list[str], list[str], list[AttendeeRecord]]:
    """The contact book and the key clients' ids, rendered a person at a time; and the key clients."""
    contact = not request.definition.confidential
    book: list[tuple[tuple[bool, str], str]] = []
    clients: list[AttendeeRecord] = []
    async for a in roster.records(request.event.id):
        book.append((_book_order(a), list_item(_contact(a, contact))))
        if a.person.key_client:
            clients.append(a)
    book.sort(key=lambda b: b[0])
    clients.sort(key=lambda a: a.person.id)
    return [text for _, text in book], [list_item(a.person.id) for a in clients], clients


async def _delivery_items(request: DossierRequest, journal: Journal) -> list[str]:
    """Every delivery in the database, oldest first (ties by key), rendered one at a time."""
    confidential = request.definition.confidential
    rows: list[tuple[tuple[Any, str], str]] = []
    seen: set[str] = set()
    async for d in journal.deliveries(request.event.id):
        if d.key not in seen:
            seen.add(d.key)
            rows.append(((d.at, d.key), list_item(_delivery(d, confidential))))
    rows.sort(key=lambda r: r[0])
    return [text for _, text in rows]


async def database_documents(request: DossierRequest, roster: Roster,
                             journal: Journal) -> tuple[dict[str, bytes], list[AttendeeRecord]]:
    """Documents 01 to 07 of an event whose roster is in the database, and its key clients.

    The audit, the contact book and the deliveries are read a page at a time and each entry is
    rendered as it comes; what the record holds (definition, decisions, team and speakers, budget,
    effects, incidents) is rendered as for any event.
    """
    r = request
    documents = dossier_documents(r.model_copy(update={"record": r.record.model_copy(
        update={"audit": [], "attendees": {}, "deliveries": []})}))
    book, key_ids, clients = await _people_items(r, roster)
    documents["02-audit-log.json"] = assembled_json({"event_id": r.event.id},
                                                    {"entries": await _audit_items(r, journal)})
    documents["04-people.json"] = assembled_json(_people_head(r), {"contact_book": book, "key_clients": key_ids})
    documents["06-deliveries.json"] = assembled_json(
        {"effects": [e.model_dump(mode="json") for e in r.record.effects]},
        {"deliveries": await _delivery_items(r, journal)})
    return documents, clients


def meeting_name(doc: Document) -> str:
    """The dossier's name for a meeting document: ``09-minutes-v2.pdf``, ``09-board-papers-q3-budget-v1.pdf``."""
    stem = doc.doc_type.replace("_", "-")
    title = re.sub(r"[^a-z0-9]+", "-", doc.title.lower()).strip("-")[:60]
    if title and title != stem and title != doc.doc_type:
        stem = f"{stem}-{title}"
    return f"{MEETING_NUMBER}-{stem}-v{doc.version}.{doc.ext}"


def meeting_documents(store: ArchiveStore, docs: Iterable[Document]) -> dict[str, bytes]:
    """Every version of the event's meeting documents, read from the store, under the dossier's numbering.

    Slides keep the name they were written under at upload (``slides-<speaker>.<ext>``, already in the
    dossier). A file whose bytes no longer match the recorded checksum is not copied (and is logged):
    the dossier's manifest must vouch for what was attached.
    """
    out: dict[str, bytes] = {}
    for doc in docs:
        if doc.doc_type == "slides":
            continue
        data = store.read(doc.path)
        if data is None or hashlib.sha256(data).hexdigest() != doc.sha256:
            get_logger(__name__, event_id=doc.event_id).warning("meeting document missing or changed",
                                                                doc_id=doc.doc_id, path=doc.path)
            continue
        out[meeting_name(doc)] = data
    return out


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: Any) -> str:
    """User text made inert in Markdown: one line, every markup character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_index(request: DossierRequest, files: list[str], clients: list[AttendeeRecord] | None = None) -> bytes:
    """``index.md``: the event at a glance, the documents present, and the words to search by (pure).

    Written in the event's language (its ``locale``), times as CLDR writes them in the event's zone;
    ids, file names and the keywords stay as they are, so a search finds them in any language.

    Args:
        request: the event and its record.
        files: the documents present.
        clients: the key clients read from the roster database (None: from the record's attendees).
    """
    e, d, rec = request.event, request.definition, request.record
    lang = i18n.resolve(e.locale)
    f = Formats(lang, e.timezone)

    def _(message: str, /, **params: object) -> str:  # gettext's name: pybabel extracts its messages
        return i18n.translate(lang, message, **params)

    def row(*cells: str) -> str:
        return "| " + " | ".join(cells) + " |"

    confidential = d.confidential
    lines = ["# " + _("Dossier: %(title)s", title=md(e.title)), ""]
    if confidential:
        withheld = _("Keep this dossier confidential; contact details are withheld.")
        lines += ["> **" + _("CONFIDENTIAL.") + "** " + withheld, ""]
    lines += [
        "| | |",
        "|---|---|",
        row(_("Event id"), f"`{e.id}`"),
        row(_("Kind"), _("%(title)s (%(kind)s, definition v%(version)s)", title=md(d.title), kind=f"`{d.kind}`",
                         version=d.version)),
        row(_("Definition hash"), f"`{request.definition_hash}`"),
        row(_("Classification"), classification(request)),
        row(_("Start"), md(f.when(e.start))),
        row(_("End"), md(f.when(e.end))),
        row(_("Venue"), md(e.venue or "-")),
        row(_("Owner"), f"`{e.owner}`"),
        row(_("Status"), _("%(status)s (stage %(stage)s)", status=f.named("status", rec.status), stage=rec.stage)),
        row(_("Folder"), f"`{dossier_folder(request)}`"),
        "",
        "## " + _("Documents"),
        "",
        row(_("File"), _("Contents")),
        "|---|---|",
    ]
    for name in files:
        what = MEETING_DOCUMENT if name.startswith(f"{MEETING_NUMBER}-") else OTHER_DOCUMENT
        lines.append(row(f"[{md(name)}]({name})", _(DOCUMENTS.get(name, what))))
    if d.archive_includes:
        present, missing = archive_coverage(d.archive_includes, files)
        lines += ["", "## " + _("Documents the definition asks for"), ""]
        lines += ["- " + (_("%(document)s: %(files)s", document=f"`{name}`",
                            files=", ".join(f"[{md(n)}]({n})" for n in present[name]))
                          if name in present else "**" + _("%(document)s: MISSING", document=f"`{name}`") + "**")
                  for name in d.archive_includes]
    lines += ["", "## " + _("Decisions"), ""]
    decided = sorted(rec.gates.items())
    lines += [
        "- " + _("%(gate)s: %(decision)s by %(by)s (%(role)s) at %(at)s", gate=f"`{g}`",
                 decision=f.named("status", r.decision), by=f"`{r.by}`", role=f.named("role", r.role),
                 at=md(f.when(r.at)))
        + (f": {md(r.reason)}" if r.reason else "")
        for g, r in decided
    ] or ["- " + _("none recorded")]
    lines += ["", "## " + _("Incidents"), ""]
    incidents = sorted(rec.incidents.values(), key=lambda i: (i.reported_at, i.id))
    lines += [f"- `{i.id}` ({f.named('incident_category', i.category)}, {f.named('severity', i.severity)}): "
              f"{md(i.summary)} " + (_("(resolved)") if i.resolved_at else _("(open)")) for i in incidents] \
        or ["- " + _("none")]
    lines += ["", "## " + _("Keywords"), ""]
    keywords = [f"kind:{d.kind}", f"status:{rec.status}", f"year:{dossier_folder(request).split('/')[0]}"]
    keywords += [f"slot:{s}" for s in sorted({sp.slot for sp in rec.speakers.values()})]
    keywords += [f"incident:{c}" for c in sorted({i.category for i in rec.incidents.values()})]
    keywords += [f"budget:{c}" for c in sorted(rec.budget)]
    lines.append(" ".join(f"`{k}`" for k in keywords))
    if not confidential:
        speakers = sorted(rec.speakers.values(), key=lambda s: s.person.id)
        accepted = [s for s in speakers if s.on_board]
        attendees = rec.attendees.values() if clients is None else clients
        key_clients = sorted((a for a in attendees if a.person.key_client), key=lambda a: a.person.id)
        lines += ["", "## " + _("People"), ""]
        lines += ["- " + _("Speaker: %(name)s (%(id)s, %(slot)s)", name=md(s.person.name), id=f"`{s.person.id}`",
                           slot=f.named("slot", s.slot))
                  + (f": {md(s.topic)}" if s.topic else "") for s in accepted]
        lines += ["- " + _("Key client: %(name)s (%(id)s, %(category)s)", name=md(a.person.name),
                           id=f"`{a.person.id}`", category=f.named("attendee_category", a.person.category))
                  for a in key_clients]
        if not accepted and not key_clients:
            lines.append("- " + _("none"))
    return ("\n".join(lines) + "\n").encode()


def render_manifest(request: DossierRequest, files: dict[str, bytes]) -> bytes:
    """``MANIFEST.sha256``: ``#`` metadata lines, then one ``<sha256>  <name>`` line per file (pure)."""
    header = [
        "# Convene dossier manifest; check with: sha256sum -c MANIFEST.sha256",
        f"# event: {safe_name(request.event.id, 'event id')}",
        f"# kind: {request.definition.kind}",
        f"# definition-sha256: {re.sub(r'[^0-9a-fA-F]', '', request.definition_hash)}",
        f"# classification: {classification(request)}",
    ]
    body = [f"{hashlib.sha256(files[name]).hexdigest()}  {name}" for name in sorted(files)]
    return ("\n".join(header + body) + "\n").encode()


def write_documents(store: ArchiveStore, request: DossierRequest, documents: dict[str, bytes],
                    clients: list[AttendeeRecord] | None = None) -> str:
    """Write ``documents`` into the event's dossier, then refresh its index and manifest.

    Returns the manifest's sha256. The manifest is written last: a dossier whose manifest matches
    its files is complete. `clients`: the key clients, for an event whose roster is in the database
    (the archive and the report must name the same ones, or each would rewrite the other's index).
    """
    folder = dossier_folder(request)
    names = {safe_name(name, "file name"): data for name, data in documents.items()}
    with store.locked(folder):
        for name, data in sorted(names.items()):
            store.write(f"{folder}/{name}", data)
        present = [n for n in store.list(folder) if n not in (INDEX, MANIFEST)]
        store.write(f"{folder}/{INDEX}", render_index(request, present, clients))
        files: dict[str, bytes] = {}
        for name in [*present, INDEX]:
            data = store.read(f"{folder}/{name}")
            if data is not None:
                files[name] = data
        manifest = render_manifest(request, files)
        store.write(f"{folder}/{MANIFEST}", manifest)
    return hashlib.sha256(manifest).hexdigest()


# --------------------------------------------------------------------------------------- verify


def _verify_folder(folder: Path) -> list[str]:
    manifest = folder / MANIFEST
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [f"{MANIFEST} is missing"]
    problems: list[str] = []
    listed: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = _MANIFEST_LINE.match(line)
        if m is None:
            problems.append(f"{MANIFEST} line {n} is not '<sha256>  <name>'")
            continue
        digest, name = m.groups()
        if not _SAFE_PART.fullmatch(name) or name == MANIFEST:
            problems.append(f"{MANIFEST} line {n} names an unsafe file {name!r}")
            continue
        listed.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"checksum mismatch: {name}")
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.name != MANIFEST and path.name not in listed:
            problems.append(f"not in the manifest: {path.name}")
    return problems


def verify(path: str | os.PathLike[str]) -> list[str]:
    """Recompute a dossier's checksums; return its problems (empty: intact).

    ``path`` is a dossier folder, or any folder above dossiers (every dossier under it is checked and
    each problem is prefixed with the dossier's relative folder).
    """
    top = Path(path)
    if not top.is_dir():
        return [f"{top} is not a folder"]
    if (top / MANIFEST).exists():
        return _verify_folder(top)
    problems: list[str] = []
    manifests = sorted(top.rglob(MANIFEST))
    if not manifests:
        return [f"no dossier ({MANIFEST}) under {top}"]
    for manifest in manifests:
        rel = manifest.parent.relative_to(top).as_posix()
        problems += [f"{rel}: {p}" for p in _verify_folder(manifest.parent)]
    return problems


# --------------------------------------------------------------------------------------- activity


class Archivist:
    """Writes dossiers to a store; its bound :meth:`archive` is the activity.

    Args:
        store: where dossiers are kept.
        roster, journal: the roster database, read for events whose roster is there (None: this
            archivist serves events kept in memory only).
    """

    def __init__(self, store: ArchiveStore, roster: Roster | None = None, journal: Journal | None = None) -> None:
        self.store = store
        self.roster = roster
        self.journal = journal

    @activity.defn(name="archive")
    async def archive(self, request: DossierRequest) -> str:
        """Write the event's dossier (the ``archive`` activity) and say where, in one line.

        Raises:
            ApplicationError: ``UnsafePath`` (non-retryable) when a name would leave the archive root;
                ``RosterDatabaseMissing`` (non-retryable) for an event whose roster is in the database
                when this worker has none.
        """
        if not in_database(request):
            return await asyncio.to_thread(self.write_dossier, request)
        dossier_folder(request)  # an unsafe name is refused before the database is read
        require(request.event.id, self.roster, self.journal)
        assert self.roster is not None and self.journal is not None
        await ready(self.roster, self.journal)
        documents, clients = await database_documents(request, self.roster, self.journal)
        documents |= await asyncio.to_thread(meeting_documents, self.store, await Documents(self.roster.db).list(
            request.event.id))
        return await asyncio.to_thread(self.write_dossier, request, documents, clients)

    def write_dossier(self, request: DossierRequest, documents: dict[str, bytes] | None = None,
                      clients: list[AttendeeRecord] | None = None) -> str:
        """Write the dossier: `documents` (and `clients`) read from the database, or made from the record."""
        log = get_logger(__name__, event_id=request.event.id)
        folder = dossier_folder(request)
        if documents is None:
            documents = dossier_documents(request)
        digest = write_documents(self.store, request, documents, clients)
        count = len(self.store.list(folder))
        log.info("dossier archived", folder=folder, files=count, classification=classification(request))
        mark = " CONFIDENTIAL" if request.definition.confidential else ""
        _, missing = archive_coverage(request.definition.archive_includes, self.store.list(folder))
        lacking = f"; missing: {', '.join(missing)}" if missing else ""
        return f"dossier archived{mark} in {folder} ({count} files, manifest sha256 {digest[:12]}){lacking}"
