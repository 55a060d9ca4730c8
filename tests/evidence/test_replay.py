"""A replay never claims a live verification: every report format says "replayed from a recording
made at <time> of <site>" with every requirement (issue 8), and no other run says it anywhere."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import trestle.core.validator_factory as validators
from trestle.oscal.assessment_results import AssessmentResults

from accord.cli import main
from accord.evidence.diff import replays
from accord.evidence.formats import WRITERS
from accord.evidence.hdf import HEIMDALL_STATUS, hdf_results
from accord.evidence.html import render
from accord.evidence.model import RunResult
from accord.evidence.oscal import write_oscal
from accord.pytest.progress import progress_line
from accord.pytest.sites import site_of_test_id
from accord.pytest.state import REPLAYED
from accord.pytest.state import Run as RunState
from tests.evidence import sample
from tests.evidence.replay_plugin import sentence
from tests.evidence.sample_runs import EXPECTED, sample_run
from tests.evidence.test_diff import save
from tests.evidence.test_hdf import SCHEMA, heimdall_status
from tests.evidence.test_oscal import props
from tests.evidence.test_sites import write_site
from tests.features_run import Run, run_features

SENTENCE = "replayed from a recording made at 2026-11-24T07:00:00+00:00 of hq"
NEVER = "replayed from"  # in nothing a run that is not a replay writes
SELECTION = "SNMP-01 or SNMP-02 or HOST-03"


def replay(run: RunResult, said: str = SENTENCE) -> RunResult:
    """``run`` as a replay writes it: the sentence on the run and on every requirement."""
    run.target, run.replayed_from = "replay", said
    run.requirements = [dataclasses.replace(r, replayed_from=said) for r in run.requirements]
    return run


def two_sites() -> RunResult:
    """`sample.run` at two sites, each replayed from its own recording."""
    run = sample.run()
    said = {site: SENTENCE.replace("of hq", f"of {site}") for site in ("hq", "dr")}
    run.requirements = [
        dataclasses.replace(r, site=site, replayed_from=said[site])
        for r in run.requirements
        for site in said
    ]
    run.scenarios = [dataclasses.replace(s, site=site) for s in run.scenarios for site in said]
    run.sites = {"hq": "a" * 64, "dr": "b" * 64}
    run.site_name, run.site_sha256 = "hq, dr", ""
    run.target, run.replayed_from = "replay", "; ".join(said.values())
    return run


def written(run: RunResult, folder: Path) -> dict[str, str]:
    """Every file each writer of ``WRITERS`` writes for ``run``, as text, by writer."""
    texts = {}
    for name, write in WRITERS.items():
        paths = write(run, folder / name)
        texts[name] = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    return texts


# --- results.json ---------------------------------------------------------------------------


def test_results_json_round_trip_keeps_the_replay() -> None:
    run = replay(sample.run())
    again = RunResult.from_json(json.loads(json.dumps(run.to_json())))
    assert again == run
    assert again.replayed_from == SENTENCE
    assert {r.replayed_from for r in again.requirements} == {SENTENCE}


def test_a_results_json_from_before_replays_reads_as_no_replay() -> None:
    data = sample.run().to_json()
    del data["replayed_from"]
    for result in data["requirements"]:
        del result["replayed_from"]
    again = RunResult.from_json(data)
    assert again.replayed_from is None
    assert {r.replayed_from for r in again.requirements} == {None}


# --- every writer ---------------------------------------------------------------------------


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_says_it_for_every_requirement(writer: str, tmp_path: Path) -> None:
    run = replay(sample_run())
    path = WRITERS[writer](run, tmp_path)
    text = "\n".join(p.read_text(encoding="utf-8") for p in path)
    assert text.count(SENTENCE) >= len(run.requirements)


@pytest.mark.parametrize("run", [sample.run(), sample_run()], ids=["sample", "sample_runs"])
def test_no_other_run_says_replayed_anywhere(run: RunResult, tmp_path: Path) -> None:
    texts = written(run, tmp_path)
    texts["results.json"] = json.dumps(run.to_json())
    assert set(texts) >= {"hdf", "oscal", "html", "results.json"}
    for name, text in texts.items():
        assert NEVER not in text.lower(), name
        assert "not a live verification" not in text.lower(), name


def test_hdf_has_a_caveat_on_every_control() -> None:
    hdf = hdf_results(replay(sample_run()))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(hdf)
    controls = [c for p in hdf["profiles"] for c in p["controls"]]
    assert {c["id"] for c in controls} == set(EXPECTED)
    for control in controls:
        caveats = [d["data"] for d in control["descriptions"] if d["label"] == "caveat"]
        assert caveats == [f"Not a live verification: {SENTENCE}."], control["id"]
        # Shown, not judged: Heimdall's status is the requirement's, as in a live run.
        assert heimdall_status(control) == HEIMDALL_STATUS[EXPECTED[control["id"]]]
    assert hdf["passthrough"]["accord"]["replayed_from"] == SENTENCE


def test_oscal_says_it_on_the_result_every_finding_and_observation(tmp_path: Path) -> None:
    run = replay(sample_run())
    path = write_oscal(run, tmp_path)[0]
    model = AssessmentResults.oscal_read(path)
    assert model is not None
    for validator in validators.validator_factory.get_all():
        if type(validator).__name__ != "AllValidator":
            assert validator.model_is_valid(model, True, None), type(validator).__name__
    (result,) = model.results
    assert props(result)["replayed-from"] == [SENTENCE]
    assert f"Not a live verification: {SENTENCE}." in result.description
    requirements = [f for f in result.findings or [] if "accord-status" in props(f)]
    assert len(requirements) == len(run.requirements)
    for finding in result.findings or []:  # the NIST control objectives' too
        assert props(finding)["replayed-from"] == [SENTENCE], finding.title
        assert f"Not a live verification: {SENTENCE}." in (finding.remarks or ""), finding.title
    scenarios = [o for o in result.observations or [] if "scenario-status" in props(o)]
    assert len(scenarios) == len(run.scenarios)
    assert all(props(o)["replayed-from"] == [SENTENCE] for o in scenarios)


def _rows(html: str) -> dict[str, str]:
    """Each requirement's rows in report.html, by its tbody's ID."""
    found = re.findall(r'<tbody id="(req-[^"]+)">(.*?)</tbody>', html, re.S)
    return dict(found)


def test_html_has_a_banner_and_says_it_in_every_row() -> None:
    run = replay(sample.run())
    html = render(run)
    header = html[html.index("<header>") : html.index("</header>")]
    assert '<p class="banner" role="note">' in header and SENTENCE in header
    rows = _rows(html)
    assert len(rows) == len(run.requirements)
    for rid, row in rows.items():
        assert f'<div class="replayed">{SENTENCE}</div>' in row, rid


def test_html_of_several_sites_says_each_site_s_recording_in_its_cell() -> None:
    run = two_sites()
    html = render(run)
    assert run.replayed_from is not None and run.replayed_from in html
    rows = _rows(html)
    assert len(rows) == len({r.requirement.id for r in run.requirements})
    for rid, row in rows.items():
        cells = dict(re.findall(r'<td class="site-status" data-site="([^"]+)">(.*?)</td>', row))
        assert set(cells) == {"hq", "dr"}, rid
        for site, cell in cells.items():
            said = re.findall(r'<div class="replayed">(.*?)</div>', cell)
            assert said == [SENTENCE.replace("of hq", f"of {site}")], (rid, site)


# --- the console and accord evidence diff ---------------------------------------------------


def test_progress_line_ends_with_the_replay() -> None:
    run = sample.run()
    lines = [progress_line(r) for r in replay(sample.run()).requirements]
    assert all(line.endswith(f" — {SENTENCE}") for line in lines)
    live = [progress_line(r) for r in run.requirements]
    assert [f"{line} — {SENTENCE}" for line in live] == lines
    assert not any(NEVER in line for line in live)


def test_diff_says_which_runs_are_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live = save(sample.run(), tmp_path / "live")
    replayed = save(replay(sample.run()), tmp_path / "replayed")
    assert main(["evidence", "diff", str(live), str(replayed)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"new run: {SENTENCE} (not a live verification)"
    ]
    assert main(["evidence", "diff", str(replayed), str(live)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"old run: {SENTENCE} (not a live verification)"
    ]
    assert main(["evidence", "diff", str(live), str(live)]) == 0
    assert capsys.readouterr().out == ""
    assert replays(SENTENCE, SENTENCE) == [
        f"old run: {SENTENCE} (not a live verification)",
        f"new run: {SENTENCE} (not a live verification)",
    ]


# --- the plugin: what a replay's target said, per site --------------------------------------


def _run(target: str) -> RunState:
    return RunState((), target=target)


def test_each_site_carries_its_own_recording() -> None:
    run = _run("replay")
    run.remember_replay("hq", sentence("hq"))
    run.remember_replay("dr", sentence("dr"))
    run.remember_replay("hq", sentence("hq"))  # said again (another worker): once
    assert run.replayed_sentence("hq") == sentence("hq")
    assert run.replayed_sentence("dr") == sentence("dr")
    assert run.replayed_sentence() == f"{sentence('hq')}; {sentence('dr')}"
    assert run.replayed_sentence("elsewhere") == REPLAYED  # not said of it: still a replay


def test_said_without_a_site_every_site_carries_it() -> None:
    run = _run("replay")
    run.remember_replay("", sentence("hq"))
    assert run.replayed_sentence("hq") == run.replayed_sentence() == sentence("hq")


def test_a_replay_whose_target_never_said_still_says_replayed() -> None:
    assert _run("replay").replayed_sentence("hq") == _run("replay").replayed_sentence() == REPLAYED
    assert _run("sim").replayed_sentence("hq") is None and _run("live").replayed_sentence() is None


# --- a features run told it is a replay -----------------------------------------------------


def _says_it_everywhere(run: Run, said: dict[str, str]) -> RunResult:
    """What every file of a replayed run and its console say, each site's requirements with
    their site's sentence; the results, read back."""
    results = RunResult.from_json(json.loads((run.reports / "results.json").read_text()))
    assert {r.site: r.replayed_from for r in results.requirements} == said
    assert set((results.replayed_from or "").split("; ")) == set(said.values())
    several = len(said) > 1
    lines = run.output.splitlines()
    for site, sentence_ in said.items():
        named = f"{site}: " if several else ""
        progress = [
            line for line in lines if re.match(rf"\[ *\d+/\d+\] {named}[A-Z0-9-]+-\d\d ", line)
        ]
        assert len(progress) == 3, run.output  # SNMP-01, SNMP-02, HOST-03
        assert all(line.endswith(f" — {sentence_}") for line in progress), progress
        (count,) = [line for line in lines if line.startswith(f"accord: {named}112 requirements")]
        assert count.endswith(f" — {sentence_}")
    cases = ET.parse(run.reports / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == len(results.scenarios)
    for case in cases:
        name = case.get("name", "")
        site = site_of_test_id(name, list(said)) if several else next(iter(said))
        found = [p.get("value") for p in case.iter("property") if p.get("name") == "replayed_from"]
        assert site is not None and found == [said[site]], name
    cucumber = json.loads((run.reports / "cucumber.json").read_text())
    for element in (e for feature in cucumber for e in feature["elements"]):
        site = site_of_test_id(element["id"], list(said)) if several else next(iter(said))
        assert site is not None and element["description"].endswith(said[site]), element["id"]
    for name in ("hdf.json", "oscal-assessment-results.json", "report.html"):
        text = (run.reports / name).read_text()
        for sentence_ in said.values():
            assert text.count(sentence_) >= 112, name
    assert main(["evidence", "verify", str(run.reports)]) == 0
    return results


def test_a_replayed_features_run_says_it_everywhere(tmp_path: Path) -> None:
    run = run_features(tmp_path / "reports", "-m", SELECTION, "-p", "tests.evidence.replay_plugin")
    assert run.returncode == 0, run.output
    _says_it_everywhere(run, {"lab": sentence("lab")})


def test_under_xdist_each_site_s_recording_reaches_the_controller(tmp_path: Path) -> None:
    """The workers are told (the `systems` fixture runs there); the controller announces and
    writes it, each site with its own."""
    sites = [write_site(tmp_path / name, name) for name in ("hq", "dr")]
    run = run_features(
        tmp_path / "reports",
        *[arg for site in sites for arg in ("--site", str(site))],
        "-n",
        "2",
        "-m",
        SELECTION,
        "-p",
        "tests.evidence.replay_plugin",
    )
    assert run.returncode == 0, run.output
    _says_it_everywhere(run, {"hq": sentence("hq"), "dr": sentence("dr")})
