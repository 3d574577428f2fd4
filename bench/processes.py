"""The processes a benchmark measures: the dev server (the stack's launcher) and one side's worker
(``bench.worker``), with their CPU seconds and memory read from ``/proc``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path


from bench.progress import note
from convene.devserver import DevServer
from convene.settings import Settings
from workflows import search


ROOT = Path(__file__).resolve().parent.parent
PYCACHE = Path(tempfile.gettempdir()) / "convene-bench-pycache"

# --------------------------------------------------------------------------- server and workers


async def start_server(namespaces: list[str]) -> DevServer:
    """The stack's launcher: a headless dev server in memory on a free port, with every namespace the run uses."""
    server = DevServer(namespaces=namespaces, search_attributes=search.cli_flags())
    await server.start()
    await server.ready()
    return server


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process in MiB, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0]) / 1024
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used by the worker, the dev server and this driver process between start and stop."""

    def __init__(self, worker: int, server: int) -> None:
        self.pids = {"worker": worker, "server": server}
        self.start = self._read()
        self.used: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        return {name: proc_cpu(pid) for name, pid in self.pids.items()} | {"driver": time.process_time()}

    def stop(self) -> dict[str, float]:
        end = self._read()
        self.used = {k: end[k] - self.start[k] for k in end}
        return self.used


class WorkerProc:
    """One side's worker in its own process (``bench.worker``)."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    @classmethod
    async def start(cls, kind: str, address: str, task_queue: str, namespace: str = "default") -> WorkerProc:
        s = Settings()
        tuning = {"max_concurrent_activities": s.max_concurrent_activities,
                  "max_concurrent_workflow_tasks": s.max_concurrent_workflow_tasks,
                  "max_cached_workflows": s.max_cached_workflows}
        log = Path(tempfile.mkstemp(prefix=f"bench-{kind}-", suffix=".log")[1])
        # The sandbox re-imports the workflow's module for every workflow run: without cached bytecode
        # (PYTHONDONTWRITEBYTECODE, as in some containers) it compiles the source each time. Workers in
        # production have .pyc files; keep them in a cache outside the repository.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.worker", kind, "--address", address, "--namespace", namespace,
            "--task-queue", task_queue, "--tuning", json.dumps(tuning),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"), cwd=ROOT, env=env,
        )
        w = cls(proc, log)
        line = await asyncio.wait_for(proc.stdout.readline(), 60)  # type: ignore[union-attr]
        if line.strip() != b"ready":
            raise SystemExit(f"the {kind} worker did not start:\n{log.read_text()[-3000:]}")
        return w

    def memory(self) -> dict[str, float]:
        return proc_memory(self.proc.pid)

    async def stats(self) -> dict[str, int]:
        self.proc.stdin.write(b"stats\n")  # type: ignore[union-attr]
        await self.proc.stdin.drain()  # type: ignore[union-attr]
        line = await self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit(f"the worker exited:\n{self.log.read_text()[-3000:]}")
        while not line.startswith(b"{"):  # anything else a library printed to stdout
            sys.stderr.write(f"  worker: {line.decode(errors='replace').rstrip()}\n")
            line = await self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"the worker exited:\n{self.log.read_text()[-3000:]}")
        return json.loads(line)

    async def wait_activities(self, expected: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while True:
            n = (await self.stats())["activities"]
            if n >= expected or time.monotonic() > deadline:
                return n
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        t0 = time.perf_counter()
        with contextlib.suppress(Exception):
            self.proc.stdin.write(b"stop\n")  # type: ignore[union-attr]
            await self.proc.stdin.drain()  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if os.environ.get("BENCH_DEBUG"):
            note(f"worker stopped in {time.perf_counter() - t0:.1f} s")
        with contextlib.suppress(OSError):
            self.log.unlink()
