#!/usr/bin/env python3
"""Set up and run Convene with nothing but Python 3.11+.

    python3 run.py stack   # the whole stack on the embedded dev server, with a demo event
    python3 run.py test    # the test suite

Creates .venv (once), installs the pinned versions from constraints.txt (again
only when pyproject.toml or constraints.txt change), then runs the command.
`test` also installs what the tests need from Debian when it is missing and it
can (as root with apt-get): chromium for the browser tests, fonts-noto-cjk for
their Chinese pages, and postgresql, whose initdb/pg_ctl start a throwaway server
for the database tests (tests/pg.py).
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


def can_apt() -> bool:
    """We may install Debian packages: root, with apt-get."""
    return bool(shutil.which("apt-get")) and hasattr(os, "geteuid") and os.geteuid() == 0


def has_postgres() -> bool:
    """initdb and pg_ctl, where tests/pg.py looks: on PATH or in Debian's /usr/lib/postgresql/*/bin."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return True
    return any((d / "initdb").exists() and (d / "pg_ctl").exists() for d in Path("/usr/lib/postgresql").glob("*/bin"))


def missing_test_packages() -> dict[str, str]:
    """Debian packages the tests drive that this machine lacks, each with what happens without it."""
    missing = {}
    if not shutil.which("chromium"):
        missing["chromium"] = "tests/e2e will fail (Playwright drives it and never downloads a browser)"
    if not has_postgres():
        missing["postgresql"] = "the PostgreSQL database tests will skip here and fail on CI"
    if not has_cjk_font():
        missing["fonts-noto-cjk"] = ("tests/e2e's Chinese pages will fail (without a CJK font Chromium draws "
                                     "boxes, and the README's Chinese screenshots would show them)")
    return missing


def has_cjk_font() -> bool:
    """True when fontconfig knows a font for Chinese (Debian's fonts-noto-cjk, or any other)."""
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def ensure_test_packages() -> None:
    """Install the missing ones in one go (one `apt-get update`), or say what will go wrong without them."""
    missing = missing_test_packages()
    if not missing:
        return
    if can_apt():
        print(f"installing Debian's {' and '.join(missing)} for the tests ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)
        return
    for package, consequence in missing.items():
        print(f"warning: no {package} here; {consequence}. Install it (e.g. apt-get install {package}).",
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
        ensure_test_packages()
    cmd = [*commands[argv[0]], *argv[1:]]
    code = subprocess.call(cmd, cwd=ROOT)
    if argv[0] == "test" and code == 5:
        print("pytest collected no tests: that is a failure here", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
