"""The one dev-server launcher (stack, bench, tests): it comes up on its file, keeps state across a restart,
refuses a busy port at once, and stops cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from convene.devserver import DevServer
from workflows import search


async def test_a_server_keeps_its_namespace_and_attributes_across_a_restart_and_stops(tmp_path: Path):
    """Ready means the namespace answers; the search attributes are registered; a stop ends the process."""
    server = DevServer(db=tmp_path / "temporal.db", namespaces=["convene-a", "convene-b"],
                       search_attributes=search.cli_flags(), log=tmp_path / "temporal.log")
    await server.start()
    try:
        client = await server.ready()
        assert client.namespace == "convene-a"
        assert (await client.count_workflows(f"{search.STAGE.name} = 'planning'")).count == 0
        await server.stop()
        assert server.proc is not None and server.proc.returncode is not None
        await server.start()  # same file, same port
        again = await server.ready()
        assert (await again.count_workflows()).count == 0
    finally:
        await server.stop()
    assert server.proc.returncode is not None
    assert (tmp_path / "temporal.db").exists()


async def test_a_busy_port_fails_fast_with_the_reason(tmp_path: Path):
    """A server whose port something else holds exits, and ready() says so instead of waiting out its minute."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DevServer(port=taken.getsockname()[1], log=tmp_path / "temporal.log")
        await server.start()
        try:
            with pytest.raises(RuntimeError, match=f"port {server.port} in use"):
                await server.ready(seconds=30)
        finally:
            await server.stop()
