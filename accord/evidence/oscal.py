"""The run as OSCAL assessment results (`oscal-assessment-results.json`), built with
compliance-trestle's OSCAL models so that it is valid by construction.

- One observation per scenario: method ``TEST`` (a config, wire or act probe ran) or ``EXAMINE``
  (the scenario was settled by an attestation), and one ``EXAMINE`` observation per attestation
  record the site made. A scenario's observation points (``relevant-evidence`` ``href: #<uuid>``)
  at a back-matter resource whose ``rlinks`` name ``evidence/<scenario-slug>.json``, written next
  to the results: what the scenario's steps observed (already redacted), with the SHA-256 of the
  exact bytes written.
- One finding per requirement (per requirement and site when the run covers several sites: each
  has a ``site`` property, as do its scenarios' observations; the result names every site and
  its site file's SHA-256): its target is the requirement (``objective-id`` = the requirement
  ID), ``objective-status`` ``satisfied`` for passed and attested (and not applicable),
  ``not-satisfied`` for everything else; Accord's own status (waived, attested, not run...) is the
  ``accord-status`` property and leads the remarks.
- ``reviewed-controls``: the NIST SP 800-53 controls the requirements map to, in OSCAL form
  ("IA-2(12)" -> ``ia-2.12``); a statement part ("CM-6 b") selects the statement
  (``cm-6_smt.b``, as in NIST's OSCAL catalogue) and is named in the remarks.

A replay (``RunResult.replayed_from``) is never a live verification, and says so: the result's
description and ``replayed-from`` property, each finding's ``replayed-from`` property and remarks
("Not a live verification: replayed from a recording made at ... of hq."), and each scenario
observation's ``replayed-from`` property. A run against the simulator says in the same places that
it is no evidence about a real system (`accord.evidence.model.caveat`).

UUIDs are version 5 UUIDs of the run (site, start time) and the IDs they stand for, so the same
run writes the same file and two runs diff cleanly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import assessment_results as ar

from accord.evidence.hdf import guides
from accord.evidence.model import (
    EVIDENCE_DIR,
    AttestationRecord,
    Observation,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    caveat,
    evidence_slugs,
)
from accord.evidence.oscal_plan import FILENAME as PLAN
from accord.evidence.oscal_plan import assessment_plan

FILENAME = "oscal-assessment-results.json"
NS = "urn:accord:oscal"  # the namespace of Accord's own props
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:accord:evidence")
NIST = re.compile(r"^\s*([A-Za-z]{2})-(\d+)\s*(?:\(\s*(\d+)\s*\))?\s*(.*?)\s*$")

SATISFIED: dict[Status, tuple[str, str]] = {  # objective-status state and reason
    "passed": ("satisfied", "pass"),
    "attested": ("satisfied", "pass"),
    "not applicable": ("satisfied", "other"),
    "failed": ("not-satisfied", "fail"),
    "error": ("not-satisfied", "other"),
    "not run": ("not-satisfied", "other"),
    "waived": ("not-satisfied", "other"),
}


def write_oscal(run: RunResult, folder: Path) -> list[Path]:
    """Write ``oscal-assessment-results.json``, the plan it imports
    (``oscal-assessment-plan.json``) and the results' ``evidence/*.json`` into ``folder``;
    returns the paths written (the results first)."""
    folder.mkdir(parents=True, exist_ok=True)
    builder = _Builder(run)
    evidence = builder.write_evidence(folder)
    plan = folder / PLAN
    assessment_plan(run, builder.uuid, builder.reviewed_controls(), _prop).oscal_write(plan)
    path = folder / FILENAME
    builder.assessment_results().oscal_write(path)
    return [path, plan, *evidence]


def control_id(control: str) -> tuple[str, str | None]:
    """A NIST SP 800-53 control in OSCAL form and its statement part, if any:
    "IA-2(12)" -> ("ia-2.12", None); "CM-6 b" -> ("cm-6", "b")."""
    match = NIST.match(control)
    if not match:
        raise ValueError(f"not a NIST SP 800-53 control: {control!r}")
    family, number, enhancement, part = match.groups()
    oscal = f"{family.lower()}-{int(number)}"
    if enhancement:
        oscal += f".{int(enhancement)}"
    return oscal, (part.strip().lower() or None)


class _Builder:
    def __init__(self, run: RunResult) -> None:
        self.run = run
        self.seed = f"{run.site_name}|{_aware(run.started).isoformat()}"
        self.slugs = evidence_slugs(run.scenarios)
        self.hashes: dict[int, str] = {}  # scenario index -> SHA-256 of its evidence file
        self.tool = self.uuid("component", "accord")
        self.parties: dict[str, str] = {}  # name -> party uuid
        # site -> where its results come from, for a replay
        self.replayed = {r.site: r.replayed_from for r in run.requirements if r.replayed_from}

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(UUID_NAMESPACE, "|".join((self.seed, *parts))))

    # -- the evidence files ----------------------------------------------------------------

    def write_evidence(self, folder: Path) -> list[Path]:
        (folder / EVIDENCE_DIR).mkdir(parents=True, exist_ok=True)
        paths = []
        for index, scenario in enumerate(self.run.scenarios):
            data = _json_bytes(_evidence(scenario))
            path = folder / EVIDENCE_DIR / f"{self.slugs[index]}.json"
            path.write_bytes(data)
            self.hashes[index] = hashlib.sha256(data).hexdigest()
            paths.append(path)
        return paths

    # -- the model -----------------------------------------------------------------------------

    def assessment_results(self) -> ar.AssessmentResults:
        run = self.run
        observations = [self.scenario_observation(i, s) for i, s in enumerate(run.scenarios)]
        observations += [
            self.attestation_observation(r) for r in run.requirements if r.attestation is not None
        ]
        findings = [self.finding(r) for r in run.requirements] + self.objective_findings()
        resources = [self.resource(i, s) for i, s in enumerate(run.scenarios)]
        result = ar.Result(
            uuid=self.uuid("result"),
            title=_line(f"Accord run against {run.site_name} ({run.target})"),
            description=(
                f"Accord {run.accord_version} ran its acceptance tests against the site "
                f"{run.site_name} ({run.target}): {len(run.scenarios)} scenarios, "
                f"{len(run.requirements)} requirements."
                + (f" {said}." if (said := caveat(run.target, run.replayed_from)) else "")
            ),
            start=_aware(run.started),
            end=_aware(run.ended),
            props=[
                *self.site_props(),
                _prop("target", run.target),
                *([_prop("replayed-from", run.replayed_from)] if run.replayed_from else []),
            ],
            local_definitions=ar.LocalDefinitions1(components=[self.tool_component()]),
            reviewed_controls=self.reviewed_controls(),
            observations=observations or None,
            findings=findings or None,
        )
        return ar.AssessmentResults(
            uuid=self.uuid("assessment-results"),
            metadata=common.Metadata(
                title=_line(f"Accord assessment results: {run.site_name} ({run.target})"),
                last_modified=_aware(run.ended),
                version=run.accord_version,
                oscal_version=OSCAL_VERSION,
                parties=self.metadata_parties() or None,
            ),
            import_ap=ar.ImportAp(
                href=PLAN,
                remarks=(
                    "The plan of this run, in the same folder: the requirements in scope as "
                    "tasks, the systems as subjects."
                ),
            ),
            results=[result],
            back_matter=common.BackMatter(resources=resources) if resources else None,
        )

    def site_props(self) -> list[common.Property]:
        """The site and its file's SHA-256; with several sites, a pair per site (the SHA-256
        property's value then starts with the site's name)."""
        if len(self.run.sites) <= 1:
            return [_prop("site", self.run.site_name), _prop("site-sha256", self.run.site_sha256)]
        props = []
        for name, sha256 in self.run.sites.items():
            props += [_prop("site", name), _prop("site-sha256", f"{name}: {sha256}")]
        return props

    def tool_component(self) -> common.SystemComponent:
        return common.SystemComponent(
            uuid=self.tool,
            type="software",
            title=f"Accord {self.run.accord_version}",
            description="Executable acceptance tests for vendor hardening guides.",
            status=common.Status(state="operational"),
        )

    def party(self, name: str) -> str:
        if name not in self.parties:
            self.parties[name] = self.uuid("party", name)
        return self.parties[name]

    def metadata_parties(self) -> list[common.Parties]:
        for r in self.run.requirements:  # every attester, before the metadata is built
            if r.attestation is not None:
                self.party(r.attestation.by)
        return [
            common.Parties(uuid=uid, type="person", name=name)
            for name, uid in sorted(self.parties.items())
        ]

    def reviewed_controls(self) -> common.ReviewedControls:
        whole: set[str] = set()
        parts: dict[str, set[str]] = {}
        for r in self.run.requirements:
            for control in r.requirement.nist:
                oscal, part = control_id(control)
                if part:
                    parts.setdefault(oscal, set()).add(part)
                else:
                    whole.add(oscal)
        selected = sorted(whole | set(parts), key=_control_order)
        if not selected:
            return common.ReviewedControls(
                control_selections=[common.ControlSelectionsAll(include_all=common.IncludeAll())],
                remarks="No requirement of this run maps to a NIST SP 800-53 control.",
            )
        include = []
        notes = []
        for oscal in selected:
            statements = None if oscal in whole else sorted(parts[oscal])
            include.append(
                common.SelectControlById(
                    control_id=oscal,
                    statement_ids=[f"{oscal}_smt.{p}" for p in statements] if statements else None,
                )
            )
            if statements:
                notes.append(f"{oscal}: part {', '.join(statements)} only")
        return common.ReviewedControls(
            description="The NIST SP 800-53 rev5 controls Accord's requirements map to.",
            control_selections=[common.ControlSelections(include_controls=include)],
            remarks="; ".join(notes) or None,
        )

    def scenario_observation(self, index: int, scenario: ScenarioResult) -> common.Observation:
        method = "EXAMINE" if scenario.status == "attested" else "TEST"
        replayed = self.replayed.get(scenario.site, self.run.replayed_from)
        description = (
            f"Scenario {scenario.name!r} ({scenario.feature}) for "
            f"{', '.join(scenario.requirements) or 'no requirement'}: {scenario.status}."
        )
        return common.Observation(
            uuid=self.observation_uuid(index),
            title=_line(scenario.name),
            description=description,
            props=[
                _prop("scenario-status", scenario.status),
                _prop("feature", scenario.feature),
                *(_prop("requirement", rid) for rid in scenario.requirements),
                *([_prop("site", scenario.site)] if scenario.site else []),
                *([_prop("replayed-from", replayed)] if replayed else []),
            ],
            methods=[method],
            origins=[self.tool_origin()],
            relevant_evidence=[
                common.RelevantEvidence(
                    href=f"#{self.resource_uuid(index)}",
                    description=(
                        f"What the steps of {scenario.name!r} observed "
                        f"({len(scenario.observations)} observations)."
                    ),
                )
            ],
            collected=_aware(scenario.started),
            remarks=scenario.reason or None,
        )

    def attestation_observation(self, result: RequirementResult) -> common.Observation:
        a = result.attestation
        assert a is not None
        return common.Observation(
            uuid=self.attestation_uuid(result, a),
            title=_line(f"Attestation {a.id} for {result.requirement.id}"),
            description=a.statement,
            props=[
                _prop("attestation", a.id),
                _prop("requirement", result.requirement.id),
                _prop("attested-on", a.date.isoformat()),
                _prop("attestation-expires", a.expires.isoformat()),
            ],
            methods=["EXAMINE"],
            origins=[
                common.Origin(
                    actors=[common.OriginActor(type="party", actor_uuid=self.party(a.by))]
                )
            ],
            collected=_aware(dt.datetime.combine(a.date, dt.time())),
            expires=_aware(dt.datetime.combine(a.expires, dt.time())),
            remarks=f"Attested by {a.by}.",
        )

    def related(self, result: RequirementResult) -> list[str]:
        """The observations of a requirement: its scenarios' and its attestation's."""
        related = [
            self.observation_uuid(i)
            for i, s in enumerate(self.run.scenarios)
            if s.name in result.scenarios and s.site == result.site
        ]
        if result.attestation is not None:
            related.append(self.attestation_uuid(result, result.attestation))
        return related

    def objective_findings(self) -> list[common.Finding]:
        """A finding per NIST SP 800-53 control objective the requirements map to (per site):
        its target is NIST's objective ID (``cm-6_obj.b``, ``sc-8.1_obj``), satisfied when
        every requirement mapped to it is."""
        objectives: dict[tuple[str, str], tuple[str, list[RequirementResult]]] = {}
        for result in self.run.requirements:
            for control in result.requirement.nist:
                oscal, part = control_id(control)
                objective = f"{oscal}_obj" + (f".{part}" if part else "")
                objectives.setdefault((result.site, objective), (control, []))[1].append(result)
        findings = []
        for (site, objective), (control, results) in sorted(
            objectives.items(),
            key=lambda item: (item[0][0], _control_order(item[0][1].split("_")[0]), item[0][1]),
        ):
            satisfied = all(SATISFIED[r.status][0] == "satisfied" for r in results)
            failed = any(SATISFIED[r.status][1] == "fail" for r in results)
            state, reason = (
                ("satisfied", "pass")
                if satisfied
                else ("not-satisfied", "fail" if failed else "other")
            )
            ids = [r.requirement.id for r in results]
            related = list(dict.fromkeys(u for r in results for u in self.related(r)))
            replayed = "; ".join(dict.fromkeys(r.replayed_from for r in results if r.replayed_from))
            said = caveat(self.run.target, replayed or None)
            findings.append(
                common.Finding(
                    uuid=self.uuid("objective-finding", site, objective),
                    title=_line(f"NIST SP 800-53 {control}: {state}"),
                    description=(
                        f"The objective of {control}, as Accord's requirements "
                        f"{', '.join(ids)} prove it ({state} when every one of them is)."
                    ),
                    props=[
                        _prop("control", control),
                        *(_prop("requirement", rid) for rid in ids),
                        *([_prop("site", site)] if site else []),
                        *([_prop("replayed-from", replayed)] if replayed else []),
                    ],
                    origins=[self.tool_origin()],
                    target=common.FindingTarget(
                        type="objective-id",
                        target_id=objective,
                        title=_line(f"{control} (NIST SP 800-53 rev5 assessment objective)"),
                        status=common.ObjectiveStatus(state=state, reason=reason),
                    ),
                    related_observations=[
                        common.RelatedObservation(observation_uuid=u) for u in related
                    ]
                    or None,
                    remarks="; ".join(f"{r.requirement.id}: {r.status}" for r in results)
                    + (f"\n\n{said}." if said else ""),
                )
            )
        return findings

    def finding(self, result: RequirementResult) -> common.Finding:
        requirement = result.requirement
        state, reason = SATISFIED[result.status]
        related = self.related(result)
        remarks = [_prefixed(result.status, result.reason)]
        if said := caveat(self.run.target, result.replayed_from):
            remarks.append(f"{said}.")
        if result.waiver is not None:
            w = result.waiver
            remarks.append(
                f"WaiverRecord {w.id} ({w.reason}), approved by {w.approver} on "
                f"{w.date.isoformat()}, until {w.expires.isoformat()}."
            )
        if result.attestation is not None:
            a = result.attestation
            remarks.append(
                f"Attestation {a.id} by {a.by} on {a.date.isoformat()}, until "
                f"{a.expires.isoformat()}: {a.statement}"
            )
        parts = [control_id(c) for c in requirement.nist]
        if any(part for _, part in parts):
            remarks.append(
                "Controls: "
                + ", ".join(f"{c} part {p}" if p else c for c, p in parts)
                + f" ({'STIG' if requirement.mapping == 'STIG' else 'Accord'} mapping)."
            )
        props = [
            _prop("accord-status", result.status),
            _prop("proof", requirement.proof),
            _prop("mapping", requirement.mapping),
            *(_prop("guide", g) for g in guides(requirement.guide)),
            *(_prop("control-id", c) for c in dict.fromkeys(c for c, _ in parts)),
            *(_prop("stig", s) for s in requirement.stig),
            *([_prop("site", result.site)] if result.site else []),
            *([_prop("replayed-from", result.replayed_from)] if result.replayed_from else []),
        ]
        return common.Finding(
            uuid=self.uuid("finding", result.site, requirement.id),
            title=_line(f"{requirement.id}: {result.status}"),
            description=requirement.text,
            props=props,
            origins=[self.tool_origin()],
            target=common.FindingTarget(
                type="objective-id",
                target_id=_token(requirement.id),
                title=_line(f"{requirement.id} ({requirement.section})"),
                description=requirement.text,
                status=common.ObjectiveStatus(state=state, reason=reason),
                props=[_prop("accord-status", result.status)],
                remarks=_prefixed(result.status, result.reason),
            ),
            related_observations=[common.RelatedObservation(observation_uuid=u) for u in related]
            or None,
            remarks="\n\n".join(remarks),
        )

    def resource(self, index: int, scenario: ScenarioResult) -> common.Resource:
        return common.Resource(
            uuid=self.resource_uuid(index),
            title=_line(f"Observations of {scenario.name!r}"),
            description=f"The redacted observations of the steps of {scenario.name!r}.",
            rlinks=[
                common.Rlink(
                    href=f"{EVIDENCE_DIR}/{self.slugs[index]}.json",
                    media_type="application/json",
                    hashes=[common.Hash(algorithm="SHA-256", value=self.hashes[index])],
                )
            ],
        )

    def observation_uuid(self, index: int) -> str:
        return self.uuid("observation", self.slugs[index])

    def resource_uuid(self, index: int) -> str:
        return self.uuid("resource", self.slugs[index])

    def attestation_uuid(self, result: RequirementResult, a: AttestationRecord) -> str:
        return self.uuid("attestation", result.site, result.requirement.id, a.id)

    def tool_origin(self) -> common.Origin:
        return common.Origin(actors=[common.OriginActor(type="tool", actor_uuid=self.tool)])


def _evidence(scenario: ScenarioResult) -> dict[str, Any]:
    return {
        "feature": scenario.feature,
        "scenario": scenario.name,
        "site": scenario.site,
        "requirements": list(scenario.requirements),
        "status": scenario.status,
        "reason": scenario.reason,
        "started": _aware(scenario.started).isoformat(),
        "duration": scenario.duration,
        "observations": [_observation(o) for o in scenario.observations],
    }


def _observation(o: Observation) -> dict[str, Any]:
    return {"step": o.step, "what": o.what, "value": o.value, "at": _aware(o.at).isoformat()}


def _json_bytes(data: Any) -> bytes:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=_json_default)
    return (text + "\n").encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"not JSON-able in an observation: {type(value).__name__}")


def _prop(name: str, value: str) -> common.Property:
    return common.Property(name=name, ns=NS, value=_line(value))


def _line(text: str) -> str:
    """One line, no surrounding blanks (OSCAL titles and property values)."""
    return " ".join(text.split()) or "-"


def _token(text: str) -> str:
    """An OSCAL token (NCName-like): requirement IDs already are ("VM-CPU-01")."""
    token = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    return token if re.match(r"[A-Za-z_]", token) else f"_{token}"


def _prefixed(status: str, reason: str | None) -> str:
    if not reason:
        return f"{status}."
    return reason if reason.startswith(status) else f"{status}: {reason}"


def _control_order(control: str) -> tuple[str, int, int]:
    family, _, rest = control.partition("-")
    number, _, enhancement = rest.partition(".")
    return family, int(number), int(enhancement or 0)


def _aware(moment: dt.datetime) -> dt.datetime:
    """Model times are UTC; a naive one is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
