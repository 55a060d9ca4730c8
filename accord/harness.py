"""A process harness for `accord sim`: start it, wait for its lines, stop it."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

READY = re.compile(r"^accord sim: ready")
SYSTEM = re.compile(r"^(?P<name>pexip-\w+) (?P<url>https://\S+)$")


class SimProcessError(RuntimeError):
    """`accord sim` exited or did not become ready in time."""


class SimProcess:
    """`accord sim --write-site DIR [--site FILE]` as a child process.

    The lines it prints carry lab credentials, so they are kept in memory only and never
    logged; `systems` holds only the names.
    """

    def __init__(self, directory: Path, site: Path | None = None) -> None:
        self.directory = directory
        self.site_file = directory / "site.toml"
        self._args = [sys.executable, "-m", "accord", "sim", "--write-site", str(directory)]
        if site is not None:
            self._args += ["--site", str(site)]
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.systems: list[str] = []

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 20.0) -> str:
        """The first line matching ``pattern``; `SimProcessError` on exit or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SimProcessError(f"accord sim: no line matching {pattern.pattern!r} in time")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self._proc.wait() if self._proc else None
                raise SimProcessError(f"accord sim exited ({code}) before {pattern.pattern!r}")
            match = SYSTEM.match(line)
            if match:
                self.systems.append(match["name"])
            if pattern.search(line):
                return line

    def start(self, timeout: float = 180.0) -> SimProcess:
        """Start and wait until ready (the first start on a machine builds the key cache)."""
        self._proc = subprocess.Popen(
            self._args, stdout=subprocess.PIPE, stderr=None, text=True, bufsize=1
        )
        threading.Thread(target=self._pump, daemon=True).start()
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
