"""The run's state: one object in pytest's stash (`RUN`), and each scenario's in its item's
(`ITEM`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from pytest_bdd.parser import Scenario

from accord.evidence.model import (
    AttestationRecord,
    InScope,
    Observation,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    WaiverRecord,
    attestation_from_json,
    jsonable,
    scope_from_json,
    waiver_from_json,
)
from accord.pytest.sites import RunSite
from accord.requirements import Requirement

REPLAY = "replay"  # the target that re-runs the scenarios from a recording
# What a replay's results say when its target never said which recording (no scenario reached
# the `systems` fixture): still never a live verification.
REPLAYED = "replayed from a recording"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().date()


@dataclass
class StepState:
    keyword: str
    text: str
    status: Literal["passed", "failed", "skipped"] = "skipped"  # until it passes or fails
    started: float = 0.0
    duration: float = 0.0


@dataclass
class ScenarioState:
    """What one scenario's item has shown so far."""

    scenario: Scenario | None = None  # set when its steps start (pytest-bdd's hook)
    steps: list[StepState] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    statuses: list[tuple[Status, str | None]] = field(default_factory=list)
    started: float | None = None
    duration: float = 0.0


@dataclass
class SiteFacts:
    """What the `systems` fixture learnt of one site: its file's SHA-256, its waivers and
    attestations, and its scope (`remember_scope`)."""

    sha256: str
    waivers: list[WaiverRecord]
    attestations: list[AttestationRecord]
    scope: tuple[InScope, ...] = ()
    scope_notes: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()  # `target_requests`

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "waivers": [jsonable(asdict(w)) for w in self.waivers],
            "attestations": [jsonable(asdict(a)) for a in self.attestations],
            "scope": [asdict(item) for item in self.scope],
            "scope_notes": list(self.scope_notes),
            "requests": list(self.requests),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteFacts:
        return cls(
            data["sha256"],
            [waiver_from_json(w) for w in data["waivers"]],
            [attestation_from_json(a) for a in data["attestations"]],
            scope_from_json(data.get("scope", [])),
            tuple(data.get("scope_notes", [])),
            tuple(data.get("requests", [])),
        )


@dataclass
class Run:
    """The run: made by `accord.pytest.run` when pytest is configured (its sites, its reports
    folder), filled by `accord.pytest.evidence` (the catalogue, every scenario's result) and
    by the `systems` fixture (each site's facts), read by the progress lines, the xdist
    transport and the writers."""

    sites: tuple[RunSite, ...]
    folder: Path | None = None  # the reports folder (a features run's controller only)
    worker: bool = False  # an xdist worker of a features run: collects, writes nothing
    target: str = ""  # the run's --target
    started: dt.datetime = field(default_factory=lambda: now())
    catalogue: dict[str, Requirement] = field(default_factory=dict)
    facts: dict[str, SiteFacts] = field(default_factory=dict)  # by site name
    # What the replay target said of each site's recording (`replayed_from`), by site name ("":
    # said without one).
    replayed: dict[str, list[str]] = field(default_factory=dict)
    items: dict[str, pytest.Item] = field(default_factory=dict)
    pending: Counter[tuple[str, str]] = field(default_factory=Counter)  # (site, requirement)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    finished: dict[str, ScenarioResult] = field(default_factory=dict)  # by node ID
    # On the controller of an xdist run: every scenario the workers collected, in collection
    # order, each with its result once a worker finished it (a "not run" one until then).
    collected: dict[str, ScenarioResult] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)  # node IDs a worker finished
    announced: set[tuple[str, str]] = field(default_factory=set)
    expected: int = 0  # (site, requirement) pairs whose progress line is to come
    problems: list[str] = field(default_factory=list)  # reports not written
    target_problems: list[str] = field(default_factory=list)  # what the targets found after
    failed_by_site: list[RequirementResult] = field(default_factory=list)
    result: RunResult | None = None

    @property
    def several(self) -> bool:
        return len(self.sites) > 1

    def remember_replay(self, key: str, sentence: str) -> None:
        """What the replay target said of a site's recording (``key``: the site's name)."""
        said = self.replayed.setdefault(key, [])
        if sentence not in said:
            said.append(sentence)

    def replayed_sentence(self, site: str | None = None) -> str | None:
        """What a site's results say of their provenance (``site`` None: the whole run's, every
        sentence said); None for a run that is not a replay."""
        if site is None:
            said = [s for sentences in self.replayed.values() for s in sentences]
        else:
            said = self.replayed.get(site) or self.replayed.get("", [])
        if said:
            return "; ".join(dict.fromkeys(said))
        return REPLAYED if self.target == REPLAY or self.replayed else None

    @property
    def collecting(self) -> bool:
        """Whether this run collects scenarios' results (a features run)."""
        return self.folder is not None or self.worker


RUN = pytest.StashKey[Run]()
ITEM = pytest.StashKey[ScenarioState]()


def run_of(config: pytest.Config) -> Run | None:
    """The run, when it is a features run (it collects scenarios); None otherwise."""
    run = config.stash.get(RUN, None)
    return run if run is not None and run.collecting else None


def scenario_of(item: pytest.Item) -> ScenarioState:
    """What one scenario's item has shown so far."""
    if ITEM not in item.stash:
        item.stash[ITEM] = ScenarioState()
    return item.stash[ITEM]
