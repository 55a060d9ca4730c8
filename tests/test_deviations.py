"""A site value that differs from the value the guide states is a deviation: never "passed"
under the guide's words, "waived" when a waiver records it (`accord.deviations`)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from accord.deployer import deploy
from accord.deviations import GUIDE_VALUES, deviation, deviations
from accord.requirements import load_catalogue
from accord.site import load_site
from tests.conftest import Lab
from tests.features_run import run_features

TODAY = dt.date(2026, 12, 7)


def _site(folder: Path, lab: Lab, media_dscp: int, waiver: bool) -> Path:
    document: dict[str, Any] = tomllib.loads(lab.site_file.read_text())
    document["pexip"]["locations"]["media_dscp"] = media_dscp
    if waiver:
        document["waivers"] = [
            {
                "id": "LOC-01",
                "reason": "The WAN marks EF (46) for media end to end.",
                "approver": "A. Jones, CISO",
                "date": TODAY - dt.timedelta(days=1),
                "expires": TODAY + dt.timedelta(days=365),
            }
        ]
    path = lab.site_file.with_name(f"dscp-{media_dscp}-{'waived' if waiver else 'bare'}.toml")
    path.write_text(tomli_w.dumps(document))
    return path


def test_the_guide_values_are_the_catalogues() -> None:
    catalogue = load_catalogue()
    for value in GUIDE_VALUES:
        text = catalogue[value.requirement].text
        assert str(value.guide) in text and "site value" not in text, value.requirement


def test_a_site_at_the_guides_values_deviates_nowhere(lab: Lab) -> None:
    assert deviations(lab.site, TODAY) == []


def test_a_deviation_names_the_guides_and_the_sites_value(lab: Lab, tmp_path: Path) -> None:
    bare = load_site(_site(tmp_path, lab, 46, waiver=False))
    found = deviation(bare, "LOC-01", TODAY)
    assert found is not None and found.waiver is None
    assert found.describe() == (
        "LOC-01: guide 51, site 46 (pexip.locations.media_dscp): a deviation no waiver records"
    )
    assert deviation(bare, "LOC-02", TODAY) is None
    waived = deviation(load_site(_site(tmp_path, lab, 46, waiver=True)), "LOC-01", TODAY)
    assert waived is not None and waived.waiver is not None
    assert "waived by A. Jones, CISO until" in waived.describe()
    # A waiver not yet in force, or expired, records nothing.
    later = deviation(
        load_site(_site(tmp_path, lab, 46, waiver=True)), "LOC-01", TODAY.replace(year=2030)
    )
    assert later is not None and later.waiver is None


def test_media_dscp_46_fails_loc01_without_a_waiver_and_is_waived_with_one(
    deployed: Lab, tmp_path: Path
) -> None:
    bare = _site(tmp_path, deployed, 46, waiver=False)
    lines: list[str] = []
    deploy(load_site(bare), out=lines.append)  # applies the site's 46 to every location
    assert any(
        "LOC-01: guide 51, site 46" in line and "verification fails it" in line for line in lines
    )
    try:
        run = run_features(
            tmp_path / "bare", "-m", "LOC-01 or LOC-02", "--target", "live", "--site", str(bare)
        )
        assert run.failed() == run.tagged("LOC-01"), run.output[-3000:]
        assert "guide 51, site 46" in run.output
        waived_site = _site(tmp_path, deployed, 46, waiver=True)
        waived = run_features(
            tmp_path / "waived", "-m", "LOC-01", "--target", "live", "--site", str(waived_site)
        )
        assert not waived.failed(), waived.output[-3000:]
        results = json.loads((waived.reports / "results.json").read_text())
        status = {r["requirement"]["id"]: r["status"] for r in results["requirements"]}
        assert status["LOC-01"] == "waived"
        observed = json.dumps(results["scenarios"])
        assert '"guide": 51' in observed and '"site": 46' in observed
    finally:
        deploy(deployed.site, out=lambda _line: None)  # the lab's 51 back
