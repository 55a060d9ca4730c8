"""The features run against pytest-bdd's own floor. A script, not a test.

Makes, in a temporary folder, a pytest-bdd project with as many trivial scenarios as
``features/`` has (one feature file, one Given and one Then step each, nothing else), then
times, as whole processes and pair by pair (the two interleaved so that a drift of the
machine's speed moves both):

- ``python -m pytest <bare project> -q -p no:cacheprovider``: pytest-bdd's own cost for that
  many scenarios (interpreter, imports, collection, run);
- ``python -m pytest features -q -p no:cacheprovider --reports TMP``: Accord's run on the default
  target (simulators started, the lab deployed, everything verified, every evidence format).

It prints the median, min and max of each, and of their ratio.

Usage: ``.venv/bin/python benchmarks/bare.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STEPS = """
from pytest_bdd import given, scenarios, then

scenarios("bare.feature")


@given("a thing")
def a_thing():
    return 1


@then("it is there")
def it_is_there():
    assert True
"""


def scenario_count() -> int:
    """How many scenarios ``pytest features --collect-only`` finds (outline examples
    included)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "features",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for line in done.stdout.splitlines() if "::" in line)


def make_bare(folder: Path, count: int) -> None:
    """A pytest-bdd project of ``count`` trivial scenarios in ``folder``."""
    body = ["Feature: bare", ""]
    for number in range(count):
        body += [f"  Scenario: thing {number}", "    Given a thing", "    Then it is there", ""]
    (folder / "bare.feature").write_text("\n".join(body))
    (folder / "test_bare.py").write_text(STEPS)
    (folder / "pytest.ini").write_text("[pytest]\n")


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}")
    return seconds


def _report(label: str, values: list[float], unit: str = "s") -> None:
    print(
        f"{label:<34} median {statistics.median(values):7.2f} {unit}   "
        f"min {min(values):7.2f}   max {max(values):7.2f}   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    count = scenario_count()
    with tempfile.TemporaryDirectory(prefix="accord-bare-") as tmp:
        bare = Path(tmp) / "bare"
        bare.mkdir()
        make_bare(bare, count)
        reports = Path(tmp) / "reports"
        bare_times, feature_times = [], []
        for _ in range(args.runs):
            bare_times.append(
                timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], bare)
            )
            feature_times.append(
                timed(
                    [
                        sys.executable, "-m", "pytest", "features", "-q",
                        "-p", "no:cacheprovider", "--reports", str(reports),
                    ],
                    REPO,
                )
            )  # fmt: skip
    print(f"{count} scenarios each")
    _report("pytest-bdd, trivial scenarios", bare_times)
    _report("pytest features/ (sim, all evidence)", feature_times)
    ratios = [f / b for f, b in zip(feature_times, bare_times, strict=True)]
    _report("ratio features / trivial", ratios, "x")


if __name__ == "__main__":
    main()
