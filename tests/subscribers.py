"""A webhook subscriber's endpoint on 127.0.0.1, written as the Standard Webhooks docs say: it verifies
each delivery with the ``standardwebhooks`` library (id, timestamp within 5 minutes, a signature by the
secret it holds) and answers 401 otherwise. Used by the subscription tests (organisations' webhooks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Subscriber:
    """What one endpoint received. `secret` is set once the subscription (and so its secret) exists;
    `unavailable` answers that many deliveries 503 first (a receiver that is down for a while)."""

    secret: str = ""
    url: str = ""
    unavailable: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.hits += 1
            if self.unavailable > 0:
                self.unavailable -= 1
                return 503
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as err:
                self.refused.append(str(err))
                return 401
            self.accepted.append(json.loads(body))
            self.headers.append(headers)
            return 200

    def keys(self) -> list[str]:
        with self._lock:
            return [m["key"] for m in self.accepted]

    def kinds(self) -> set[str]:
        with self._lock:
            return {m["kind"] for m in self.accepted}


class Answers(Protocol):
    """A test receiver: answers a POST (its headers, lower-cased, and its body) with a status; told its URL."""

    url: str

    def answer(self, headers: dict[str, str], body: bytes) -> int: ...


@contextmanager
def serving(targets: Iterable[Answers]) -> Iterator[None]:
    """Each of `targets` on its own loopback port (its ``url`` set to ``.../hooks``), until the block ends."""
    servers: list[ThreadingHTTPServer] = []
    for me in targets:

        class Handler(BaseHTTPRequestHandler):
            target = me

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = self.target.answer({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        me.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def subscribers(n: int) -> Iterator[list[Subscriber]]:
    """`n` endpoints, each on its own loopback port."""
    made = [Subscriber() for _ in range(n)]
    with serving(made):
        yield made
