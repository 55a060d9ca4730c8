"""What a run says it verified (`accord.evidence.scope.read_scope`): the site file's systems,
what their APIs report, versions where they tell them; nothing read on a replay; a system that
cannot be read is a note, never a failed run; no credentials in an address; its connections
closed before the scenarios make theirs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from accord.evidence.scope import SCRATCH, read_scope
from accord.site import load_site
from accord.systems import Systems
from tests.test_verification import write_canary_site


class FakePexip:
    """A read-only client's lists, as a Management Node answers them."""

    def list(self, resource: str, api: str = "configuration/v1") -> list[dict[str, Any]]:
        nodes = {
            "management_vm": [{"name": "mgr01", "hostname": "pxmgr01", "domain": "example.com",
                               "address": "192.0.2.10"}],
            "worker_vm": [{"name": "conf01", "hostname": "pxconf01", "domain": "example.com",
                           "address": "192.0.2.21"}],
        }[resource]  # fmt: skip
        if api.startswith("status"):
            return [{"name": n["name"], "version": "37.0"} for n in nodes]
        return nodes


class FakeSystems(Systems):
    closed = 0

    def pexip(self, deployment: str = "primary") -> Any:
        if deployment == "contingency":
            raise ConnectionRefusedError("connection refused")
        return FakePexip()

    def vsphere(self) -> Any:
        raise TimeoutError("vCenter did not answer")

    def close(self) -> None:
        self.closed += 1


def systems(tmp_path, replay: bool = False) -> FakeSystems:
    site = load_site(write_canary_site(tmp_path / "site"))
    recorder = SimpleNamespace(replay=True) if replay else None
    return FakeSystems(site=site, target="replay" if replay else "live", recorder=recorder)  # type: ignore[arg-type]


def test_the_site_s_systems_and_what_they_report(tmp_path):
    found = systems(tmp_path)
    items, notes = read_scope(found)
    by_name = {(i.kind, i.name): i for i in items}
    primary = by_name[("Pexip deployment (Management Node API)", "primary")]
    assert primary.address == "https://127.0.0.1:1/" and primary.version == "37.0"
    node = by_name[("Pexip Conferencing Node", "conf01")]
    assert (node.address, node.version, node.role) == (
        "pxconf01.example.com, 192.0.2.21",
        "37.0",
        "primary deployment",
    )
    assert {i.name for i in items if i.kind == "BeyondTrust appliance"} == {
        "canary1",
        "canary2",
        "canary3",
    }
    # what could not be read is said, and the run goes on
    assert any(
        n.startswith("pexip contingency: nodes not read (ConnectionRefusedError") for n in notes
    )
    assert any(
        n.startswith("vsphere: not read (TimeoutError: vCenter did not answer") for n in notes
    )
    assert ("Pexip deployment (Management Node API)", "contingency") in by_name
    assert by_name[("vCenter", "vsphere")].address == "https://127.0.0.1:3/sdk"  # named, not read
    assert found.closed == 1


def test_a_replay_reads_nothing(tmp_path):
    found = systems(tmp_path, replay=True)
    items, notes = read_scope(found)
    assert notes[0].startswith("a replay reads nothing")
    assert not any(i.version for i in items)  # no API was asked
    assert {i.kind for i in items} >= {"vCenter", "BeyondTrust appliance"}
    assert not any("not read" in n for n in notes)


def test_no_credentials_in_an_address(tmp_path):
    site_file = write_canary_site(tmp_path / "site")
    text = site_file.read_text().replace(
        "https://127.0.0.1:1/", "https://admin:hunter2@127.0.0.1:1/"
    )
    site_file.write_text(text)
    found = FakeSystems(site=load_site(site_file), target="live")
    items, _ = read_scope(found)
    assert not any("hunter2" in i.address or "admin@" in i.address for i in items)
    assert "https://127.0.0.1:1/" in {i.address for i in items}


def test_scratch_systems_are_never_listed_as_verified():
    assert "not verified" in SCRATCH
