"""The traceability table (docs/traceability.md) cannot claim what the code does not have.

Each row of the table is one item of the source document with its status (``behaviour``, ``tick``,
``missing``) and where it lives (``file kind name``, several joined by ``;``). This test parses the table
and checks that every place a ``behaviour`` or ``tick`` row names exists: the file is in the repository and
the name is in it (a gate, task or deadline as its YAML ``id:``, a check as ``check:`` in YAML or ``def`` in
Python, an act as its ``update = "..."``). It also checks that the counts at the top of the table are the
table's own, and prints them.

Run ``python -m tests.unit.test_traceability`` to rewrite the counts block after changing rows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "traceability.md"

STATUSES = ("behaviour", "tick", "missing")
STAGES = {
    "P": "Preparation", "L": "Planning", "M": "Promotion", "O": "On-site", "A": "Post-event",
    "R": "Roles", "K": "Kinds of meeting", "S": "Scale", "X": "Deadlines, escalation and moves",
}
KINDS = {"gate", "task", "check", "deadline", "act", "activity", "route", "function", "field", "class",
         "action", "timer"}
IN_PROGRESS = {"agenda-changes", "emergency-plan", "outcomes-lessons"}
ROW = re.compile(r"^\|\s*([A-Z])-(\d{2})\s*\|(.*)\|\s*$")
COUNTS = re.compile(r"(<!-- counts:start -->\n)(.*?)(\n<!-- counts:end -->)", re.DOTALL)


@dataclass(frozen=True)
class Row:
    id: str
    stage: str
    item: str
    source: str
    status: str
    where: str


@dataclass(frozen=True)
class Place:
    path: str
    kind: str | None
    name: str


def rows(text: str) -> list[Row]:
    """Every table row whose first cell is an id (``P-07``), in order.

    Raises:
        AssertionError: a row without five cells.
    """
    out = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(3).split(" | ")]
        assert len(cells) == 4, f"{m.group(1)}-{m.group(2)}: expected 5 cells, got {len(cells) + 1}: {line}"
        out.append(Row(f"{m.group(1)}-{m.group(2)}", m.group(1), *cells))
    return out


def places(where: str) -> list[Place]:
    """The places a `where` cell names: ``file [kind] name`` joined by ``;``; text in parentheses and
    segments that start with no file path (``would go: ...``) are notes, not places."""
    out = []
    for segment in re.sub(r"\([^)]*\)", "", where).split(";"):
        tokens = segment.split()
        if not tokens or "/" not in tokens[0] or tokens[0].endswith(":"):
            continue
        if len(tokens) == 3 and tokens[1] in KINDS:
            out.append(Place(tokens[0], tokens[1], tokens[2]))
        elif len(tokens) == 2:
            out.append(Place(tokens[0], None, tokens[1]))
        else:
            raise AssertionError(f"cannot read the place {segment.strip()!r} (file [kind] name)")
    return out


def found(place: Place) -> bool:
    """Whether the file holds the name, as its kind is written there."""
    text = (ROOT / place.path).read_text(encoding="utf-8")
    name = re.escape(place.name)
    yaml = place.path.endswith((".yaml", ".yml"))
    if yaml and place.kind in ("gate", "task", "deadline"):
        pattern = rf"\bid: {name}\b"
    elif yaml and place.kind == "check":
        pattern = rf"\bcheck: {name}\b"
    elif place.kind == "check":
        pattern = rf"\bdef {name}\("
    elif place.kind == "act":
        pattern = rf'\bupdate = "{name}"'
    elif place.kind in ("function", "class"):
        pattern = rf"\b(def|class|function|let|const) {name}\b"
    elif re.fullmatch(r"\w+", place.name):
        pattern = rf"\b{name}\b"
    else:
        pattern = name
    return re.search(pattern, text) is not None


def counts_block(table: list[Row]) -> str:
    """The summary at the top of the table: counts by status, then by stage and status."""
    by_status = Counter(r.status for r in table)
    total = len(table)
    lines = [(f"**{total} items: {by_status['behaviour']} behaviour, {by_status['tick']} tick, "
             f"{by_status['missing']} missing** "
             f"({sum(1 for r in table if 'in progress' in r.where)} of the missing are in progress)."),
             "", "| stage | items | behaviour | tick | missing |", "|---|---|---|---|---|"]
    for letter, title in STAGES.items():
        mine = Counter(r.status for r in table if r.stage == letter)
        lines.append(f"| {title} ({letter}) | {sum(mine.values())} | {mine['behaviour']} | {mine['tick']} "
                     f"| {mine['missing']} |")
    lines.append(f"| **all** | {total} | {by_status['behaviour']} | {by_status['tick']} | "
                 f"{by_status['missing']} |")
    return "\n".join(lines)


def test_every_row_is_well_formed() -> None:
    table = rows(TABLE.read_text(encoding="utf-8"))
    assert len(table) >= 100, f"only {len(table)} rows: the table lost its rows"
    ids = Counter(r.id for r in table)
    assert not [i for i, n in ids.items() if n > 1], f"ids used twice: {[i for i, n in ids.items() if n > 1]}"
    assert {r.stage for r in table} == set(STAGES), "every stage and cross-cutting group has rows"
    for r in table:
        assert r.status in STATUSES, f"{r.id}: status {r.status!r} is not one of {STATUSES}"
        assert r.item and r.source.startswith("§"), f"{r.id}: an item and its source section (§...)"
        progress = re.findall(r"in progress: ([\w-]+)", r.where)
        assert not progress or r.status == "missing", f"{r.id}: only a missing row is in progress"
        assert set(progress) <= IN_PROGRESS, f"{r.id}: unknown work in progress {progress}"


def test_every_place_a_row_claims_exists() -> None:
    table = rows(TABLE.read_text(encoding="utf-8"))
    wrong = []
    for r in table:
        if r.status == "missing":
            continue
        named = places(r.where)
        if not named:
            wrong.append(f"{r.id}: a {r.status} row names no place")
        for p in named:
            if not (ROOT / p.path).is_file():
                wrong.append(f"{r.id}: no file {p.path}")
            elif not found(p):
                wrong.append(f"{r.id}: {p.kind or 'name'} {p.name!r} is not in {p.path}")
    assert not wrong, "the table claims what the code does not have:\n" + "\n".join(wrong)


def test_a_wrong_place_is_caught() -> None:
    """The checker itself can fail: a made-up gate, act or file is refused."""
    assert found(Place("definitions/conference.yaml", "gate", "budget_approved"))
    assert not found(Place("definitions/conference.yaml", "gate", "budget_approve"))
    assert not found(Place("definitions/conference.yaml", "gate", "budget_within_limit"))  # a check, not a gate
    assert found(Place("workflows/messages/acts.py", "act", "record_budget"))
    assert not found(Place("workflows/messages/acts.py", "act", "RecordBudget"))
    assert places("definitions/x.yaml task a (a note; not a place); would go: b") == [
        Place("definitions/x.yaml", "task", "a")]


def test_the_counts_at_the_top_are_the_tables() -> None:
    text = TABLE.read_text(encoding="utf-8")
    table = rows(text)
    block = COUNTS.search(text)
    assert block, "the counts block (<!-- counts:start --> ... <!-- counts:end -->) is missing"
    print("\n" + counts_block(table))
    assert block.group(2) == counts_block(table), (
        "the counts at the top are stale: run python -m tests.unit.test_traceability")


if __name__ == "__main__":
    source = TABLE.read_text(encoding="utf-8")
    TABLE.write_text(COUNTS.sub(lambda m: m.group(1) + counts_block(rows(source)) + m.group(3), source),
                     encoding="utf-8")
    print(counts_block(rows(source)))
