"""Run `pytest features/` as a user would and read back which scenarios failed.

Each run is a fresh pytest session forked from a warm process that has already imported the
library (`tests.warm_pytest`); ``ACCORD_TESTS_COLD=1`` runs each in a new Python process instead
(``python -m pytest``), as a user's shell would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from accord.requirements import TAG
from tests.warm_pytest import WarmPytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300.0
_WARM = WarmPytest()


@dataclass(frozen=True)
class Scenario:
    feature: str
    name: str
    tags: frozenset[str]
    status: str  # passed | failed | skipped


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    scenarios: list[Scenario]
    reports: Path

    def failed(self) -> set[str]:
        return {s.name for s in self.scenarios if s.status == "failed"}

    def tagged(self, requirement: str) -> set[str]:
        return {s.name for s in self.scenarios if requirement in s.tags}


def _status(steps: list[dict]) -> str:
    statuses = [step["result"]["status"] for step in steps]
    if "failed" in statuses:
        return "failed"
    if "skipped" in statuses:
        return "skipped"
    return "passed"


def read_cucumber(path: Path) -> list[Scenario]:
    scenarios = []
    for feature in json.loads(path.read_text()):
        for element in feature["elements"]:
            scenarios.append(
                Scenario(
                    feature["name"],
                    element["name"],
                    frozenset(t["name"] for t in element["tags"]),
                    _status(element["steps"]),
                )
            )
    return scenarios


def run_features(
    reports: Path, *args: str, env: dict[str, str] | None = None, evidence: str = "all"
) -> Run:
    """`pytest features/ -q --reports REPORTS --evidence EVIDENCE ARGS` from the project root
    (``env``: the run's whole environment, this process's by default). Mutation tests need only
    the statuses: they ask for ``minimal`` evidence."""
    arguments = ["features", "-q", "-p", "no:cacheprovider", "--reports", str(reports)]
    arguments += ["--evidence", evidence, *args]
    environment = dict(os.environ if env is None else env)
    if os.environ.get("ACCORD_TESTS_COLD") == "1":
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *arguments],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=environment,
            timeout=TIMEOUT,
        )
        code, output = done.returncode, done.stdout + done.stderr
    else:
        code, output = _WARM.run(arguments, environment, TIMEOUT)
    cucumber = reports / "latest" / "cucumber.json"
    scenarios = read_cucumber(cucumber) if cucumber.exists() else []
    return Run(code, output, scenarios, reports / "latest")


CATALOGUE_ROW = re.compile(r"^\| ([A-Z0-9]+(?:-[A-Z0-9]+)+) \|", re.M)


def tags(path: Path) -> set[str]:
    """The requirement IDs a feature file carries as tags."""
    return set(TAG.findall(path.read_text()))


def feature_tags() -> set[str]:
    """Every requirement ID any feature carries."""
    return set().union(*(tags(p) for p in (ROOT / "features").rglob("*.feature")))


def catalogue_ids() -> set[str]:
    """Every requirement ID of ../shared/requirements.md."""
    return set(CATALOGUE_ROW.findall((ROOT.parent / "shared" / "requirements.md").read_text()))


SCENARIO = re.compile(r"Scenario: (?P<name>.+)\n(?P<steps>(?:[ \t]+\S.*\n?)*)")


def attested_scenarios() -> set[str]:
    """Scenarios that end in an attestation (reported skipped, never passed, once their other
    steps hold)."""
    names: set[str] = set()
    for path in (ROOT / "features").rglob("*.feature"):
        for match in SCENARIO.finditer(path.read_text()):
            steps = match["steps"].strip().splitlines()
            if steps and steps[-1].strip().endswith("the site file attests it"):
                names.add(match["name"].strip())
    return names


def site_document_with_attestation(site_file: Path, requirement: str, *, expired: bool) -> dict:
    """A site file's document without the attestation of ``requirement`` (or with it expired
    yesterday): for mutation tests of what only an attestation proves."""
    document = tomllib.loads(site_file.read_text())
    kept = []
    for item in document.get("attestations", []):
        if item["id"] == requirement:
            if not expired:
                continue
            item["date"] = dt.date.today() - dt.timedelta(days=400)
            item["expires"] = dt.date.today() - dt.timedelta(days=1)
        kept.append(item)
    document["attestations"] = kept
    return document
