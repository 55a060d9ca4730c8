"""Record a live run, stop the systems, replay it: the issue's acceptance, end to end.

`accord sim` runs a site whose every secret is a canary (`tests.test_verification`), the
deployer brings it to the baseline, and `pytest features/ --target live --record DIR` records
it. Then the simulators stop and `--target replay --cassettes DIR` replays the recording: every
format reports the same statuses, and each requirement says it was replayed. No canary (nor its
SHA-1, the form the API returns) is in any file of the recording. Editing one recorded answer
(a Management Node's JSON, vCenter's SOAP, a TLS probe's observation) to a non-compliant value
fails exactly the scenarios tagged with that requirement.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from accord.deployer import deploy
from accord.site import load_site
from lab.process import SimProcess
from tests.features_run import Run, run_features
from tests.recording.report_statuses import every_format
from tests.test_verification import CANARIES, write_canary_site

COMMUNITY = "canary-comm"  # the site file's SNMP community: a secret field's value


@dataclass(frozen=True)
class Recorded:
    folder: Path  # the recording
    live: Run  # the run that recorded it
    replay: Run  # the recording replayed, the simulators stopped


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    base = tmp_path_factory.mktemp("record")
    site = write_canary_site(base / "canary")
    folder = base / "recording"
    with SimProcess(base / "sim", site) as sim:
        deploy(load_site(sim.site_file), out=lambda _line: None)
        live = run_features(
            base / "live",
            *("--target", "live", "--site", str(sim.site_file), "--record", str(folder)),
        )
    replay = run_features(base / "replay", "--target", "replay", "--cassettes", str(folder))
    yield Recorded(folder, live, replay)


def test_the_live_run_verifies_the_site(recorded):
    """A sound baseline: what is recorded passes (or is not run / attested), so an edit that
    fails a scenario is the edit's doing."""
    assert recorded.live.returncode == 0, recorded.live.output
    assert not recorded.live.failed()
    assert {s.status for s in recorded.live.scenarios} == {"passed", "skipped"}


def test_the_replay_reports_the_same_statuses_in_every_format(recorded):
    assert recorded.replay.returncode == 0, recorded.replay.output
    live, replay = every_format(recorded.live.reports), every_format(recorded.replay.reports)
    assert (
        set(live)
        == set(replay)
        == {
            "results.json",
            "cucumber.json",
            "junit.xml",
            "hdf.json",
            "oscal-assessment-results.json",
            "report.html",
        }
    )
    for name in live:
        assert replay[name] == live[name], name
    assert "passed" in live["results.json"].values()
    assert "not run" in live["results.json"].values()


def test_the_replay_says_so_on_every_requirement(recorded):
    results = json.loads((recorded.replay.reports / "results.json").read_text())
    recording = json.loads((recorded.folder / "recording.json").read_text())
    sentence = f"replayed from a recording made at {recording['recorded_at'][:19]}+00:00 of canary"
    assert results["target"] == "replay"
    assert {r["replayed_from"] for r in results["requirements"]} == {sentence}
    assert sentence in recorded.replay.output
    live = json.loads((recorded.live.reports / "results.json").read_text())
    assert {r["replayed_from"] for r in live["requirements"]} == {None}


def test_the_guides_actions_are_not_run_when_recording_or_replaying(recorded):
    results = json.loads((recorded.live.reports / "results.json").read_text())
    acted = [s for s in results["scenarios"] if "actions are not recorded" in (s["reason"] or "")]
    assert acted and {s["status"] for s in acted} == {"not run"}


