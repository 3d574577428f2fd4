"""The benchmark's report: best-of-rounds figures, the machine it ran on, and the markdown table for the README."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone


from bench import baseline
from bench.dashboard import Dashboard
from bench.progress import percentile
from bench.rounds import OpenRound, Round
from convene.devserver import temporal_binary


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    import temporalio

    cli = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": f"{os.cpu_count()} × {model}",
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "server": cli,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def fmt(x: float, unit: str = "") -> str:
    if x != x:  # nan
        return "n/a"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


@dataclass
class Row:
    figure: str
    engine: float
    base: float
    unit: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float:
        return self.engine / self.base if self.base else float("nan")


def summarize(rounds: list[Round], opens: list[OpenRound], dash: Dashboard | None,
              concurrency: int) -> tuple[list[Row], list[str]]:
    def best(kind: str, fn: Callable[[Round], float], high: bool) -> float:
        vals = [fn(r) for r in rounds if r.kind == kind]
        return max(vals) if high else min(vals)

    def both(fn: Callable[[Round], float], high: bool) -> tuple[float, float]:
        return best("engine", fn, high), best("baseline", fn, high)

    rows: list[Row] = []
    if not rounds:
        return rows, _dash_lines(dash, concurrency)
    e, b = both(lambda r: r.events_per_s, True)
    rows.append(Row("Events/s (C in flight)", e, b, "", "≥ 0.9 × baseline", e >= 0.9 * b))
    e, b = both(lambda r: r.decisions_per_s, True)
    rows.append(Row("Decisions/s (C in flight)", e, b, "", "≥ 0.9 × baseline", e >= 0.9 * b))
    e, b = both(lambda r: percentile(r.latencies, 50) * 1000, False)
    rows.append(Row("Decision latency p50, C in flight", e, b, " ms"))
    e, b = both(lambda r: percentile(r.latencies, 99) * 1000, False)
    rows.append(Row("Decision latency p99, C in flight", e, b, " ms"))
    e, b = both(lambda r: percentile(r.sequential, 50) * 1000, False)
    rows.append(Row("Decision latency p50, one at a time", e, b, " ms", "≤ 1.2 × baseline", e <= 1.2 * b))
    e, b = both(lambda r: percentile(r.sequential, 99) * 1000, False)
    rows.append(Row("Decision latency p99, one at a time", e, b, " ms"))
    for who, what in (("worker", "Worker"), ("server", "Dev server"), ("driver", "Driver (client)")):
        e, b = both(lambda r, w=who: r.cpu_ms(w), False)
        rows.append(Row(f"{what} CPU per decision, C in flight", e, b, " ms"))
    e, b = both(lambda r: r.seq_cpu_ms("worker"), False)
    rows.append(Row("Worker CPU per decision, one at a time", e, b, " ms"))
    e, b = both(lambda r: r.idle_rss, False)
    rows.append(Row("Worker RSS, idle", e, b, " MiB"))
    e, b = both(lambda r: r.peak_rss, False)
    rows.append(Row("Worker peak RSS (VmHWM) over a round", e, b, " MiB"))
    if opens:
        eo = [o for o in opens if o.kind == "engine"]
        bo = [o for o in opens if o.kind == "baseline"]
        n = eo[0].n
        e, b = min(o.rss for o in eo), min(o.rss for o in bo)
        rows.append(Row(f"Worker RSS with {n:,} open events", e, b, " MiB", "≤ 1.5 × baseline", e <= 1.5 * b))
        e, b = min((o.rss - o.idle_rss) * 1024 / n for o in eo), min((o.rss - o.idle_rss) * 1024 / n for o in bo)
        rows.append(Row("  of which per open event", e, b, " KiB"))
        e, b = min(o.start_s for o in eo), min(o.start_s for o in bo)
        rows.append(Row(f"Time to start and cache {n:,} events", e, b, " s"))
        e, b = min(o.worker_cpu_ms for o in eo), min(o.worker_cpu_ms for o in bo)
        rows.append(Row("Worker CPU per event started (first workflow task)", e, b, " ms"))
    e, b = both(lambda r: r.history, False)
    rows.append(Row("History events per event", e, b))
    e, b = both(lambda r: r.activities, False)
    rows.append(Row("Activities per event", e, b))
    return rows, _dash_lines(dash, concurrency)


def _dash_lines(dash: Dashboard | None, concurrency: int) -> list[str]:
    if not dash:
        return []
    med = statistics.median
    per = f"{dash.naive_sample} state queries, {concurrency} in flight, extrapolated to {dash.m:,}"
    return [
        f"| Listing one stage among {dash.m:,} events: list_workflows, all pages ({dash.listed:,} events) "
        f"+ count_workflows ({dash.counted:,}) | {fmt(dash.list_s, ' s')} | ≤ 0.3 s | "
        f"{'PASS' if dash.list_s <= 0.3 else 'MISS'} |",
        f"| &nbsp;&nbsp;list_workflows, all pages / of which the RPCs alone / count_workflows (best of "
        f"{len(dash.list_runs)}; median) | {fmt(min(dash.list_runs), ' s')} / {fmt(min(dash.rpc_runs), ' s')} / "
        f"{fmt(min(dash.count_runs), ' s')} ({fmt(med(dash.list_runs), ' s')} / {fmt(med(dash.rpc_runs), ' s')} / "
        f"{fmt(med(dash.count_runs), ' s')}) | | |",
        f"| &nbsp;&nbsp;First page only (100 events) + count | {fmt(min(dash.first_page_runs), ' s')} | | |",
        f"| The naive way: query `state` on every event, events cached in the worker ({per}) "
        f"| {fmt(dash.naive_s(True), ' s')} | | |",
        f"| The naive way, events not cached (each query replays the history) | {fmt(dash.naive_s(False), ' s')} "
        f"| | |",
        f"| Setup: start {dash.m:,} events ({dash.moved:,} in planning, {dash.running:,} running on the worker) / "
        f"worker and visibility caught up | {fmt(dash.start_s, ' s')} / {fmt(dash.settle_s, ' s')} | | |",
    ]


def table(rows: list[Row], extra: list[str], meta: dict[str, str], command: str, args: argparse.Namespace,
          wall: float) -> str:
    out = [
        f"### Convene vs bare Temporal, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: nproc {meta['nproc']}, {meta['cpu']}, {meta['memory']} RAM; {meta['os']}; "
        f"load average at the end {meta['load']}",
        f"- Software: Python {meta['python']}, temporalio {meta['temporalio']}, {meta['server']} "
        "(dev server, in memory)",
        f"- Command: `{command}`",
        f"- {args.events} events × {args.decisions} decisions, {args.concurrency} in flight; one at a time: "
        f"{args.sequential} events × {args.decisions}; best of {args.rounds} alternating rounds per side; "
        f"total {wall:.0f} s",
        "",
        "| Figure | Engine | Baseline | Engine / baseline | Target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        verdict = "" if r.ok is None else ("PASS" if r.ok else "MISS")
        out.append(f"| {r.figure} | {fmt(r.engine, r.unit)} | {fmt(r.base, r.unit)} | {fmt(r.ratio)} | "
                   f"{r.target} | {verdict} |")
    if extra:
        out += ["", "| Dashboard (engine) | Time | Target | |", "|---|---:|---|---|", *extra]
    return "\n".join(out)
