"""`accord sim`'s lines, and a process harness that starts it and waits for them.

The protocol, written and read here only: one line per simulated system,
``<name> https://<user>:<password>@<host>:<port>/`` (user and password URL-quoted; the lines
carry lab credentials, so a reader keeps them in memory only), then the ready line
``accord sim: ready; site file <path>; stop with Ctrl-C`` once the site file is written.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from simulator.core.lines import LinesEnded, ProcessLines

READY = re.compile(r"^accord sim: ready")


def system_line(name: str, url: str, username: str, password: str) -> str:
    """The line naming one simulated system (``url`` as ``https://host:port/...``)."""
    host = url.removeprefix("https://")
    return f"{name} https://{quote(username, safe='')}:{quote(password, safe='')}@{host}"


def ready_line(site_file: Path) -> str:
    """The line saying every simulator is up and the site file is written."""
    return f"accord sim: ready; site file {site_file}; stop with Ctrl-C"


class SimProcessError(RuntimeError):
    """`accord sim` exited or did not become ready in time."""


class SimProcess:
    """`accord sim --write-site DIR [--site FILE]` as a child process.

    The lines it prints carry lab credentials: they are read and dropped, never logged.
    """

    def __init__(self, directory: Path, site: Path | None = None) -> None:
        self.directory = directory
        self.site_file = directory / "site.toml"
        self._args = [sys.executable, "-m", "accord", "sim", "--write-site", str(directory)]
        if site is not None:
            self._args += ["--site", str(site)]
        self._proc: subprocess.Popen[str] | None = None
        self._lines: ProcessLines | None = None

    def _seen(self, line: str) -> None:
        """Lines before the ready line name the systems with their credentials: not kept."""

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 20.0) -> str:
        """The first line matching ``pattern``; `SimProcessError` on exit or timeout."""
        if self._lines is None:
            raise SimProcessError("accord sim is not started")
        try:
            return self._lines.wait_for(pattern, timeout, self._seen).string
        except TimeoutError:
            raise SimProcessError(
                f"accord sim: no line matching {pattern.pattern!r} in time"
            ) from None
        except LinesEnded as ended:
            raise SimProcessError(
                f"accord sim exited ({ended.code}) before {pattern.pattern!r}"
            ) from None

    def start(self, timeout: float = 180.0) -> SimProcess:
        """Start and wait until ready (the first start on a machine builds the key cache)."""
        self._proc = subprocess.Popen(
            self._args, stdout=subprocess.PIPE, stderr=None, text=True, bufsize=1
        )
        self._lines = ProcessLines(self._proc, "accord-sim-stdout")
        self.wait_for(READY, timeout)
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
