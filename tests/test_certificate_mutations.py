"""Mutation tests for the certificate requirements (TLS-*, CSR-*, CA-*).

Configuration and wire requirements are violated on the primary deployment as an administrator
would, through the API (a wildcard certificate on a SIP node, a missing intermediate, a SHA-1
CA certificate...). Requirements proven by an action are violated by making the scratch
Management Node misbehave on purpose (`/_sim/faults`): the scenario that performs the action
must notice. Each mutation must fail at least one scenario tagged with its IDs, and only such
scenarios (a configuration mutation: every scenario tagged with its IDs).

A mutation of the primary cannot change what the scratch node does, and a fault on the scratch
node cannot change the primary: each run covers the features that read the mutated system.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.labca import LabCA
from accord.pki import CA, LeafCert
from accord.pki.openssl import sha1_self_signed
from tests.conftest import Lab
from tests.features_run import catalogue_ids, feature_tags, run_features, tags

ROOT = Path(__file__).resolve().parent.parent
IN_SCOPE = re.compile(r"^(TLS-\d\d|CSR-\d\d|CA-0[1-3])$")
PRIMARY_FEATURES = "features/pexip/certificates.feature"
ACTION_FEATURES = "features/pexip/certificate_actions.feature"

Mutation = Callable[[Lab], None]


def _lab_ca(lab: Lab) -> CA:
    return LabCA.load(lab.site.file(lab.site.pexip.certificates.lab_ca)).issuer


def _node(lab: Lab, name: str) -> dict:
    for resource in ("management_vm", "worker_vm"):
        for obj in lab.admin["primary"].list(resource):
            if obj["name"] == name:
                return obj
    raise LookupError(name)


def _fqdn(node: dict) -> str:
    return f"{node['hostname']}.{node['domain']}"


def _install(lab: Lab, node_name: str, certificate: str, key: str) -> None:
    """Upload a certificate with its key and assign it to a node of the primary."""
    admin = lab.admin["primary"]
    uri = admin.create("tls_certificate", {"certificate": certificate, "private_key": key})
    admin.update(_node(lab, node_name)["resource_uri"], {"tls_certificate": uri})


def _issue(node_name: str, make: Callable[[CA, str], LeafCert]) -> Mutation:
    def mutate(lab: Lab) -> None:
        leaf = make(_lab_ca(lab), _fqdn(_node(lab, node_name)))
        _install(lab, node_name, leaf.chain_pem, leaf.key_pem())

    return mutate


def _back_on_the_shipped_certificate(lab: Lab) -> None:
    """conf02 on its shipped certificate, which is also made a trusted CA (so its chain is
    complete): only "not the shipped self-signed one" is violated."""
    admin = lab.admin["primary"]
    fqdn = _fqdn(_node(lab, "conf02"))
    shipped = next(
        o
        for o in admin.list("tls_certificate")
        if o["subject_name"] == fqdn and o["issuer_name"] == o["subject_name"]
    )
    admin.create("ca_certificate", {"certificate": shipped["certificate"]})
    admin.update(_node(lab, "conf02")["resource_uri"], {"tls_certificate": shipped["resource_uri"]})


def _other_sip_name(lab: Lab) -> None:
    node = _node(lab, "conf01")
    lab.admin["primary"].update(node["resource_uri"], {"alternative_fqdn": "sip.elsewhere.example"})


def _not_for_the_fqdn(lab: Lab) -> None:
    """conf03's certificate names only its (new) SIP TLS FQDN, not the node's FQDN."""
    node = _node(lab, "conf03")
    sip = f"sip03.{node['domain']}"
    lab.admin["primary"].update(node["resource_uri"], {"alternative_fqdn": sip})
    leaf = _lab_ca(lab).issue_cert(sip, eku=("serverAuth", "clientAuth"))
    _install(lab, "conf03", leaf.chain_pem, leaf.key_pem())


def _sha1_trusted_ca(lab: Lab) -> None:
    cert, _key = sha1_self_signed("Accord SHA-1 Legacy CA")
    lab.admin["primary"].create("ca_certificate", {"certificate": cert})


def _from_an_untrusted_intermediate(lab: Lab) -> None:
    """conf01's certificate from another issuing CA of the lab root, not in the trusted list
    (its chain is pasted with it, so the node still serves the full chain)."""
    lab_ca = _lab_ca(lab)
    assert lab_ca.parent is not None
    other = lab_ca.parent.issue_intermediate("Accord Lab Other Issuing CA", key_type="rsa")
    leaf = other.issue_cert(_fqdn(_node(lab, "conf01")), eku=("serverAuth", "clientAuth"))
    _install(lab, "conf01", leaf.chain_pem, leaf.key_pem())


def _expiring(ca: CA, fqdn: str) -> LeafCert:
    now = dt.datetime.now(dt.UTC)
    return ca.issue_cert(
        fqdn, not_before=now - dt.timedelta(days=300), not_after=now + dt.timedelta(days=20)
    )


def _scratch_fault(name: str) -> Mutation:
    def mutate(lab: Lab) -> None:
        lab.control["scratch"].set_faults([name])
        if name.startswith("tls15_"):  # the shipped certificates: a factory-fresh node
            lab.control["scratch"].reset()

    return mutate


def _primary_fault(name: str) -> Mutation:
    def mutate(lab: Lab) -> None:
        lab.control["primary"].set_faults([name])

    return mutate


# (requirement IDs, what, mutation, features it can affect)
MUTATIONS: list[tuple[str, str, Mutation, str]] = [
    (
        "TLS-01",
        "a node back on its shipped certificate",
        _back_on_the_shipped_certificate,
        PRIMARY_FEATURES,
    ),
    ("TLS-02", "a SIP TLS FQDN its certificate does not name", _other_sip_name, PRIMARY_FEATURES),
    ("TLS-03", "a certificate not valid for the node's FQDN", _not_for_the_fqdn, PRIMARY_FEATURES),
    ("TLS-04", "a SHA-1 signed trusted CA certificate", _sha1_trusted_ca, PRIMARY_FEATURES),
    (
        "TLS-05",
        "a certificate without a SAN",
        _issue("conf02", lambda ca, fqdn: ca.issue_cert(common_name=fqdn)),
        PRIMARY_FEATURES,
    ),
    (
        "TLS-06",
        "a wildcard certificate on a SIP Conferencing Node",
        _issue("conf01", lambda ca, fqdn: ca.issue_cert("*." + fqdn.split(".", 1)[1])),
        PRIMARY_FEATURES,
    ),
    (
        "TLS-07 CA-01",
        "a certificate from an intermediate missing from the trusted CA list",
        _from_an_untrusted_intermediate,
        PRIMARY_FEATURES,
    ),
    (
        "TLS-09",
        "a certificate that expires in 20 days",
        _issue("conf03", _expiring),
        PRIMARY_FEATURES,
    ),
    (
        "TLS-08",
        "Conferencing Nodes still serving their shipped certificate",
        _primary_fault("tls08_node_serves_shipped_certificate"),
        PRIMARY_FEATURES,
    ),
    (
        "TLS-16",
        "Conferencing Node web responses without HSTS",
        _primary_fault("tls16_no_hsts_on_conferencing_nodes"),
        PRIMARY_FEATURES,
    ),
]
# Each fault of the scratch node breaks one action requirement (simulator/pexip/faults.py).
SCRATCH_FAULTS = (
    "tls10_accept_mismatched_key",
    "tls11_same_subject_replaces",
    "tls11_assignment_ignored",
    "tls12_dates_misreported",
    "tls13_no_missing_certificate_alarm",
    "tls13_no_incomplete_chain_alarm",
    "tls13_no_expiry_alarm",
    "tls14_temporary_download_allowed",
    "tls14_key_without_passphrase",
    "tls14_wrong_file_name",
    "tls15_shipped_rsa2048",
    "tls15_shipped_dh1024",
    "csr01_server_auth_only",
    "csr02_ip_common_name_refused",
    "csr03_default_rsa1024",
    "csr03_ecc_key_refused",
    "csr04_cn_not_in_sans",
    "csr05_template_always",
    "csr05_template_never",
    "csr06_download_includes_key",
    "csr06_download_wrong_name",
    "csr07_csr_modifiable",
    "csr08_completion_key_unchecked",
    "csr08_csr_kept",
    "csr09_renewal_added_alongside",
    "csr10_renewal_from_temporary",
    "csr10_renewal_new_key",
    "ca02_import_duplicates_added",
    "ca02_import_server_as_ca",
    "ca03_export_omits_one",
    "ca03_export_wrong_name",
)


def _requirement(fault: str) -> str:
    """``csr03_default_rsa1024`` -> ``CSR-03``."""
    prefix = fault.split("_", 1)[0].upper()
    return f"{prefix[:-2]}-{prefix[-2:]}"


# Scenarios of other requirements that perform the broken action in their set-up: a node that
# ignores assignments fails the alarm and renewal scenarios that assign a certificate, and a
# renewal with a new key is added alongside instead of replacing (CSR-09).
ALSO_BROKEN = {
    "tls11_assignment_ignored": ("TLS-13", "CSR-09"),
    "csr10_renewal_new_key": ("CSR-09",),
}
MUTATIONS += [
    (
        " ".join((_requirement(fault), *ALSO_BROKEN.get(fault, ()))),
        f"fault {fault}",
        _scratch_fault(fault),
        ACTION_FEATURES,
    )
    for fault in SCRATCH_FAULTS
]


def test_every_certificate_requirement_has_a_scenario_and_a_mutation():
    in_scope = {i for i in catalogue_ids() if IN_SCOPE.match(i)}
    assert len(in_scope) == 29  # TLS-01..16, CSR-01..10, CA-01..03: the IDs issue 3 lists
    assert in_scope <= feature_tags()
    mutated = {r for requirements, *_ in MUTATIONS for r in requirements.split()}
    assert in_scope == mutated


@pytest.mark.parametrize(
    ("requirements", "mutation", "features"),
    [(r, m, f) for r, _, m, f in MUTATIONS],
    ids=[f"{r}: {what}" for r, what, _, _ in MUTATIONS],
)
def test_a_violation_fails_exactly_its_scenarios(
    faults_cleared, tmp_path, requirements, mutation, features
):
    lab = faults_cleared
    mutation(lab)
    selected = " or ".join(sorted(tags(ROOT / features)))
    run = run_features(
        tmp_path,
        "-m",
        selected,
        "--target",
        "live",
        "--site",
        str(lab.site_file),
        evidence="minimal",
    )
    tagged = set().union(*(run.tagged(r) for r in requirements.split()))
    assert tagged, f"no scenario carries {requirements}"
    # A requirement with several scenarios (TLS-10 has five) may lose only the one whose
    # behaviour the fault breaks; no scenario of another requirement may fail.
    assert run.failed(), f"no scenario noticed: {run.output[-3000:]}"
    assert run.failed() <= tagged, run.output[-3000:]
    assert run.returncode == 1
