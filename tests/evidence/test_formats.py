"""Every format of one real features run says the same: one `pytest features/` run on the
simulator, with a site of seeded secrets where one requirement fails on the wire of its own
(IPV6-01: the site gives no IPv6 address to the Conferencing Nodes), one's attestation has
expired (HOST-03), one's waiver has expired (GLB-02), one is waived (SNMP-03) and one passes
(SNMP-02). Each format is parsed back (HDF against its schema, OSCAL by compliance-trestle),
each requirement has the same status in all of them, no seeded secret is in any file, and the
manifest holds the folder to every byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import tomli_w
import trestle.core.validator_factory as validators
from trestle.oscal.assessment_results import AssessmentResults

from accord.cli import main
from accord.evidence.hdf import HEIMDALL_STATUS
from accord.evidence.model import RunResult
from accord.evidence.oscal import SATISFIED
from tests.evidence.test_hdf import SCHEMA, heimdall_status
from tests.evidence.test_html import tags
from tests.features_run import Run, run_features, site_document_with_attestation
from tests.test_verification import CANARIES, CANARY_SITE, write_canary_site

EXPECTED = {
    "IPV6-01": "failed",  # a scenario's own check fails
    "HOST-03": "failed",  # its attestation expired yesterday
    "GLB-02": "failed",  # its waiver expired yesterday
    "SNMP-03": "waived",  # a waiver in force
    "SNMP-02": "passed",
}
SELECTION = " or ".join(EXPECTED)
FAILED = {rid for rid, status in EXPECTED.items() if status == "failed"}
SITE = "canary"


def _site(today: dt.date) -> str:
    return textwrap.dedent(CANARY_SITE) + textwrap.dedent(
        f"""
        [pexip.ipv6]
        enabled = true
        nodes = {{ mgr01 = {{ address = "2001:db8::10", gateway = "2001:db8::1" }} }}

        [[waivers]]
        id = "SNMP-03"
        reason = "Canary waiver in force."
        approver = "canary approver"
        date = {today - dt.timedelta(days=10)}
        expires = {today + dt.timedelta(days=365)}

        [[waivers]]
        id = "GLB-02"
        reason = "Canary waiver, expired."
        approver = "canary approver"
        date = {today - dt.timedelta(days=400)}
        expires = {today - dt.timedelta(days=1)}
        """
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("formats")
    site = folder / "site.toml"
    site.write_text(_site(dt.datetime.now(dt.UTC).date()))
    document = site_document_with_attestation(site, "HOST-03", expired=True)
    site = write_canary_site(folder, tomli_w.dumps(document))
    done = run_features(folder / "reports", "--site", str(site), "-m", SELECTION)
    assert done.returncode == 1, done.output  # three requirements failed
    return done


@pytest.fixture(scope="module")
def folder(run: Run) -> Path:
    return run.reports.resolve()


@pytest.fixture(scope="module")
def results(folder: Path) -> RunResult:
    return RunResult.from_json(json.loads((folder / "results.json").read_text()))


@pytest.fixture(scope="module")
def cucumber(folder: Path) -> dict[str, str]:
    """Each requirement's status in cucumber JSON: failed if a scenario tagged with it has a
    failed step, else skipped if one has a skipped step, else passed."""
    statuses: dict[str, list[str]] = {}
    for feature in json.loads((folder / "cucumber.json").read_text()):
        for element in feature["elements"]:
            steps = [step["result"]["status"] for step in element["steps"]]
            status = next((s for s in ("failed", "skipped") if s in steps), "passed")
            for tag in element["tags"]:
                statuses.setdefault(tag["name"], []).append(status)
    return {rid: _worst(found) for rid, found in statuses.items()}


def _worst(statuses: list[str]) -> str:
    return next((s for s in ("failed", "skipped") if s in statuses), "passed")


def _cucumber_tags(folder: Path) -> dict[str, set[str]]:
    """Each scenario's test name (cucumber JSON's element ID) with its requirement tags."""
    return {
        element["id"]: {tag["name"] for tag in element["tags"]}
        for feature in json.loads((folder / "cucumber.json").read_text())
        for element in feature["elements"]
    }


@pytest.fixture(scope="module")
def junit(folder: Path) -> dict[str, str]:
    """Each requirement's status in JUnit XML (its scenarios' testcases, told apart by name)."""
    tagged = _cucumber_tags(folder)
    statuses: dict[str, list[str]] = {}
    root = ET.parse(folder / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(tagged)
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        elif case.find("skipped") is not None:
            status = "skipped"
        else:
            status = "passed"
        for rid in tagged[case.get("name", "")]:
            statuses.setdefault(rid, []).append(status)
    return {rid: _worst(found) for rid, found in statuses.items()}


@pytest.fixture(scope="module")
def hdf(folder: Path) -> dict:
    return json.loads((folder / "hdf.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def oscal(folder: Path) -> AssessmentResults:
    model = AssessmentResults.oscal_read(folder / "oscal-assessment-results.json")
    assert model is not None
    return model


def _html_status(html: str, rid: str) -> str:
    """The status badge of a requirement's row in report.html (its first badge)."""
    row = html[html.index(f'<tbody id="req-{rid}-{SITE}">') :]
    row = row[: row.index("</tbody>")]
    badge = row[row.index('<span class="badge') :]
    return badge[badge.index(">") + 1 : badge.index("</span>")]


