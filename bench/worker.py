"""The worker process of a benchmark round: ``python -m bench.worker engine|baseline ...``.

Runs in its own process so its memory (VmRSS/VmHWM in /proc/<pid>/status) is the
worker's alone. Imports only what its side needs: the engine side goes through
``worker.build_worker`` (the production sandbox settings) with activity stand-ins
registered under the real names; the baseline side is a plain Worker. Both take
their tuning (concurrent activities/workflow tasks, cache size) from the same
``Settings``.

Protocol on stdin/stdout: prints ``ready`` once polling; answers ``stats`` with a
JSON line; ``stop`` shuts down gracefully.
"""

# no `from __future__ import annotations`: the stand-ins import their types locally and Temporal reads the hints

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from temporalio import activity
from temporalio.client import Client


def engine_activities(counter: dict[str, int]) -> list[Callable[..., Any]]:
    """Trivial stand-ins under the engine's activity names (like tests/support.py's, without recording)."""
    from workflows.messages import (
        AuditBatch, DeliveryRecord, DossierRequest, EventFacts, InvitationSend, NotificationRequest, ReleaseRequest,
        RosterNotice,
    )

    @activity.defn(name="send_notification")
    async def send_notification(req: NotificationRequest) -> DeliveryRecord:
        counter["activities"] += 1
        return DeliveryRecord(key=req.key, kind=req.kind, channel=req.channel,
                              to=req.recipient.email or req.recipient.role, status="sent", at=datetime.now(timezone.utc))

    def dossier(name: str) -> Callable[..., Any]:
        @activity.defn(name=name)
        async def run(req: DossierRequest) -> str:
            counter["activities"] += 1
            return f"{name} done for {req.event.id}"

        return run

    @activity.defn(name="release_booking")
    async def release_booking(req: ReleaseRequest) -> str:
        counter["activities"] += 1
        return f"released {req.booking}"

    # The roster database's side (the audit written beside the loop, the facts the API reads, roster sends):
    # the engine issues these since the roster moved to the database; they cost the engine activities and
    # history, so the stand-ins run. The audit and the facts are written in batches that grow under load (their
    # number varies from event to event), so they are not counted: a round waits for the effects' activities
    # (bench/sides.py plan_from_history leaves them out too), and the engine's figures carry their cost.
    @activity.defn(name="record_audit")
    async def record_audit(batch: AuditBatch) -> int:
        counter["bookkeeping"] = counter.get("bookkeeping", 0) + 1
        return len(batch.entries)

    @activity.defn(name="sync_event")
    async def sync_event(facts: EventFacts) -> None:
        counter["bookkeeping"] = counter.get("bookkeeping", 0) + 1

    @activity.defn(name="send_invitations")
    async def send_invitations(req: InvitationSend) -> str:
        counter["activities"] += 1
        return f"{len(req.attendees)} invited"

    @activity.defn(name="notify_roster")
    async def notify_roster(req: RosterNotice) -> str:
        counter["activities"] += 1
        return "0 told"

    return [send_notification, dossier("send_thanks"), dossier("evaluation_report"), dossier("archive"),
            release_booking, record_audit, sync_event, send_invitations, notify_roster]


class _Profiler:
    """``BENCH_PROFILE=<file>``: profile the workflow-task threads (where workflow code runs) with cProfile."""

    def __init__(self, path: str) -> None:
        import threading

        self.path, self.profiles, self.lock = path, [], threading.Lock()

    def executor(self, workers: int) -> Any:
        import cProfile
        from concurrent.futures import ThreadPoolExecutor

        def init() -> None:
            prof = cProfile.Profile()
            with self.lock:
                self.profiles.append(prof)
            prof.enable()

        return ThreadPoolExecutor(max_workers=workers, initializer=init)

    def dump(self) -> None:
        import pstats

        stats = None
        for prof in self.profiles:
            prof.disable()
            stats = pstats.Stats(prof) if stats is None else (stats.add(prof) or stats)
        if stats is not None:
            stats.dump_stats(self.path)


async def serve(kind: str, address: str, namespace: str, task_queue: str, tuning: dict[str, int]) -> None:
    """Run one side's worker. ``tuning`` is the parent's ``Settings`` worker tuning, passed on the command
    line so the baseline process need not import pydantic-settings just to read it."""
    # The protocol gets the real stdout; anything else written to fd 1 (the SDK core logs there) goes to stderr.
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    counter = {"activities": 0}
    tracing = bool(os.environ.get("BENCH_TRACEMALLOC"))
    if tracing:
        import tracemalloc

        tracemalloc.start()
    profiler = _Profiler(os.environ["BENCH_PROFILE"] + f".{kind}") if os.environ.get("BENCH_PROFILE") else None
    extra = {"workflow_task_executor": profiler.executor(tuning.get("max_concurrent_workflow_tasks", 100))} if profiler else {}
    if kind == "engine":
        from temporalio.contrib.pydantic import pydantic_data_converter

        from convene.settings import Settings
        from worker import build_worker

        settings = Settings(task_queue=task_queue, temporal_address=address, temporal_namespace=namespace, **tuning)
        client = await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)
        worker = build_worker(client, settings, activities=engine_activities(counter), **extra)
    else:
        from bench import baseline

        client = await Client.connect(address, namespace=namespace)
        worker = baseline.build_worker(client, task_queue, counter, **tuning, **extra)
    async with worker:
        print("ready", file=reply, flush=True)
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            command = line.strip()
            if not line or command == "stop":
                break
            if command == "stats":
                if tracing:  # BENCH_TRACEMALLOC=1: the Python heap, to tell it from the SDK core's memory
                    import tracemalloc

                    counter["python_heap_kib"] = tracemalloc.get_traced_memory()[0] // 1024
                print(json.dumps(counter), file=reply, flush=True)
    if profiler:
        profiler.dump()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["engine", "baseline"])
    p.add_argument("--address", required=True)
    p.add_argument("--namespace", default="default")
    p.add_argument("--task-queue", required=True)
    p.add_argument("--tuning", default="{}", help="JSON: max_concurrent_activities, ... (the parent's Settings)")
    a = p.parse_args()
    asyncio.run(serve(a.kind, a.address, a.namespace, a.task_queue, json.loads(a.tuning)))


if __name__ == "__main__":
    main()
