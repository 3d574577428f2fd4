"""The type checker, run by the test command so CI runs it: mypy strict (pyproject ``[tool.mypy]``) on the
packages where the domain lives, failing with mypy's own report."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STRICT = ["definitions", "workflows"]
"""Packages mypy checks strict that must stay clean."""


def mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_strict_packages_type_check():
    """mypy strict finds nothing in the packages listed as strict."""
    found = mypy(*STRICT)
    assert found.returncode == 0, found.stdout + found.stderr


def test_the_configuration_is_strict_on_definitions_and_workflows():
    """pyproject keeps the strict override (and the pydantic plugin) for both."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = {m for o in config["overrides"] if o.get("strict") for m in o["module"]}
    assert {"definitions", "definitions.*", "workflows", "workflows.*"} <= strict
    assert "pydantic.mypy" in config["plugins"]
    assert set(STRICT) == {"definitions", "workflows"}


def test_strict_catches_an_unannotated_function(tmp_path: Path):
    """The check can fail: an unannotated function in a strict package is reported (no-untyped-def)."""
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "__init__.py").write_text("def double(x):\n    return x * 2\n")
    found = mypy("--cache-dir", str(tmp_path / ".mypy_cache"), "definitions", cwd=tmp_path)
    assert found.returncode == 1 and "[no-untyped-def]" in found.stdout, found.stdout + found.stderr
