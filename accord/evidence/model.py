"""The run's evidence, in one typed model every report format is written from.

A `pytest features/` run yields ``ScenarioResult``s (each with the requirement IDs it is tagged
with, its outcome and what its steps observed, already redacted). ``rollup`` turns them, with the
site's waivers and attestations and the requirement catalogue, into one ``RequirementResult``
per requirement ID, with a fixed precedence of statuses (``PRECEDENCE``): the worst status of its
scenarios wins, so a requirement passes only when every scenario proving it passed.

``RunResult`` is the whole run (who, what, when, against which site and target); it is written
as ``results.json`` in the run's reports folder and read back by every writer
(`accord.evidence.formats`) and by `accord evidence diff`. Times are UTC.

A run of ``--target replay`` re-ran its scenarios against a recording of a live site, not the
site itself: its ``replayed_from`` and every one of its requirement results' say so ("replayed
from a recording made at <time> of <site>"), and every report format shows it with each
requirement, so that a replay never reads as a live verification. Both are None for any other
run (and in a results.json written before replays existed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from accord.requirements import Requirement

Status = Literal["failed", "error", "not run", "not applicable", "waived", "attested", "passed"]
# Worst first: a requirement takes the first of these that any of its scenarios has.
PRECEDENCE: tuple[Status, ...] = (
    "failed",
    "error",
    "not run",
    "not applicable",
    "waived",
    "attested",
    "passed",
)
Proof = Literal["config", "wire", "act", "attest"]
EVIDENCE_DIR = "evidence"  # each scenario's observations, one JSON file each (`evidence_slugs`)


@dataclass(frozen=True)
class Observation:
    """What one step observed (already redacted: never a secret), against its scenario."""

    step: str  # the step's text, as in the feature file
    what: str  # a short label ("primary (pra1.lab.example), access.lab.example")
    value: Any  # JSON-able: the request and answer, the handshake and chain, the probe...
    at: dt.datetime


@dataclass(frozen=True)
class StepResult:
    keyword: str  # Given / When / Then / And
    text: str
    status: Literal["passed", "failed", "skipped"]
    duration: float  # seconds


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario (an Outline's example counts as one): its requirement tags, outcome and
    the reason for anything but passed (the failure message, "not run: ...", "attested: ...")."""

    feature: str  # path relative to the repository, e.g. "features/pexip/snmp.feature"
    name: str
    requirements: tuple[str, ...]
    status: Status
    reason: str | None
    steps: tuple[StepResult, ...]
    observations: tuple[Observation, ...]
    started: dt.datetime
    duration: float
    site: str = ""  # the site's name (several sites in one run)


@dataclass(frozen=True)
class WaiverRecord:
    """A site's accepted deviation: the requirement reports "waived" until ``expires`` (UTC
    day), then "failed"."""

    id: str
    reason: str
    approver: str
    date: dt.date
    expires: dt.date


@dataclass(frozen=True)
class AttestationRecord:
    """A site's statement of what no API can read (`accord.site.Attestation`)."""

    id: str
    statement: str
    by: str
    date: dt.date
    expires: dt.date


@dataclass(frozen=True)
class InScope:
    """A system the run verified, or a node, host, VM or appliance of one it saw
    (`accord.evidence.scope`): what it is, its name, where it was reached or what address it
    reports, its version where an API tells it, and its role in the site."""

    kind: str  # "Pexip Management Node", "ESXi host", "BeyondTrust appliance"...
    name: str
    address: str = ""
    version: str = ""
    role: str = ""  # "primary deployment", "scratch: the guides' actions only"...


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: Status
    reason: str | None  # why, for anything but passed (the worst scenario's reason)
    scenarios: tuple[str, ...]  # names of the scenarios that carry the ID
    waiver: WaiverRecord | None = None
    attestation: AttestationRecord | None = None
    site: str = ""
    replayed_from: str | None = None  # "replayed from a recording made at ... of hq"


@dataclass
class RunResult:
    """The run. With several sites (``--site`` given more than once) ``site_name`` names them
    all ("hq, dr"), ``site_sha256`` is empty, ``sites`` has each site file's SHA-256, and every
    requirement has one result per site (``RequirementResult.site``)."""

    accord_version: str
    site_name: str
    site_sha256: str  # of the site file as read (secrets file not included)
    target: str  # "sim", "live", "replay"
    started: dt.datetime
    ended: dt.datetime
    requirements: list[RequirementResult] = field(default_factory=list)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    sites: dict[str, str] = field(default_factory=dict)  # each site's name -> its file's SHA-256
    replayed_from: str | None = None  # a replay: "replayed from a recording made at ... of hq"
    # What each site's run verified and saw, and what could not be read of it (site -> ...).
    scope: dict[str, tuple[InScope, ...]] = field(default_factory=dict)
    scope_notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What verification sent each system of a site, beside its reads (site -> one line each):
    # configuration writes (none), the login probes and logouts, the probes on the wire.
    requests: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `accord evidence merge`: each merged run's folder name -> its manifest's SHA-256.
    merged_from: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (dates as ISO 8601 strings)."""
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """The run ``to_json`` wrote (``results.json``), read back; `KeyError`, `TypeError` or
        `ValueError` when it is not one."""
        return cls(
            accord_version=data["accord_version"],
            site_name=data["site_name"],
            site_sha256=data["site_sha256"],
            target=data["target"],
            started=_datetime(data["started"]),
            ended=_datetime(data["ended"]),
            requirements=[_requirement_result(r) for r in data["requirements"]],
            scenarios=[scenario_from_json(s) for s in data["scenarios"]],
            sites=dict(data.get("sites", {})),
            replayed_from=data.get("replayed_from"),
            scope={site: scope_from_json(items) for site, items in data.get("scope", {}).items()},
            scope_notes={site: tuple(n) for site, n in data.get("scope_notes", {}).items()},
            requests={site: tuple(r) for site, r in data.get("requests", {}).items()},
            merged_from=dict(data.get("merged_from", {})),
        )


SIMULATED = (
    "Not evidence about a real system: this run verified Accord's simulators (target sim), "
    "which stand in for a deployment"
)


def caveat(target: str, replayed_from: str | None = None) -> str | None:
    """What every report of a run that is no evidence about a real system says of it (None for
    a live run): a replay's provenance, or that the simulators were verified."""
    if replayed_from or target == "replay":
        return f"Not a live verification: {replayed_from or 'replayed from a recording'}"
    if target == "sim":
        return SIMULATED
    return None


