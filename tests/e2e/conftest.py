"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright.

The app is served by uvicorn on a free 127.0.0.1 port, as a task on the tests' own event loop,
on the shared dev server (``dev_env``) with a worker on a task queue of its own. Playwright
launches the system Chromium (``/usr/bin/chromium``); it never downloads a browser. Without
Chromium the tests fail, saying how to install it: a dashboard nobody has seen work is not tested.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api import ApiSettings, create_app
from api.auth import hash_token
from store import Database
from tests.api.conftest import roster_activities
from tests.support import RecordingActivities
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}
"""A laptop screen."""

PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    # key: (principal id, name, roles); the ids are those of tests.support.team()
    "viewer": ("vic", "Vic Viewer", ["viewer"]),
    "project_manager": ("pia", "Pia Park", ["project_manager"]),
    "finance": ("fay", "Fay Fischer", ["finance"]),
    "finance_approver": ("finn", "Finn Okafor", ["finance_approver"]),
    "sponsor": ("sam", "Sam Sato", ["sponsor"]),
}
TOKENS = {key: f"e2e-{key}-{uuid.uuid4().hex}" for key in PEOPLE}


def chromium() -> str:
    """The system Chromium, or a failure that says how to get it (never a skip)."""
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: the e2e tests drive Debian's headless Chromium. "
                    "Install it with `apt-get update && apt-get install -y chromium` (as root; .ci/run does this). "
                    "Do not run `playwright install`.")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tokens_json() -> str:
    return json.dumps({"principals": [
        {"id": pid, "name": name, "roles": roles, "tokens": [hash_token(TOKENS[key])],
         **({"grants": {"kinds": ["*"]}} if key == "viewer" else {})}  # reads are scoped: vic audits every event
        for key, (pid, name, roles) in PEOPLE.items()
    ]})


@dataclass
class Site:
    """The running dashboard: its address, the Temporal client behind it and the worker's task queue."""

    url: str
    client: Client
    task_queue: str
    stand_ins: RecordingActivities
    db: Database
    timings: dict[str, float] = field(default_factory=dict)


@pytest_asyncio.fixture(scope="session")
async def site(dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    task_queue = f"e2e-{uuid.uuid4().hex[:12]}"
    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('e2e-db') / 'convene.db'}"
    settings = ApiSettings(task_queue=task_queue, archive_root="/tmp/convene-test-archive", tokens=tokens_json(),
                           tokens_file=None, log_json=True, log_level="WARNING", database_url=database_url)
    app = create_app(settings, client=dev_env.client)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="on"))
    stand_ins = RecordingActivities()
    db = Database(database_url)  # the worker's own connection to the roster the page reads
    await db.migrate()
    activities = roster_activities(settings, stand_ins, db)
    async with build_worker(dev_env.client, settings, activities=activities):
        serving = asyncio.create_task(server.serve(), name="e2e-uvicorn")
        async with asyncio.timeout(15):
            while not server.started:
                if serving.done():
                    serving.result()  # raises what stopped it
                await asyncio.sleep(0.02)
        try:
            yield Site(url=f"http://127.0.0.1:{port}", client=dev_env.client, task_queue=task_queue,
                       stand_ins=stand_ins, db=db)
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 15)
            await db.dispose()


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    path = chromium()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Person:
    """One signed-in person's browser tab, with every script error it met."""

    page: Any
    errors: list[str]


OpenAs = Callable[..., Awaitable[Person]]


@pytest_asyncio.fixture
async def open_as(browser: Any, site: Site) -> AsyncIterator[OpenAs]:
    """``await open_as("finance_approver", "/ui/inbox")``: a fresh browser context, signed in through the
    sign-in page by pasting the token, then at `path`. Script errors on any page fail the test."""
    contexts: list[Any] = []
    people: list[Person] = []

    async def open_(who: str, path: str = "/ui/board", lang: str = "en") -> Person:
        context = await browser.new_context(viewport=VIEWPORT, locale={"en": "en-GB", "zh-Hans": "zh-CN"}.get(lang, "zh-TW"),
                                            timezone_id="Europe/Paris")
        contexts.append(context)
        page = await context.new_page()
        person = Person(page=page, errors=[])
        page.on("pageerror", lambda exc: person.errors.append(f"{exc}"))
        page.on("console", lambda msg: person.errors.append(msg.text) if msg.type == "error" else None)
        people.append(person)
        await page.goto(f"{site.url}/ui/signin?lang={lang}&next={path}")
        await page.locator("#token").fill(TOKENS[who])
        await page.locator("#signin-submit").click()
        await page.wait_for_url(f"{site.url}{path.split('?')[0]}**")
        return person

    yield open_
    for context in contexts:
        await context.close()
    errors = [e for p in people for e in p.errors]
    assert not errors, f"script errors in the pages: {errors}"


def save_screenshot(name: str, data: bytes) -> Path:
    """Keep a screenshot in test-artifacts/ (ignored by git); with CONVENE_UPDATE_SCREENSHOTS=1 also
    refresh the copy under docs/screenshots/ that the README shows (so a test run changes no tracked file)."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)
    if os.environ.get("CONVENE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(data)
    return ARTIFACTS / name


def now() -> datetime:
    return datetime.now(timezone.utc)