# --- each format parsed back ----------------------------------------------------------------


def test_every_format_is_written_and_parses(folder, results, cucumber, junit, hdf, oscal):
    names = {p.name for p in folder.iterdir()}
    assert names >= {
        "results.json",
        "cucumber.json",
        "junit.xml",
        "hdf.json",
        "oscal-assessment-results.json",
        "report.html",
        "manifest.json",
        "evidence",
    }
    assert results.site_name == SITE and len(results.scenarios) == 6
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(hdf)
    for validator in validators.validator_factory.get_all():
        if type(validator).__name__ != "AllValidator":
            assert validator.model_is_valid(oscal, True, None), type(validator).__name__
    assert tags((folder / "report.html").read_text())[0][0] == "html"


# --- the same status everywhere -------------------------------------------------------------


def test_results_json(results):
    statuses = {r.requirement.id: r.status for r in results.requirements if r.site == SITE}
    assert {rid: statuses[rid] for rid in EXPECTED} == EXPECTED


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_hdf(hdf, rid):
    controls = [c for p in hdf["profiles"] for c in p["controls"] if c["id"] == rid]
    assert controls and {heimdall_status(c) for c in controls} == {HEIMDALL_STATUS[EXPECTED[rid]]}


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_oscal(oscal, rid):
    (finding,) = [f for f in oscal.results[0].findings if f.target.target_id == rid]
    state = str(getattr(finding.target.status.state, "value", finding.target.status.state))
    assert state == SATISFIED[EXPECTED[rid]][0]
    assert finding.target.status.reason == SATISFIED[EXPECTED[rid]][1]
    assert {p.value for p in finding.props if p.name == "accord-status"} == {EXPECTED[rid]}


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_html(folder, rid):
    assert _html_status((folder / "report.html").read_text(), rid) == EXPECTED[rid]


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_junit_and_cucumber(junit, cucumber, rid):
    """Scenario formats: a failed requirement has a failed scenario; the others none (a waived
    requirement's scenarios show what they did: waived is a requirement's status)."""
    expected = "failed" if rid in FAILED else "passed"
    assert junit[rid] == expected
    assert cucumber[rid] == expected


def test_expired_attestation_and_waiver_say_why_in_every_format(folder, results, hdf, oscal, junit):
    by_id = {r.requirement.id: r for r in results.requirements}
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    assert f"the attestation of HOST-03 by canary expired on {yesterday}" in (
        by_id["HOST-03"].reason or ""
    )
    assert (by_id["GLB-02"].reason or "").startswith("waiver by canary approver expired on ")
    texts = {
        "junit.xml": (folder / "junit.xml").read_text(),
        "cucumber.json": (folder / "cucumber.json").read_text(),
        "report.html": (folder / "report.html").read_text(),
        "hdf.json": json.dumps(hdf),
        "oscal": (folder / "oscal-assessment-results.json").read_text(),
    }
    for name, text in texts.items():
        assert "the attestation of HOST-03 by canary expired on" in text, name
        assert "expired on" in text and "GLB-02" in text, name
    assert "the waiver of GLB-02 by canary approver expired on" in texts["junit.xml"]
    assert "the waiver of GLB-02 by canary approver expired on" in texts["cucumber.json"]
    assert "waiver by canary approver expired on" in texts["report.html"]


# --- no secret anywhere ---------------------------------------------------------------------


def test_no_seeded_secret_in_any_file_of_the_run(run, folder):
    needles = set(CANARIES.values()) | {"canary-comm"}
    needles |= {hashlib.sha1(v.encode()).hexdigest() for v in CANARIES.values()}
    written = [p for p in folder.rglob("*") if p.is_file()]
    assert len(written) > 8
    for path in written:
        content = path.read_bytes().decode("utf-8", errors="replace")
        leaked = [n for n in needles if n in content]
        assert not leaked, f"{path} holds {leaked}"
    assert not [n for n in needles if n in run.output]


# --- the manifest ---------------------------------------------------------------------------


def test_verify_passes_then_fails_after_one_byte_of_any_file_changes(folder, tmp_path, capsys):
    assert main(["evidence", "verify", str(folder)]) == 0
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert Path("manifest.json") in files and len(files) > 8
    for relative in files:
        copy = tmp_path / relative.as_posix().replace("/", "_")
        shutil.copytree(folder, copy)
        target = copy / relative
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        capsys.readouterr()
        assert main(["evidence", "verify", str(copy)]) == 1, relative
        assert relative.name in capsys.readouterr().out, relative
