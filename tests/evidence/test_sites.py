"""Several sites in one run (``--site`` repeated), in parallel under pytest-xdist: each
scenario runs once per site, each site on its own simulators, and one reports folder covers
every site, with a column per site in the HTML report."""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import trestle.core.validator_factory as validators
from trestle.oscal.assessment_results import AssessmentResults

from accord.cli import main
from accord.evidence.model import RunResult
from accord.pytest.sites import RunSite, run_sites, site_of_test_id
from tests.evidence.test_hdf import SCHEMA, heimdall_status
from tests.evidence.test_html import tags
from tests.evidence.test_plugin import progress
from tests.features_run import Run, read_cucumber, run_features
from tests.test_verification import CANARY_SITE, write_canary_site

# "hq" is a prefix of "hq-dr": test IDs must still be told apart.
SITES = ("hq", "hq-dr")
SELECTION = "SNMP-01 or HOST-03"  # three scenarios per site, one of them attested


def write_site(folder: Path, name: str) -> Path:
    """The canary site (seeded secrets) under another ``[site] name``."""
    text = textwrap.dedent(CANARY_SITE)
    assert 'name = "canary"' in text
    site = write_canary_site(folder, text.replace('name = "canary"', f'name = "{name}"'))
    return site


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sites")
    return [write_site(folder / name, name) for name in SITES]


def _site_args(sites: list[Path]) -> list[str]:
    return [arg for site in sites for arg in ("--site", str(site))]


