"""Certificate alarms (derived from the state, moved by the simulated clock), /_sim/clock,
snapshots holding certificates, and the per-machine key cache."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import stat
import time

from simulator.pexip import ManagementNodeSimulator, keycache
from tests.simulator.certs import CA
from tests.simulator.conftest import CONFIG, PASSWORD, STATUS, USERNAME

TLS = CONFIG + "tls_certificate/"
CA_LIST = CONFIG + "ca_certificate/"


def alarms(api) -> list[tuple[str, str, str, str]]:
    return sorted(
        (a["name"], a["level"], a["instance"], a["node"]) for a in api.objects("alarm", STATUS)
    )


def uri_of(api, response) -> str:
    assert response.status_code == 201, response.text
    return response.headers["Location"].removeprefix(api.sim.url.rstrip("/"))


def test_alarms_follow_chain_expiry_and_assignment(api):
    assert alarms(api) == []
    ca = CA(intermediate=True)
    leaf = ca.leaf("conf01.example.com", days=60)
    tls = uri_of(api, api.post(TLS, json={"certificate": leaf.pem, "private_key": leaf.key_pem}))
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": tls})
    assert alarms(api) == [
        ("tls_certificate_chain_incomplete", "warning", "conf01", "192.0.2.21"),
    ]
    [alarm] = api.objects("alarm", STATUS)
    assert "incomplete chain of trust to the root CA certificate" in alarm["details"]
    api.post(CA_LIST, json={"certificate": ca.intermediate.pem})
    assert alarms(api)[0][0] == "tls_certificate_chain_incomplete"  # root still missing
    root = uri_of(api, api.post(CA_LIST, json={"certificate": ca.root.pem}))
    assert alarms(api) == []

    clock = api.put("/_sim/clock", json={"advance_days": 40})
    assert clock.status_code == 200 and clock.json()["offset_seconds"] == 40 * 86400
    tls_id = tls.rstrip("/").rsplit("/", 1)[1]
    assert alarms(api) == [
        ("tls_certificate_expiring", "warning", f"tls_certificate/{tls_id}", "192.0.2.10")
    ]
    [expiring] = api.objects("alarm", STATUS)
    assert "due to expire within the next 30 days" in expiring["details"]
    assert expiring["time_raised"][:10] == api.ok("/_sim/clock")["now"][:10]
    api.post("/_sim/clock", json={"advance_days": 30})
    assert [a[0] for a in alarms(api)] == ["tls_certificate_expired"]
    # The CA certificates (10 years) are fine; unassigning keeps the expiry alarm (the guide
    # counts every uploaded certificate), deleting clears it.
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": TLS + "2/"})
    assert [a[0] for a in alarms(api)] == ["tls_certificate_expired"]
    assert api.delete(tls).status_code == 204
    assert alarms(api) == []
    api.delete(root)
    api.post("/_sim/reset")
    assert api.ok("/_sim/clock")["offset_seconds"] == 0 and alarms(api) == []


def test_ca_certificate_expiry_alarms(api):
    short = CA("Short", days=10)
    api.post(CA_LIST, json={"certificate": short.root.pem})
    assert alarms(api) == [("ca_certificate_expiring", "warning", "ca_certificate/1", "192.0.2.10")]
    [alarm] = api.objects("alarm", STATUS)
    assert "trusted CA certificate Short Root CA" in alarm["details"]
    api.put("/_sim/clock", json={"advance_days": 11})
    assert [a[0] for a in alarms(api)] == ["ca_certificate_expired"]


def test_node_without_certificate_alarm(api):
    api.patch(CONFIG + "management_vm/1/", json={"tls_certificate": None})
    body = {"name": "conf04", "hostname": "pxconf04", "address": "192.0.2.24"}
    body |= {"netmask": "255.255.255.0", "system_location": CONFIG + "system_location/1/"}
    api.post(CONFIG + "worker_vm/", json=body)
    assert alarms(api) == [
        ("tls_certificate_missing", "error", "conf04", "192.0.2.24"),
        ("tls_certificate_missing", "error", "mgr01", "192.0.2.10"),
    ]
    details = {a["instance"]: a["details"] for a in api.objects("alarm", STATUS)}
    assert details["mgr01"] == "The Management Node mgr01 has no associated TLS certificate."
    assert "Conferencing Node conf04" in details["conf04"]
    first_ids = [a["id"] for a in api.objects("alarm", STATUS)]
    assert [a["id"] for a in api.objects("alarm", STATUS)] == first_ids  # stable across reads
    api.patch(CONFIG + "management_vm/1/", json={"tls_certificate": TLS + "1/"})
    assert [a[2] for a in alarms(api)] == ["conf04"]


def test_clock_endpoint(api):
    before = dt.datetime.now(dt.UTC)
    clock = api.ok("/_sim/clock")
    now = dt.datetime.fromisoformat(clock["now"]).replace(tzinfo=dt.UTC)
    assert clock["offset_seconds"] == 0 and abs((now - before).total_seconds()) < 5
    target = "2031-05-06T07:08:09+00:00"
    moved = api.post("/_sim/clock/", json={"now": target}).json()
    assert moved["now"].startswith("2031-05-06T07:08:")
    assert api.put("/_sim/clock", json={"advance_days": -1}).json()["now"].startswith("2031-05-05")
    for bad in (
        {},
        {"advance_days": "1"},
        {"advance_days": True},
        {"now": "tomorrow"},
        {"now": 5},
        {"advance_days": 1, "now": target},
        {"advance_days": 10**9},
        [],
    ):
        response = api.put("/_sim/clock", json=bad)
        assert response.status_code == 400 and set(response.json()) == {"error"}, bad
    assert api.delete("/_sim/clock").status_code == 405
    snapshot = api.http_state()
    assert snapshot["clock"]["offset_seconds"] == moved["offset_seconds"] - 86400
    api.post("/_sim/reset")
    assert api.ok("/_sim/clock")["offset_seconds"] == 0
    assert api.put("/_sim/state", json=snapshot).status_code == 204
    assert api.ok("/_sim/clock")["offset_seconds"] == snapshot["clock"]["offset_seconds"]


def test_snapshots_carry_certificates_and_refuse_tampered_ones(api):
    ca = CA()
    leaf = ca.leaf("snap.example.com")
    api.post(TLS, json={"certificate": leaf.pem, "private_key": leaf.key_pem})
    api.post(
        CONFIG + "certificate_signing_request/",
        json={"subject_name": "s.example.com", "private_key_type": "ECDSAP256"},
    )
    api.post(CA_LIST, json={"certificate": ca.root.pem})
    snapshot = api.http_state()
    api.post("/_sim/reset")
    assert api.put("/_sim/state", json=snapshot).status_code == 204
    assert api.http_state() == snapshot
    tls_rows = snapshot["tables"]["configuration/tls_certificate"]["rows"]
    for tamper in (
        lambda s: s["tables"]["configuration/tls_certificate"]["rows"][4].update(certificate="x"),
        lambda s: s["tables"]["configuration/tls_certificate"]["rows"][4].update(
            private_key=tls_rows[0]["private_key"]
        ),
        lambda s: s["tables"]["configuration/tls_certificate"]["rows"][4].update(subject_name="x"),
        lambda s: s["tables"]["configuration/ca_certificate"]["rows"][0].update(
            certificate=leaf.key_pem
        ),
        lambda s: s["tables"]["configuration/certificate_signing_request"]["rows"][0].update(
            csr="-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n"
        ),
        lambda s: s.update(clock={"offset_seconds": "soon"}),
        lambda s: s.pop("clock"),
    ):
        broken = copy.deepcopy(snapshot)
        tamper(broken)
        response = api.put("/_sim/state", json=broken)
        assert response.status_code == 400, response.text
    assert api.http_state() == snapshot


def test_key_cache_is_private_and_repairs_itself(tmp_path):
    directory = keycache.cache_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.glob("*.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    copy_dir = tmp_path / "cache"
    shutil.copytree(directory, copy_dir)
    (copy_dir / "rsa4096-2.pem").write_text("corrupt")
    (copy_dir / "rsa4096-3.pem").unlink()
    files = keycache._ensure(copy_dir)  # regenerates two RSA-4096 keys (about a second)
    assert files["rsa4096-0.pem"] == (directory / "rsa4096-0.pem").read_bytes()
    assert b"PRIVATE KEY" in files["rsa4096-2.pem"] and (copy_dir / "rsa4096-3.pem").exists()
    assert stat.S_IMODE((copy_dir / "rsa4096-2.pem").stat().st_mode) == 0o600


def test_simulator_start_stays_fast_with_a_warm_cache(tmp_path):
    started = time.monotonic()
    with ManagementNodeSimulator(
        name="fast", username=USERNAME, password=PASSWORD, workdir=tmp_path
    ) as sim:
        elapsed = time.monotonic() - started
        assert sim.url
        reset_started = time.monotonic()
        sim.model.reset()
        assert time.monotonic() - reset_started < 0.2
    assert elapsed < 1.0, elapsed
