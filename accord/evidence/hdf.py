"""The run as HDF results (`hdf.json`): the InSpec exec-json shape MITRE's Heimdall loads.

One profile per guide (per guide and site when the run covers several sites), holding one control
per requirement ID that guide states, with one result per scenario carrying the ID. A requirement
whose catalogue section serves two guides ("A; B") is a control in both guides' profiles, so each
profile is the whole of its guide; its ``guides`` tag names both.

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
attested       Passed, attested (``attestation_data`` and the attestation's result, as the
               SAF CLI's ``attest apply`` writes it)
============== ===================================================================

Impact (Heimdall's severity) follows one rule, from how the requirement is proven:
``IMPACT_HIGH`` 0.7 when its proof includes ``wire`` or ``act`` (an exposure seen on the wire or an
action the system must refuse), ``IMPACT_MEDIUM`` 0.5 otherwise (``config``, ``attest``), and
``IMPACT_NONE`` 0.0 for a requirement that is not applicable (Heimdall reads impact 0 as Not
Applicable, so no applicable requirement ever gets it).

A replay (``RunResult.replayed_from``) says so on every control: a ``caveat`` description
("Not a live verification: replayed from a recording made at ... of hq."), which Heimdall shows
above the control's description on its Test tab and on its Details tab (it does not change the
status), and in ``passthrough.accord.replayed_from``.

Nothing is written that is not in the model: observations are not part of HDF (they are in the
OSCAL evidence files), so a step's values never reach this file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from accord.evidence.model import RequirementResult, RunResult, ScenarioResult, Status

FILENAME = "hdf.json"

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

ATTESTATION_CODE_DESC = "Manually verified status provided through attestation"
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
    sites = {r.site for r in run.requirements}
    profiles: dict[tuple[str, str], list[RequirementResult]] = {}
    for result in run.requirements:
        for guide in guides(result.requirement.guide):
            key = (guide, result.site if len(sites) > 1 else "")
            profiles.setdefault(key, []).append(result)
    scenarios = _scenarios_by_name(run)
    return {
        "platform": {
            "name": "Accord",
            "release": run.accord_version,
            "target_id": f"{run.site_name} ({run.target})",
        },
        "version": run.accord_version,
        "statistics": {"duration": (run.ended - run.started).total_seconds()},
        "profiles": [
            _profile(run, guide, site, results, scenarios)
            for (guide, site), results in profiles.items()
        ],
        "passthrough": {
            "accord": {
                "site": run.site_name,
                "site_sha256": run.site_sha256,
                **({"sites": run.sites} if len(run.sites) > 1 else {}),
                "target": run.target,
                "started": run.started.isoformat(),
                "ended": run.ended.isoformat(),
                **({"replayed_from": run.replayed_from} if run.replayed_from else {}),
            }
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


def _profile(
    run: RunResult,
    guide: str,
    site: str,
    results: list[RequirementResult],
    scenarios: dict[tuple[str, str], list[ScenarioResult]],
) -> dict[str, Any]:
    sections: dict[str, list[str]] = {}
    for result in results:
        sections.setdefault(result.requirement.section, []).append(result.requirement.id)
    profile: dict[str, Any] = {
        "name": _slug(f"{guide} {site}".strip()),
        "title": f"{guide} ({site})" if site else guide,
        "maintainer": "Accord",
        "summary": f"Accord's acceptance tests for the {guide}",
        "version": run.accord_version,
        "status": "loaded",
        "supports": [],
        "attributes": [],
        "groups": [
            {"id": section, "title": section, "controls": ids} for section, ids in sections.items()
        ],
        "controls": [_control(result, scenarios, run.started) for result in results],
    }
    digest = hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
    return {**profile, "sha256": digest}


def _control(
    result: RequirementResult,
    scenarios: dict[tuple[str, str], list[ScenarioResult]],
    run_started: dt.datetime,
) -> dict[str, Any]:
    requirement = result.requirement
    carried = [s for name in result.scenarios for s in scenarios.get((result.site, name), [])]
    level = impact(result)
    started = min([s.started for s in carried], default=run_started).isoformat()
    stig = " ".join(requirement.stig)
    tags: dict[str, Any] = {
        "nist": [nist_tag(c) for c in requirement.nist],
        "stig_id": STIG_RULE.findall(stig),
        "gid": STIG_VID.findall(stig),
        "stig": list(requirement.stig),
        "mapping": requirement.mapping,
        "severity": SEVERITY[level],
        "proof": requirement.proof,
        "guides": guides(requirement.guide),
        "section": requirement.section,
        "accord_status": result.status,
    }
    check = f"Proven by {requirement.proof}"
    check += f" in the scenarios: {'; '.join(result.scenarios)}." if result.scenarios else "."
    descriptions = [
        {"label": "default", "data": requirement.text},
        {"label": "check", "data": check},
    ]
    if result.reason:
        descriptions.append({"label": "rationale", "data": result.reason})
    if result.replayed_from:
        caveat = f"Not a live verification: {result.replayed_from}."
        descriptions.append({"label": "caveat", "data": caveat})
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
        "results": _results(result, carried, started),
        "waiver_data": _waiver_data(result, carried),
        "attestation_data": _attestation_data(result),
    }


def _results(
    result: RequirementResult, carried: list[ScenarioResult], started: str
) -> list[dict[str, Any]]:
    """One result per scenario, shaped so that Heimdall's status is the requirement's."""
    status = result.status
    results = [_scenario_result(s) for s in carried]
    for r in results:
        if r["status"] == "error" and status != "error":
            # Heimdall shows any error as Profile Error; Accord lets failed (and a waiver) win.
            _skip(r, _prefixed("error", r.get("message")))
        if r["status"] == "passed" and status == "not run":
            # Heimdall shows any passed result as Passed; the requirement is unproven.
            _skip(r, f"passed, but {_prefixed(status, result.reason)}")
    if status == "attested" and result.attestation is not None:
        a = result.attestation
        results.append(
            {
                "status": "passed",
                "code_desc": ATTESTATION_CODE_DESC,
                "message": (
                    f"Attestation {a.id}: {a.statement} (by {a.by} on {a.date.isoformat()}, "
                    f"expires {a.expires.isoformat()})"
                ),
                "start_time": started,
                "run_time": None,
            }
        )
    wanted = {"failed": "failed", "error": "error", "passed": "passed", "attested": "passed"}
    verdict = wanted.get(status)
    if (verdict and verdict not in {r["status"] for r in results}) or not results:
        results.append(_rollup_result(result, verdict or "skipped", started))
    return results


def _scenario_result(scenario: ScenarioResult) -> dict[str, Any]:
    r: dict[str, Any] = {
        "status": "skipped",
        "code_desc": scenario.name,
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
            f"Waiver {w.id}, approved by {w.approver} on {w.date.isoformat()}, {state} "
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
    """The SAF CLI's attestation frequency words where the period is one of them."""
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
    return f"every{days}days"


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "accord"
