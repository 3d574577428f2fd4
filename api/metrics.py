"""The API's Prometheus metrics and its ``GET /metrics`` (names and meanings in :mod:`convene.metrics`).

Every app has its own registry (tests build many apps in one process). Labels are bounded on purpose:
the route's template (never the path with its ids), the method (unknown ones as ``OTHER``), the status;
events by stage and status. No event, person or principal id is ever a label.

``GET /metrics`` asks for no bearer token of a principal: Prometheus is no member of any team, and what it
reads are counts with no id, name or contact. Where even the counts should stay inside, set
``CONVENE_METRICS_TOKEN`` (the scraper then sends it as a bearer token) or turn the route off with
``CONVENE_METRICS_ENABLED=false``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from api.errors import Problem
from convene.metrics import API_METRICS
from store import Database
from store.schema import events

log = structlog.stdlib.get_logger("convene.api")

disable_created_metrics()  # no `_created` twin of every counter: Prometheus does not need it, it only doubles series

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class EventsByStage(Collector):
    """``convene_events{stage,status}`` from the events table, counted at most every `cache_seconds`.

    The count is refreshed by :meth:`refresh` (async, before a scrape renders) and read by
    :meth:`collect`; a database that cannot be reached leaves the series out (and logs why).
    """

    def __init__(self, cache_seconds: float) -> None:
        self.cache_seconds = cache_seconds
        self._counts: dict[tuple[str, str], int] | None = None
        self._at = float("-inf")

    async def refresh(self, database: Database) -> None:
        if time.monotonic() - self._at < self.cache_seconds:
            return
        self._at = time.monotonic()  # also after a failure: a database that is down is not asked on every scrape
        try:
            async with database.read() as conn:
                rows = await conn.execute(select(events.c.stage, events.c.status, func.count())
                                          .group_by(events.c.stage, events.c.status))
                self._counts = {(stage, status): n for stage, status, n in rows}
        except Exception as exc:  # noqa: BLE001 - the other metrics still answer
            log.warning("events by stage not counted", error=type(exc).__name__)
            self._counts = None

    def collect(self) -> Iterator[Metric]:
        if self._counts is None:
            return
        family = GaugeMetricFamily("convene_events", API_METRICS["convene_events"], labels=["stage", "status"])
        for (stage, status), n in sorted(self._counts.items()):
            family.add_metric([stage, status], n)
        yield family


class ApiMetrics:
    """The API's metrics in their own registry: requests, decisions, check-ins, events by stage."""

    def __init__(self, cache_seconds: float = 15.0) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("convene_http_requests", API_METRICS["convene_http_requests_total"],
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("convene_http_request_duration_seconds",
                                 API_METRICS["convene_http_request_duration_seconds"], ["method", "route"],
                                 registry=r)
        self.decisions = Counter("convene_gate_decisions", API_METRICS["convene_gate_decisions_total"],
                                 ["decision", "result"], registry=r)
        self.check_ins = Counter("convene_check_ins", API_METRICS["convene_check_ins_total"], registry=r)
        self.events = EventsByStage(cache_seconds)
        r.register(self.events)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (`route` is its template, e.g. ``/events/{event_id}``)."""
        method = method if method in _METHODS else "OTHER"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def decision(self, decision: str, accepted: bool) -> None:
        """Count one gate decision (``approve``, ``reject``, ``waive``) the API sent, accepted or refused."""
        self.decisions.labels(decision, "accepted" if accepted else "refused").inc()

    def attendee_act(self, name: str) -> None:
        """Count an attendee act that applied now (a repeated key answered again is not told here)."""
        if name == "check_in":
            self.check_ins.inc()

    async def render(self, database: Database) -> bytes:
        """Everything in Prometheus text format, the database counts refreshed if they are older than the cache."""
        await self.events.refresh(database)
        return generate_latest(self.registry)


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=True, response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
                       401: {"description": "CONVENE_METRICS_TOKEN is set and was not given"}})
async def metrics(request: Request) -> Response:
    """The API's metrics for Prometheus: requests by route and status, events by stage, gate decisions,
    check-ins. No personal data and no ids. With ``CONVENE_METRICS_TOKEN`` set, send it as a bearer token."""
    state = request.app.state.convene
    token = state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Problem(401, "the metrics token is required (Authorization: Bearer <CONVENE_METRICS_TOKEN>)",
                          headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(await state.metrics.render(state.database), media_type=CONTENT_TYPE_LATEST)
