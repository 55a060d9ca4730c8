"""Mutation tests of what only the network shows: the security wizard's answers and SNMP.

Each mutation makes one node of the deployed lab answer the wizard otherwise (through the
simulator's console stand-in, as someone at that node's console would), makes the nodes' SNMP
agents or TLS listeners misbehave (a simulator fault: a real node would need a misconfigured
service), or changes the site file, and shows that exactly the scenarios tagged with the
declared requirements fail while every other scenario of the deployment passes. Mutations of
the contingency deployment show that the wire scenarios probe its nodes too.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w

from accord.network import AddressMap, Endpoint
from tests.conftest import Lab
from tests.features_run import (
    catalogue_ids,
    feature_tags,
    run_features,
    site_document_with_attestation,
    tags,
)

ROOT = Path(__file__).resolve().parent.parent
FEATURE = ROOT / "features" / "pexip" / "security_wizard.feature"
SNMP_FEATURE = ROOT / "features" / "pexip" / "snmp.feature"
ACTIONS = ROOT / "features" / "pexip" / "certificate_actions.feature"
Mutation = Callable[[Lab], Path | None]  # returns another site file to verify, if any


def _node_uri(lab: Lab, name: str, deployment: str = "primary") -> str:
    for resource in ("management_vm", "worker_vm"):
        for node in lab.admin[deployment].list(resource):
            if node["name"] == name:
                return node["resource_uri"]
    raise LookupError(name)


def _node_answers(name: str, deployment: str = "primary", **answers: object) -> Mutation:
    """One node of a deployment answered the security wizard otherwise."""

    def mutate(lab: Lab) -> None:
        uri = _node_uri(lab, name, deployment)
        lab.control[deployment].diverge_security_wizard({uri: answers})

    return mutate


def _fault(name: str, *, deployment: str = "primary", **node_settings: object) -> Mutation:
    """A deployment misbehaves (the simulator's fault ``name``), after ``node_settings`` were
    written to its conf01 as an administrator would."""

    def mutate(lab: Lab) -> None:
        if node_settings:
            lab.admin[deployment].update(_node_uri(lab, "conf01", deployment), node_settings)
        lab.control[deployment].set_faults([name])

    return mutate


def _site_file(name: str, change: Callable[[dict], None]) -> Mutation:
    """The lab's site file changed by ``change`` (its TOML document)."""

    def mutate(lab: Lab) -> Path:
        document = tomllib.loads(lab.site_file.read_text())
        change(document)
        # Next to the lab's site file, so that its relative paths still resolve.
        path = lab.site_file.parent / f"mutated-{name}.toml"
        path.write_text(tomli_w.dumps(document))
        return path

    return mutate


def _nowhere(document: dict) -> None:
    """The contingency's nodes reached on a loopback subnet where nothing listens."""
    system = document["systems"]["pexip"]["contingency"]
    ((network, _),) = system["address_map"].items()
    system["address_map"] = {network: "127.1.1.0/24"}


def _scratch_fault(name: str) -> Mutation:
    """The scratch Management Node misbehaves (the simulator's fault ``name``)."""

    def mutate(lab: Lab) -> None:
        lab.control["scratch"].set_faults([name])

    return mutate


def _authentication(**fields: object) -> Mutation:
    """An administrator changed the primary's authentication settings."""

    def mutate(lab: Lab) -> None:
        client = lab.admin["primary"]
        client.update(client.uri("authentication", 1), fields)

    return mutate


def _attestation(requirement: str, *, expired: bool) -> Mutation:
    """The lab's site file without that attestation, or with it expired."""

    def mutate(lab: Lab) -> Path:
        document = site_document_with_attestation(lab.site_file, requirement, expired=expired)
        # Next to the lab's site file, so that its relative paths still resolve.
        path = lab.site_file.parent / f"mutated-{requirement}.toml"
        path.write_text(tomli_w.dumps(document))
        return path

    return mutate


# Every scenario that probes nodes on the wire: each fails when a deployment's nodes cannot be
# reached, none passes on silence alone (SECW-02, SECW-04: their HTTPS control step).
ON_THE_WIRE = "SECW-01 SECW-02 SECW-04 SECW-07 SECW-09 SECW-10 SNMP-04 TLS-03 TLS-08 TLS-16"

MUTATIONS: list[tuple[str, str, Mutation]] = [
    ("SECW-01", "FIPS 140-2 mode off on conf02", _node_answers("conf02", fips_mode=False)),
    (
        "SECW-01",
        "nodes in FIPS mode accept a TLS 1.3 handshake offering only ChaCha20-Poly1305",
        _fault("secw01_fips_accepts_tls13_chacha20"),
    ),
    (
        "SECW-02",
        "the system administrator account left enabled on the contingency's conf03",
        _node_answers("conf03", "contingency", disable_system_administrator=False),
    ),
    (
        "SNMP-04",
        "the contingency's agents also answer SNMPv2c with the site's community",
        _fault("snmp04_answers_v2c", deployment="contingency"),
    ),
    (
        "TLS-08",
        "the contingency's Conferencing Nodes still serve their shipped certificate",
        _fault("tls08_node_serves_shipped_certificate", deployment="contingency"),
    ),
    (ON_THE_WIRE, "the contingency's nodes cannot be reached", _site_file("nowhere", _nowhere)),
    (
        "SECW-02",
        "the system administrator account left enabled on conf01 (SSH open)",
        _node_answers("conf01", disable_system_administrator=False),
    ),
    (
        "SECW-02",
        "the system administrator account left enabled on the Management Node",
        _node_answers("mgr01", disable_system_administrator=False),
    ),
    ("SECW-02", "the console-login attestation missing", _attestation("SECW-02", expired=False)),
    ("SECW-03", "the ICMPv6 redirects attestation expired", _attestation("SECW-03", expired=True)),
    (
        "SECW-04",
        "closed ports reject instead of drop on conf03",
        _node_answers("conf03", drop_closed_port_packets=False),
    ),
    ("SECW-05", "the multicast echo attestation missing", _attestation("SECW-05", expired=False)),
    ("SECW-06", "the IPv6 DAD attestation expired", _attestation("SECW-06", expired=True)),
    ("SECW-07", "SIP UDP on 5070 on conf01", _node_answers("conf01", sip_udp_port=5070)),
    ("SECW-07", "SIP TCP on 5080 on conf02", _node_answers("conf02", sip_tcp_port=5080)),
    # Not mutated: SIP TLS on another port. Every scenario that probes SIP TLS at the site's
    # port (FIPS, TLS 1.0, the served chain) then fails too, as it should: nothing is there.
    (
        "SECW-09",
        "host headers not validated on the Management Node",
        _node_answers("mgr01", validate_host_headers=False),
    ),
    ("SECW-10", "TLS 1.0 re-enabled on conf01", _node_answers("conf01", tls10=True)),
    ("SECW-10", "TLS 1.0 re-enabled on the Management Node", _node_answers("mgr01", tls10=True)),
    ("SECW-11", "the anonymous DH attestation missing", _attestation("SECW-11", expired=False)),
    (
        "SNMP-04",
        "every agent also answers SNMPv2c with the site's community",
        _fault("snmp04_answers_v2c"),
    ),
    (
        "SNMP-04",
        "every agent also accepts the site's user with MD5 and DES",
        _fault("snmp04_accepts_md5_des"),
    ),
    (
        "SNMP-03 SNMP-04",
        'conf01\'s community set to "public", and answered over SNMPv2c',
        _fault("snmp04_answers_v2c", snmp_community="public"),
    ),
    (
        # The local administrator's name is in no directory either.
        "AUTH-05 AUTH-06",
        "a trusted certificate for an identity in no directory accepted",
        _fault("auth05_identity_not_checked"),
    ),
    (
        "AUTH-05",
        "the password login page offered without a client certificate",
        _fault("auth05_login_page_offered"),
    ),
    (
        "AUTH-05 AUTH-06",
        "the API accepts the local administrator's password without a certificate",
        _fault("auth06_local_password_accepted"),
    ),
    (
        "AUTH-01 AUTH-06",
        "the authentication source set back to LDAP and local",
        _authentication(source="LDAP+LOCAL"),
    ),
    (
        "SECW-08",
        "the total session limit ignored",
        _scratch_fault("secw08_total_limit_ignored"),
    ),
    (
        "SECW-08",
        "one session more per user than the limit",
        _scratch_fault("secw08_per_user_limit_off_by_one"),
    ),
    (
        "CONF-01",
        "the scratch node's console reports its bootstrap complete before it is",
        _scratch_fault("conf01_bootstrap_reported_complete"),
    ),
    ("CONF-01", "the bootstrap attestation expired", _attestation("CONF-01", expired=True)),
    (
        "MGMT-03",
        "the Administrator interface's start page refused to every session",
        _fault("mgmt03_start_page_refused"),
    ),
]


def test_every_wire_requirement_of_the_wizard_has_a_scenario_and_a_mutation():
    wired = tags(FEATURE) | {"SNMP-04", "AUTH-05", "AUTH-06", "MGMT-03", "CONF-01"}
    assert wired <= feature_tags() and wired <= catalogue_ids()
    mutated = {r for requirements, _, _ in MUTATIONS for r in requirements.split()}
    # SNMP-03 and AUTH-01 are read from the API: their own mutations are in test_mutations;
    # the certificates' (TLS-*) in test_certificate_mutations: here they show the contingency
    # deployment is probed too.
    assert wired == mutated - {"SNMP-03", "AUTH-01", "TLS-03", "TLS-08", "TLS-16"}


@pytest.mark.parametrize(
    ("requirements", "mutation"),
    [(r, m) for r, _, m in MUTATIONS],
    ids=[f"{r}: {what}" for r, what, _ in MUTATIONS],
)
def test_a_violation_fails_exactly_its_scenarios(faults_cleared, tmp_path, requirements, mutation):
    site = mutation(faults_cleared) or faults_cleared.site_file
    # The mutation is on the primary deployment: the scenarios of actions on the scratch
    # Management Node cannot see it, so they are left out (as in test_mutations).
    run = run_features(
        tmp_path,
        "-m",
        "not (" + " or ".join(sorted(tags(ACTIONS))) + ")",
        "--target",
        "live",
        "--site",
        str(site),
        evidence="minimal",
    )
    for requirement in requirements.split():
        assert run.tagged(requirement) & run.failed(), f"@{requirement} not caught"
    # CONF-01 has a scenario acted on the scratch node and one attested: a mutation fails the
    # one it touches. No scenario of another requirement may fail.
    tagged = set().union(*(run.tagged(r) for r in requirements.split()))
    assert run.failed() <= tagged, run.output[-3000:]
    assert run.returncode == 1


def test_the_sites_sip_tls_port_is_the_one_probed(faults_cleared, tmp_path):
    """Both deployments' wizards answered SIP TLS on 5071, and so does the site file: every
    scenario probing SIP TLS (FIPS, TLS 1.0, the served chain, SIP OPTIONS) finds it there."""
    for deployment in ("primary", "contingency"):
        faults_cleared.control[deployment].run_security_wizard({"sip_tls_port": 5071})

    def moved(document: dict) -> None:
        document["pexip"].setdefault("security_wizard", {})["sip_tls_port"] = 5071

    site = _site_file("sip-tls-5071", moved)(faults_cleared)
    run = run_features(
        tmp_path,
        "-m",
        "SECW-01 or SECW-07 or SECW-10 or TLS-08",
        "--target",
        "live",
        "--site",
        str(site),
        evidence="minimal",
    )
    assert len(run.scenarios) == 4 and not run.failed(), run.output[-3000:]
    assert run.returncode == 0


CHACHA20_TLS13 = "TLS_CHACHA20_POLY1305_SHA256"


def _s_client(endpoint: Endpoint, *options: str) -> str:
    """``openssl s_client -connect HOST:PORT OPTIONS`` (no input): what it printed."""
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"{endpoint.host}:{endpoint.connect_port}", *options],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout + done.stderr


