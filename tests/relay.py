"""A TCP relay a test can pause: what a client sends is held (not lost) until the relay is released.

It stands between one API process and Temporal, so a request can stall on the way, as it does when a
network path or a proxy hangs, and arrive later, after the world has moved on.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress


class Relay:
    """Forwards ``127.0.0.1:<port>`` to `upstream` (``host:port``), both ways, byte for byte.

    While paused, bytes from clients are held (``held`` counts them) and sent on :meth:`release`;
    answers from upstream always flow.
    """

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host or "127.0.0.1", int(port))
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.held = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flowing.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with suppress(asyncio.CancelledError, Exception):
                await task

    def pause(self) -> None:
        self.held = 0
        self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        for task in (self._pump(reader, up_writer, held=True), self._pump(up_reader, writer, held=False)):
            t = asyncio.ensure_future(task)
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, held: bool) -> None:
        try:
            while chunk := await reader.read(65536):
                if held and not self.flowing.is_set():
                    self.held += len(chunk)
                    await self.flowing.wait()
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
