"""Metrics and traces on the real stack: the API on the dev server with a worker, scraped over HTTP.

- the API's ``/metrics`` counts a gate decision (accepted and refused), the request by its route template,
  and the events by stage, with no event id anywhere; its token and its off switch;
- a worker's own endpoint (Temporal's runtime) serves the SDK's metrics and ours (deliveries, escalations),
  and every metric the Grafana dashboard queries is one of these two endpoints really serves;
- with tracing on, one decision through the API is one trace: request -> update -> activity.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api import create_app
from convene.metrics import API_METRICS, WORKER_METRICS
from convene.settings import Settings
from convene.telemetry import tracing_interceptor, worker_runtime
from store import Database
from tests.api.conftest import Api, api_on, api_settings, auth, roster_activities, serve
from tests.api.test_roster import invite, on_site
from tests.support import RecordingActivities
from worker import build_worker
from workflows.event import EventLifecycle

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "convene.json"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text page, by (sample name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with exactly these labels (0 when absent: a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(api: Api, **headers: str) -> tuple[str, Samples]:
    r = await api.http.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text, parse(r.text)


async def prepare_budget_gate(api: Api, eid: str) -> None:
    """Preparation done up to the budget gate awaiting the finance approver's decision."""
    base = f"/events/{eid}"
    for task in ("theme_purpose", "date_checked", "team_assigned"):
        await api.do("project_manager", f"{base}/tasks/{task}/complete")
    for task in ("site_inspection", "venue_booked"):
        await api.do("venue_coordinator", f"{base}/tasks/{task}/complete")
    await api.do("finance", f"{base}/budget", {"lines": [
        {"category": "venue", "planned": "40000"}, {"category": "contingency", "planned": "8000"}]})
    await api.do("finance", f"{base}/tasks/budget_draft/complete")


@pytest.fixture
async def fresh_api(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
                    tmp_path: Path) -> AsyncIterator[Api]:
    """The API and a worker on a SQLite file, its database counts never cached (each scrape counts again)."""
    async with api_on(dev_env, task_queue, stand_ins, f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}",
                      metrics_cache_seconds=0) as it:
        yield it


async def test_metrics_count_a_gate_decision_by_outcome_and_the_request_by_its_route(fresh_api: Api):
    """After an approval (and a refused one) through the API, /metrics counts each by decision and result,
    the request under its route template, and the event under its new stage; no event id is a label."""
    api = fresh_api
    _, before = await scrape(api)
    eid = await api.start()
    await prepare_budget_gate(api, eid)
    refused = await api.http.post(f"/events/{eid}/decisions", json={"gate": "budget_approved", "decision": "approve"},
                                  headers=auth("finance"))  # finance may not approve: the API refuses (403)
    assert refused.status_code == 403, refused.text
    out = await api.do("finance_approver", f"/events/{eid}/decisions",
                       {"gate": "budget_approved", "decision": "approve"})
    assert out["result"]["stage"] == "planning"  # an act answers its outcome, not the whole state
    await api.ready(eid, stage="planning")

    text, after = await scrape(api)
    decisions = "convene_gate_decisions_total"
    assert value(after, decisions, decision="approve", result="accepted") == \
        value(before, decisions, decision="approve", result="accepted") + 1
    assert value(after, decisions, decision="approve", result="refused") == \
        value(before, decisions, decision="approve", result="refused") + 1
    route = "/events/{event_id}/decisions"
    assert value(after, "convene_http_requests_total", method="POST", route=route, status="200") == 1
    assert value(after, "convene_http_requests_total", method="POST", route=route, status="403") == 1
    assert value(after, "convene_http_request_duration_seconds_count", method="POST", route=route) == 2
    assert value(after, "convene_events", stage="planning", status="active") == 1
    assert value(after, "convene_check_ins_total") == 0
    assert eid not in text