def test_openssl_tls13_chacha20_is_refused_by_every_deployed_node(deployed):
    """Issue 17's acceptance, with OpenSSL's own command line client: ``openssl s_client
    -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256`` is refused by every TLS listener
    (HTTPS, SIP TLS) of every node of both deployments, which accept TLS 1.3 with AES-GCM."""
    sip_tls = deployed.site.pexip.security_wizard.sip_tls_port
    listeners = []
    for deployment in ("primary", "contingency"):
        system = getattr(deployed.site.systems.pexip, deployment)
        addresses = AddressMap(system.address_map, system.port_map)
        for resource in ("management_vm", "worker_vm"):
            for node in deployed.admin[deployment].list(resource):
                ports = (443, sip_tls) if resource == "worker_vm" else (443,)
                for port in ports:
                    name = f"{node['name']} ({deployment}) {port}"
                    listeners.append((name, addresses.endpoint(node["address"], port)))
    assert len(listeners) == 14  # a Management Node and three Conferencing Nodes each
    for name, endpoint in listeners:
        refused = _s_client(endpoint, "-tls1_3", "-ciphersuites", CHACHA20_TLS13)
        assert "alert handshake failure" in refused, f"{name}: {refused[-800:]}"
        assert f"Cipher is {CHACHA20_TLS13}" not in refused, name
        aes = _s_client(endpoint, "-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384")
        assert "Cipher is TLS_AES_256_GCM_SHA384" in aes, f"{name}: {aes[-800:]}"
