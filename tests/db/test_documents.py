"""Meeting documents and receipts in the database (store/documents.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from store.db import Database
from store.documents import Documents, KeyReused

AT = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)


def _upload(docs: Documents, key: str, content: bytes, title: str = "minutes", doc_type: str = "minutes"):
    return docs.add(event_id="e1", key=key, doc_type=doc_type, title=title, filename=f"{title}.pdf", ext="pdf",
                    size=len(content), sha256=hashlib.sha256(content).hexdigest(), path=f"x/{key}.pdf",
                    confidential=True, uploaded_by="sec", role="secretary", at=AT)


async def test_versions_count_per_type_and_title_and_a_retry_is_the_same_row(db: Database) -> None:
    """A new upload of the same type and title is the next version, the earlier kept; the same key or the same
    file again is the version it already is; a key used for another file is refused."""
    docs = Documents(db)
    v1, made1 = await _upload(docs, "k1", b"%PDF-one")
    again, made_again = await _upload(docs, "k1", b"%PDF-one")
    v2, made2 = await _upload(docs, "k2", b"%PDF-two")
    same, made_same = await _upload(docs, "k3", b"%PDF-two")
    other, _ = await _upload(docs, "k4", b"%PDF-res", title="resolutions", doc_type="resolutions")
    assert (v1.version, made1, made_again, v2.version, made2, made_same) == (1, True, False, 2, True, False)
    assert again == v1 and same == v2 and other.version == 1
    assert v1.sha256 == hashlib.sha256(b"%PDF-one").hexdigest()
    with pytest.raises(KeyReused):
        await _upload(docs, "k1", b"%PDF-changed")
    listed = await docs.list("e1")
    assert [(d.doc_type, d.version) for d in listed] == [("minutes", 1), ("minutes", 2), ("resolutions", 1)]
    assert await docs.get("e1", v1.doc_id) == v1 and await docs.count("e1") == 3
    await docs.remove("e1", other.doc_id)
    assert await docs.count("e1") == 2 and await docs.list("e2") == []


async def test_the_first_receipt_counts(db: Database) -> None:
    docs = Documents(db)
    first = await docs.acknowledge("e1", "m1", ["d1"], "m1", AT)
    later = await docs.acknowledge("e1", "m1", ["d1", "d2"], "m1", AT + timedelta(days=1))
    assert first == later == AT
    assert await docs.receipts("e1") == {"m1": AT} and await docs.receipts("e2") == {}
