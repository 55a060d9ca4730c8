"""Every simulated node's SNMP agent follows its node's SNMP settings and the SNMP-04 faults,
seen through Accord's SNMP probe on the node's own loopback address (real UDP, no mocks)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from accord.network import Endpoint
from accord.probes.snmp import SnmpV3User, get
from simulator.pexip import ManagementNodeSimulator
from tests.simulator.conftest import CONFIG
from tests.simulator.test_listeners import NodeApi, reach

USER, AUTH, PRIV, COMMUNITY = "monitor", "auth-Secret-1", "priv-Secret-2", "c0mmunity-S3"
SHA_AES = SnmpV3User(USER, AUTH, PRIV)
MD5_DES = SnmpV3User(USER, AUTH, PRIV, "MD5", "DES")
FAST = 0.3  # seconds to wait where no answer is expected
SNMPV3 = {
    "snmp_mode": "AUTHPRIV",
    "snmp_community": COMMUNITY,
    "snmp_username": USER,
    "snmp_authentication_password": AUTH,
    "snmp_privacy_password": PRIV,
}
CONF1, MGR = "192.0.2.21", "192.0.2.10"


@pytest.fixture
def client(network_sim: ManagementNodeSimulator, tmp_path) -> Iterator[NodeApi]:
    """An API client of the module's simulator, factory-fresh with no fault, listeners synced."""
    network_sim.model.faults.clear()
    network_sim.model.reset()
    network_sim.sync_listeners()
    trust = tmp_path / "trust.pem"
    trust.write_text(network_sim.ca_file.read_text())
    api = NodeApi(network_sim, trust)
    yield api
    api.session.close()
    network_sim.model.faults.clear()


def agent(sim: ManagementNodeSimulator, address: str) -> Endpoint:
    return Endpoint(address, 161, reach(sim, address), sim.snmp_port)


def answered(sim: ManagementNodeSimulator, address: str, credentials: SnmpV3User | str) -> bool:
    return get(agent(sim, address), credentials, timeout=FAST).answered


def test_factory_nodes_have_no_agent(network_sim, client):
    assert not answered(network_sim, CONF1, "public")
    assert "snmp" not in network_sim.network.ports(next(iter(network_sim.network.hosts())))


def test_snmpv3_read_only_answers_sha_aes_only(network_sim, client):
    client.write("PATCH", CONFIG + "worker_vm/1/", SNMPV3)
    found = get(agent(network_sim, CONF1), SHA_AES, timeout=2.0)
    assert found.answered and found.value == "Pexip Infinity Conferencing Node"
    assert not answered(network_sim, CONF1, MD5_DES)
    assert not answered(network_sim, CONF1, COMMUNITY)
    assert not answered(network_sim, CONF1, "public")
    assert not answered(network_sim, MGR, SHA_AES)  # the Management Node is still DISABLED


def test_management_node_agent_and_standard_mode(network_sim, client):
    client.write("PATCH", CONFIG + "management_vm/1/", SNMPV3 | {"snmp_mode": "STANDARD"})
    found = get(agent(network_sim, MGR), COMMUNITY, timeout=2.0)
    assert found.answered and found.value == "Pexip Infinity Management Node"
    assert not answered(network_sim, MGR, SHA_AES)


def test_disabling_stops_the_agent(network_sim, client):
    client.write("PATCH", CONFIG + "worker_vm/1/", SNMPV3)
    assert answered(network_sim, CONF1, SHA_AES)
    client.write("PATCH", CONFIG + "worker_vm/1/", {"snmp_mode": "DISABLED"})
    assert not answered(network_sim, CONF1, SHA_AES)


@pytest.mark.parametrize(
    ("fault", "credentials"),
    [("snmp04_answers_v2c", COMMUNITY), ("snmp04_accepts_md5_des", MD5_DES)],
)
def test_faults_through_sim_faults_reach_the_agents(network_sim, client, fault, credentials):
    client.write("PATCH", CONFIG + "worker_vm/1/", SNMPV3)
    assert not answered(network_sim, CONF1, credentials)
    client.write("PUT", "/_sim/faults", {"active": [fault]})
    assert answered(network_sim, CONF1, credentials)
    assert answered(network_sim, CONF1, SHA_AES)
    client.write("PUT", "/_sim/faults", {"active": []})
    assert not answered(network_sim, CONF1, credentials)


def test_clear_passwords_survive_a_restore_but_never_leave_the_simulator(network_sim, client):
    client.write("PATCH", CONFIG + "worker_vm/1/", SNMPV3)
    snapshot = client.request("GET", "/_sim/state").text
    assert AUTH not in snapshot and PRIV not in snapshot
    client.write("POST", "/_sim/reset")
    assert not answered(network_sim, CONF1, SHA_AES)
    client.write("PUT", "/_sim/state", json.loads(snapshot))
    assert answered(network_sim, CONF1, SHA_AES)
