"""Run a Convene worker: ``python worker.py`` (or ``convene worker``).

Settings come from the environment (``CONVENE_TEMPORAL_ADDRESS``,
``CONVENE_TEMPORAL_NAMESPACE``, ``CONVENE_TASK_QUEUE``, TLS and API key...), so
the same worker runs on the dev server and on a Temporal cluster; start as many
as you like on the same task queue to scale out. Every worker uses the roster
database at ``CONVENE_DATABASE_URL`` and brings its schema up to date at start. With
``CONVENE_WORKER_METRICS_ADDRESS`` it serves Prometheus metrics there; with ``CONVENE_OTLP_ENDPOINT``
it sends traces (README "Metrics and traces").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from convene.logs import configure, get_logger
from convene.settings import Settings, get_settings
from workflows.event import EventLifecycle
from workflows.places import SendNotices, WaitlistOffer, WaitlistPromote

# Pure, side-effect-free modules the workflow sandbox may share between runs
# instead of re-importing them for every workflow (a large saving per event).
PASSTHROUGH = (
    "definitions",
    "workflows.messages",
    "workflows.lifecycle",
    "workflows.search",
    "transitions",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "structlog",
    "yaml",
    "convene.metrics",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(
    client: Client, settings: Settings, activities: Sequence[Callable[..., Any]] | None = None, **overrides: Any
) -> Worker:
    """The worker for the event workflow and its activities (tests pass stand-ins under the same names)."""
    if activities is None:
        from activities import build_activities

        activities = build_activities(settings)
    options: dict[str, Any] = {
        "task_queue": settings.task_queue,
        "workflows": [EventLifecycle, SendNotices, WaitlistPromote, WaitlistOffer],
        "activities": list(activities),
        "workflow_runner": workflow_runner(),
        "max_concurrent_activities": settings.max_concurrent_activities,
        "max_concurrent_workflow_tasks": settings.max_concurrent_workflow_tasks,
        "max_cached_workflows": settings.max_cached_workflows,
    }
    options.update(overrides)
    return Worker(client, **options)


async def run(settings: Settings | None = None) -> None:
    from convene.client import connect

    settings = settings or get_settings()
    configure(settings.log_level, settings.log_json)
    log = get_logger("convene.worker", task_queue=settings.task_queue, namespace=settings.temporal_namespace)
    from activities import build_activities
    from store import Database

    from convene.telemetry import tracer_provider, tracing_interceptor, worker_runtime

    runtime = worker_runtime(settings)  # Temporal's metrics and ours, on CONVENE_WORKER_METRICS_ADDRESS
    tracing = tracer_provider(settings, "worker")  # None unless CONVENE_OTLP_ENDPOINT is set
    interceptor = tracing_interceptor(tracing)
    client = await connect(settings, runtime=runtime, interceptors=[interceptor] if interceptor else [])
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    try:
        await db.migrate()
        log.info("worker starting", address=settings.temporal_address, database=repr(db),
                 metrics=settings.worker_metrics_address, tracing=bool(tracing))
        await build_worker(client, settings, activities=build_activities(settings, database=db)).run()
    finally:
        await db.dispose()
        if tracing is not None:
            tracing.shutdown()  # sends the last batch of spans


if __name__ == "__main__":
    asyncio.run(run())
