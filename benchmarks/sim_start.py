"""How fast the Pexip simulator starts (the requirement: under 1 s). A script, not a test.

1. ``ManagementNodeSimulator(..., node_listeners=True).start()`` then ``stop()`` with the
   default seed, in this process, with a warm key cache (one untimed start first), ``--runs``
   times: median and max of start, stop and both.
2. ``python -m accord sim --write-site TMPDIR``: from launching the process to its
   ``accord sim: ready`` line (then it is stopped with SIGTERM), ``--cli-runs`` times: median
   and max. This includes the interpreter's start and imports, and every simulator it runs.

Usage: ``.venv/bin/python benchmarks/sim_start.py [--runs 20] [--cli-runs 5]``
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.pexip import ManagementNodeSimulator  # noqa: E402

READY = "accord sim: ready"
CLI_TIMEOUT = 120.0


def _report(label: str, seconds: list[float]) -> None:
    print(
        f"{label:<40} median {statistics.median(seconds) * 1000:8.1f} ms   "
        f"max {max(seconds) * 1000:8.1f} ms   (n={len(seconds)})"
    )


def in_process(runs: int) -> None:
    """Time start() and stop() of a simulator with node listeners."""
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        workdir = Path(tmp)
        ManagementNodeSimulator(
            name="warm-up", password="bench", workdir=workdir, node_listeners=True
        ).start().stop()
        starts, stops, totals = [], [], []
        for i in range(runs):
            sim = ManagementNodeSimulator(
                name=f"bench-{i}", password="bench", workdir=workdir, node_listeners=True
            )
            began = time.perf_counter()
            sim.start()
            started = time.perf_counter()
            sim.stop()
            stopped = time.perf_counter()
            starts.append(started - began)
            stops.append(stopped - started)
            totals.append(stopped - began)
    _report("start() (node_listeners=True)", starts)
    _report("stop()", stops)
    _report("start() + stop()", totals)


def _cli_once() -> float:
    with tempfile.TemporaryDirectory(prefix="accord-bench-cli-") as tmp:
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "accord", "sim", "--write-site", tmp],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith(READY):
                    return time.perf_counter() - began
                if time.perf_counter() - began > CLI_TIMEOUT:
                    break
            raise RuntimeError(f"no {READY!r} line; stderr: {process.stderr.read()[-2000:]}")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def command_line(runs: int) -> None:
    """Time ``python -m accord sim`` from launch to its ready line."""
    _report("accord sim: launch to ready", [_cli_once() for _ in range(runs)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()
    in_process(args.runs)
    if args.cli_runs > 0:
        command_line(args.cli_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
