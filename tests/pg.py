"""A throwaway PostgreSQL server for the tests (and the benchmark): the machine's own binaries, a temp dir.

    server = start_postgres()              # initdb + pg_ctl start on a free loopback port
    server.create_database("convene_test")
    url = server.url("convene_test")       # postgresql+asyncpg://postgres@127.0.0.1:PORT/convene_test
    server.stop()                          # stops it and removes the temp dir

``initdb`` and ``pg_ctl`` come from PATH or Debian's ``/usr/lib/postgresql/<version>/bin``
(``python3 run.py test`` installs Debian's ``postgresql`` when neither has them). The cluster
trusts every local connection, listens on 127.0.0.1 and on a unix socket in its temp dir, and
runs with fsync, synchronous commit and full-page writes off: fast, and lost if the machine
crashes, which is fine for data that lives one test session.

PostgreSQL refuses to run as root. As root, the server runs as the ``postgres`` system user
(Debian's package creates it; if nobody has, this creates it with ``useradd``), and its temp
dir is handed to that user.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPERUSER = "postgres"
"""The cluster's superuser (``initdb -U``), whatever the OS user running the server."""

SERVER_USER = "postgres"
"""The OS user that runs the server when we are root."""

SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (``initdb`` and ``pg_ctl``)."""


class PostgresFailed(RuntimeError):
    """The binaries are there but the server would not set up or start; the message has its log."""


def find_bindir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``: PATH first, else the newest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        # Resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb): the
        # real directory also holds `postgres`, which pg_ctl looks for beside itself.
        bindir = Path(pg_ctl).resolve().parent
        if (bindir / "initdb").exists():
            return bindir
    candidates = [
        d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    candidates.sort(key=lambda d: [int(p) if p.isdigit() else 0 for p in d.parent.name.split(".")], reverse=True)
    return candidates[0] if candidates else None


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run it as ourselves (we are not root)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        _create_server_user()
        entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def _create_server_user() -> None:
    attempts = [
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", SERVER_USER],
        ["adduser", "--system", "--group", "--no-create-home", SERVER_USER],  # Debian without useradd
        ["adduser", "-S", "-D", "-H", SERVER_USER],  # BusyBox
    ]
    errors = []
    for cmd in attempts:
        if not shutil.which(cmd[0]):
            continue
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode == 0 or _user_exists(SERVER_USER):
            return
        errors.append(f"{' '.join(cmd)}: {done.stderr.strip()}")
    raise PostgresFailed(
        f"PostgreSQL will not run as root and there is no {SERVER_USER!r} user to run it as; "
        f"could not create one ({'; '.join(errors) or 'no useradd/adduser'})"
    )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A running throwaway cluster. ``url(name)`` is an SQLAlchemy URL for one of its databases."""

    bindir: Path
    root: Path
    port: int
    account: tuple[int, int] | None = None
    remove_root: bool = False
    _stopped: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, dbname: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """A plain libpq/asyncpg DSN (no SQLAlchemy driver part)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database (name: lower-case letters, digits, underscores); returns its URL."""
        self.execute(f'CREATE DATABASE "{_checked(name)}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connections still open to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement as the superuser. Safe to call with or without a running event loop."""
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.dsn(dbname), timeout=30)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        _in_thread(run)

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and remove its temp dir if we made it."""
        if self._stopped:
            return
        self._stopped = True
        if (self.datadir / "postmaster.pid").exists():
            _run(self, ["pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "-t", "30", "stop"], check=False)
        if self.remove_root:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(tmp: Path | None = None, *, attempts: int = 3) -> PgServer:
    """Initialise a cluster in ``tmp`` (default: a new temp dir, removed by ``stop()``) and start it.

    As root the server runs as the ``postgres`` user, who must be able to reach ``tmp`` (pytest's
    ``tmp_path`` is under a root-only directory: leave ``tmp`` out there). The socket path must
    stay short (about 100 characters), so keep ``tmp`` near the file system's root.

    Raises:
        PostgresUnavailable: there are no server binaries.
        PostgresFailed: the cluster could not be created or started (the message carries the log).
    """
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; "
            "`python3 run.py test` installs Debian's postgresql as root, or: apt-get install postgresql"
        )
    account = _server_account()
    remove_root = tmp is None
    root = Path(tempfile.mkdtemp(prefix="convene-pg-")) if tmp is None else Path(tmp)
    root.mkdir(parents=True, exist_ok=True)
    if account is not None:
        os.chown(root, *account)
    server = PgServer(bindir=bindir, root=root, port=0, account=account, remove_root=remove_root)
    try:
        _run(server, ["initdb", "-D", str(server.datadir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                      "--locale=C", "--no-sync"])
        for attempt in range(attempts):
            server.port = _free_port()
            options = " ".join([  # pg_ctl hands these to the server through /bin/sh: quoted
                f"-p {server.port}",
                f"-k {shlex.quote(str(server.socket_dir))}",
                *(f"-c {k}={v}" for k, v in SETTINGS.items()),
            ])
            started = _run(server, ["pg_ctl", "-D", str(server.datadir), "-l", str(server.log), "-o", options,
                                    "-w", "-t", "60", "start"], check=False)
            if started.returncode == 0:
                break
            # Someone took the port between our probe and the server's bind: try another.
            if "could not bind" not in _tail(server.log) or attempt == attempts - 1:
                raise PostgresFailed(
                    f"pg_ctl start failed ({started.returncode}):\n{started.stdout}\n{_tail(server.log)}"
                )
    except BaseException:
        server.stop()
        raise
    atexit.register(server.stop)  # even if the session ends without its finaliser
    return server


def _run(server: PgServer, cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary from the server's bindir, as the server's OS user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env |= {"LC_ALL": "C", "LANG": "C"}  # a machine without the caller's locale must not break initdb
    extra: dict[str, Any] = {}
    if server.account is not None:
        uid, gid = server.account
        extra = {"user": uid, "group": gid, "extra_groups": []}
        env["HOME"] = str(server.root)
    done = subprocess.run([str(server.bindir / cmd[0]), *cmd[1:]], cwd=server.root, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **extra)
    if check and done.returncode != 0:
        raise PostgresFailed(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{_tail(server.log)}")
    return done


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits and underscores")
    return name


def _in_thread(coro_fn: Any) -> None:
    """Run a coroutine function to completion on its own loop in another thread (works inside a running loop)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            errors.append(exc)

    thread = threading.Thread(target=target, name="pg-admin")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


__all__ = ["PgServer", "PostgresFailed", "PostgresUnavailable", "find_bindir", "start_postgres"]