@pytest.fixture(scope="module")
def parallel(sites: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`pytest features -n 2 --site hq --site hq-dr -m ...`, verbose enough to show which
    worker ran each scenario."""
    reports = tmp_path_factory.mktemp("parallel") / "reports"
    run = run_features(reports, *_site_args(sites), "-n", "2", "-vv", "-m", SELECTION)
    assert run.returncode == 0, run.output
    return run


@pytest.fixture(scope="module")
def results(parallel: Run) -> RunResult:
    return RunResult.from_json(json.loads((parallel.reports / "results.json").read_text()))


def test_one_result_per_scenario_and_site(results, sites):
    assert results.site_name == "hq, hq-dr" and results.site_sha256 == ""
    assert list(results.sites) == list(SITES)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in results.sites.values())
    for site in SITES:
        scenarios = [s for s in results.scenarios if s.site == site]
        assert len(scenarios) == 3, site
        assert sorted(s.status for s in scenarios) == ["attested", "passed", "passed"]
    assert len(results.scenarios) == 6


def test_one_result_per_requirement_and_site(results):
    assert len(results.requirements) == 2 * 112
    statuses = {(r.site, r.requirement.id): r.status for r in results.requirements}
    for site in SITES:
        assert statuses[(site, "SNMP-01")] == "passed"
        assert statuses[(site, "HOST-03")] == "attested"
        assert sum(1 for r in results.requirements if r.site == site) == 112


def test_each_site_runs_on_one_worker(parallel):
    workers: dict[str, set[str]] = {}
    for match in re.finditer(r"\[(gw\d+)\].* features/\S+\[(hq|hq-dr)\]", parallel.output):
        workers.setdefault(match[2], set()).add(match[1])
    assert set(workers) == set(SITES), parallel.output
    assert all(len(w) == 1 for w in workers.values()), workers
    assert workers["hq"] != workers["hq-dr"]


def test_progress_and_summary_per_site(parallel):
    lines = parallel.output.splitlines()
    found = {(m["site"], m["id"]): m for m in progress(parallel.output)}
    assert sorted(found) == sorted((site, rid) for site in SITES for rid in ("HOST-03", "SNMP-01"))
    for site in SITES:
        assert found[(site, "SNMP-01")]["status"] == "passed"
        assert found[(site, "SNMP-01")]["rest"].endswith("(1 scenario)")
        assert found[(site, "HOST-03")]["status"] == "attested"
        assert '(2 scenarios): "Canary STIG." (canary, ' in found[(site, "HOST-03")]["rest"]
        assert any(line.startswith(f"accord: {site}: 112 requirements: ") for line in lines)


def test_cucumber_and_junit_carry_every_worker_s_scenarios(parallel):
    assert len(parallel.scenarios) == 6
    assert {s.status for s in parallel.scenarios} == {"passed", "skipped"}
    cases = ET.parse(parallel.reports / "junit.xml").getroot().findall(".//testcase")
    ids = sorted(case.get("name", "").rsplit("[", 1)[-1] for case in cases)
    assert ids == ["hq-dr]"] * 3 + ["hq]"] * 3


def test_html_has_a_column_per_site(parallel):
    html = (parallel.reports / "report.html").read_text()
    found = tags(html)
    cells = [a for t, a in found if t == "td" and "site-status" in (a.get("class") or "")]
    assert {a["data-site"] for a in cells} == set(SITES)
    row = html[html.index('<tbody id="req-SNMP-01">') :]
    row = row[: row.index("</tbody>")]
    assert [a["data-site"] for t, a in tags(row) if t == "td" and a.get("data-site")] == list(SITES)
    assert row.count('<span class="badge s-passed">passed</span>') >= 2
    for table in ("summary sites", "requirements sites"):
        start = html.index(f'<table class="{table}">')
        head = html[start : html.index("</thead>", start)]
        assert all(f'<th scope="col">{site}</th>' in head for site in SITES), table


def test_hdf_and_oscal_have_each_site(parallel):
    hdf = json.loads((parallel.reports / "hdf.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(hdf)
    # One profile, a control per requirement (SAF reads one profile): each site's status in its
    # tags, each site's scenarios among its results.
    (profile,) = hdf["profiles"]
    (snmp,) = [c for c in profile["controls"] if c["id"] == "SNMP-01"]
    assert heimdall_status(snmp) == "Passed"
    assert snmp["tags"]["sites"] == {site: "passed" for site in SITES}
    named = {r["code_desc"].split("]")[0] + "]" for r in snmp["results"]}
    assert named == {f"[{site}]" for site in SITES}
    model = AssessmentResults.oscal_read(parallel.reports / "oscal-assessment-results.json")
    assert model is not None
    for validator in validators.validator_factory.get_all():
        if type(validator).__name__ != "AllValidator":
            assert validator.model_is_valid(model, True, None), type(validator).__name__
    findings = [f for f in model.results[0].findings if f.target.target_id == "SNMP-01"]
    assert sorted(p.value for f in findings for p in f.props if p.name == "site") == list(SITES)


def test_the_folder_verifies(parallel):
    assert parallel.reports.resolve().name.endswith("-sim-hq+hq-dr")
    assert main(["evidence", "verify", str(parallel.reports)]) == 0


def test_several_sites_without_xdist(sites, tmp_path):
    run = run_features(tmp_path / "reports", *_site_args(sites), "-m", "SNMP-01")
    assert run.returncode == 0, run.output
    results = RunResult.from_json(json.loads((run.reports / "results.json").read_text()))
    statuses = [(s.site, s.status) for s in results.scenarios]
    assert statuses == [("hq", "passed"), ("hq-dr", "passed")]
    found = {(m["site"], m["id"], m["status"]) for m in progress(run.output)}
    assert found == {("hq", "SNMP-01", "passed"), ("hq-dr", "SNMP-01", "passed")}


def test_one_site_under_xdist_is_merged_from_both_workers(tmp_path):
    """One site, scenario by scenario over two workers (each with its own simulators)."""
    run = run_features(tmp_path / "reports", "-n", "2", "-m", "SNMP-01 or SNMP-02")
    assert run.returncode == 0, run.output
    results = RunResult.from_json(json.loads((run.reports / "results.json").read_text()))
    assert results.site_name == "lab" and list(results.sites) == ["lab"]
    assert len(results.site_sha256) == 64
    assert sorted(s.status for s in results.scenarios) == ["passed"] * 2
    assert len(read_cucumber(run.reports / "cucumber.json")) == 2
    assert ("SNMP-01", "passed") in {(m["id"], m["status"]) for m in progress(run.output)}


def test_two_sites_of_one_name_are_refused(sites, tmp_path):
    run = run_features(tmp_path / "reports", *_site_args([sites[0], sites[0]]))
    assert run.returncode == 4, run.output
    assert "each --site needs a [site] name of its own" in run.output
    assert not (tmp_path / "reports").exists()


def test_run_sites(tmp_path):
    assert run_sites(None) == (RunSite("lab", None),)
    unreadable = tmp_path / "missing.toml"
    assert run_sites([str(unreadable)]) == (RunSite("missing", unreadable),)
    with pytest.raises(ValueError, match="'missing' is given 2 times"):
        run_sites([str(unreadable), str(unreadable)])


@pytest.mark.parametrize(
    ("nodeid", "site"),
    [
        ("features/pexip/test_pexip.py::test_x[hq]", "hq"),
        ("features/pexip/test_pexip.py::test_x[hq-dr]", "hq-dr"),
        ("features/pexip/test_pexip.py::test_x[hq-RSA]", "hq"),
        ("features/pexip/test_pexip.py::test_x[hq-dr-RSA]", "hq-dr"),
        ("features/pexip/test_pexip.py::test_x[other]", None),
        ("features/pexip/test_pexip.py::test_x", None),
    ],
)
def test_site_of_test_id(nodeid, site):
    assert site_of_test_id(nodeid, list(SITES)) == site


@pytest.fixture(scope="module")
def merged(sites: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each site run alone, as one job per site would (its own folder), then merged."""
    base = tmp_path_factory.mktemp("jobs")
    folders = []
    for site in sites:
        run = run_features(base / site.parent.name, "--site", str(site), "-m", SELECTION)
        assert run.returncode == 0, run.output
        folders.append(run.reports.resolve())
    assert main(["evidence", "merge", *map(str, folders), "-o", str(base / "merged")]) == 0
    return base / "merged"


def test_merged_site_runs_say_what_one_run_of_both_sites_says(merged, parallel, results):
    both = RunResult.from_json(json.loads((merged / "results.json").read_text()))
    assert both.site_name == "hq, hq-dr" and list(both.sites) == list(SITES)
    assert {(r.site, r.requirement.id): r.status for r in both.requirements} == {
        (r.site, r.requirement.id): r.status for r in results.requirements
    }
    assert sorted((s.site, s.name, s.status) for s in both.scenarios) == sorted(
        (s.site, s.name, s.status) for s in results.scenarios
    )
    assert main(["evidence", "verify", str(merged)]) == 0
    hdf = json.loads((merged / "hdf.json").read_text())
    (profile,) = hdf["profiles"]
    (snmp,) = [c for c in profile["controls"] if c["id"] == "SNMP-01"]
    assert snmp["tags"]["sites"] == {site: "passed" for site in SITES}
    assert len(read_cucumber(merged / "cucumber.json")) == len(both.scenarios)
    assert len(ET.parse(merged / "junit.xml").getroot().findall(".//testcase")) == len(
        both.scenarios
    )
