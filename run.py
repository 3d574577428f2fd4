#!/usr/bin/env python3
"""Set up and run Convene with nothing but Python 3.11+.

    python3 run.py stack   # the whole stack on the embedded dev server, with a demo event
    python3 run.py test    # the test suite

Creates .venv (once), installs the pinned versions from constraints.txt (again
only when pyproject.toml or constraints.txt change), then runs the command.
`test` also installs Debian's chromium for the browser tests when it is missing
and it can (as root with apt-get).
Extra arguments go to the command (e.g. `python3 run.py test -k walk`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".convene-installed"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Convene needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing pinned dependencies (constraints.txt) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def ensure_browser() -> None:
    """The dashboard's end-to-end tests drive Debian's Chromium (Playwright never downloads one)."""
    if shutil.which("chromium"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("installing Debian's chromium for the browser tests ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, stdout=subprocess.DEVNULL)
        return
    print("warning: no `chromium` on PATH; tests/e2e will fail. Install it (e.g. apt-get install chromium).",
          file=sys.stderr)


def main(argv: list[str]) -> int:
    commands = {
        "stack": [str(BIN / "convene"), "dev"],
        "test": [str(BIN / "python"), "-m", "pytest"],
    }
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    ensure_environment()
    if argv[0] == "test":
        ensure_browser()
    cmd = [*commands[argv[0]], *argv[1:]]
    code = subprocess.call(cmd, cwd=ROOT)
    if argv[0] == "test" and code == 5:
        print("pytest collected no tests: that is a failure here", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
