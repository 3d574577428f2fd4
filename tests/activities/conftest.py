"""Real outside systems for the activity tests: an SMTP server and a webhook receiver on 127.0.0.1.

Both run in threads of their own, so the activity under test talks to them over real sockets
exactly as it would to a mail relay or a subscriber's endpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from activities import LocalFolderStore, Notifier, SmtpConfig
from store import Database, Journal
from tests.activities.support import WEBHOOK_SECRET, Inbox, Receiver, free_port


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Controller, Inbox]) -> Inbox:
    smtp_server[1].messages.clear()
    smtp_server[1].defer = 0
    return smtp_server[1]


@pytest.fixture
def notifier(smtp_server: tuple[Controller, Inbox]) -> Notifier:
    controller, _ = smtp_server
    return Notifier(
        smtp=SmtpConfig(host="127.0.0.1", port=controller.port, mail_from="Convene <convene@example.org>", timeout=5),
        webhook_secret=WEBHOOK_SECRET,
        webhook_timeout=2,
    )


@pytest.fixture
def workers(smtp_server: tuple[Controller, Inbox], db: Database) -> Callable[[], Notifier]:
    """Makes notifiers as separate workers would have them: each its own memory, all one database."""
    controller, _ = smtp_server

    def make() -> Notifier:
        return Notifier(
            smtp=SmtpConfig(host="127.0.0.1", port=controller.port, mail_from="Convene <convene@example.org>",
                            timeout=5),
            webhook_secret=WEBHOOK_SECRET, webhook_timeout=2, journal=Journal(db),
        )

    return make


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = holder["r"].answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/convene?token=abc")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> LocalFolderStore:
    return LocalFolderStore(tmp_path / "archive")
