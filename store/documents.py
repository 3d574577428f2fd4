"""Meeting documents and the papers' receipts in the database (the files themselves are in the archive store).

A document is one version of one type and title (``minutes`` / ``Minutes of 3 March``): the first upload
is version 1, each later upload of the same type and title the next version, earlier versions kept.
Writes are idempotent: an upload's idempotency key names its row (a retried upload is the same version),
and the same file uploaded again under a new key is the version it already is. A receipt is one row per
person: the first acknowledgement counts, later ones change nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.roster import to_db, utc
from store.schema import document_receipts as R
from store.schema import documents as D


class KeyReused(Exception):
    """The upload's key was used before for another file (its checksum differs)."""


@dataclass(frozen=True)
class Document:
    """One stored version. `size` in bytes; `path` in the archive store; `uploaded_at` UTC."""

    event_id: str
    doc_id: str
    key: str
    doc_type: str
    title: str
    version: int
    filename: str
    ext: str
    size: int
    sha256: str
    path: str
    confidential: bool
    uploaded_by: str
    role: str
    uploaded_at: datetime


def document_id(event_id: str, key: str) -> str:
    """The document's id: 24 hex characters derived from the event and the upload's key (so a retry finds it)."""
    return hashlib.sha256(f"{event_id}|{key}".encode()).hexdigest()[:24]


def _doc(row: object) -> Document:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["uploaded_at"] = utc(values["uploaded_at"])
    return Document(**values)


class Documents:
    """The ``documents`` and ``document_receipts`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, *, event_id: str, key: str, doc_type: str, title: str, filename: str, ext: str, size: int,
                  sha256: str, path: str, confidential: bool, uploaded_by: str, role: str,
                  at: datetime) -> tuple[Document, bool]:
        """Record an upload stored at `path` (the caller wrote the file there first).

        Returns:
            (the document, whether this call made it): a retried key, or the newest version's very file
            again, is the existing row.

        Raises:
            KeyReused: `key` was used for another file on this event.
        """
        doc_id = document_id(event_id, key)
        for _ in range(5):  # two uploads of one title at once on PostgreSQL: the loser takes the next number
            async with self.db.write() as conn:
                row = (await conn.execute(select(D).where(D.c.event_id == event_id, D.c.doc_id == doc_id))).first()
                if row is not None:
                    if row.sha256 != sha256:
                        raise KeyReused(key)
                    return _doc(row), False
                newest = (await conn.execute(
                    select(D).where(D.c.event_id == event_id, D.c.doc_type == doc_type, D.c.title == title)
                    .order_by(D.c.version.desc()).limit(1))).first()
                if newest is not None and newest.sha256 == sha256:
                    return _doc(newest), False
                version = (newest.version if newest is not None else 0) + 1
                values = dict(event_id=event_id, doc_id=doc_id, key=key, doc_type=doc_type, title=title,
                              version=version, filename=filename[:255], ext=ext, size=size, sha256=sha256, path=path,
                              confidential=confidential, uploaded_by=uploaded_by, role=role, uploaded_at=to_db(at))
                try:
                    await conn.execute(D.insert().values(**values))
                except IntegrityError:
                    continue
            return Document(**(values | {"uploaded_at": utc(at)})), True  # type: ignore[arg-type]
        raise RuntimeError("could not number the document: too many uploads of it at once")

    async def remove(self, event_id: str, doc_id: str) -> None:
        """Forget a version the event refused (the caller removes its file)."""
        async with self.db.write() as conn:
            await conn.execute(delete(D).where(D.c.event_id == event_id, D.c.doc_id == doc_id))

    async def list(self, event_id: str) -> list[Document]:
        """Every version, by type, title and version."""
        async with self.db.read() as conn:
            rows = await conn.execute(select(D).where(D.c.event_id == event_id)
                                      .order_by(D.c.doc_type, D.c.title, D.c.version))
            return [_doc(r) for r in rows]

    async def get(self, event_id: str, doc_id: str) -> Document | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(D).where(D.c.event_id == event_id, D.c.doc_id == doc_id))).first()
        return None if row is None else _doc(row)

    async def count(self, event_id: str) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(D).where(D.c.event_id == event_id)))
                       .scalar_one())

    async def acknowledge(self, event_id: str, person_id: str, doc_ids: list[str], recorded_by: str,
                          at: datetime) -> datetime:
        """Record that `person_id` acknowledged the papers (`doc_ids`, as shown to them); the first time counts.

        Returns:
            When they first acknowledged (UTC).
        """
        async with self.db.write() as conn:
            await conn.execute(self.db.insert(R).values(
                event_id=event_id, person_id=person_id, acknowledged_at=to_db(at), documents=list(doc_ids),
                recorded_by=recorded_by).on_conflict_do_nothing(index_elements=[R.c.event_id, R.c.person_id]))
            first = (await conn.execute(select(R.c.acknowledged_at).where(
                R.c.event_id == event_id, R.c.person_id == person_id))).scalar_one()
        return utc(first)  # type: ignore[return-value]

    async def receipts(self, event_id: str) -> dict[str, datetime]:
        """Person -> when they first acknowledged the papers."""
        async with self.db.read() as conn:
            rows = await conn.execute(select(R.c.person_id, R.c.acknowledged_at).where(R.c.event_id == event_id))
            return {r.person_id: utc(r.acknowledged_at) for r in rows}  # type: ignore[misc]
