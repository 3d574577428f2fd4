"""The archive activity: the dossier's layout, determinism, confidentiality, path safety and verify."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Archivist, LocalFolderStore, Reporter, verify
from tests.activities.support import dossier
from workflows.messages import DossierRequest

FOLDER = "2026/conference/summit-2026"
NUMBERED = [
    "01-definition.json", "02-audit-log.json", "03-decisions.json", "04-people.json", "05-budget.json",
    "06-deliveries.json", "07-incidents.json",
]


async def archive(store: LocalFolderStore, request: DossierRequest) -> str:
    return await ActivityEnvironment().run(Archivist(store).archive, request)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def test_the_dossier_has_the_standard_numbering_and_a_manifest(store: LocalFolderStore) -> None:
    """The dossier lands in <YYYY>/<kind>/<event_id> with numbered files, an index and a valid manifest."""
    detail = await archive(store, dossier())
    folder = store.root / FOLDER
    assert sorted(os.listdir(folder)) == sorted([*NUMBERED, "index.md", "MANIFEST.sha256"])
    assert detail.startswith(f"dossier archived in {FOLDER} (9 files")
    assert verify(folder) == []
    check = subprocess.run(["sha256sum", "--check", "--strict", "MANIFEST.sha256"], cwd=folder,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = (folder / "index.md").read_text(encoding="utf-8")
    assert "[05-budget.json](05-budget.json)" in index and "`kind:conference`" in index
    assert "Key client: Ada" in index and "Speaker: Li Wei" in index and "CONFIDENTIAL" not in index


async def test_archiving_twice_gives_the_same_files_and_checksums(store: LocalFolderStore) -> None:
    """Archiving the same record twice leaves byte-identical files and the same manifest."""
    first_detail = await archive(store, dossier())
    first = snapshot(store.root / FOLDER)
    second_detail = await archive(store, dossier())
    assert snapshot(store.root / FOLDER) == first
    assert first_detail == second_detail
    assert not [p for p in (store.root / FOLDER).iterdir() if p.name.startswith(".")]  # no temp files left


async def test_verify_reports_a_tampered_missing_or_unlisted_file(store: LocalFolderStore) -> None:
    """verify names a file whose bytes changed, a listed file that is gone and a file nobody listed."""
    await archive(store, dossier())
    folder = store.root / FOLDER
    budget = folder / "05-budget.json"
    budget.write_text(budget.read_text().replace("11000.00", "1100.00"))
    (folder / "07-incidents.json").unlink()
    (folder / "notes.txt").write_text("slipped in")
    assert verify(folder) == [
        "checksum mismatch: 05-budget.json",
        "missing: 07-incidents.json",
        "not in the manifest: notes.txt",
    ]
    assert verify(store.root) == [f"{FOLDER}: {p}" for p in verify(folder)]  # from above, every dossier


async def test_an_event_id_that_leaves_the_archive_is_refused(store: LocalFolderStore, tmp_path: Path) -> None:
    """An event id like ../../etc is refused with a non-retryable UnsafePath error and nothing is written."""
    good = dossier()
    bad = good.model_copy(update={"event": good.event.model_copy(update={"id": "../../etc"})})
    with pytest.raises(ApplicationError) as err:
        await archive(store, bad)
    assert err.value.type == "UnsafePath" and err.value.non_retryable
    assert not store.root.exists() and not (tmp_path / "etc").exists()


def test_the_store_refuses_paths_and_symlinks_that_lead_outside(tmp_path: Path) -> None:
    """The local store refuses absolute paths, dot-dot and a symlinked folder pointing out of the root."""
    root = tmp_path / "archive"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = LocalFolderStore(root)
    for path in ("/etc/passwd", "../x", "a/../../x", "link/x"):
        with pytest.raises(ApplicationError) as err:
            store.write(path, b"no")
        assert err.value.type == "UnsafePath"
    assert list(outside.iterdir()) == []


async def test_a_confidential_dossier_is_marked_and_leaves_contact_details_out(store: LocalFolderStore) -> None:
    """A confidential definition marks index and manifest CONFIDENTIAL and no attendee or speaker email is kept."""
    request = dossier(kind="board_meeting", event_id="board-q2")
    detail = await archive(store, request)
    folder = store.root / "2026/board_meeting/board-q2"
    assert "CONFIDENTIAL" in detail
    assert "CONFIDENTIAL" in (folder / "index.md").read_text(encoding="utf-8")
    assert "# classification: CONFIDENTIAL" in (folder / "MANIFEST.sha256").read_text()
    people = json.loads((folder / "04-people.json").read_text())
    assert all("email" not in entry for entry in people["contact_book"] + people["speakers"])
    assert people["key_clients"] == ["a1", "a3"]
    everything = b"".join(snapshot(folder).values()).decode()
    for address in ("ada@example.org", "bo@example.org", "cy@example.org", "di@example.org", "li@example.org"):
        assert address not in everything
    assert verify(folder) == []


async def test_the_people_file_is_a_contact_book_with_key_clients_first(store: LocalFolderStore) -> None:
    """A normal dossier's contact book lists key clients first, each marked, with their emails."""
    await archive(store, dossier())
    people = json.loads((store.root / FOLDER / "04-people.json").read_text())
    book = people["contact_book"]
    assert [(e["id"], e["key_client"]) for e in book] == [("a1", True), ("a3", True), ("a2", False), ("a4", False)]
    assert book[0]["email"] == "ada@example.org" and book[0]["rsvp"] == "yes"


async def test_budget_and_secrets_in_the_dossier(store: LocalFolderStore) -> None:
    """The budget file holds planned against actual per category, and webhook tokens are never archived."""
    await archive(store, dossier())
    folder = store.root / FOLDER
    budget = json.loads((folder / "05-budget.json").read_text())
    venue = next(line for line in budget["lines"] if line["category"] == "venue")
    assert (venue["planned"], venue["actual"], venue["variance"], venue["variance_pct"]) == (
        "10000.00", "11000.00", "1000.00", "10.0")
    assert budget["unreported"] == ["contingency"]
    definition = json.loads((folder / "01-definition.json").read_text())
    assert definition["definition_hash_matches"] is True
    for name in ("01-definition.json", "06-deliveries.json"):
        assert "secret-token" not in (folder / name).read_text()


async def test_the_report_joins_the_manifest_and_a_later_archive_keeps_it(store: LocalFolderStore) -> None:
    """The evaluation report is added to the dossier's index and manifest, and re-archiving keeps both intact."""
    request = dossier()
    await archive(store, request)
    await ActivityEnvironment().run(Reporter(store).evaluation_report, request)
    folder = store.root / FOLDER
    manifest = (folder / "MANIFEST.sha256").read_text()
    assert "  08-evaluation.md" in manifest and "  08-evaluation.html" in manifest
    assert "[08-evaluation.html](08-evaluation.html)" in (folder / "index.md").read_text()
    before = snapshot(folder)
    await archive(store, request)
    assert snapshot(folder) == before and verify(folder) == []
