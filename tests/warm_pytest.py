"""A warm `pytest features/` for Accord's own tests: import once, fork a child per run.

Each mutation test runs `pytest features/` as a user would and reads its reports. A new Python
process per run spent about a second starting the interpreter and importing pytest, pytest-bdd,
requests, pyVmomi, cryptography, pysnmp and Accord's library before it collected anything. This
module is that process, kept warm: ``python -m tests.warm_pytest`` imports those once, then
reads one run per line on standard input (JSON: ``args``, ``env``, ``output``, ``timeout``),
forks a child that runs ``pytest.main(args)`` in the project root with exactly ``env`` as its
environment and its standard output and error in the file ``output``, waits for it (killing it
after ``timeout`` seconds), and answers one line (JSON: ``returncode``). The child is a fresh
pytest session: it parses its options, collects, runs and writes its reports as a new process
would; whatever it changes dies with it.

What is imported here is the library only, never a module pytest loads as a plugin or a test
module (``conftest.py``'s ``pytest_plugins``, ``features/``): pytest rewrites those modules'
asserts when it imports them, which it cannot do for a module already imported.

`WarmPytest` is the client: it starts the process on first use and stops it at exit. The
process is single-threaded, so forking it is safe.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The library a features run imports (what costs the time), never pytest's plugins or tests.
PRELOAD = (
    "pytest",
    "pytest_bdd",
    "xdist",
    "requests",
    "pyVmomi",
    "pyVim.connect",
    "vcr",
    "cryptography.x509",
    "pysnmp.hlapi.v3arch.asyncio",
    "pydantic",
    "accord.site",
    "accord.systems",
    "accord.targets",
    "accord.deployer",
    "accord.pexip.workbench",
    "accord.probes.tls",
    "accord.probes.http",
    "accord.probes.snmp",
    "accord.probes.sip",
    "accord.probes.ports",
    "accord.vsphere.inventory",
    "accord.beyondtrust.client",
    "accord.pki",
    "accord.recording.recorder",
    "accord.evidence.model",
    "accord.evidence.rollup",
    "accord.pytest.sites",
)
POLL = 0.005  # seconds between checks whether a child has finished


def _child(request: dict[str, Any]) -> None:
    """In the forked child: the run itself; never returns."""
    code = 70  # EX_SOFTWARE: the child failed before pytest could say anything
    try:
        os.chdir(ROOT)
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        import pytest

        code = int(pytest.main(request["args"]))
    except BaseException as exc:  # noqa: BLE001 - say what happened, in the run's output
        print(f"warm pytest: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> int:
    """The child's exit code (a negative signal number if killed), killing it at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(POLL)


def serve() -> None:
    """Import the library, then run each request in a forked child until standard input ends."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        code = _wait(pid, float(request["timeout"]))
        print(json.dumps({"returncode": code}), flush=True)


class WarmPytest:
    """The client: `run` one `pytest` in the warm process (started at first use)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.warm_pytest"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self._answer(self._process)
            atexit.register(self.stop)
        return self._process

    @staticmethod
    def _answer(process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the warm pytest process exited ({process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
        """``pytest ARGS`` in the project root with environment ``env``: its exit code (negative
        when killed at ``timeout``) and everything it printed."""
        with self._lock, tempfile.TemporaryDirectory(prefix="accord-warm-") as folder:
            output = Path(folder) / "output.txt"
            process = self._started()
            assert process.stdin is not None
            request = {"args": args, "env": env, "output": str(output), "timeout": timeout}
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            code = int(self._answer(process)["returncode"])
            text = output.read_text(errors="replace") if output.exists() else ""
            return code, text

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    serve()
