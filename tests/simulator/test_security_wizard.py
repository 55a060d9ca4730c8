"""The console security wizard's stand-in (/_sim/security_wizard) and what the listeners and
the Administrator interface do with its answers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

from accord.network import Endpoint
from accord.probes import tls
from simulator.pexip import ManagementNodeSimulator
from simulator.pexip.firewall import Firewall, OpenPorts
from tests.simulator.conftest import PASSWORD, USERNAME
from tests.simulator.test_listeners import NodeApi, reach

WIZARD = "/_sim/security_wizard"
ROOT_AND_NFT = os.geteuid() == 0 and shutil.which("nft") is not None


@pytest.fixture
def net(network_sim: ManagementNodeSimulator) -> ManagementNodeSimulator:
    """Factory-fresh: reset through /_sim/ (the listeners follow, as after any write, and the
    Administrator interface's sessions end)."""
    NodeApi(network_sim, network_sim.ca_file).request("POST", "/_sim/reset")
    return network_sim


@pytest.fixture
def api(net: ManagementNodeSimulator) -> NodeApi:
    return NodeApi(net, net.ca_file)


def outcome(host: str, port: int) -> str:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except ConnectionRefusedError:
        return "reset"
    except TimeoutError:
        return "timed out"
    return "accepted"


def test_a_factory_fresh_node_has_not_run_the_wizard(api):
    state = api.request("GET", WIZARD).json()
    assert state["completed"] is False
    assert state["answers"]["tls10"] is True and state["answers"]["fips_mode"] is False
    assert len(state["nodes"]) == 4  # the Management Node and three Conferencing Nodes


def test_fault_conf01_reports_the_wizard_completed_without_running_it(api):
    api.request("PUT", "/_sim/faults", json={"active": ["conf01_bootstrap_reported_complete"]})
    try:
        state = api.request("GET", WIZARD).json()
        assert state["completed"] is True and state["answers"]["tls10"] is True
    finally:
        api.request("PUT", "/_sim/faults", json={"active": []})
    assert api.request("GET", WIZARD).json()["completed"] is False


def test_running_the_wizard_completes_it_for_every_node(api):
    answered = api.request("PUT", WIZARD, json={"answers": {"tls10": False}}).json()
    assert answered["completed"] is True
    assert all(a["tls10"] is False for a in answered["nodes"].values())


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"tls10": "no"}, "tls10"),
        ({"sip_udp_port": 70000}, "sip_udp_port"),
        ({"web_sessions_total": -1}, "web_sessions_total"),
        ({"telnet": True}, "telnet"),
        ({"sip_tcp_port": 5061}, "sip_tls_port"),
        ({"sip_tls_port": 443}, "sip_tls_port"),
    ],
)
def test_bad_answers_name_the_field_and_change_nothing(api, answers, field):
    before = api.request("GET", WIZARD).json()
    response = api.request("PUT", WIZARD, json={"answers": {"fips_mode": True, **answers}})
    assert response.status_code == 400
    assert field in response.json()["security_wizard"]
    assert api.request("GET", WIZARD).json() == before


def test_one_node_can_diverge_and_a_snapshot_keeps_it(net, api):
    node = "/api/admin/configuration/v1/worker_vm/2/"
    answered = api.request("PATCH", WIZARD, json={"nodes": {node: {"tls10": False}}}).json()
    assert answered["nodes"][node]["tls10"] is False
    assert answered["answers"]["tls10"] is True
    unknown = api.request("PATCH", WIZARD, json={"nodes": {"/api/x/": {"tls10": False}}})
    assert unknown.status_code == 400
    snapshot = api.request("GET", "/_sim/state").json()
    assert snapshot["security_wizard"]["nodes"] == {node: {"tls10": False}}
    api.request("POST", "/_sim/reset")
    assert api.request("GET", WIZARD).json()["completed"] is False
    assert api.request("PUT", "/_sim/state", json=snapshot).status_code == 204
    assert api.request("GET", WIZARD).json()["nodes"][node]["tls10"] is False


def test_ssh_and_sip_ports_follow_the_answers(net, api):
    host = reach(net, "192.0.2.21")
    assert outcome(host, 2222) == "accepted"  # the system administrator account is enabled
    assert outcome(host, 5060) == "accepted"
    answers = {"disable_system_administrator": True, "sip_tcp_port": 5070}
    api.request("PUT", WIZARD, json={"answers": answers})
    assert outcome(host, 2222) != "accepted"
    assert outcome(host, 5060) != "accepted" and outcome(host, 5070) == "accepted"


@pytest.mark.skipif(not ROOT_AND_NFT, reason="needs root and nftables to drop packets")
def test_closed_ports_drop_or_reset_as_answered(net, api):
    host = reach(net, "192.0.2.22")
    assert outcome(host, 23) == "timed out"  # the factory answer is "drop"
    api.request("PUT", WIZARD, json={"answers": {"drop_closed_port_packets": False}})
    assert outcome(host, 23) == "reset"


def test_the_firewall_table_is_private_and_removed():
    firewall = Firewall()
    script = firewall.ruleset({"127.9.9.9": OpenPorts(frozenset({8443}), frozenset())})
    assert "ip daddr 127.9.9.9 tcp dport != { 8443 } drop" in script
    assert "ip daddr 127.9.9.9 meta l4proto udp drop" in script
    if not ROOT_AND_NFT:
        assert firewall.why_unavailable
        return
    firewall.apply({"127.9.9.9": OpenPorts(frozenset({8443}), frozenset())})
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert firewall.table in listed
    firewall.close()
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert firewall.table not in listed


