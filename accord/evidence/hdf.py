"""The run as HDF results (`hdf.json`): the InSpec exec-json shape Heimdall and SAF CLI load.

One profile for the run ("accord"), holding one control per requirement ID of the catalogue, each
exactly once, with one result per scenario carrying the ID: SAF's ``view summary``, thresholds and
``convert`` read the first profile of a file only, and inspecjs (which both use) takes a control ID
seen in two profiles for an overlay of one by the other, so a profile per guide would hide every
requirement but the first profile's. The guides and the catalogue section are tags of each control
(``guides``, ``section``) and the profile's groups (one per section). A run of several sites still
has one control per requirement: its status is the worst of the sites' (`PRECEDENCE`), its
results are every site's scenarios (each named with its site), and ``tags.sites`` has each site's
status.

Tags are what SAF's checklist (``hdf2ckl``) and CSV (``hdf2csv``) writers read, as strings where
they take one: ``rid`` (the requirement ID: Accord's rule), ``stig_id`` and ``gid`` (the first STIG
item that states the requirement and its V-ID; only on "STIG" rows of the control mapping), with
every STIG item in ``stig``; ``nist`` in MITRE's form ("IA-2 (12)") and ``cci``, DISA's CCIs for
those controls (`accord.evidence.cci`); ``gtitle`` the section. ``passthrough.metadata`` carries
the checklist's asset (the site) and says what the run is.

Heimdall computes a control's status from its results, impact, ``waiver_data`` and
``attestation_data`` (heimdall2 ``libs/inspecjs/src/compat_impl/compat_inspec_1_0.ts``): any
``error`` result is a Profile Error, then a waiver that skipped the control or impact 0 is Not
Applicable, then any ``failed`` result is Failed, any ``passed`` result Passed, and only
``skipped`` results Not Reviewed. The results written here are shaped so that Heimdall's status
is Accord's requirement status:

============== ===================================================================
Accord status  Heimdall
============== ===================================================================
passed         Passed
failed         Failed (a failed result, the rollup's own when no scenario failed)
error          Profile Error
not run        Not Reviewed (every result skipped; a passed scenario shows as skipped
               with "passed" in its skip message, since the requirement is unproven)
not applicable Not Applicable (impact 0)
waived         Not Applicable, waived (``waiver_data.skipped_due_to_waiver``)
attested       Passed, attested, in the shape SAF CLI's ``attest apply`` writes: the
               skipped results (what no check could read) first, then the checks' results,
               then the attestation's result ("Manually verified status provided through
               attestation", its message as SAF words it) and ``attestation_data``
============== ===================================================================

Impact (Heimdall's severity) follows one rule, from how the requirement is proven:
``IMPACT_HIGH`` 0.7 when its proof includes ``wire`` or ``act`` (an exposure seen on the wire or an
action the system must refuse), ``IMPACT_MEDIUM`` 0.5 otherwise (``config``, ``attest``), and
``IMPACT_NONE`` 0.0 for a requirement that is not applicable (Heimdall reads impact 0 as Not
Applicable, so no applicable requirement ever gets it).

A run that is no evidence about a real system says so on every control, in a ``caveat``
description, which Heimdall shows above the control's description and SAF's checklist writes into
its comments: a replay ("Not a live verification: replayed from a recording made at ... of hq.")
and a run against the simulator ("Not evidence about a real system: ..."); and in
``passthrough.accord`` (``replayed_from``, ``caveat``).

Nothing is written that is not in the model: observations are not part of HDF (they are in the
OSCAL evidence files), so a step's values never reach this file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from accord.evidence.cci import ccis_of
from accord.evidence.model import (
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    caveat,
    worst,
)

FILENAME = "hdf.json"
PROFILE = "accord"  # the one profile's name: the checklist's STIG ID, SAF's profile name

IMPACT_HIGH = 0.7
IMPACT_MEDIUM = 0.5
IMPACT_NONE = 0.0
SEVERITY = {IMPACT_HIGH: "high", IMPACT_MEDIUM: "medium", IMPACT_NONE: "none"}

# Heimdall's control status for each Accord requirement status (tests check the file against it).
HEIMDALL_STATUS: dict[Status, str] = {
    "passed": "Passed",
    "failed": "Failed",
    "error": "Profile Error",
    "not run": "Not Reviewed",
    "not applicable": "Not Applicable",
    "waived": "Not Applicable",
    "attested": "Passed",
}

ATTESTATION_CODE_DESC = "Manually verified status provided through attestation"  # SAF's words
STIG_RULE = re.compile(r"\b[A-Z][A-Z0-9]*-\d+-\d+\b")  # ESXI-80-000220
STIG_VID = re.compile(r"\bV-\d+\b")  # V-258775
NIST = re.compile(r"^\s*([A-Za-z]{2})-(\d+)\s*(?:\(\s*(\d+)\s*\))?\s*(.*?)\s*$")


def write_hdf(run: RunResult, folder: Path) -> list[Path]:
    """Write ``hdf.json`` into ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILENAME
    text = json.dumps(hdf_results(run), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return [path]


def hdf_results(run: RunResult) -> dict[str, Any]:
    """The exec-json document for ``run``."""
    said = caveat(run.target, run.replayed_from)
    return {
        "platform": {
            "name": "Accord",
            "release": run.accord_version,
            "target_id": f"{run.site_name} ({run.target})",
        },
        "version": run.accord_version,
        "statistics": {"duration": (run.ended - run.started).total_seconds()},
        "profiles": [_profile(run)],
        "passthrough": {
            "accord": {
                "site": run.site_name,
                "site_sha256": run.site_sha256,
                **({"sites": run.sites} if len(run.sites) > 1 else {}),
                "target": run.target,
                "started": run.started.isoformat(),
                "ended": run.ended.isoformat(),
                **({"replayed_from": run.replayed_from} if run.replayed_from else {}),
                **({"caveat": said} if said else {}),
            },
            # What SAF's checklist writer takes for the asset (hdf2ckl's flags override it).
            "metadata": {
                "hostname": run.site_name,
                "targetcomment": said or f"Accord {run.accord_version}, target {run.target}",
                "role": "None",
                "assettype": "Computing",
                "techarea": "",
                "webordatabase": False,
                "profiles": [{"name": PROFILE, "title": _title_of_profile(run)}],
            },
        },
    }


def guides(guide: str) -> list[str]:
    """The guides a catalogue row names ("A; B" when its section serves two)."""
    return [g.strip() for g in guide.split(";") if g.strip()] or ["Accord"]


def impact(result: RequirementResult) -> float:
    """The control's impact by the rule in the module docstring."""
    if result.status == "not applicable":
        return IMPACT_NONE
    proof = set(re.findall(r"[a-z]+", result.requirement.proof.lower()))
    return IMPACT_HIGH if proof & {"wire", "act"} else IMPACT_MEDIUM


def nist_tag(control: str) -> str:
    """A NIST SP 800-53 control as MITRE's profiles tag it: "IA-2(12)" -> "IA-2 (12)"."""
    match = NIST.match(control)
    if not match:
        return control.strip()
    family, number, enhancement, part = match.groups()
    tag = f"{family.upper()}-{number}"
    if enhancement:
        tag += f" ({enhancement})"
    if part:
        tag += f" {part}"
    return tag


def _title_of_profile(run: RunResult) -> str:
    named = dict.fromkeys(g for r in run.requirements for g in guides(r.requirement.guide))
    return "Accord: " + ("; ".join(named) or "no requirement")


def _profile(run: RunResult) -> dict[str, Any]:
    """The run's one profile: a control per requirement (across the sites of the run)."""
    several = len({r.site for r in run.requirements}) > 1
    by_id: dict[str, list[RequirementResult]] = {}
    for result in run.requirements:
        by_id.setdefault(result.requirement.id, []).append(result)
    scenarios = _scenarios_by_name(run)
    sections: dict[str, list[str]] = {}
    controls = []
    for rid, results in by_id.items():
        sections.setdefault(results[0].requirement.section, []).append(rid)
        carried = [
            s for r in results for name in r.scenarios for s in scenarios.get((r.site, name), [])
        ]
        controls.append(_control(_combined(results), results, carried, run, several))
    profile: dict[str, Any] = {
        "name": PROFILE,
        "title": _title_of_profile(run),
        "maintainer": "Accord",
        "summary": (
            f"Accord's acceptance tests of {run.site_name} ({run.target}): a control per "
            "requirement of the guides, with a result per scenario that proves it"
        ),
        "version": run.accord_version,
        "status": "loaded",
        "supports": [],
        "attributes": [],
        "groups": [
            {"id": section, "title": section, "controls": ids} for section, ids in sections.items()
        ],
        "controls": controls,
    }
    digest = hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
    return {**profile, "sha256": digest}


def _combined(results: list[RequirementResult]) -> RequirementResult:
    """One requirement across the sites: the worst site's result, every site's reason."""
    if len(results) == 1:
        return results[0]
    status = worst([r.status for r in results])
    first = next(r for r in results if r.status == status)
    reasons = [f"{r.site}: {_prefixed(r.status, r.reason)}" for r in results if r.reason]
    replayed = "; ".join(dict.fromkeys(r.replayed_from for r in results if r.replayed_from))
    return replace(
        first,
        reason="; ".join(reasons) or None,
        scenarios=tuple(name for r in results for name in r.scenarios),
        replayed_from=replayed or None,
        site="",
    )


def _control(
    result: RequirementResult,
    per_site: list[RequirementResult],
    carried: list[ScenarioResult],
    run: RunResult,
    several: bool,
) -> dict[str, Any]:
    requirement = result.requirement
    level = impact(result)
    started = min([s.started for s in carried], default=run.started).isoformat()
    stig = " ".join(requirement.stig)
    stig_ids, gids = STIG_RULE.findall(stig), STIG_VID.findall(stig)
    tags: dict[str, Any] = {
        "nist": [nist_tag(c) for c in requirement.nist],
        "cci": ccis_of(requirement.nist),
        "rid": requirement.id,
        **({"stig_id": stig_ids[0]} if stig_ids else {}),
        **({"gid": gids[0]} if gids else {}),
        "stig": list(requirement.stig),
        "gtitle": requirement.section,
        "mapping": requirement.mapping,
        "severity": SEVERITY[level],
        "proof": requirement.proof,
        "guides": guides(requirement.guide),
        "section": requirement.section,
        "accord_status": result.status,
        **({"sites": {r.site: r.status for r in per_site}} if several else {}),
    }
    check = (
        f"Sees {requirement.sees}. Cannot see {requirement.cannot_see}. "
        if requirement.sees
        else ""
    )
    check += f"Proven by {requirement.proof}"
    check += f" in the scenarios: {'; '.join(result.scenarios)}." if result.scenarios else "."
    descriptions = [
        {"label": "default", "data": requirement.text},
        {"label": "check", "data": check},
    ]
    if result.reason:
        descriptions.append({"label": "rationale", "data": result.reason})
    said = caveat(run.target, result.replayed_from)
    if said:
        descriptions.append({"label": "caveat", "data": f"{said}."})
    return {
        "id": requirement.id,
        "title": _title(requirement.text),
        "desc": requirement.text,
        "descriptions": descriptions,
        "impact": level,
        "refs": [{"ref": f"{g}: {requirement.section}"} for g in guides(requirement.guide)],
        "tags": tags,
        "code": None,
        "source_location": {"ref": carried[0].feature if carried else None, "line": None},
        "results": _results(result, carried, started, several),
        "waiver_data": _waiver_data(result, carried),
        "attestation_data": _attestation_data(result),
    }


def _results(
    result: RequirementResult, carried: list[ScenarioResult], started: str, several: bool
) -> list[dict[str, Any]]:
    """One result per scenario, shaped so that Heimdall's status is the requirement's."""
    status = result.status
    results = [_scenario_result(s, several) for s in carried]
    for r in results:
        if r["status"] == "error" and status != "error":
            # Heimdall shows any error as Profile Error; Accord lets failed (and a waiver) win.
            _skip(r, _prefixed("error", r.get("message")))
        if r["status"] == "passed" and status == "not run":
            # Heimdall shows any passed result as Passed; the requirement is unproven.
            _skip(r, f"passed, but {_prefixed(status, result.reason)}")
    if status == "attested" and result.attestation is not None:
        # SAF's shape (attest apply): what no check could read first, then the checks, then
        # the attestation's own result.
        results.sort(key=lambda r: r["status"] != "skipped")
        results.append(_attestation_result(result, started))
    wanted = {"failed": "failed", "error": "error", "passed": "passed", "attested": "passed"}
    verdict = wanted.get(status)
    if (verdict and verdict not in {r["status"] for r in results}) or not results:
        results.append(_rollup_result(result, verdict or "skipped", started))
    return results


def _attestation_result(result: RequirementResult, started: str) -> dict[str, Any]:
    """The attestation as SAF CLI's ``attest apply`` adds it to a control."""
    a = result.attestation
    assert a is not None
    return {
        "status": "passed",
        "code_desc": ATTESTATION_CODE_DESC,
        "message": (
            f"Attestation:\nStatus: passed\nExplanation: {a.statement}\n\n"
            f"Updated: {a.date.isoformat()}\nUpdated By: {a.by}\n"
            f"Frequency: {_frequency(a.date, a.expires)}\nExpires: {a.expires.isoformat()}"
            + (f"\nSite: {result.site}" if result.site else "")
        ),
        "start_time": started,
        "run_time": None,
    }


def _scenario_result(scenario: ScenarioResult, several: bool) -> dict[str, Any]:
    r: dict[str, Any] = {
        "status": "skipped",
        "code_desc": f"[{scenario.site}] {scenario.name}" if several else scenario.name,
        "start_time": scenario.started.isoformat(),
        "run_time": scenario.duration,
        "resource": scenario.feature,
    }
    if scenario.status in ("passed", "failed", "error"):
        r["status"] = scenario.status
        if scenario.status != "passed":
            r["message"] = scenario.reason
    else:
        r["skip_message"] = _prefixed(scenario.status, scenario.reason)
    return r


def _rollup_result(result: RequirementResult, status: str, started: str) -> dict[str, Any]:
    """The requirement's own verdict, where no scenario's result carries it (an expired waiver
    or attestation, a requirement no scenario carries)."""
    text = _prefixed(result.status, result.reason)
    if not result.scenarios:
        text += " (no scenario carries this requirement)"
    r: dict[str, Any] = {
        "status": status,
        "code_desc": f"{result.requirement.id} is {result.status} (Accord's rollup)",
        "start_time": started,
        "run_time": None,
    }
    r["skip_message" if status == "skipped" else "message"] = text
    return r


def _waiver_data(result: RequirementResult, carried: list[ScenarioResult]) -> dict[str, Any] | None:
    w = result.waiver
    waived = result.status == "waived"
    if w is None:
        if not waived:
            return None
        # waived with no waiver record: Heimdall still has to show it waived
        return {
            "justification": result.reason,
            "run": any(s.status != "not run" for s in carried),
            "skipped_due_to_waiver": True,
            "message": _prefixed("waived", result.reason),
        }
    state = "waives" if waived else "no longer waives (expired)"
    return {
        "justification": w.reason,
        "expiration_date": w.expires.isoformat(),
        # Accord runs a waived requirement's scenarios: the waiver changes the verdict only.
        "run": any(s.status != "not run" for s in carried),
        "skipped_due_to_waiver": waived,
        "message": (
            f"WaiverRecord {w.id}, approved by {w.approver} on {w.date.isoformat()}, {state} "
            f"{result.requirement.id} until {w.expires.isoformat()}"
        ),
    }


def _attestation_data(result: RequirementResult) -> dict[str, Any] | None:
    a = result.attestation
    if a is None:
        return None
    return {
        "control_id": result.requirement.id,
        "explanation": a.statement,
        "frequency": _frequency(a.date, a.expires),
        "status": "failed" if result.status in ("failed", "error") else "passed",
        "updated": a.date.isoformat(),
        "updated_by": a.by,
    }


def _frequency(start: dt.date, end: dt.date) -> str:
    """The SAF CLI's attestation frequency words where the period is one of them, else its
    "<n>d" form (so that SAF works out the same expiry)."""
    days = (end - start).days
    for word, lo, hi in (
        ("annually", 365, 366),
        ("semiannually", 181, 184),
        ("quarterly", 89, 92),
        ("monthly", 28, 31),
        ("every2weeks", 14, 14),
        ("weekly", 7, 7),
        ("every3days", 3, 3),
        ("daily", 1, 1),
    ):
        if lo <= days <= hi:
            return word
    return f"{days}d"


def _scenarios_by_name(run: RunResult) -> dict[tuple[str, str], list[ScenarioResult]]:
    by_name: dict[tuple[str, str], list[ScenarioResult]] = {}
    for scenario in run.scenarios:
        by_name.setdefault((scenario.site, scenario.name), []).append(scenario)
    return by_name


def _skip(r: dict[str, Any], message: str) -> None:
    r["status"] = "skipped"
    r.pop("message", None)
    r["skip_message"] = message


def _prefixed(status: str, reason: str | None) -> str:
    """ "not run: no SNMP target" (the reason as given when it already starts with it)."""
    if not reason:
        return status
    return reason if reason.startswith(status) else f"{status}: {reason}"


def _title(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= 160 else first[:157].rstrip() + "..."
