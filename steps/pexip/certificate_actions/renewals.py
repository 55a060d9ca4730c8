"""Certificate actions: renewal requests, made from a certificate and completed in its place
(CSR-09, CSR-10).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from pytest_bdd import given, parsers, then, when

from accord.pexip.certificates import node_fqdn
from accord.pki import san_names
from accord.probes import tls
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, Obj
from steps.pexip.certificate_actions.uploads import refused_with

SIP_TLS = 5061


@dataclass(frozen=True)
class Renewable:
    """A node's certificate the test CA signed through a CSR: as the Management Node lists it,
    and as X.509."""

    listed: Obj
    cert: x509.Certificate


@given(
    "a Conferencing Node with a certificate the test CA signed through a CSR",
    target_fixture="renewable",
)
def node_with_signed(act: Act) -> Renewable:
    act.trust()
    node = act.a_conferencing_node()
    csr = act.generate_csr(subject_name=node_fqdn(node), private_key_type="ECDSAP256")
    cert = act.complete(csr)
    holder = act.holding(cert)
    assert holder is not None
    act.scratch.track(holder["resource_uri"])
    act.record(act.scratch.assign(node, holder["resource_uri"]), f"assign {node['name']}")
    return Renewable(holder, cert)


@when(
    "a renewal request is made from that certificate, signed and completed",
    target_fixture="renewed",
)
def renew(act: Act, renewable: Renewable) -> x509.Certificate:
    csr = act.generate_csr(tls_certificate=renewable.listed["resource_uri"])
    assert act.signing_request().public_key() == renewable.cert.public_key(), "new key"
    return act.complete(csr)


@then("the node's certificate is the renewed one, under the same assignment")
def renewed_in_place(
    act: Act, renewable: Renewable, renewed: x509.Certificate, observe: Observe
) -> None:
    assert act.node is not None
    node = act.scratch.get(act.node["resource_uri"])
    holder = act.holding(renewed)
    observe(
        "after renewal",
        {"node": node.get("tls_certificate"), "renewed": holder and holder["resource_uri"]},
    )
    assert holder is not None, "the renewed certificate is not listed"
    assert node.get("tls_certificate") == holder["resource_uri"], "the assignment moved"
    assert holder["resource_uri"] == renewable.listed["resource_uri"], (
        "the renewal was added alongside instead of replacing the certificate"
    )


@then("the node's SIP TLS handshake shows the new serial number")
def handshake_new_serial(act: Act, renewed: x509.Certificate, observe: Observe) -> None:
    assert act.node is not None
    endpoint = act.scratch.addresses.endpoint(act.node["address"], SIP_TLS)
    shake = tls.handshake(endpoint, node_fqdn(act.node))
    observe("SIP TLS handshake", shake.observation())
    assert shake.chain, f"no TLS at {endpoint}: {shake.error}"
    assert shake.leaf.serial_number == renewed.serial_number, (
        f"serves serial {shake.leaf.serial_number:x}, renewed {renewed.serial_number:x}"
    )


@when("a renewal request is made from a temporary certificate")
def renew_temporary(act: Act) -> None:
    shipped = act.shipped()[0]["resource_uri"]
    act.record(act.scratch.create_csr(tls_certificate=shipped), "renewal CSR")


@when(
    parsers.parse('a renewal request is made from an uploaded certificate adding the SAN "{name}"'),
    target_fixture="added_san",
)
def renew_uploaded(act: Act, name: str) -> str:
    leaf = act.new_leaf("renewable")
    act.leaf = leaf
    upload = act.record(act.scratch.upload_certificate(leaf.cert_pem, leaf.key_pem()), "upload")
    assert upload.accepted and upload.uri, upload.error_text()
    act.generate_csr(tls_certificate=upload.uri, additional_subject_alt_names=name)
    return name


@then("the request has the certificate's key and subject, its SANs and the added one")
def renewal_request(act: Act, added_san: str, observe: Observe) -> None:
    assert act.leaf is not None
    request = act.signing_request()
    names = san_names(request)
    observe("renewal CSR", {"subject": request.subject.rfc4514_string(), "SANs": names})
    assert request.public_key() == act.leaf.cert.public_key(), "not the certificate's key"
    assert request.subject == act.leaf.cert.subject
    assert [*san_names(act.leaf.cert), added_san] == names, f"SANs {names}"


@then(parsers.parse('the request is refused with "{text}"'))
def request_refused(act: Act, text: str) -> None:
    refused_with(act, text)
