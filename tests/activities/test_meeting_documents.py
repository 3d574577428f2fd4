"""The archive copies the meeting documents attached to an event (store/documents.py) under its numbering."""

from __future__ import annotations

import hashlib
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities import Archivist, LocalFolderStore, verify
from store import Database, Journal, Roster
from store.documents import Documents
from tests.activities.support import T0, dossier
from tests.activities.test_database_dossier import FOLDER, in_database


async def _attach(docs: Documents, store: LocalFolderStore, key: str, doc_type: str, data: bytes,
                  title: str | None = None) -> str:
    path = f"{FOLDER}/uploads/{key}.pdf"
    store.write(path, data)
    await docs.add(event_id="summit-2026", key=key, doc_type=doc_type, title=title or doc_type, filename="x.pdf",
                   ext="pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest(), path=path,
                   confidential=False, uploaded_by="pia", role="project_manager", at=T0)
    return path


async def test_the_dossier_holds_every_version_of_each_document_with_its_checksum(db: Database, tmp_path: Path):
    """Minutes v1 and v2 and a titled recording are copied as 09-...; a file changed in the store since it was
    attached is left out (the manifest vouches only for what was attached); the index lists them and no longer
    calls the minutes missing; the dossier verifies."""
    store = LocalFolderStore(tmp_path / "archive")
    docs = Documents(db)
    await _attach(docs, store, "m1", "minutes", b"%PDF-minutes one")
    await _attach(docs, store, "m2", "minutes", b"%PDF-minutes two")
    await _attach(docs, store, "r1", "recordings", b"%PDF-not really audio", title="Day 1 plenary")
    changed = await _attach(docs, store, "s1", "speeches", b"%PDF-as attached")
    store.write(changed, b"%PDF-edited afterwards")

    await ActivityEnvironment().run(Archivist(store, Roster(db), Journal(db)).archive, in_database(dossier()))
    folder = store.root / FOLDER
    assert (folder / "09-minutes-v1.pdf").read_bytes() == b"%PDF-minutes one"
    assert (folder / "09-minutes-v2.pdf").read_bytes() == b"%PDF-minutes two"
    assert (folder / "09-recordings-day-1-plenary-v1.pdf").read_bytes() == b"%PDF-not really audio"
    assert not list(folder.glob("09-speeches*"))
    manifest = (folder / "MANIFEST.sha256").read_text()
    assert f"{hashlib.sha256(b'%PDF-minutes two').hexdigest()}  09-minutes-v2.pdf" in manifest
    assert "uploads" not in manifest  # the uploads folder is the store's, not the dossier's
    index = (folder / "index.md").read_text()
    assert "[09-minutes-v2.pdf](09-minutes-v2.pdf) | Meeting document" in index
    assert "`minutes`: [09-minutes-v1.pdf](09-minutes-v1.pdf), [09-minutes-v2.pdf](09-minutes-v2.pdf)" in index
    assert "`speeches`: MISSING" in index
    assert verify(folder) == []
