"""How verification grows with a deployment: N Conferencing Nodes over N/10 locations. A
script, not a test.

For each N (default 10, 100 and 500):

1. ``accord sim --nodes N --locations max(1, N // 10) --write-site DIR`` (its start timed to its
   ready line), with ``[verification] concurrency`` and ``[pexip.certificates] key_type`` set in
   the site file it wrote. The key type is ECDSA P-256 by default (``--key-type``): the guide
   allows it, and every TLS handshake of every simulated node is served by the one simulator
   process on this machine, where an RSA signature per handshake is most of its work (a real
   deployment has a machine per node). For the same reason ``answer_timeout`` (how long a
   probe waits for an answer it expects, 3 s by default) is 10 s (``--answer-timeout``): at
   500 nodes that one process, sharing two cores with the verifier, answers some SNMP GETs
   after more than 3 s, where a real node answers from its own machine. A longer wait
   makes no wrong answer right (what comes is checked as before) and costs nothing when
   answers come at once; the waits for silence (``silence_timeout``) keep their default;
2. ``accord deploy --site DIR/site.toml`` (timed on its own: the deployer's work, not
   verification's);
3. the simulated Management Nodes' request logs cleared, then
   ``python -m pytest features --target live --site DIR/site.toml`` as a whole process: its
   wall time, its peak memory (the verifying process), the API requests it made to each
   Management Node (their request logs), the probes it sent (its own count) and its statuses;
4. the simulator's own peak memory, then it is stopped.

Usage: ``.venv/bin/python benchmarks/scale.py [--nodes 10 100 500] [--concurrency 512]``
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from accord.simcontrol import SimControl  # noqa: E402
from accord.site import load_site  # noqa: E402

READY = "accord sim: ready"
SENT = re.compile(r"accord: (\d+) probes on the wire")
STATUSES = re.compile(r"accord: 112 requirements: (.*)")


def _peak_mb(pid: int) -> float:
    """A running process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_sim(folder: Path, nodes: int) -> tuple[subprocess.Popen[str], float]:
    locations = max(1, nodes // 10)
    command = [sys.executable, "-m", "accord", "sim", "--write-site", str(folder)]
    command += ["--nodes", str(nodes), "--locations", str(locations)]
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY):
            return process, time.perf_counter() - began
    raise SystemExit(f"accord sim --nodes {nodes} exited ({process.wait()}) before it was ready")


def _configure(site_file: Path, concurrency: int, key_type: str, answer_timeout: float) -> None:
    document = tomllib.loads(site_file.read_text())
    document.setdefault("verification", {})["concurrency"] = concurrency
    document["verification"]["answer_timeout"] = answer_timeout
    document["pexip"].setdefault("certificates", {})["key_type"] = key_type
    site_file.write_text(tomli_w.dumps(document))


def _requests(site_file: Path, clear: bool) -> dict[str, int]:
    site = load_site(site_file)
    counts = {}
    for deployment in ("primary", "contingency"):
        control = SimControl.for_site(site, deployment)
        try:
            if clear:
                control.clear_requests()
            else:
                counts[deployment] = len(control.requests()["requests"])
        finally:
            control.close()
    return counts


def measure(
    nodes: int, concurrency: int, key_type: str, answer_timeout: float
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"accord-scale-{nodes}-") as tmp:
        folder = Path(tmp) / "lab"
        sim, started = _start_sim(folder, nodes)
        try:
            site_file = folder / "site.toml"
            _configure(site_file, concurrency, key_type, answer_timeout)
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "accord", "deploy", "--site", str(site_file)],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            deployed = time.perf_counter() - began
            _requests(site_file, clear=True)
            command = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider"]
            command += ["--target", "live", "--site", str(site_file)]
            command += ["--reports", str(Path(tmp) / "reports")]
            output = Path(tmp) / "verify.out"
            with output.open("w") as out:
                began = time.perf_counter()
                # CI=true: pytest's short summary keeps each failure's whole reason.
                env = os.environ | {"CI": "true"}
                run = subprocess.Popen(
                    command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env
                )
                _, status, usage = os.wait4(run.pid, 0)  # this child's own peak memory
                verified = time.perf_counter() - began
            run.returncode = os.waitstatus_to_exitcode(status)
            peak = usage.ru_maxrss / 1024
            text = output.read_text()
            sent = SENT.search(text)
            statuses = STATUSES.search(text)
            summary = text.partition("short test summary info")[2]
            for line in summary.splitlines()[1:]:
                if "::" in line:
                    print(f"  {nodes} nodes, not passed: {line.strip()}", flush=True)
            return {
                "nodes": nodes,
                "sim start s": started,
                "deploy s": deployed,
                "verify s": verified,
                "requests": _requests(site_file, clear=False),
                "probes": int(sent[1]) if sent else None,
                "verify peak MB": peak,
                "sim peak MB": _peak_mb(sim.pid),
                "statuses": statuses[1] if statuses else f"exit {run.returncode}",
            }
        finally:
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument(
        "--concurrency",
        type=int,
        default=512,
        help="the site file's [verification] concurrency (default 512)",
    )
    parser.add_argument(
        "--key-type",
        default="ECDSAP256",
        choices=("RSA2048", "RSA4096", "ECDSAP256"),
        help="the nodes' certificate keys the deployer asks for (default ECDSAP256)",
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=10.0,
        help="the site file's [verification] answer_timeout in seconds (default 10; see above)",
    )
    args = parser.parse_args()
    print(
        f"concurrency {args.concurrency}, node keys {args.key_type}, "
        f"answer timeout {args.answer_timeout:g} s"
    )
    header = (
        f"{'nodes':>6} {'sim start':>10} {'deploy':>8} {'verify':>8} {'API requests':>24} "
        f"{'probes':>7} {'verify peak':>12} {'sim peak':>9}  statuses"
    )
    print(header)
    for nodes in args.nodes:
        row = measure(nodes, args.concurrency, args.key_type, args.answer_timeout)
        requests = row["requests"]
        assert isinstance(requests, dict)
        shown = ", ".join(f"{k} {v}" for k, v in requests.items())
        print(
            f"{nodes:>6} {row['sim start s']:>9.1f}s {row['deploy s']:>7.1f}s "
            f"{row['verify s']:>7.1f}s {shown:>24} {row['probes']!s:>7} "
            f"{row['verify peak MB']:>9.0f} MB {row['sim peak MB']:>6.0f} MB  {row['statuses']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
