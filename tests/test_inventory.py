"""Nothing passes on nothing: what a system shows against what its site file declares
(`accord.inventory`), and a run whose site declares other nodes and locations than the lab has."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from accord import inventory
from tests.conftest import Lab
from tests.features_run import run_features


def test_an_empty_list_is_a_problem_whatever_the_site_declares() -> None:
    assert inventory.compare("nodes of x", [], None) == [
        "the system shows no nodes of x: an empty list proves nothing"
    ]
    assert inventory.compare("nodes of x", [], ["a", "b"]) == [
        "the system shows no nodes of x (the site declares a, b): an empty list proves nothing"
    ]


def test_fewer_more_other_and_twice_are_named() -> None:
    assert inventory.compare("nodes", ["a", "b", "c"], ["a", "b", "c"]) == []
    assert inventory.compare("nodes", ["a", "b"], None) == []
    assert inventory.compare("nodes", ["a", "c", "c", "d"], ["a", "b", "c"]) == [
        "nodes: listed more than once: c",
        "nodes: the site declares b, the system shows none",
        "nodes: the system shows d, the site declares none",
    ]


def test_two_objects_of_one_name_are_told_apart_by_their_uri() -> None:
    first = {"name": "Datacenter A", "resource_uri": "/l/1/"}
    second = {"name": "Datacenter A", "resource_uri": "/l/2/"}
    other = {"name": "Datacenter B", "resource_uri": "/l/3/"}
    objects = [first, second, other]
    assert [inventory.label(o, objects) for o in objects] == [
        "Datacenter A (/l/1/)",
        "Datacenter A (/l/2/)",
        "Datacenter B",
    ]


def test_the_lab_site_declares_what_each_verified_deployment_has(lab: Lab) -> None:
    document = tomllib.loads(lab.site_file.read_text())
    primary = document["systems"]["pexip"]["primary"]
    assert primary["nodes"] == ["mgr01", "conf01", "conf02", "conf03"]
    assert primary["locations"] == ["Datacenter A", "Datacenter B"]
    assert "nodes" in document["systems"]["pexip"]["contingency"]
    assert "nodes" not in document["systems"]["pexip"]["scratch"]  # the actions change it


def test_a_deployment_showing_other_nodes_and_locations_than_declared_fails_what_reads_them(
    deployed: Lab, tmp_path: Path
) -> None:
    document = tomllib.loads(deployed.site_file.read_text())
    primary = document["systems"]["pexip"]["primary"]
    primary["nodes"] = ["mgr01", "conf01", "conf02", "conf09"]  # conf03 shown, conf09 not
    primary["locations"] = ["Datacenter A"]  # Datacenter B shown
    site = deployed.site_file.with_name("declared.toml")
    site.write_text(tomli_w.dumps(document))
    run = run_features(
        tmp_path,
        "-m",
        "SNMP-01 or TLS-05 or SECW-10 or LOC-01 or NET-01 or GLB-02",
        "--target",
        "live",
        "--site",
        str(site),
        evidence="minimal",
    )
    by_nodes = run.tagged("SNMP-01") | run.tagged("TLS-05") | run.tagged("SECW-10")
    by_locations = run.tagged("LOC-01") | run.tagged("NET-01")
    assert by_nodes and by_locations
    assert run.failed() == by_nodes | by_locations, run.output[-3000:]
    assert run.tagged("GLB-02") and not run.tagged("GLB-02") & run.failed()
    assert "nodes of pexip-primary: the site declares conf09, the system shows none" in run.output
    assert "nodes of pexip-primary: the system shows conf03, the site declares none" in run.output
    assert (
        "locations of pexip-primary: the system shows Datacenter B, the site declares none"
        in run.output
    )


def test_a_deployment_kept_powered_off_is_not_probed_and_says_so(
    deployed: Lab, tmp_path: Path
) -> None:
    document = tomllib.loads(deployed.site_file.read_text())
    document["systems"]["pexip"]["contingency"]["powered_off"] = True
    site = deployed.site_file.with_name("contingency-off.toml")
    site.write_text(tomli_w.dumps(document))
    run = run_features(
        tmp_path, "-m", "SECW-10", "--target", "live", "--site", str(site), evidence="minimal"
    )
    assert run.tagged("SECW-10") and not run.failed(), run.output[-3000:]
    results = (run.reports / "results.json").read_text()
    assert "kept powered off" in results and "pexip-contingency" in results
    assert "(contingency)" not in results  # none of its nodes was probed
