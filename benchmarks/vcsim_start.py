"""How fast Accord's vcsim starts and how long seeding takes. A script, not a test.

1. ``VcsimProcess(...).start()`` (the binary already built): from launching the process to its
   URL line, then ``stop()``, ``--runs`` times: median and max of start, stop and login.
2. ``seed()`` of ``--vms`` VMs (default 100, `VmSpec`'s defaults: 4 vCPUs, 8 GB, one 100 GB
   disk, a CD-ROM, powered on) spread over ``--hosts`` hosts, ``--seed-runs`` times, each on a
   fresh vcsim: median and max, and per VM.

Usage: ``.venv/bin/python benchmarks/vcsim_start.py [--runs 20] [--vms 100] [--hosts 2]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyVim.connect import Disconnect  # noqa: E402

from simulator.vcsim.build import vcsim_binary  # noqa: E402
from simulator.vcsim.launcher import VcsimProcess  # noqa: E402
from simulator.vcsim.seed import default_spec, seed  # noqa: E402

USERNAME = "bench"
PASSWORD = "bench-password"


def _report(label: str, seconds: list[float]) -> None:
    print(
        f"{label:<40} median {statistics.median(seconds) * 1000:8.1f} ms   "
        f"max {max(seconds) * 1000:8.1f} ms   (n={len(seconds)})"
    )


def start_stop(runs: int, hosts: int) -> None:
    """Time start(), the first login and stop()."""
    starts, logins, stops = [], [], []
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        for _ in range(runs):
            process = VcsimProcess(Path(tmp), USERNAME, PASSWORD, hosts=hosts)
            began = time.perf_counter()
            process.start()
            started = time.perf_counter()
            Disconnect(process.connect())
            logged_in = time.perf_counter()
            process.stop()
            stopped = time.perf_counter()
            starts.append(started - began)
            logins.append(logged_in - started)
            stops.append(stopped - logged_in)
    _report(f"start() to URL line ({hosts} host(s))", starts)
    _report("login (TLS, SmartConnect) and logout", logins)
    _report("stop() (SIGTERM to exit)", stops)


def seeding(vms: int, hosts: int, runs: int) -> None:
    """Time seed() of ``vms`` VMs on a fresh vcsim."""
    names = [f"pexip-{i:03d}" for i in range(vms)]
    host_names = [f"DC0_H{i}" for i in range(hosts)]
    spec = default_spec({"all": names}, host_names)
    totals = []
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        for _ in range(runs):
            with VcsimProcess(Path(tmp), USERNAME, PASSWORD, hosts=hosts) as process:
                si = process.connect()
                began = time.perf_counter()
                seed(si, spec)
                totals.append(time.perf_counter() - began)
                Disconnect(si)
    _report(f"seed() of {vms} VMs on {hosts} host(s)", totals)
    _report("  per VM", [t / vms for t in totals])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--seed-runs", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    binary = vcsim_binary()
    print(f"binary: {binary} (ready in {time.perf_counter() - began:.1f} s)")
    start_stop(args.runs, args.hosts)
    seeding(args.vms, args.hosts, args.seed_runs)


if __name__ == "__main__":
    main()
