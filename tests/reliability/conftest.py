"""Reliability tests: short forms run by default (CI); long forms are marked ``slow`` and run with
``pytest tests/reliability -m slow`` (or ``CONVENE_RELIABILITY_LONG=1``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = "slow" in (config.getoption("markexpr", default="") or "") or os.environ.get("CONVENE_RELIABILITY_LONG") == "1"
    if chosen:
        return
    skip = pytest.mark.skip(reason="long form: run with `-m slow` or CONVENE_RELIABILITY_LONG=1")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
