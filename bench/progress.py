"""Printing progress on stderr and pacing concurrent work: a bar, a note, a bounded gather, a percentile."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any




def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(min(rank, len(ordered))) - 1]


# --------------------------------------------------------------------------- progress


class Bar:
    """A text progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self._drawn = label, max(total, 1), 0, 0.0
        self.tty = sys.stderr.isatty()
        self._t0 = time.perf_counter()
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False, end: str = "") -> None:
        now = time.perf_counter()
        if not force and now - self._drawn < (0.1 if self.tty else 5.0):
            return
        self._drawn = now
        width = 30
        filled = int(width * min(self.done, self.total) / self.total)
        line = (f"  {self.label:<40} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} {now - self._t0:6.1f}s ")
        sys.stderr.write(("\r" + line + end) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def close(self) -> None:
        self._draw(force=True, end="\n")


def note(msg: str) -> None:
    sys.stderr.write(f"  {msg}\n")
    sys.stderr.flush()


async def gather_limited(n: int, limit: int, fn: Callable[[int], Awaitable[Any]], bar: Bar | None = None) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(i: int) -> Any:
        async with sem:
            result = await fn(i)
        if bar:
            bar.advance()
        return result

    return await asyncio.gather(*(one(i) for i in range(n)))
