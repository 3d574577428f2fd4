"""`convene archive due`: dossiers written longer ago than the review period, in a temporary archive folder."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.archive import MANIFEST, verify
from activities.archive_review import due_for_review, months_before
from console import cli

NOW = datetime.now(UTC)


def _dossier(root: Path, folder: str, written: datetime) -> None:
    """A dossier as the archive lays it out: one document and a manifest, the manifest dated `written`."""
    path = root / folder
    path.mkdir(parents=True)
    body = f"audit of {folder}\n".encode()
    (path / "02-audit-log.json").write_bytes(body)
    (path / MANIFEST).write_text(f"{hashlib.sha256(body).hexdigest()}  02-audit-log.json\n", encoding="utf-8")
    stamp = written.timestamp()
    os.utime(path / MANIFEST, (stamp, stamp))


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    _dossier(root, "2024/board_meeting/evt-old", NOW - timedelta(days=800))
    _dossier(root, "2025/conference/evt-year", NOW - timedelta(days=400))
    _dossier(root, "2026/project_discussion/evt-new", NOW - timedelta(days=30))
    (root / ".locks").mkdir()
    (root / ".locks" / "2026~conference~evt-x.lock").write_text("", encoding="utf-8")
    assert verify(root) == []  # real dossiers, intact
    return root


def test_dossiers_older_than_the_period_oldest_first(archive: Path):
    due = due_for_review(archive, 12, NOW)
    assert [(d.folder, d.kind, d.event_id) for d in due] == [
        ("2024/board_meeting/evt-old", "board_meeting", "evt-old"),
        ("2025/conference/evt-year", "conference", "evt-year")]
    assert abs(due[0].written - (NOW - timedelta(days=800))) < timedelta(seconds=1)
    assert [d.event_id for d in due_for_review(archive, 24, NOW)] == ["evt-old"]
    assert [d.event_id for d in due_for_review(archive, 0, NOW)] == ["evt-old", "evt-year", "evt-new"]


def test_months_are_calendar_months():
    assert months_before(datetime(2027, 3, 31, 9, tzinfo=UTC), 1) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert months_before(datetime(2028, 3, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 12) == datetime(2026, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 13) == datetime(2025, 12, 15, tzinfo=UTC)
    with pytest.raises(ValueError):
        months_before(NOW, -1)


def test_bad_input_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="time zone"):
        due_for_review(tmp_path, 12, datetime(2027, 1, 1))
    assert due_for_review(tmp_path / "absent", 12, NOW) == []
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        due_for_review(tmp_path / "file", 12, NOW)


def test_cli_lists_due_dossiers_with_when_written(archive: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONVENE_LANG", "en")
    result = CliRunner().invoke(cli.app, ["archive", "due", "--root", str(archive)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["dossier", "kind", "id", "written"]
    assert lines[2].split() == ["2024/board_meeting/evt-old", "board_meeting", "evt-old",
                                *(NOW - timedelta(days=800)).strftime("%Y-%m-%d %H:%M").split()]
    assert lines[3].split()[0] == "2025/conference/evt-year"
    assert len(lines) == 4 and "evt-new" not in result.output
    longer = CliRunner().invoke(cli.app, ["archive", "due", "--root", str(archive), "--months", "36"])
    assert longer.exit_code == 0 and "no dossier under" in longer.output and "36 months" in longer.output


def test_cli_default_root_is_the_settings_archive_root(archive: Path, monkeypatch: pytest.MonkeyPatch):
    from convene.settings import get_settings

    monkeypatch.setenv("CONVENE_LANG", "en")
    monkeypatch.setenv("CONVENE_ARCHIVE_ROOT", str(archive))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["archive", "due"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "evt-old" in result.output and "evt-year" in result.output


def test_cli_refuses_a_bad_period_or_a_file_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONVENE_LANG", "en")
    negative = CliRunner().invoke(cli.app, ["archive", "due", "--root", str(tmp_path), "--months", "-1"])
    assert negative.exit_code == 2
    (tmp_path / "file").write_text("x", encoding="utf-8")
    not_folder = CliRunner().invoke(cli.app, ["archive", "due", "--root", str(tmp_path / "file")])
    assert not_folder.exit_code == 1 and "is not a folder" in not_folder.output


def test_cli_speaks_chinese(archive: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONVENE_LANG", "zh-Hans")
    result = CliRunner().invoke(cli.app, ["archive", "due", "--root", str(archive)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["档案", "类型", "ID", "写入时间"]
