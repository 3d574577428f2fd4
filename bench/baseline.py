"""The baseline: the same event walk hand-written as a bare Temporal workflow.

No definitions, no ``transitions`` machine, no pydantic: plain dataclasses and the
default data converter. It takes acts as one update (with a validator that refuses
an empty or reused key, the least any real workflow checks) and does, after each
act, exactly the commands the engine was measured to do after the same act: the
same number of activities, search-attribute upserts and timers. ``bench.run``
reads those from an engine event's history and passes them in as the plan, so
both sides write the same kind of history and the difference is the engine's own
work.

This module is the workflow's file: it imports nothing but ``temporalio`` and the
standard library, so the sandbox re-imports almost nothing per run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

WORKFLOW_NAME = "BareEvent"


@dataclass
class Upsert:
    name: str
    kind: str  # keyword | int | bool | datetime | text | keyword_list | float
    value: Any


@dataclass
class Step:
    """What the workflow does after an act (step 0: at start)."""

    activities: int = 0
    timers: int = 0
    cancels: int = 0  # timers cancelled (oldest first) before new ones start
    upserts: list[Upsert] = field(default_factory=list)


@dataclass
class BareInput:
    event_id: str
    plan: list[Step]


@dataclass
class BareAct:
    key: str
    name: str
    actor: str
    role: str
    data: dict[str, Any] = field(default_factory=dict)  # the act's content (task, gate, budget lines...)


@dataclass
class BareResult:
    key: str
    seq: int
    name: str


@dataclass
class Notice:
    event_id: str
    key: str
    kind: str


@dataclass
class Delivered:
    key: str
    status: str
    at: str  # ISO time: the default converter does not rebuild datetimes inside dataclasses


def _value(u: Upsert) -> Any:
    return datetime.fromisoformat(u.value) if u.kind == "datetime" and isinstance(u.value, str) else u.value


def pair(u: Upsert) -> SearchAttributePair[Any]:
    """The attribute as a typed pair (for starting a workflow with it)."""
    return SearchAttributePair(_key(u), _value(u))


def _key(u: Upsert) -> SearchAttributeKey[Any]:
    return {
        "keyword": SearchAttributeKey.for_keyword,
        "int": SearchAttributeKey.for_int,
        "bool": SearchAttributeKey.for_bool,
        "datetime": SearchAttributeKey.for_datetime,
        "text": SearchAttributeKey.for_text,
        "keyword_list": SearchAttributeKey.for_keyword_list,
        "float": SearchAttributeKey.for_float,
    }[u.kind](u.name)


NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=8)


@workflow.defn(name=WORKFLOW_NAME)
class BareEvent:
    @workflow.init
    def __init__(self, inp: BareInput) -> None:
        self._applied: dict[str, BareResult] = {}
        self._acts: list[BareAct] = []
        self._due: list[int] = [0]  # plan steps waiting to run
        self._timers: list[asyncio.Task[None]] = []
        self._deliveries: list[Delivered] = []

    @workflow.run
    async def run(self, inp: BareInput) -> int:
        while True:
            while self._due:
                index = self._due.pop(0)
                step = inp.plan[index] if index < len(inp.plan) else Step()
                if step.upserts:
                    workflow.upsert_search_attributes([_key(u).value_set(_value(u)) for u in step.upserts])
                for _ in range(min(step.cancels, len(self._timers))):
                    self._timers.pop(0).cancel()
                for _ in range(step.timers):
                    self._timers.append(asyncio.ensure_future(workflow.sleep(timedelta(days=30))))
                if step.activities:
                    results = await asyncio.gather(*(
                        workflow.execute_activity(
                            "send_notification", Notice(inp.event_id, f"{inp.event_id}:{index}:{n}", "notice"),
                            result_type=Delivered, start_to_close_timeout=timedelta(seconds=60),
                            retry_policy=NOTIFY_RETRY,
                        )
                        for n in range(step.activities)
                    ))
                    self._deliveries.extend(results)
            await workflow.wait_condition(lambda: bool(self._due))

    @workflow.update
    def act(self, a: BareAct) -> BareResult:
        if a.key in self._applied:
            return self._applied[a.key]
        result = BareResult(key=a.key, seq=len(self._applied) + 1, name=a.name)
        self._acts.append(a)
        self._applied[a.key] = result
        self._due.append(result.seq)
        return result

    @act.validator
    def _validate_act(self, a: BareAct) -> None:
        if not a.key or not a.actor:
            raise ApplicationError("an act needs a key and an actor", type="Invalid", non_retryable=True)

    @workflow.query
    def state(self) -> dict[str, Any]:
        return {"acts": len(self._applied), "deliveries": len(self._deliveries)}


def activities(counter: dict[str, int]) -> list[Callable[..., Any]]:
    @activity.defn(name="send_notification")
    async def send_notification(n: Notice) -> Delivered:
        counter["activities"] += 1
        return Delivered(key=n.key, status="sent", at=datetime.now(timezone.utc).isoformat())

    return [send_notification]


def build_worker(client: Client, task_queue: str, counter: dict[str, int], **options: Any) -> Worker:
    """A plain worker: default sandbox, default converter (from the client), same tuning as the engine's."""
    return Worker(client, task_queue=task_queue, workflows=[BareEvent], activities=activities(counter), **options)