async def test_a_check_in_is_counted_once_however_often_its_key_is_sent(fresh_api: Api):
    """A check-in counts once on /metrics: its key sent again (answered the same) and a second check-in of
    the same person (refused) do not count; the waivers that took the event on site count as decisions."""
    api = fresh_api
    eid = await api.start()
    await invite(api, eid, "ann")
    await api.ready(eid)
    await on_site(api, eid)
    _, before = await scrape(api)
    path = f"/events/{eid}/attendees/ann/check-in"
    key = {"Idempotency-Key": f"ci-{uuid.uuid4().hex}"}
    first = await api.do("project_manager", path, {"desk": "north-2"}, **key)
    assert await api.do("project_manager", path, {"desk": "north-2"}, **key) == first
    again = await api.http.post(path, json={"desk": "south-1"}, headers=auth("pr_communications"))
    assert again.status_code == 409
    _, after = await scrape(api)
    assert value(after, "convene_check_ins_total") == value(before, "convene_check_ins_total") + 1 == 1
    assert value(after, "convene_gate_decisions_total", decision="waive", result="accepted") >= 3
    assert value(after, "convene_events", stage="on_site", status="active") == 1


async def test_metrics_can_want_a_token_or_be_off(dev_env: WorkflowEnvironment, task_queue: str):
    """With CONVENE_METRICS_TOKEN, /metrics answers 401 without it and the page with it; switched off, 404."""
    guarded = create_app(api_settings(task_queue, metrics_token="scrape-secret"), client=dev_env.client)
    async with serve(guarded) as http:
        bare = await http.get("/metrics")
        assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert good.status_code == 200 and "convene_check_ins_total 0.0" in good.text
    off = create_app(api_settings(task_queue, metrics_enabled=False), client=dev_env.client)
    async with serve(off) as http:
        assert (await http.get("/metrics")).status_code == 404


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def names_in(text: str) -> set[str]:
    """The sample names of a page exactly as Prometheus stores them (its parser here would add ``_total``)."""
    return {re.split(r"[{ ]", line, maxsplit=1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def dashboard_metric_names() -> set[str]:
    """Every metric name any panel of the dashboard queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert exprs, "the dashboard queries nothing"
    names = {m for expr in exprs for m in re.findall(r"\b((?:convene|temporal)_[a-z0-9_]+)\b", expr)}
    assert names, exprs
    return names


@workflow.defn(name="telemetry-broken", sandboxed=False)  # its module imports what a sandbox refuses
class Broken:
    """A workflow whose every task fails (a bug), so the SDK's failed-workflow-task counter shows."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug: this workflow task fails and is retried")


async def test_a_workers_endpoint_serves_the_sdks_metrics_and_ours_and_the_dashboard_queries_only_real_ones(
        dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, tmp_path: Path):
    """A worker with CONVENE_WORKER_METRICS_ADDRESS serves Temporal's metrics and Convene's (deliveries by
    status, escalations fired by level); together with the API's /metrics they hold every name the
    Grafana dashboard queries."""
    address = f"127.0.0.1:{free_port()}"
    runtime = worker_runtime(Settings(worker_metrics_address=address))
    assert runtime is not None
    client = await Client.connect(dev_env.client.service_client.config.target_host,
                                  namespace=dev_env.client.namespace, data_converter=pydantic_data_converter,
                                  runtime=runtime)
    url = f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"
    settings = api_settings(task_queue, database_url=url, metrics_cache_seconds=0)
    db = Database(url, pool_size=4)
    await db.migrate()
    stand_ins.unreachable = {"prue"}  # her sends fail and are retried: failed activities and "retrying" deliveries
    app = create_app(settings, client=dev_env.client)
    try:
        async with build_worker(client, settings, activities=roster_activities(settings, stand_ins, db),
                                workflows=[EventLifecycle, Broken]):
            async with serve(app) as http:
                api = Api(app=app, http=http, env=dev_env, task_queue=task_queue, stand_ins=stand_ins, db=db)
                # 30 days ahead: the budget deadline (60 days before) has passed, its escalations fire at once
                eid = await api.start(days_ahead=30)
                await prepare_budget_gate(api, eid)
                await api.do("finance_approver", f"/events/{eid}/decisions",
                             {"gate": "budget_approved", "decision": "approve"})
                broken = await client.start_workflow(Broken.run, id=f"broken-{uuid.uuid4().hex[:8]}",
                                                     task_queue=task_queue)
                wanted = dashboard_metric_names()
                try:
                    for _ in range(150):
                        worker_page = await asyncio.to_thread(
                            lambda: urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode())
                        worker = parse(worker_page)
                        api_page, _ = await scrape(api)
                        served = names_in(worker_page) | names_in(api_page)
                        if wanted <= served:
                            break
                        await asyncio.sleep(0.2)
                finally:
                    await broken.terminate("test over")
    finally:
        await db.dispose()
    assert wanted - served == set(), f"the dashboard queries metrics nobody serves: {sorted(wanted - served)}"
    escalations = {dict(labels)["level"]: v for (n, labels), v in worker.items()
                   if n == "convene_escalations_fired_total"}
    assert escalations and all(level.isdigit() and int(level) >= 1 for level in escalations), escalations
    deliveries = {(dict(labels)["channel"], dict(labels)["status"]) for (n, labels), v in worker.items()
                  if n == "convene_deliveries_total" and v > 0}
    assert ("email", "sent") in deliveries and ("email", "retrying") in deliveries, deliveries
    assert eid not in worker_page
    # every name of ours the dashboard queries is one the code names (and the test above saw it served)
    ours = {n for n in wanted if n.startswith("convene_")}
    known = set(API_METRICS) | set(WORKER_METRICS) | {
        f"convene_http_request_duration_seconds_{s}" for s in ("bucket", "sum", "count")}
    assert ours <= known, sorted(ours - known)


def _spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())


def _child(spans: list[ReadableSpan], parent: ReadableSpan, name: str) -> ReadableSpan | None:
    return next((s for s in spans if s.name.startswith(name) and s.parent is not None
                 and s.parent.span_id == parent.context.span_id), None)


async def test_one_decision_through_the_api_is_one_trace_from_request_to_update_to_activity(
        dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, tmp_path: Path):
    """With tracing on, the decision's HTTP span is the parent of the client's update span, that of the
    workflow's HandleUpdate span, and that (through StartActivity) of an activity it caused: one trace id."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    interceptor = tracing_interceptor(provider)
    assert interceptor is not None
    client = Client(**{**dev_env.client.config(), "interceptors": [interceptor]})
    url = f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"
    settings = api_settings(task_queue, database_url=url)
    db = Database(url, pool_size=4)
    await db.migrate()
    app = create_app(settings, client=client, tracing=provider)
    try:
        async with build_worker(client, settings, activities=roster_activities(settings, stand_ins, db)):
            async with serve(app) as http:
                api = Api(app=app, http=http, env=dev_env, task_queue=task_queue, stand_ins=stand_ins, db=db)
                eid = await api.start()
                await prepare_budget_gate(api, eid)
                await api.ready(eid)
                exporter.clear()
                await api.do("finance_approver", f"/events/{eid}/decisions",
                             {"gate": "budget_approved", "decision": "approve"})
                chain: list[ReadableSpan] = []
                for _ in range(100):
                    spans = _spans(exporter)
                    request = next((s for s in spans if s.kind.name == "SERVER" and s.attributes
                                    and s.attributes.get("http.route") == "/events/{event_id}/decisions"), None)
                    update = request and _child(spans, request, "StartWorkflowUpdate:decide")
                    handled = update and _child(spans, update, "HandleUpdate:decide")
                    started = handled and _child(spans, handled, "StartActivity:")
                    ran = started and _child(spans, started, "RunActivity:")
                    if ran:
                        chain = [request, update, handled, started, ran]  # type: ignore[list-item]
                        break
                    await asyncio.sleep(0.1)
    finally:
        await db.dispose()
        provider.shutdown()
    names = sorted(s.name for s in _spans(exporter))
    assert chain, f"no request -> update -> activity chain among {names}"
    assert len({s.context.trace_id for s in chain}) == 1
    assert chain[2].attributes is not None and chain[2].attributes["temporalWorkflowID"] == f"event-{eid}"
    assert chain[4].name.split(":")[1] == chain[3].name.split(":")[1]  # the activity started is the one that ran
