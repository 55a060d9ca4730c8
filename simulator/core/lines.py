"""The lines a child process prints, read in a thread and waited for with a deadline.

Shared by the process harnesses (`lab.process.SimProcess`, `simulator.vcsim.launcher`):
the lines may carry lab credentials, so they are kept in memory only, never logged.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable


class LinesEnded(RuntimeError):
    """The process closed its output (exited) before a matching line; ``code`` is its exit."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"exited ({code})")
        self.code = code


class ProcessLines:
    """Standard output of ``proc`` (opened in text mode), one line at a time."""

    def __init__(self, proc: subprocess.Popen[str], name: str = "child-stdout") -> None:
        self._proc = proc
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True, name=name)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the reader to reach the end of the output (after the process exited)."""
        self._thread.join(timeout)

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(
        self,
        pattern: re.Pattern[str],
        timeout: float,
        seen: Callable[[str], None] | None = None,
    ) -> re.Match[str]:
        """The match of the first line ``pattern`` matches from its start (``seen`` gets every
        line read on the way); `TimeoutError` after ``timeout`` seconds, `LinesEnded` when the
        process ends first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no line matching {pattern.pattern!r} in {timeout:g} s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise LinesEnded(self._proc.wait())
            if seen is not None:
                seen(line)
            match = pattern.match(line)
            if match:
                return match
