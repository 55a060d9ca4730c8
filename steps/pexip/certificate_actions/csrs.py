"""Certificate actions: certificate signing requests, generated, downloaded and completed
(CSR-01..CSR-08).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pytest_bdd import parsers, then, when

from accord.pexip.certificates import node_fqdn
from accord.pki import (
    IssuerKey,
    generate_key,
    load_csr,
    private_key_pem,
    public_key_info,
    san_names,
)
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, web_file
from steps.pexip.certificate_actions.uploads import refused_with

MS_TEMPLATE_NAME = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")


@when("a certificate signing request is generated for a Conferencing Node's FQDN")
def csr_for_node(act: Act) -> None:
    act.generate_csr(subject_name=node_fqdn(act.a_conferencing_node()))


@then("the request asks for serverAuth and clientAuth extended key usage")
def csr_eku(act: Act, observe: Observe) -> None:
    usages = set(
        act.signing_request().extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    observe("extended key usage", sorted(u.dotted_string for u in usages))
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= usages


@when("a certificate signing request is generated for every node's FQDN")
def csr_every_node(act: Act) -> None:
    for node in act.scratch.management_nodes() + act.scratch.conferencing_nodes():
        act.record(act.scratch.create_csr(subject_name=node_fqdn(node)), node["name"])


@when(parsers.parse('one for the custom Common Name "{name}"'))
def csr_custom(act: Act, name: str) -> None:
    act.record(act.scratch.create_csr(subject_name=name), f"CSR for {name}")


@then("every request is accepted")
def all_accepted(act: Act) -> None:
    refused_ = [o.error_text() for o in act.outcomes if not o.accepted]
    assert act.outcomes and not refused_, f"refused: {refused_}"


@when("a certificate signing request is generated without a key type")
def csr_default_key(act: Act) -> None:
    act.generate_csr(subject_name=act.scratch.name("default-key"))


@then(parsers.parse("its key is {kind} {bits:d}"))
def csr_key_is(act: Act, kind: str, bits: int, observe: Observe) -> None:
    found = public_key_info(act.signing_request())
    observe("key", found)
    assert found == (kind, bits), f"key {found}"


@when(
    "a certificate signing request is generated with an uploaded encrypted ECC key",
    target_fixture="uploaded_key",
)
def csr_uploaded_key(act: Act) -> IssuerKey:
    key = generate_key("ecdsa")
    secret = act.scratch.token + "-csr-key"
    act.generate_csr(
        subject_name=act.scratch.name("ecc-key"),
        private_key_type="UPLOAD",
        private_key=private_key_pem(key, secret),
        private_key_passphrase=secret,
    )
    return key


@then("the request carries that key")
def csr_has_key(act: Act, uploaded_key: IssuerKey) -> None:
    assert act.signing_request().public_key() == uploaded_key.public_key()


@when(
    parsers.parse(
        'a certificate signing request is generated with the additional SANs "{sans}" '
        'and the subject fields "{dn}"'
    ),
    target_fixture="additional_sans",
)
def csr_with_fields(act: Act, sans: str, dn: str) -> list[str]:
    act.generate_csr(
        subject_name=act.scratch.name("fields"),
        additional_subject_alt_names=sans,
        dn=dn,
    )
    return [s.strip() for s in sans.split(",")]


@then("the request's SANs are the Common Name followed by the additional names")
def csr_sans(act: Act, additional_sans: list[str], observe: Observe) -> None:
    request = act.signing_request()
    names = san_names(request)
    observe("SANs", names)
    assert names == [act.scratch.name("fields"), *additional_sans], f"SANs {names}"


@then(parsers.parse('its subject has O "{o}", OU "{ou}", L "{loc}", ST "{st}" and C "{c}"'))
def csr_subject(act: Act, o: str, ou: str, loc: str, st: str, c: str, observe: Observe) -> None:
    subject = act.signing_request().subject
    observe("subject", subject.rfc4514_string())
    got = {
        oid: [a.value for a in subject.get_attributes_for_oid(oid)]
        for oid in (
            NameOID.ORGANIZATION_NAME,
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            NameOID.LOCALITY_NAME,
            NameOID.STATE_OR_PROVINCE_NAME,
            NameOID.COUNTRY_NAME,
        )
    }
    assert list(got.values()) == [[o], [ou], [loc], [st], [c]], subject.rfc4514_string()


@when("a certificate signing request is generated")
def csr_plain(act: Act) -> None:
    act.generate_csr(subject_name=act.scratch.name("plain"))


@when("a certificate signing request is generated with the Microsoft template extension")
def csr_ms(act: Act) -> None:
    act.generate_csr(subject_name=act.scratch.name("ms"), ad_compatible=True)


def _template(act: Act) -> bytes | None:
    for ext in act.signing_request().extensions:
        if ext.oid == MS_TEMPLATE_NAME:
            return ext.value.value  # type: ignore[attr-defined]
    return None


@then("the request has no Microsoft certificate template extension")
def no_template(act: Act, observe: Observe) -> None:
    observe("template extension", _template(act))
    assert _template(act) is None, "the template extension is there without being asked for"


@then('the request has the "WebServer" template extension')
def has_template(act: Act, observe: Observe) -> None:
    value = _template(act)
    observe("template extension", value.hex() if value else None)
    assert value is not None and "WebServer".encode("utf-16-be") in value, "no WebServer template"


@then("it downloads as its subject name with .csr and without the private key")
def csr_download(act: Act, observe: Observe) -> None:
    assert act.csr is not None
    name, data = web_file(act.scratch.download_csr, act.csr["resource_uri"])
    observe("CSR download", {"file": name, "bytes": len(data)})
    assert name == f"{act.csr['subject_name']}.csr", f"file name {name!r}"
    assert b"PRIVATE KEY" not in data, "the private key was in the download"
    assert load_csr(data).subject == act.signing_request().subject


@when("its additional SANs are changed")
def modify_csr(act: Act) -> None:
    assert act.csr is not None
    change = act.scratch.update(act.csr["resource_uri"], {"additional_subject_alt_names": "x.test"})
    act.record(change, "modify CSR")


@then("the change is refused")
def change_refused(act: Act) -> None:
    assert act.outcome is not None and not act.outcome.accepted, "the CSR was modified"


@when("it is completed with a certificate for another key")
def complete_wrong(act: Act) -> None:
    assert act.csr is not None
    other = act.new_leaf("wrong-key")
    done = act.scratch.update(act.csr["resource_uri"], {"certificate": other.cert_pem})
    act.record(done, "complete with another key")


@then(parsers.parse('the completion is refused with "{text}"'))
def completion_refused(act: Act, text: str) -> None:
    refused_with(act, text)


@when("it is completed with the certificate the CA signed", target_fixture="signed")
def complete_right(act: Act) -> x509.Certificate:
    assert act.csr is not None
    return act.complete(act.csr)


@then("the certificate is listed with the request's private key and the request is gone")
def completed(act: Act, signed: x509.Certificate, observe: Observe) -> None:
    assert act.csr is not None
    holder = act.holding(signed)
    observe("completed certificate", holder and {"uri": holder["resource_uri"]})
    assert holder is not None, "the signed certificate is not in the TLS certificate list"
    act.scratch.track(holder["resource_uri"])
    left = [c["resource_uri"] for c in act.scratch.csrs()]
    assert act.csr["resource_uri"] not in left, "the CSR was not deleted"
    assert act.signing_request().public_key() == signed.public_key()
