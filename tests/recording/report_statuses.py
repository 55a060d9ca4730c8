"""Each report format of a features run, read back as the statuses it gives: by requirement
(results.json, HDF, OSCAL, the HTML report) or by scenario (cucumber JSON, JUnit XML)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.evidence.test_hdf import heimdall_status

ROW = re.compile(r'<tbody id="req-(?P<rid>[A-Z0-9-]+?)-(?P<site>[^"]+)">(?P<row>.*?)</tbody>', re.S)
BADGE = re.compile(r'<span class="badge[^"]*">(?P<status>[^<]+)</span>')


def _step_status(steps: list[dict]) -> str:
    found = {step["result"]["status"] for step in steps}
    return next((s for s in ("failed", "skipped") if s in found), "passed")


def results(folder: Path) -> dict[str, str]:
    data = json.loads((folder / "results.json").read_text())
    statuses = {r["requirement"]["id"]: r["status"] for r in data["requirements"]}
    statuses |= {f"{s['feature']}: {s['name']}": s["status"] for s in data["scenarios"]}
    return statuses


def cucumber(folder: Path) -> dict[str, str]:
    return {
        f"{feature['name']}: {element['name']}": _step_status(element["steps"])
        for feature in json.loads((folder / "cucumber.json").read_text())
        for element in feature["elements"]
    }


def junit(folder: Path) -> dict[str, str]:
    statuses = {}
    for case in ET.parse(folder / "junit.xml").getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        elif case.find("skipped") is not None:
            status = "skipped"
        else:
            status = "passed"
        statuses[f"{case.get('classname')}::{case.get('name')}"] = status
    return statuses


def hdf(folder: Path) -> dict[str, str]:
    data = json.loads((folder / "hdf.json").read_text())
    return {c["id"]: heimdall_status(c) for p in data["profiles"] for c in p["controls"]}


def oscal(folder: Path) -> dict[str, str]:
    data = json.loads((folder / "oscal-assessment-results.json").read_text())
    statuses = {}
    for result in data["assessment-results"]["results"]:
        for finding in result.get("findings", []):
            state = finding["target"]["status"]["state"]
            accord = [p["value"] for p in finding.get("props", []) if p["name"] == "accord-status"]
            statuses[finding["target"]["target-id"]] = f"{state} ({', '.join(accord)})"
    return statuses


def html(folder: Path) -> dict[str, str]:
    text = (folder / "report.html").read_text()
    statuses = {}
    for row in ROW.finditer(text):
        badge = BADGE.search(row["row"])
        statuses[row["rid"]] = badge["status"] if badge else ""
    return statuses


READERS = {
    "results.json": results,
    "cucumber.json": cucumber,
    "junit.xml": junit,
    "hdf.json": hdf,
    "oscal-assessment-results.json": oscal,
    "report.html": html,
}


def every_format(folder: Path) -> dict[str, dict[str, str]]:
    """Each format's statuses (none of them empty)."""
    found = {name: read(folder) for name, read in READERS.items()}
    for name, statuses in found.items():
        assert statuses, f"{folder / name}: no statuses read"
    return found