def test_host_headers_are_validated_once_the_wizard_says_so(net, api):
    foreign = {"Host": "accord-probe.invalid"}
    assert api.request("GET", "/admin/login/", headers=foreign).status_code == 200
    api.request("PUT", WIZARD, json={"answers": {"validate_host_headers": True}})
    assert api.request("GET", "/admin/login/", headers=foreign).status_code == 400
    assert (
        api.request("GET", "/api/admin/configuration/v1/global/", headers=foreign).status_code
        == 400
    )
    own = {"Host": net.server_name}
    assert api.request("GET", "/admin/login/", headers=own).status_code == 200
    assert api.request("GET", "/admin/login/").status_code == 200  # the address it listens on


def test_web_session_limits_per_user(net, api):
    api.request("PUT", WIZARD, json={"answers": {"web_sessions_per_user": 2}})
    login = {"username": USERNAME, "password": PASSWORD}

    def log_in() -> int:
        response = api.request("POST", "/admin/login/", data=login, allow_redirects=False)
        return response.status_code

    assert [log_in(), log_in(), log_in()] == [302, 302, 403]
    wrong = api.request("POST", "/admin/login/", data={"username": USERNAME, "password": "x"})
    assert "Please enter a correct username and password" in wrong.text


@pytest.mark.parametrize(
    ("fault", "answers", "expected"),
    [
        ("secw08_per_user_limit_off_by_one", {"web_sessions_per_user": 2}, [302, 302, 302, 403]),
        (  # without the fault: [302, 403, 403, 403]
            "secw08_total_limit_ignored",
            {"web_sessions_total": 1, "web_sessions_per_user": 3},
            [302, 302, 302, 403],
        ),
    ],
)
def test_session_limit_faults(net, api, fault, answers, expected):
    api.request("PUT", WIZARD, json={"answers": answers})
    login = {"username": USERNAME, "password": PASSWORD}

    def log_in() -> int:
        response = api.request("POST", "/admin/login/", data=login, allow_redirects=False)
        return response.status_code

    api.request("PUT", "/_sim/faults", json={"active": [fault]})
    try:
        assert [log_in() for _ in expected] == expected
    finally:
        api.request("PUT", "/_sim/faults", json={"active": []})


CHACHA13, AES13 = "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"
NOT_FIPS12 = "ALL:!AES:!3DES"  # ChaCha20-Poly1305, Camellia, ARIA...


def offers(host: str) -> dict[str, tls.Negotiation]:
    """The FIPS-relevant offers to a Conferencing Node's HTTPS and SIP TLS listeners."""
    out = {}
    for port in (8443, 5061):
        endpoint = Endpoint("node", port, host, port)
        for label, version, ciphers in (
            ("1.3 ChaCha20", "TLSv1.3", CHACHA13),
            ("1.3 AES-GCM", "TLSv1.3", AES13),
            ("1.3 ChaCha20 or AES-256-GCM", "TLSv1.3", f"{CHACHA13}:TLS_AES_256_GCM_SHA384"),
            ("1.2 not FIPS", "TLSv1.2", NOT_FIPS12),
            ("1.2 AES-GCM", "TLSv1.2", "ECDHE+AESGCM"),
        ):
            out[f"{port} {label}"] = tls.negotiate(
                endpoint, server_name=None, version=version, ciphers=ciphers, timeout=5
            )
    return out


def test_fips_mode_refuses_every_offer_of_non_approved_suites_at_tls_1_2_and_1_3(api, net):
    host = reach(net, "192.0.2.21")
    factory = offers(host)
    assert all(r.accepted for r in factory.values()), factory
    assert factory["5061 1.3 ChaCha20"].cipher == CHACHA13
    api.request("PUT", WIZARD, json={"answers": {"fips_mode": True}})
    fips = offers(host)
    for port in (8443, 5061):
        for label in ("1.3 ChaCha20", "1.2 not FIPS"):
            result = fips[f"{port} {label}"]
            assert result.refused and "handshake failure" in (result.error or ""), result
        assert fips[f"{port} 1.3 AES-GCM"].cipher == AES13
        assert fips[f"{port} 1.3 ChaCha20 or AES-256-GCM"].cipher == "TLS_AES_256_GCM_SHA384"
        assert fips[f"{port} 1.2 AES-GCM"].protocol == "TLSv1.2"
    # The same refusal as OpenSSL's own command line client sees from a real server.
    assert "alert handshake failure" in openssl_tls13_chacha20(host, 8443)


def test_fault_a_fips_node_accepts_tls13_chacha20_but_not_tls12(api, net):
    api.request("PUT", WIZARD, json={"answers": {"fips_mode": True}})
    api.request("PUT", "/_sim/faults", json={"active": ["secw01_fips_accepts_tls13_chacha20"]})
    try:
        faulty = offers(reach(net, "192.0.2.22"))
    finally:
        api.request("PUT", "/_sim/faults", json={"active": []})
    for port in (8443, 5061):
        assert faulty[f"{port} 1.3 ChaCha20"].cipher == CHACHA13
        assert faulty[f"{port} 1.2 not FIPS"].refused


def openssl_tls13_chacha20(host: str, port: int) -> str:
    """``openssl s_client -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256``'s output."""
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"{host}:{port}", "-tls1_3"]
        + ["-ciphersuites", CHACHA13],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done.stdout + done.stderr