def test_no_canary_in_any_file_of_the_recording(recorded):
    needles = set(CANARIES.values()) | {COMMUNITY}
    needles |= {hashlib.sha1(v.encode()).hexdigest() for v in needles}
    files = [p for p in recorded.folder.rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} >= {"cassettes", "observations", "site"}
    for path in files:
        content = path.read_text(errors="replace")
        leaked = [n for n in needles if n in content]
        assert not leaked, f"{path} holds {leaked}"
        keys = re.findall(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*(\S+)", content)
        assert set(keys) <= {"REDACTED"}, f"{path} holds a private key"
    cassettes = "".join(p.read_text() for p in (recorded.folder / "cassettes").iterdir())
    assert "vmware_soap_session=REDACTED" in cassettes  # pyvmomi's SOAP was recorded
    assert not re.search(r"vmware_soap_session=(?!REDACTED)", cassettes)
    assert "Authorization:\n      - REDACTED" in cassettes
    # vCenter's session key: its Login answer keeps no key.
    answers = [
        str(interaction["response"]["body"]["string"])
        for path in (recorded.folder / "cassettes").iterdir()
        for interaction in yaml.safe_load(path.read_text())["interactions"]
    ]
    logins = [answer for answer in answers if "<LoginResponse" in answer]
    assert logins and all("<key>REDACTED</key>" in login for login in logins)
    # A client certificate every Management Node names is copied once.
    site_files = [p.name for p in (recorded.folder / "site").rglob("*") if p.is_file()]
    assert not [name for name in site_files if name.startswith("_")], site_files


def _edit_cassette(path: Path, edit: Callable[[str], str]) -> None:
    """Change every recorded answer of a cassette (its response bodies) with ``edit``."""
    cassette = yaml.safe_load(path.read_text())
    changed = 0
    for interaction in cassette["interactions"]:
        body = interaction["response"]["body"]
        text = body["string"]
        text = text.decode() if isinstance(text, bytes) else text
        edited = edit(text)
        changed += edited != text
        body["string"] = edited
        for name, values in interaction["response"]["headers"].items():
            if name.lower() == "content-length":
                values[:] = [str(len(edited.encode()))]
    assert changed, f"nothing to edit in {path.name}"
    path.write_text(yaml.safe_dump(cassette))


def _file(folder: Path, kind: str, feature: str, test: str) -> Path:
    """A scenario's cassette (``kind`` "cassettes") or observations file, by its test name."""
    suffix = ".yaml" if kind == "cassettes" else ".json"
    return folder / kind / f"features_{feature}_test_{feature}.py_{test}{suffix}"


def community_public(folder: Path) -> None:
    """A Management Node answers that a node's SNMP community is "public"."""
    _edit_cassette(
        _file(folder, "cassettes", "pexip", "test_no_node_uses_the_snmp_community_public"),
        lambda text: re.sub(
            r'"snmp_community":"[^"]*"', '"snmp_community":"public"', text, count=1
        ),
    )


def no_cpu_reservation(folder: Path) -> None:
    """vCenter answers that the Pexip VMs reserve no CPU."""
    _edit_cassette(
        _file(folder, "cassettes", "vsphere", "test_each_pexip_vms_cpu_reservation_is_its_maximum"),
        lambda text: re.sub(
            r"(cpuAllocation</name><val [^>]*><reservation>)\d+(</reservation>)",
            r"\g<1>0\2",
            text,
            flags=re.S,
        ),
    )


def tls10_accepted(folder: Path) -> None:
    """A TLS listener was seen accepting a TLS 1.0 handshake."""
    path = _file(folder, "observations", "pexip", "test_tls_10_is_disabled_on_every_tls_listener")
    recorded = json.loads(path.read_text())
    first = next(o for o in recorded["observations"] if o["call"]["version"] == "TLSv1")
    first["result"].update(accepted=True, protocol="TLSv1", cipher="AES128-SHA", error=None)
    path.write_text(json.dumps(recorded))


@pytest.mark.parametrize(
    ("edit", "requirement"),
    [(community_public, "SNMP-03"), (no_cpu_reservation, "VM-CPU-01"), (tls10_accepted, "SECW-10")],
    ids=["pexip-api", "vsphere-soap", "wire-observation"],
)
def test_a_non_compliant_recorded_answer_fails_exactly_its_requirement(
    recorded, tmp_path, edit, requirement
):
    folder = tmp_path / "recording"
    shutil.copytree(recorded.folder, folder)
    edit(folder)
    run = run_features(tmp_path / "reports", "--target", "replay", "--cassettes", str(folder))
    assert run.returncode != 0
    assert run.tagged(requirement)
    assert run.failed() == run.tagged(requirement), run.output


@pytest.mark.parametrize(
    ("feature", "test", "answer", "named"),
    [
        ("pexip", "test_no_node_uses_the_snmp_community_public", '"pxconf01"', "GET https://"),
        (
            "vsphere",
            "test_each_pexip_vms_cpu_reservation_is_its_maximum",
            "cpuAllocation</name>",
            "/sdk (SOAP Retrieve",
        ),
    ],
    ids=["pexip-api", "vsphere-soap"],
)
def test_an_interaction_missing_from_the_recording_fails_its_scenario_naming_it(
    recorded, tmp_path, feature, test, answer, named
):
    """The interaction whose answer holds ``answer`` taken out of the scenario's cassette."""
    folder = tmp_path / "recording"
    shutil.copytree(recorded.folder, folder)
    path = _file(folder, "cassettes", feature, test)
    cassette = yaml.safe_load(path.read_text())
    kept = [i for i in cassette["interactions"] if answer not in str(i["response"]["body"])]
    assert len(kept) == len(cassette["interactions"]) - 1
    path.write_text(yaml.safe_dump({**cassette, "interactions": kept}))
    run = run_features(tmp_path / "reports", "--target", "replay", "--cassettes", str(folder))
    failed = [s for s in run.scenarios if s.status == "failed"]
    assert len(failed) == 1, run.output
    assert f"NotRecorded: not in the recording ({path.name}): " in run.output, run.output
    assert named in run.output, run.output


def test_any_scenario_replays_alone_and_one_not_recorded_is_not_run(recorded, tmp_path):
    """``-m`` picks scenarios out of a full recording (each logs in to vCenter in its own
    cassette); a scenario the recording lacks (recorded with ``-m``) is reported not run."""
    folder = tmp_path / "recording"
    shutil.copytree(recorded.folder, folder)
    listed = folder / "scenarios.txt"
    lines = listed.read_text().splitlines()
    kept = [line for line in lines if "snmp_community_public" not in line]
    assert len(kept) == len(lines) - 1
    listed.write_text("\n".join(kept) + "\n")
    run = run_features(
        tmp_path / "reports",
        *("--target", "replay", "--cassettes", str(folder), "-m", "SNMP-03 or VM-CPU-02"),
    )
    assert run.returncode == 0, run.output
    results = json.loads((run.reports / "results.json").read_text())
    statuses = {r["requirement"]["id"]: r["status"] for r in results["requirements"]}
    assert statuses["VM-CPU-02"] == "passed"
    assert statuses["SNMP-03"] == "not run"
    (line,) = [line for line in run.output.splitlines() if "] SNMP-03 " in line]
    assert " not run " in line and ": the recording does not hold this scenario" in line
