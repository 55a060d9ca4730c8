"""Certificate actions: uploading TLS certificates with their keys, and assigning one to a node
(TLS-10, TLS-11).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from pytest_bdd import parsers, then, when

from accord.pexip.certificates import node_fqdn
from accord.pki import (
    CA,
    LeafCert,
    dh_parameters_bits,
    load_pem_certificates,
    new_csr,
    private_key_pem,
)
from accord.pki.openssl import dh_parameters
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, Obj


@when("a certificate is uploaded with the private key of another certificate")
def upload_mismatched(act: Act) -> None:
    one, other = act.new_leaf("one"), act.new_leaf("other")
    act.record(act.scratch.upload_certificate(one.cert_pem, other.key_pem()), "upload")


@when("a certificate signing request is uploaded as a certificate")
def upload_csr(act: Act) -> None:
    request, key = new_csr(act.scratch.name("csr"))
    pem = request.public_bytes(serialization.Encoding.PEM).decode()
    act.record(act.scratch.upload_certificate(pem, private_key_pem(key)), "upload")


@when(parsers.parse("a certificate with an {kind} key is uploaded with its private key"))
def upload_kind(act: Act, kind: str) -> None:
    act.leaf = act.new_leaf(kind.lower(), key_type="rsa" if kind == "RSA" else "ecdsa")
    upload = act.scratch.upload_certificate(act.leaf.cert_pem, act.leaf.key_pem())
    act.record(upload, f"upload ({kind})")


@dataclass(frozen=True)
class EncryptedKey:
    """A private key uploaded encrypted, and the passphrase that opens it."""

    pem: str
    passphrase: str


@when(
    "a certificate is uploaded with its encrypted private key and no passphrase",
    target_fixture="encrypted_key",
)
def upload_encrypted(act: Act) -> EncryptedKey:
    act.leaf = act.new_leaf("encrypted")
    passphrase = act.scratch.token + "-passphrase"
    encrypted = EncryptedKey(act.leaf.key_pem(passphrase), passphrase)
    act.record(act.scratch.upload_certificate(act.leaf.cert_pem, encrypted.pem), "upload")
    return encrypted


@when("it is uploaded again with the passphrase")
def upload_with_passphrase(act: Act, encrypted_key: EncryptedKey) -> None:
    assert act.leaf is not None
    upload = act.scratch.upload_certificate(
        act.leaf.cert_pem, encrypted_key.pem, passphrase=encrypted_key.passphrase
    )
    act.record(upload, "upload with the passphrase")


@when(
    "a server certificate, its intermediate and DH parameters are pasted together "
    "with the server's private key"
)
def upload_pasted(act: Act) -> None:
    act.leaf = act.new_leaf("pasted")
    text = act.leaf.chain_pem + _dh_parameters()
    act.record(act.scratch.upload_certificate(text, act.leaf.key_pem()), "upload")


def _dh_parameters() -> str:
    """RFC 7919's ffdhe2048 group, the 2048-bit DH parameters the guide asks for."""
    return dh_parameters("ffdhe2048")


@then("the upload is accepted")
def accepted(act: Act) -> None:
    assert act.outcome is not None and act.outcome.accepted, (
        f"refused: {act.outcome.error_text() if act.outcome else 'nothing was done'}"
    )


@then("the upload is refused")
def refused(act: Act) -> None:
    assert act.outcome is not None and not act.outcome.accepted, "the upload was accepted"
    assert 400 <= act.outcome.status < 500, f"answered {act.outcome.status}"


@then(parsers.parse('the upload is refused with "{text}"'))
def refused_with(act: Act, text: str) -> None:
    refused(act)
    assert act.outcome is not None
    assert text in act.outcome.error_text(), f"refused, but with: {act.outcome.error_text()!r}"


@then(
    "the stored certificate is the server certificate with its intermediate and the DH parameters"
)
def stored_pasted(act: Act, observe: Observe) -> None:
    assert act.uri is not None and act.leaf is not None
    obj = act.scratch.get(act.uri)
    chain = load_pem_certificates(obj["certificate"])
    observe("stored", {"chain": [c.subject.rfc4514_string() for c in chain]})
    assert chain[0] == act.leaf.cert, "the stored certificate is not the one that pairs"
    assert act.ca.cert in chain, "the intermediate was not kept with the certificate"
    assert dh_parameters_bits(obj.get("parameters") or "") == 2048, "DH parameters not kept"


def _with_subject(act: Act, name: str) -> list[Obj]:
    found = []
    for obj in act.scratch.tls_certificates():
        chain = load_pem_certificates(obj["certificate"])
        if chain and chain[0].subject.rfc4514_string() == f"CN={name}":
            found.append(obj)
    return found


@when("a certificate is uploaded", target_fixture="first_certificate")
def upload_one(act: Act) -> LeafCert:
    act.leaf = act.new_leaf("same")
    upload = act.scratch.upload_certificate(act.leaf.cert_pem, act.leaf.key_pem())
    act.record(upload, "upload")
    assert upload.accepted, upload.error_text()
    return act.leaf


@when("another certificate with the same subject from another issuer is uploaded")
def upload_same_subject(act: Act) -> None:
    other_ca = CA.new(f"Accord Other Root {act.scratch.token}")
    other = other_ca.issue_cert(act.scratch.name("same"))
    upload = act.scratch.upload_certificate(other.cert_pem, other.key_pem())
    act.record(upload, "upload (same subject, other issuer)")
    assert upload.accepted, upload.error_text()


@then("both certificates are listed")
def both_listed(act: Act, observe: Observe) -> None:
    found = _with_subject(act, act.scratch.name("same"))
    observe("certificates with that subject", [o["resource_uri"] for o in found])
    assert len(found) == 2, f"{len(found)} certificate(s) with that subject, expected 2"


@when("the first certificate is uploaded again")
def upload_again(act: Act, first_certificate: LeafCert) -> None:
    first = first_certificate
    act.record(act.scratch.upload_certificate(first.cert_pem, first.key_pem()), "again")


@then("there are still exactly two certificates with that subject")
def still_two(act: Act, observe: Observe) -> None:
    both_listed(act, observe)


@when("it is assigned to a Conferencing Node")
def assign_it(act: Act) -> None:
    node = act.a_conferencing_node()
    act.record(act.scratch.assign(node, act.uri), f"assign to {node['name']}")


@then("the Conferencing Node's certificate is the new one")
def node_has_new(act: Act, observe: Observe) -> None:
    assert act.node is not None
    now = act.scratch.get(act.node["resource_uri"])
    observe("node", {"name": now["name"], "tls_certificate": now.get("tls_certificate")})
    assert now.get("tls_certificate") == act.uri, "the node does not use the new certificate"


@then("its previous certificate is no longer assigned to it")
def previous_unassigned(act: Act) -> None:
    assert act.node is not None and act.previous is not None
    previous = act.scratch.get(act.previous)
    fqdn = node_fqdn(act.node)
    assert fqdn not in (previous.get("nodes") or []), "the previous certificate still lists it"
