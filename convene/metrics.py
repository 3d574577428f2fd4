"""What Convene measures, by Prometheus name, and the two counters the worker keeps.

Two endpoints carry them (README "Metrics and traces"):

- the API's ``GET /metrics`` (:mod:`api.metrics`, prometheus_client): requests by route template and
  status, events by stage (counted in the database at scrape time), gate decisions and check-ins (both
  are acts the API performs);
- each worker's ``CONVENE_WORKER_METRICS_ADDRESS`` (Temporal's runtime, Prometheus): the SDK's own
  metrics (``temporal_*``: schedule-to-start latency, failed workflow tasks, activity failures...) and
  what happens inside the worker: deliveries by channel and status (activities) and escalations fired by
  level (the workflow). These go through the SDK's meters rather than a second prometheus_client server:
  one port per worker, the namespace and task queue as labels for free, and ``workflow.metric_meter()``
  records nothing while a workflow replays, so a replayed escalation is never counted twice.

This module imports nothing but temporalio, so the workflow sandbox passes it through.
"""

from __future__ import annotations

from temporalio import activity, workflow

API_METRICS: dict[str, str] = {
    "convene_http_requests_total": "HTTP requests answered, by method, route template and status.",
    "convene_http_request_duration_seconds": "Time to answer an HTTP request (histogram), by method and route.",
    "convene_events": "Events in the database, by stage and status (counted at scrape time, cached briefly).",
    "convene_gate_decisions_total": "Gate decisions sent through the API, by decision and result "
                                    "(accepted or refused).",
    "convene_check_ins_total": "Attendees checked in through the API.",
}
"""Names on the API's /metrics (a histogram also exports ``_bucket``, ``_sum`` and ``_count``)."""

DELIVERIES = "convene_deliveries"
ESCALATIONS = "convene_escalations_fired"

WORKER_METRICS: dict[str, str] = {
    f"{DELIVERIES}_total": "Delivery outcomes recorded by the worker's activities, by channel and status "
                "(sent, failed, skipped, retrying).",
    f"{ESCALATIONS}_total": "Escalations fired by the event workflows (deadline escalation steps, overruns, "
                 "unacknowledged incidents), by the event's escalation level after it fired.",
}
"""Convene's own names on a worker's metrics endpoint, beside Temporal's ``temporal_*`` (counters end in
``_total`` there: :func:`convene.telemetry.worker_runtime`)."""


def count_delivery(channel: str, status: str) -> None:
    """Count one recorded delivery outcome (inside an activity; elsewhere it does nothing)."""
    if activity.in_activity():
        activity.metric_meter().create_counter(DELIVERIES, WORKER_METRICS[f"{DELIVERIES}_total"]).add(
            1, {"channel": channel, "status": status})


def count_escalations(levels: list[int]) -> None:
    """Count escalations a workflow fired, one per entry of `levels` (workflow code; not recorded on replay)."""
    if not levels:
        return
    counter = workflow.metric_meter().create_counter(ESCALATIONS, WORKER_METRICS[f"{ESCALATIONS}_total"])
    for level in levels:
        counter.add(1, {"level": str(level)})
