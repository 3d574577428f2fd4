"""One-way floors: no module imports from a package on a higher floor (read with ``ast``; nothing is imported).

A module may import its own package and any lower floor. Packages on the same floor do not import each other.
``tests/``, ``bench/`` and ``run.py`` stand outside the house and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FLOORS: list[tuple[tuple[str, ...], str]] = [
    (("convene",), "the ground floor: settings, logs, the Temporal connection, i18n, languages, metrics, "
                   "telemetry, tables and spreadsheets; everything above uses them"),
    (("definitions",), "the event kinds as validated data (schema, YAML loader), which the workflow takes as input"),
    (("workflows",), "the deterministic lifecycle and its workflow, deciding on a definition"),
    (("store",), "the database, whose rows are the workflow's messages and whose refusals are the workflow's"),
    (("activities",), "the workflow's effects on the outside world, reading and writing the store"),
    (("worker", "api"), "the processes: the worker runs workflows and activities, the API serves people"),
    (("console",), "the roof: the `convene` command and the dev stack start workers and the API"),
]
"""Lowest first: (the top-level packages or modules on the floor, why it stands there)."""

OUTSIDE = {"tests", "bench", "run"}
"""Top-level names that may import any floor: the test suite, the benchmarks, the set-up script."""

AWAITING_THE_LIFECYCLE_SPLIT: set[tuple[str, str]] = set()
"""Upward imports allowed for now, each (module, imported package): none. The test fails when an entry is no
longer needed, so the list can only shrink."""


UNTRACKED = {"__pycache__", "node_modules", "build", "dist", "var", "test-artifacts"}
"""Folders of generated files (git ignores them), never part of the house."""


def floor_of(name: str, floors: list[tuple[tuple[str, ...], str]]) -> int | None:
    """The floor (0 = ground) of a dotted module name's top-level package, or None outside the floors."""
    top = name.split(".")[0]
    return next((level for level, (names, _) in enumerate(floors) if top in names), None)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST) -> list[tuple[str, int]]:
    """Every absolute module a tree imports (functions and TYPE_CHECKING blocks too), with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def sources(root: Path) -> list[Path]:
    """The Python files of the house: every top-level package or module, without the virtualenv."""
    return sorted(p for p in root.rglob("*.py")
                  if not any(part.startswith(".") or part in UNTRACKED for part in p.relative_to(root).parts))


def upward_imports(root: Path, floors: list[tuple[tuple[str, ...], str]]) -> list[tuple[str, str, int]]:
    """Each (module, what it imports, line) where the import reaches a higher floor or a neighbour on its own."""
    bad = []
    for path in sources(root):
        name = module_name(path, root)
        mine = floor_of(name, floors)
        if mine is None:
            continue
        for target, line in imported(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            theirs = floor_of(target, floors)
            if theirs is None or target.split(".")[0] == name.split(".")[0]:
                continue
            if theirs >= mine:
                bad.append((name, target, line))
    return bad


def test_every_top_level_package_has_a_floor():
    """A new top-level package or module must be placed on a floor (or declared outside) before it lands."""
    tops = {module_name(p, ROOT).split(".")[0] for p in sources(ROOT)}
    placed = {name for names, _ in FLOORS for name in names}
    assert tops - placed - OUTSIDE == set(), "place these in FLOORS (tests/unit/test_floors.py)"


def test_no_module_imports_from_a_higher_floor():
    """Every import points down (or within the module's own package), except the named ones awaiting the split."""
    found = upward_imports(ROOT, FLOORS)
    pending = {(module, target.split(".")[0]) for module, target, _ in found} & AWAITING_THE_LIFECYCLE_SPLIT
    upward = [f"{module}:{line} imports {target}" for module, target, line in found
              if (module, target.split(".")[0]) not in AWAITING_THE_LIFECYCLE_SPLIT]
    assert upward == [], "move the code to the floor it belongs to"
    assert pending == AWAITING_THE_LIFECYCLE_SPLIT, "these no longer import upward: remove them from the list"


def test_the_check_catches_an_upward_import_and_a_neighbour(tmp_path: Path):
    """A planted import from the ground floor up, and one between two packages of one floor, are both found."""
    for package, text in {"low": "import high.thing\n", "high": "from low import x\n",
                          "left": "def f():\n    from right import y\n", "right": ""}.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(text)
    floors = [(("low",), "ground"), (("left", "right"), "one floor"), (("high",), "roof")]
    assert upward_imports(tmp_path, floors) == [("left", "right", 2), ("low", "high.thing", 1)]
