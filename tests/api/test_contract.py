"""The published contract is exact: schemathesis walks the real API over HTTP and finds nothing.

The app runs under uvicorn on a free loopback port (a task on the test's event loop), on the shared
dev server with a worker of its own and a SQLite roster, signed in as one principal who holds every
role of every shipped kind and may read every event. ``schemathesis run`` (the CLI, in its own process,
as CI or a user would run it) reads ``/openapi.json`` and runs every phase: the schema's examples,
coverage (boundaries, missing and wrong parameters, unsupported methods), fuzzing (positive and
negative data) and stateful sequences through the document's links (``POST /events`` → the event's
routes), with ``--checks all``, a fixed seed and a bounded number of examples per operation.

It fails on any failure or error schemathesis reports, with its report in the assertion. The hooks
(``contract_hooks.py``) apply what the document publishes beyond JSON Schema (``x-after``, ``x-refusals``).
A second test asks directly for the answers the fuzzer once found wrong, so they stay right whatever the seed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
import time
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api import ApiSettings, create_app
from api.auth import hash_token
from api.errors import PROBLEM_JSON
from definitions import shipped
from store import Database
from tests.api.conftest import Api, auth, event_body, roster_activities
from tests.support import RecordingActivities
from worker import build_worker

HOOKS = Path(__file__).with_name("contract_hooks.py")
SEED = 20261130
MAX_EXAMPLES = 12
"""Per operation and phase: about 3,000 cases in all, a minute on two shared cores."""
RUN_SECONDS = 600
"""Past this the run is stopped and the test fails (it takes about a minute)."""
TOKEN = f"contract-{uuid.uuid4().hex}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def everything_principal() -> str:
    """One principal who may do anything: every role of every shipped kind, and a grant to read every event."""
    roles = sorted({role for definition in shipped() for role in definition.role_ids()})
    return json.dumps({"principals": [{"id": "ada", "name": "Ada Admin", "roles": roles,
                                       "tokens": [hash_token(TOKEN)], "grants": {"kinds": ["*"]}}]})


def schemathesis_command(url: str, report: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
        "--checks", "all",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-database", "none",
        "--workers", "1",
        "--request-timeout", "30",
        "--header", f"Authorization: Bearer {TOKEN}",
        "--report", "junit", "--report-junit-path", str(report),
        "--no-color",
    ]


def junit_counts(report: Path) -> dict[str, int]:
    suite = ElementTree.parse(report).getroot()
    suites = [suite] if suite.tag == "testsuite" else list(suite.iter("testsuite"))
    return {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}


async def test_schemathesis_finds_no_fault(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    task_queue = f"contract-{uuid.uuid4().hex[:12]}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"
    settings = ApiSettings(task_queue=task_queue, archive_root=str(tmp_path / "archive"),
                           tokens=everything_principal(), tokens_file=None, log_json=True, log_level="WARNING",
                           database_url=database_url, invitations_per_second=0)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client=dev_env.client), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    db = Database(database_url, pool_size=4)
    await db.migrate()
    stand_ins = RecordingActivities()
    report = tmp_path / "junit.xml"
    try:
        async with build_worker(dev_env.client, settings, activities=roster_activities(settings, stand_ins, db)):
            serving = asyncio.create_task(server.serve(), name="contract-uvicorn")
            async with asyncio.timeout(15):
                while not server.started:
                    if serving.done():
                        serving.result()
                    await asyncio.sleep(0.02)
            try:
                started = time.monotonic()
                run = await asyncio.create_subprocess_exec(
                    *schemathesis_command(f"http://127.0.0.1:{port}", report), cwd=tmp_path,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                    env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(HOOKS)})
                try:
                    out, _ = await asyncio.wait_for(run.communicate(), RUN_SECONDS)
                except TimeoutError:
                    run.kill()
                    await run.wait()
                    pytest.fail(f"schemathesis ran longer than {RUN_SECONDS} s")
                seconds = time.monotonic() - started
            finally:
                server.should_exit = True
                await asyncio.wait_for(serving, 15)
    finally:
        await db.dispose()
    text = out.decode(errors="replace")
    (tmp_path / "schemathesis.txt").write_text(text)
    summary = "\n".join(text.splitlines()[-60:])
    assert run.returncode == 0, f"schemathesis reported faults (exit {run.returncode}):\n{text[-20000:]}"
    counts = junit_counts(report)
    cases = re.search(r"(\d+) generated", text)
    links = re.search(r"API Links:\s+(\d+) covered", text)
    print(f"schemathesis: {counts}, {cases.group(0) if cases else '?'} cases, {seconds:.0f} s\n{summary}")
    assert counts["tests"] > 30 and counts["failures"] == 0 and counts["errors"] == 0, summary
    assert cases and int(cases.group(1)) > 1000, summary
    assert links and int(links.group(1)) > 0, f"the stateful phase followed no link from POST /events:\n{summary}"


async def test_the_shared_answers_are_the_documented_ones(api: Api) -> None:
    """What the fuzzer found once, asked directly: each answer comes from a shared place and is documented."""
    doc = (await api.http.get("/openapi.json")).json()
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

    # 405 names every method of the path (Starlette's own named only the first route's)
    r = await api.http.request("OPTIONS", "/events", headers=auth("viewer"))
    assert r.status_code == 405 and {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}

    # a body that is not even text is 400, documented with the problem schema on every operation with a body
    r = await api.http.post("/events", content=b"\xff\xfe{", headers=auth("project_manager") | {
        "Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM_JSON
    with_body = [op for item in doc["paths"].values() for op in item.values() if "requestBody" in op]
    assert with_body and all(op["responses"]["400"]["content"] == problem for op in with_body)

    # 401 on every operation that takes a principal; every failure documented as problem+json
    r = await api.http.get("/definitions")
    assert r.status_code == 401 and "401" in doc["paths"]["/definitions"]["get"]["responses"]
    failures = [resp for item in doc["paths"].values() for op in item.values()
                for status, resp in op["responses"].items() if status[0] in "45"]
    assert failures and all(resp["content"] == problem for resp in failures)

    # a date-time is RFC 3339 text in a year the server takes, not a number of seconds
    for bad in ("0.5", "2027-03-01", "1969-12-31T23:00:00Z"):
        r = await api.http.get("/events/board", params={"start_to": bad}, headers=auth("viewer"))
        assert r.status_code == 422 and r.json()["type"] == "/problems/invalid", bad
    r = await api.http.post("/events", json=event_body() | {"start": 0}, headers=auth("project_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "start"]

    # the rules a JSON Schema cannot say are published, and the kinds are the loaded ones
    new_event = doc["components"]["schemas"]["NewEvent"]
    assert new_event["x-after"] == {"end": "start"} and new_event["properties"]["kind"]["enum"] == sorted(
        api.app.state.convene.registry.kinds())
    planned = doc["components"]["schemas"]["BudgetLine-Input"]["properties"]["planned"]["anyOf"]
    assert planned[0]["multipleOf"] == 0.01 and planned[1]["pattern"].startswith("^[+]?")  # fixed point, no sign
    assert "/problems/act-invalid" in doc["x-refusals"] and "/problems/invalid" not in doc["x-refusals"]
    links = doc["paths"]["/events"]["post"]["responses"]["201"]["links"]
    assert {link["parameters"]["event_id"] for link in links.values()} == {"$response.body#/event/id"}
    assert len(links) >= 20
