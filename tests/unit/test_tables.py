"""The CLI's tables align by display width: a Chinese title (two columns a character) keeps its row in line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from console.cli import app
from convene.settings import get_settings
from convene.tables import text_table

ROOT = Path(__file__).resolve().parents[2]


def starts(line: str, cells: list[str]) -> list[int]:
    """The display column at which each of `cells` starts on `line`, found left to right."""
    out, at = [], 0
    for cell in cells:
        index = line.index(cell, at)
        out.append(cell_len(line[:index]))
        at = index + len(cell)
    return out


def test_a_chinese_title_keeps_the_columns_in_line():
    """Every row's cells start at the same display columns as the header's, whatever their script."""
    rows = [["conf-1", "年度技術大會 2026", "planning"], ["board-7", "Board meeting", "readiness"],
            ["launch-2", "新產品發佈會", "[b]markup[/b] stays"]]
    lines = text_table(["id", "title", "stage"], rows).splitlines()
    columns = starts(lines[0], ["id", "title", "stage"])
    assert columns == [0, 10, 29]  # "年度技術大會 2026" is 17 columns wide: 6 characters of 2, then 5
    for line, row in zip(lines[2:], rows, strict=True):
        assert starts(line, row) == columns, line
    assert set(lines[1].replace(" ", "")) == {"-"} and len(lines) == 2 + len(rows)


@pytest.fixture
def chinese_definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped definitions with the conference titled in Chinese (CONVENE_DEFINITIONS_DIR)."""
    for path in (ROOT / "definitions").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if path.stem == "conference":
            text = text.replace("title: Conference\n", "title: 國際會議\n", 1).replace(
                "title: Budget approved", "title: 預算已核准")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("CONVENE_DEFINITIONS_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_definitions_list_aligns_a_chinese_title(chinese_definitions: Path):
    """`convene definitions list` puts every kind's stages at the same display column, the Chinese one too."""
    result = CliRunner().invoke(app, ["definitions", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "國際會議" in result.output
    stages_at = {cell_len(line[:line.index("preparation")]) for line in lines[2:] if "preparation" in line}
    assert len(stages_at) == 1 and len(lines) >= 5


def test_simulate_aligns_a_chinese_deadline_title(chinese_definitions: Path):
    """`convene definitions simulate` keeps the step column in line next to a Chinese deadline title."""
    result = CliRunner().invoke(app, ["definitions", "simulate", "conference", "--start",
                                      "2027-06-01T09:00:00+00:00", "--no-gantt"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any("預算已核准" in line for line in lines)
    step_at = {cell_len(line[:line.index(word)]) for line in lines[2:]
               for word in ("reminder", "escalation", "deadline") if f"  {word}" in line}
    header_at = cell_len(lines[0][:lines[0].index("step")])
    assert step_at == {header_at}