def evidence_slugs(scenarios: Iterable[ScenarioResult]) -> list[str]:
    """A file name per scenario (``evidence/<slug>.json``, which the OSCAL writer writes and the
    HTML report links to): its name's slug and a short hash of what identifies it."""
    slugs: list[str] = []
    seen: set[str] = set()
    for s in scenarios:
        base = re.sub(r"[^a-z0-9]+", "-", s.name.lower()).strip("-")[:60].rstrip("-")
        key = hashlib.sha256(f"{s.site}|{s.feature}|{s.name}".encode()).hexdigest()[:8]
        slug, n = f"{base or 'scenario'}-{key}", 2
        while slug in seen:  # the same scenario twice in one run
            slug, n = f"{base or 'scenario'}-{key}-{n}", n + 1
        seen.add(slug)
        slugs.append(slug)
    return slugs


def worst(statuses: list[Status]) -> Status:
    """The status a requirement takes from its scenarios' statuses ("not run" for none)."""
    if not statuses:
        return "not run"
    return min(statuses, key=PRECEDENCE.index)


def jsonable(value: Any) -> Any:
    """A JSON-able copy of ``value`` (any of this module's records, as `dataclasses.asdict`
    gives them): dates as ISO 8601 strings, tuples as lists."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _status(value: str) -> Status:
    if value not in PRECEDENCE:
        raise ValueError(f"not a status: {value!r}")
    return cast(Status, value)


def scenario_from_json(data: dict[str, Any]) -> ScenarioResult:
    """A `ScenarioResult` from its `jsonable` form."""
    return ScenarioResult(
        feature=data["feature"],
        name=data["name"],
        requirements=tuple(data["requirements"]),
        status=_status(data["status"]),
        reason=data["reason"],
        steps=tuple(
            StepResult(
                keyword=s["keyword"], text=s["text"], status=s["status"], duration=s["duration"]
            )
            for s in data["steps"]
        ),
        observations=tuple(
            Observation(step=o["step"], what=o["what"], value=o["value"], at=_datetime(o["at"]))
            for o in data["observations"]
        ),
        started=_datetime(data["started"]),
        duration=data["duration"],
        site=data.get("site", ""),
    )


def _requirement_result(data: dict[str, Any]) -> RequirementResult:
    requirement = data["requirement"]
    waiver = data.get("waiver")
    attestation = data.get("attestation")
    return RequirementResult(
        requirement=Requirement(
            id=requirement["id"],
            text=requirement["text"],
            proof=requirement["proof"],
            guide=requirement["guide"],
            section=requirement["section"],
            stig=tuple(requirement.get("stig", ())),
            nist=tuple(requirement.get("nist", ())),
            mapping=requirement.get("mapping", "mapped"),
            sees=requirement.get("sees", ""),
            cannot_see=requirement.get("cannot_see", ""),
        ),
        status=_status(data["status"]),
        reason=data["reason"],
        scenarios=tuple(data["scenarios"]),
        waiver=None if waiver is None else waiver_from_json(waiver),
        attestation=None if attestation is None else attestation_from_json(attestation),
        site=data.get("site", ""),
        replayed_from=data.get("replayed_from"),
    )


def scope_from_json(items: list[dict[str, Any]]) -> tuple[InScope, ...]:
    """`InScope` records from their `jsonable` form."""
    return tuple(InScope(**{k: str(v) for k, v in item.items()}) for item in items)


def waiver_from_json(data: dict[str, Any]) -> WaiverRecord:
    """A `WaiverRecord` from its `jsonable` form."""
    return WaiverRecord(
        id=data["id"],
        reason=data["reason"],
        approver=data["approver"],
        date=_date(data["date"]),
        expires=_date(data["expires"]),
    )


def attestation_from_json(data: dict[str, Any]) -> AttestationRecord:
    """An `AttestationRecord` from its `jsonable` form."""
    return AttestationRecord(
        id=data["id"],
        statement=data["statement"],
        by=data["by"],
        date=_date(data["date"]),
        expires=_date(data["expires"]),
    )
