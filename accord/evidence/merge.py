"""`accord evidence merge DIR... --output OUT`: the evidence folders of several runs as one.

A site too big for one machine, or many sites, run as one job per site (or per part of a site:
``-m``, feature folders) on whatever runs the jobs (a CI matrix, Kubernetes jobs); each job
leaves its reports folder. Merging reads each folder's ``results.json`` and writes one folder
that is what one run with all of them would have written: ``results.json`` (every scenario, each
site's requirements rolled up again from all of that site's scenarios, with the site's waivers
and attestations, on the day the last run ended), ``cucumber.json`` and ``junit.xml`` (every
run's scenarios), every report format of `accord.evidence.formats.WRITERS` (one HDF, one OSCAL
plan and results, one HTML report) and one manifest. ``results.json`` names the runs merged
(``merged_from``: each folder's name and its manifest's SHA-256).

It refuses, naming each problem: a folder whose manifest does not verify (changed, missing or
added files), runs made by different Accord versions (or by another version than this one,
which writes the merged reports), runs of different targets (a simulator run is never merged
into a live one), two site files of the same site name, and a scenario of a site run twice
(the folders overlap); and an output folder that is not empty.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

from accord import installed_version
from accord.evidence import manifest
from accord.evidence.formats import WRITERS
from accord.evidence.model import (
    AttestationRecord,
    InScope,
    RequirementResult,
    RunResult,
    ScenarioResult,
    WaiverRecord,
)
from accord.evidence.rollup import rollup
from accord.requirements import Requirement

RESULTS = "results.json"
CUCUMBER = "cucumber.json"
JUNIT = "junit.xml"


class MergeRefused(Exception):
    """The folders cannot be merged; ``problems`` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def merge(folders: list[Path], output: Path) -> RunResult:
    """Merge the runs in ``folders`` into ``output`` (made, or empty); the merged run."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise MergeRefused([f"{output}: not an empty folder"])
    runs = _read(folders)
    merged = merged_run(runs)
    output.mkdir(parents=True, exist_ok=True)
    (output / RESULTS).write_text(
        json.dumps(merged.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _merge_cucumber([folder for folder, _ in runs], output / CUCUMBER)
    _merge_junit([folder for folder, _ in runs], output / JUNIT)
    for write in WRITERS.values():
        write(merged, output)
    manifest.write(output, merged)
    return merged


def _read(folders: list[Path]) -> list[tuple[Path, RunResult]]:
    problems: list[str] = []
    runs: list[tuple[Path, RunResult]] = []
    for folder in folders:
        found = manifest.verify(folder)
        if found:
            problems += [f"{folder}: {problem}" for problem in found]
            continue
        try:
            runs.append((folder, RunResult.from_json(json.loads((folder / RESULTS).read_text()))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{folder}: {RESULTS} is not a run's results ({exc})")
    if not folders:
        problems.append("no folder to merge")
    if problems:
        raise MergeRefused(problems)
    return runs


def merged_run(runs: list[tuple[Path, RunResult]]) -> RunResult:
    """One run from several: `MergeRefused` when they do not go together."""
    _refuse_mismatches(runs)
    sites: dict[str, str] = {}
    for _, run in runs:
        for name, sha256 in _sites(run).items():
            sites.setdefault(name, sha256)
    scenarios = [s for _, run in runs for s in run.scenarios]
    today = max(run.ended for _, run in runs).date()
    requirements: list[RequirementResult] = []
    for site in sites:
        requirements += _site_requirements(site, [run for _, run in runs], scenarios, today)
    replayed = "; ".join(dict.fromkeys(r.replayed_from for r in requirements if r.replayed_from))
    first = runs[0][1]
    scope: dict[str, tuple[InScope, ...]] = {}
    notes: dict[str, tuple[str, ...]] = {}
    requests: dict[str, tuple[str, ...]] = {}
    for _, run in runs:
        for site, lines in run.requests.items():
            requests.setdefault(site, lines)
        for site, items in run.scope.items():
            scope.setdefault(site, items)
        for site, said in run.scope_notes.items():
            notes[site] = tuple(dict.fromkeys((*notes.get(site, ()), *said)))
    return RunResult(
        accord_version=first.accord_version,
        site_name=", ".join(sites),
        site_sha256=next(iter(sites.values())) if len(sites) == 1 else "",
        target=first.target,
        started=min(run.started for _, run in runs),
        ended=max(run.ended for _, run in runs),
        requirements=requirements,
        scenarios=scenarios,
        sites=sites,
        replayed_from=replayed or None,
        scope=scope,
        scope_notes=notes,
        requests=requests,
        merged_from={folder.name: _manifest_sha256(folder) for folder, _ in runs},
    )


def _refuse_mismatches(runs: list[tuple[Path, RunResult]]) -> None:
    problems: list[str] = []
    versions = {run.accord_version for _, run in runs}
    if len(versions) > 1:
        problems.append(
            "the runs come from different Accord versions: "
            + ", ".join(f"{folder} {run.accord_version}" for folder, run in runs)
        )
    elif versions != {installed_version()}:
        problems.append(
            f"the runs come from Accord {versions.pop()}; this is Accord {installed_version()}, "
            "which would write the merged reports: merge with the version that ran them"
        )
    targets = {run.target for _, run in runs}
    if len(targets) > 1:
        problems.append(
            "the runs have different targets: "
            + ", ".join(f"{folder} {run.target}" for folder, run in runs)
        )
    files: dict[str, tuple[str, Path]] = {}
    for folder, run in runs:
        for name, sha256 in _sites(run).items():
            seen = files.setdefault(name, (sha256, folder))
            if seen[0] != sha256:
                problems.append(
                    f"two site files are named {name}: {seen[1]} (SHA-256 {seen[0]}) and "
                    f"{folder} (SHA-256 {sha256})"
                )
    ran: dict[tuple[str, str, str], Path] = {}
    for folder, run in runs:
        for s in run.scenarios:
            key = (s.site, s.feature, s.name)
            if key in ran and ran[key] != folder:
                problems.append(f"{s.site}: {s.feature}: {s.name!r} ran in {ran[key]} and {folder}")
            ran.setdefault(key, folder)
    if problems:
        raise MergeRefused(problems)


def _sites(run: RunResult) -> dict[str, str]:
    return dict(run.sites) or {run.site_name: run.site_sha256}


def _site_requirements(
    site: str, runs: list[RunResult], scenarios: list[ScenarioResult], today: dt.date
) -> list[RequirementResult]:
    """A site's requirements rolled up from all its scenarios, with its waivers and
    attestations as its runs carried them."""
    mine = [r for run in runs for r in run.requirements if r.site == site]
    catalogue: dict[str, Requirement] = {}
    waivers: dict[str, WaiverRecord] = {}
    attestations: dict[str, AttestationRecord] = {}
    for result in mine:
        catalogue.setdefault(result.requirement.id, result.requirement)
        if result.waiver is not None:
            waivers.setdefault(result.waiver.id, result.waiver)
        if result.attestation is not None:
            attestations.setdefault(result.attestation.id, result.attestation)
    replayed = next((r.replayed_from for r in mine if r.replayed_from), None)
    rolled = rollup(
        [s for s in scenarios if s.site == site],
        catalogue,
        list(waivers.values()),
        list(attestations.values()),
        today,
        site,
    )
    return [replace(r, replayed_from=replayed) for r in rolled]


def _manifest_sha256(folder: Path) -> str:
    data: dict[str, Any] = json.loads((folder / manifest.MANIFEST).read_text())
    return str(data["manifest_sha256"])


def _merge_cucumber(folders: list[Path], path: Path) -> None:
    features: list[Any] = []
    for folder in folders:
        if (folder / CUCUMBER).is_file():
            features += json.loads((folder / CUCUMBER).read_text(encoding="utf-8"))
    path.write_text(json.dumps(features, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")


def _merge_junit(folders: list[Path], path: Path) -> None:
    root = ET.Element("testsuites", name="accord evidence merge")
    for folder in folders:
        if not (folder / JUNIT).is_file():
            continue
        found = ET.parse(folder / JUNIT).getroot()
        suites = [found] if found.tag == "testsuite" else list(found.iter("testsuite"))
        for suite in suites:
            suite.set("name", f"{suite.get('name', 'pytest')} ({folder.name})")
            root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
