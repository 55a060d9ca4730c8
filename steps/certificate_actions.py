"""Steps for the guides' certificate actions, performed on the site's scratch Management Node.

Each scenario starts from a scratch Management Node (`accord.pexip.workbench`) and a throwaway
test CA (`accord.pki`), does what an administrator does in Platform > Certificates, and checks
the answer against the guide. Nothing here touches a verified system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pytest_bdd import given, parsers, then, when

from accord.pexip.certificates import StoredCertificate, node_fqdn
from accord.pexip.workbench import Outcome, WebInterfaceMissing, Workbench
from accord.pki import (
    CA,
    LeafCert,
    dh_parameters_bits,
    fingerprint_sha256,
    from_pkcs12,
    generate_key,
    load_csr,
    load_pem_certificates,
    new_csr,
    private_key_pem,
    public_key_info,
    san_names,
    status,
    to_pem,
)
from accord.pki.openssl import dh_parameters, sha1_self_signed
from accord.probes import tls
from steps.common import Observe

PAIRING = "Certificate and private key do not appear to be part of the same key pair"
NO_AUTO_CSR = (
    "It was not possible to automatically create a certificate signing request from this "
    "certificate"
)
MS_TEMPLATE_NAME = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")
# INFERRED alarm names (the guide gives only their wording; see ../shared/pexip-api.md).
ALARM_NO_CERTIFICATE = "tls_certificate_missing"
ALARM_INCOMPLETE_CHAIN = "tls_certificate_chain_incomplete"
ALARMS_EXPIRING = {"tls_certificate_expiring", "ca_certificate_expiring"}
SIP_TLS = 5061
Obj = dict[str, Any]


@dataclass
class Act:
    """What one scenario did and saw."""

    bench: Workbench
    ca: CA
    outcome: Outcome | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    leaf: LeafCert | None = None
    uri: str | None = None
    uris: list[str] = field(default_factory=list)
    csr: Obj | None = None
    node: Obj | None = None
    previous: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def record(self, outcome: Outcome, observe: Observe, what: str) -> Outcome:
        observe(what, outcome.observation())
        self.outcome = outcome
        self.outcomes.append(outcome)
        if outcome.accepted and outcome.uri and outcome.status == 201:
            self.uri = outcome.uri
            self.uris.append(outcome.uri)
        return outcome


@given("a test certificate authority", target_fixture="act")
def test_ca(workbench: Workbench) -> Act:
    """A throwaway root and issuing CA, made for this scenario only."""
    root = CA.new(f"Accord Scenario Root {workbench.token}")
    return Act(workbench, root.issue_intermediate(f"Accord Scenario Issuing {workbench.token}"))


def _leaf(act: Act, label: str = "server", **kwargs: Any) -> LeafCert:
    return act.ca.issue_cert(act.bench.name(label), eku=("serverAuth", "clientAuth"), **kwargs)


def _trust(act: Act, observe: Observe) -> None:
    for cert in act.ca.path:
        act.bench.upload_ca(to_pem(cert))
    observe("trusted CA certificates uploaded", [c.subject.rfc4514_string() for c in act.ca.path])


# -- uploads (TLS-10, TLS-11) -----------------------------------------------------------------


@when("a certificate is uploaded with the private key of another certificate")
def upload_mismatched(act: Act, observe: Observe) -> None:
    one, other = _leaf(act, "one"), _leaf(act, "other")
    act.record(act.bench.upload_certificate(one.cert_pem, other.key_pem()), observe, "upload")


@when("a certificate signing request is uploaded as a certificate")
def upload_csr(act: Act, observe: Observe) -> None:
    request, key = new_csr(act.bench.name("csr"))
    pem = request.public_bytes(serialization.Encoding.PEM).decode()
    act.record(act.bench.upload_certificate(pem, private_key_pem(key)), observe, "upload")


@when(parsers.parse("a certificate with an {kind} key is uploaded with its private key"))
def upload_kind(act: Act, kind: str, observe: Observe) -> None:
    act.leaf = _leaf(act, kind.lower(), key_type="rsa" if kind == "RSA" else "ecdsa")
    upload = act.bench.upload_certificate(act.leaf.cert_pem, act.leaf.key_pem())
    act.record(upload, observe, f"upload ({kind})")


@when("a certificate is uploaded with its encrypted private key and no passphrase")
def upload_encrypted(act: Act, observe: Observe) -> None:
    act.leaf = _leaf(act, "encrypted")
    act.values["passphrase"] = act.bench.token + "-passphrase"
    encrypted = act.leaf.key_pem(act.values["passphrase"])
    act.values["encrypted"] = encrypted
    act.record(act.bench.upload_certificate(act.leaf.cert_pem, encrypted), observe, "upload")


@when("it is uploaded again with the passphrase")
def upload_with_passphrase(act: Act, observe: Observe) -> None:
    assert act.leaf is not None
    upload = act.bench.upload_certificate(
        act.leaf.cert_pem, act.values["encrypted"], passphrase=act.values["passphrase"]
    )
    act.record(upload, observe, "upload with the passphrase")


@when(
    "a server certificate, its intermediate and DH parameters are pasted together "
    "with the server's private key"
)
def upload_pasted(act: Act, observe: Observe) -> None:
    act.leaf = _leaf(act, "pasted")
    parameters = _dh_parameters()
    act.values["parameters"] = parameters
    text = act.leaf.chain_pem + parameters
    act.record(act.bench.upload_certificate(text, act.leaf.key_pem()), observe, "upload")


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
    obj = act.bench.get(act.uri)
    chain = load_pem_certificates(obj["certificate"])
    observe("stored", {"chain": [c.subject.rfc4514_string() for c in chain]})
    assert chain[0] == act.leaf.cert, "the stored certificate is not the one that pairs"
    assert act.ca.cert in chain, "the intermediate was not kept with the certificate"
    assert dh_parameters_bits(obj.get("parameters") or "") == 2048, "DH parameters not kept"


def _with_subject(act: Act, name: str) -> list[Obj]:
    found = []
    for obj in act.bench.tls_certificates():
        chain = load_pem_certificates(obj["certificate"])
        if chain and chain[0].subject.rfc4514_string() == f"CN={name}":
            found.append(obj)
    return found


@when("a certificate is uploaded")
def upload_one(act: Act, observe: Observe) -> None:
    act.leaf = _leaf(act, "same")
    act.values["first"] = act.leaf
    upload = act.bench.upload_certificate(act.leaf.cert_pem, act.leaf.key_pem())
    act.record(upload, observe, "upload")
    assert upload.accepted, upload.error_text()


@when("another certificate with the same subject from another issuer is uploaded")
def upload_same_subject(act: Act, observe: Observe) -> None:
    other_ca = CA.new(f"Accord Other Root {act.bench.token}")
    other = other_ca.issue_cert(act.bench.name("same"))
    upload = act.bench.upload_certificate(other.cert_pem, other.key_pem())
    act.record(upload, observe, "upload (same subject, other issuer)")
    assert upload.accepted, upload.error_text()


@then("both certificates are listed")
def both_listed(act: Act, observe: Observe) -> None:
    found = _with_subject(act, act.bench.name("same"))
    observe("certificates with that subject", [o["resource_uri"] for o in found])
    assert len(found) == 2, f"{len(found)} certificate(s) with that subject, expected 2"


@when("the first certificate is uploaded again")
def upload_again(act: Act, observe: Observe) -> None:
    first = act.values["first"]
    act.record(act.bench.upload_certificate(first.cert_pem, first.key_pem()), observe, "again")


@then("there are still exactly two certificates with that subject")
def still_two(act: Act, observe: Observe) -> None:
    both_listed(act, observe)


def _a_conferencing_node(act: Act) -> Obj:
    nodes = act.bench.conferencing_nodes()
    assert nodes, "the scratch Management Node has no Conferencing Node"
    act.node = nodes[0]
    act.previous = nodes[0].get("tls_certificate")
    return nodes[0]


@when("it is assigned to a Conferencing Node")
def assign_it(act: Act, observe: Observe) -> None:
    node = _a_conferencing_node(act)
    act.record(act.bench.assign(node, act.uri), observe, f"assign to {node['name']}")


@then("the Conferencing Node's certificate is the new one")
def node_has_new(act: Act, observe: Observe) -> None:
    assert act.node is not None
    now = act.bench.get(act.node["resource_uri"])
    observe("node", {"name": now["name"], "tls_certificate": now.get("tls_certificate")})
    assert now.get("tls_certificate") == act.uri, "the node does not use the new certificate"


@then("its previous certificate is no longer assigned to it")
def previous_unassigned(act: Act) -> None:
    assert act.node is not None and act.previous is not None
    previous = act.bench.get(act.previous)
    fqdn = node_fqdn(act.node)
    assert fqdn not in (previous.get("nodes") or []), "the previous certificate still lists it"


# -- statuses (TLS-12) ------------------------------------------------------------------------


@when("certificates of each kind are uploaded")
def upload_each_kind(act: Act, observe: Observe) -> None:
    now = dt.datetime.now(dt.UTC)
    made: dict[str, tuple[str, str]] = {}
    good = _leaf(act, "good")
    made["good"] = (good.cert_pem, good.key_pem())
    sha1_cert, sha1_key = sha1_self_signed(act.bench.name("sha1"))
    made["SHA-1 signed"] = (sha1_cert, sha1_key)
    bare = act.ca.issue_cert(act.bench.name("bare"), empty_subject=True)
    made["SAN only"] = (bare.cert_pem, bare.key_pem())
    soon = _leaf(
        act,
        "soon",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=20, hours=12),
    )
    made["expiring in 20 days"] = (soon.cert_pem, soon.key_pem())
    old = _leaf(
        act, "old", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=5)
    )
    made["expired"] = (old.cert_pem, old.key_pem())
    for kind, (cert, key) in made.items():
        upload = act.record(act.bench.upload_certificate(cert, key), observe, f"upload {kind}")
        assert upload.accepted, f"{kind}: {upload.error_text()}"
        act.values[kind] = upload.uri


@then(parsers.parse("their statuses are {expected}"))
def statuses_are(act: Act, expected: str, observe: Observe) -> None:
    kinds = ["good", "SHA-1 signed", "SAN only", "expiring in 20 days", "expired"]
    wanted = [part.strip().strip('"') for part in expected.replace(" and ", ", ").split(",")]
    seen = {}
    for kind in kinds:
        stored = StoredCertificate.from_api(act.bench.get(act.values[kind]))
        seen[kind] = stored.status
    observe("statuses", seen)
    assert list(seen.values()) == wanted, f"statuses {seen}, expected {wanted}"


@then('the shipped certificates have the status "Temporary"')
def shipped_temporary(act: Act, observe: Observe) -> None:
    shipped = _shipped(act)
    observe("shipped certificates", {o["resource_uri"]: _status(o) for o in shipped})
    assert shipped and all(_status(o) == "Temporary" for o in shipped)


def _status(obj: Obj) -> str:
    return status(load_pem_certificates(obj["certificate"])[0])


def _shipped(act: Act) -> list[Obj]:
    """The certificates the nodes were shipped with: self-signed and named after a node."""
    fqdns = {node_fqdn(n) for n in act.bench.management_nodes() + act.bench.conferencing_nodes()}
    found = []
    for obj in act.bench.tls_certificates():
        cert = load_pem_certificates(obj["certificate"])[0]
        if cert.subject == cert.issuer and obj.get("subject_name") in fqdns:
            found.append(obj)
    return found


@then("the validity dates the API reports agree with each certificate")
def dates_agree(act: Act, observe: Observe) -> None:
    seen, bad = {}, []
    for uri in act.uris:
        obj = act.bench.get(uri)
        cert = load_pem_certificates(obj["certificate"])[0]
        reported = {k: obj.get(k) for k in ("start_date", "end_date")}
        seen[uri] = reported
        for name, actual in (
            ("start_date", cert.not_valid_before_utc),
            ("end_date", cert.not_valid_after_utc),
        ):
            value = dt.datetime.fromisoformat(str(reported[name]))
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            if abs(value - actual) > dt.timedelta(seconds=1):
                bad.append(f"{uri} {name} {reported[name]} but the certificate says {actual}")
    observe("reported dates", seen)
    assert not bad, "; ".join(bad)


# -- alarms (TLS-13) --------------------------------------------------------------------------


def _alarms(act: Act, observe: Observe) -> list[Obj]:
    alarms = act.bench.alarms()
    observe("alarms", [{k: a.get(k) for k in ("name", "node", "details")} for a in alarms])
    return alarms


@when("a Conferencing Node's certificate is removed")
def remove_node_certificate(act: Act, observe: Observe) -> None:
    node = _a_conferencing_node(act)
    act.record(act.bench.assign(node, None), observe, f"remove {node['name']}'s certificate")


@then("an alarm says that node has no certificate")
def alarm_no_certificate(act: Act, observe: Observe) -> None:
    assert act.node is not None
    names = [(a["name"], a.get("node")) for a in _alarms(act, observe)]
    assert (ALARM_NO_CERTIFICATE, act.node["address"]) in names, f"alarms: {names}"


@when("a certificate from an issuer that is not trusted is assigned to a Conferencing Node")
def assign_untrusted(act: Act, observe: Observe) -> None:
    leaf = _leaf(act, "untrusted")
    upload = act.record(
        act.bench.upload_certificate(leaf.cert_pem, leaf.key_pem()), observe, "upload"
    )
    assert upload.accepted, upload.error_text()
    node = _a_conferencing_node(act)
    act.record(act.bench.assign(node, upload.uri), observe, f"assign to {node['name']}")


@then("an alarm says the chain of trust is incomplete")
def alarm_incomplete(act: Act, observe: Observe) -> None:
    assert act.node is not None
    names = [(a["name"], a.get("node")) for a in _alarms(act, observe)]
    assert (ALARM_INCOMPLETE_CHAIN, act.node["address"]) in names, f"alarms: {names}"


@when("a trusted CA certificate that expires in 20 days is uploaded")
def upload_expiring_ca(act: Act, observe: Observe) -> None:
    now = dt.datetime.now(dt.UTC)
    root = CA.new(
        act.bench.name("expiring-root"),
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=20),
    )
    act.values["expiring"] = root.cert.subject.rfc4514_string()
    act.record(act.bench.upload_ca(root.cert_pem), observe, "upload trusted CA")


@then("an alarm says a certificate expires within 30 days")
def alarm_expiring(act: Act, observe: Observe) -> None:
    alarms = _alarms(act, observe)
    subject = act.values["expiring"].removeprefix("CN=")
    hits = [
        a for a in alarms if a["name"] in ALARMS_EXPIRING and subject in (a.get("details") or "")
    ]
    assert hits, f"no expiry alarm names {subject}"


# -- downloads (TLS-14, CSR-06, CA-03) --------------------------------------------------------


def _web(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except WebInterfaceMissing as exc:
        pytest.skip(f"not run: {exc}")


@when("a CA-signed certificate is uploaded")
def upload_signed(act: Act, observe: Observe) -> None:
    act.leaf = _leaf(act, "download")
    upload = act.bench.upload_certificate(act.leaf.chain_pem, act.leaf.key_pem())
    act.record(upload, observe, "upload")
    assert upload.accepted, upload.error_text()


@then(parsers.parse('it downloads as PEM named "{suffix}"'))
def downloads_pem(act: Act, suffix: str, observe: Observe) -> None:
    assert act.uri is not None and act.leaf is not None
    name, data = _web(act.bench.download, [act.uri])
    observe("download", {"file": name, "bytes": len(data)})
    assert name == f"{act.bench.name('download')}{suffix}", f"file name {name!r}"
    assert b"PRIVATE KEY" not in data, "the private key was included without being asked"
    assert load_pem_certificates(data)[0] == act.leaf.cert


@then("its private key is included only with a passphrase")
def key_needs_passphrase(act: Act, observe: Observe) -> None:
    assert act.uri is not None
    without = _web(act.bench.download, [act.uri], include_private_key=True)
    refused_ = isinstance(without, Outcome) and not without.accepted
    observe("download with key, no passphrase", {"refused": refused_})
    assert refused_, "the private key was given out without a passphrase"
    secret = act.bench.token + "-download"
    name, data = _web(act.bench.download, [act.uri], include_private_key=True, passphrase=secret)
    observe("download with key and passphrase", {"file": name})
    assert name.endswith("_keycert.pem"), f"file name {name!r}"
    assert b"ENCRYPTED PRIVATE KEY" in data, "the private key is not encrypted"


@then("it downloads as PKCS#12 with a passphrase")
def downloads_pkcs12(act: Act, observe: Observe) -> None:
    assert act.uri is not None and act.leaf is not None
    secret = act.bench.token + "-p12"
    name, data = _web(
        act.bench.download, [act.uri], "pkcs12", include_private_key=True, passphrase=secret
    )
    observe("PKCS#12 download", {"file": name})
    assert from_pkcs12(data, secret).cert == act.leaf.cert


@then(parsers.parse('several certificates download together as "{name}"'))
def downloads_several(act: Act, name: str, observe: Observe) -> None:
    other = _leaf(act, "second")
    upload = act.record(
        act.bench.upload_certificate(other.cert_pem, other.key_pem()), observe, "upload"
    )
    assert act.uri is not None and upload.uri is not None
    got, data = _web(act.bench.download, [act.uris[0], upload.uri])
    observe("download of two", {"file": got})
    assert got == name, f"file name {got!r}"
    assert len(load_pem_certificates(data)) >= 2


@then("a temporary certificate cannot be downloaded")
def temporary_not_downloadable(act: Act, observe: Observe) -> None:
    shipped = _shipped(act)[0]["resource_uri"]
    answer = _web(act.bench.download, [shipped])
    shown = answer.observation() if isinstance(answer, Outcome) else {"file": answer[0]}
    observe("download of a temporary certificate", shown)
    assert isinstance(answer, Outcome) and not answer.accepted, "a temporary certificate downloaded"


# -- the shipped certificates (TLS-15) --------------------------------------------------------


@then("every shipped temporary certificate has a 4096-bit key and 2048-bit DH parameters")
def shipped_sizes(act: Act, observe: Observe) -> None:
    seen, bad = {}, []
    for obj in _shipped(act):
        kind, bits = public_key_info(load_pem_certificates(obj["certificate"])[0])
        try:
            dh = dh_parameters_bits(obj.get("parameters") or "")
        except ValueError:
            dh = None
        seen[obj["subject_name"]] = {"key": f"{kind} {bits}", "dh_parameters_bits": dh}
        if bits != 4096 or dh != 2048:
            bad.append(obj["subject_name"])
    observe("shipped certificates", seen)
    assert seen, "no shipped temporary certificate found"
    assert not bad, f"shipped certificates without a 4096-bit key and 2048-bit DH: {bad}"


# -- certificate signing requests (CSR-01..CSR-10) --------------------------------------------


def _csr(act: Act, observe: Observe, **fields: Any) -> Obj:
    outcome = act.record(act.bench.create_csr(**fields), observe, "generate CSR")
    assert outcome.accepted and outcome.uri, outcome.error_text()
    act.csr = act.bench.get(outcome.uri)
    return act.csr


def _request(act: Act) -> x509.CertificateSigningRequest:
    assert act.csr is not None
    return load_csr(act.csr["csr"])


@when("a certificate signing request is generated for a Conferencing Node's FQDN")
def csr_for_node(act: Act, observe: Observe) -> None:
    _csr(act, observe, subject_name=node_fqdn(_a_conferencing_node(act)))


@then("the request asks for serverAuth and clientAuth extended key usage")
def csr_eku(act: Act, observe: Observe) -> None:
    usages = set(_request(act).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    observe("extended key usage", sorted(u.dotted_string for u in usages))
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= usages


@when("a certificate signing request is generated for every node's FQDN")
def csr_every_node(act: Act, observe: Observe) -> None:
    for node in act.bench.management_nodes() + act.bench.conferencing_nodes():
        act.record(act.bench.create_csr(subject_name=node_fqdn(node)), observe, node["name"])


@when(parsers.parse('one for the custom Common Name "{name}"'))
def csr_custom(act: Act, name: str, observe: Observe) -> None:
    act.record(act.bench.create_csr(subject_name=name), observe, f"CSR for {name}")


@then("every request is accepted")
def all_accepted(act: Act) -> None:
    refused_ = [o.error_text() for o in act.outcomes if not o.accepted]
    assert act.outcomes and not refused_, f"refused: {refused_}"


@when("a certificate signing request is generated without a key type")
def csr_default_key(act: Act, observe: Observe) -> None:
    _csr(act, observe, subject_name=act.bench.name("default-key"))


@then(parsers.parse("its key is {kind} {bits:d}"))
def csr_key_is(act: Act, kind: str, bits: int, observe: Observe) -> None:
    found = public_key_info(_request(act))
    observe("key", found)
    assert found == (kind, bits), f"key {found}"


@when("a certificate signing request is generated with an uploaded encrypted ECC key")
def csr_uploaded_key(act: Act, observe: Observe) -> None:
    key = generate_key("ecdsa")
    act.values["key"] = key
    secret = act.bench.token + "-csr-key"
    _csr(
        act,
        observe,
        subject_name=act.bench.name("ecc-key"),
        private_key_type="UPLOAD",
        private_key=private_key_pem(key, secret),
        private_key_passphrase=secret,
    )


@then("the request carries that key")
def csr_has_key(act: Act) -> None:
    assert _request(act).public_key() == act.values["key"].public_key()


@when(
    parsers.parse(
        'a certificate signing request is generated with the additional SANs "{sans}" '
        'and the subject fields "{dn}"'
    )
)
def csr_with_fields(act: Act, sans: str, dn: str, observe: Observe) -> None:
    act.values["sans"] = [s.strip() for s in sans.split(",")]
    _csr(
        act,
        observe,
        subject_name=act.bench.name("fields"),
        additional_subject_alt_names=sans,
        dn=dn,
    )


@then("the request's SANs are the Common Name followed by the additional names")
def csr_sans(act: Act, observe: Observe) -> None:
    request = _request(act)
    names = san_names(request)
    observe("SANs", names)
    assert names == [act.bench.name("fields"), *act.values["sans"]], f"SANs {names}"


@then(parsers.parse('its subject has O "{o}", OU "{ou}", L "{loc}", ST "{st}" and C "{c}"'))
def csr_subject(act: Act, o: str, ou: str, loc: str, st: str, c: str, observe: Observe) -> None:
    subject = _request(act).subject
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
def csr_plain(act: Act, observe: Observe) -> None:
    _csr(act, observe, subject_name=act.bench.name("plain"))


@when("a certificate signing request is generated with the Microsoft template extension")
def csr_ms(act: Act, observe: Observe) -> None:
    _csr(act, observe, subject_name=act.bench.name("ms"), ad_compatible=True)


def _template(act: Act) -> bytes | None:
    for ext in _request(act).extensions:
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
    name, data = _web(act.bench.download_csr, act.csr["resource_uri"])
    observe("CSR download", {"file": name, "bytes": len(data)})
    assert name == f"{act.csr['subject_name']}.csr", f"file name {name!r}"
    assert b"PRIVATE KEY" not in data, "the private key was in the download"
    assert load_csr(data).subject == _request(act).subject


@when("its additional SANs are changed")
def modify_csr(act: Act, observe: Observe) -> None:
    assert act.csr is not None
    change = act.bench.update(act.csr["resource_uri"], {"additional_subject_alt_names": "x.test"})
    act.record(change, observe, "modify CSR")


@then("the change is refused")
def change_refused(act: Act) -> None:
    assert act.outcome is not None and not act.outcome.accepted, "the CSR was modified"


@when("it is completed with a certificate for another key")
def complete_wrong(act: Act, observe: Observe) -> None:
    assert act.csr is not None
    other = _leaf(act, "wrong-key")
    done = act.bench.update(act.csr["resource_uri"], {"certificate": other.cert_pem})
    act.record(done, observe, "complete with another key")


@then(parsers.parse('the completion is refused with "{text}"'))
def completion_refused(act: Act, text: str) -> None:
    refused_with(act, text)


def _sign(act: Act, csr: Obj) -> x509.Certificate:
    return act.ca.sign_csr(csr["csr"])


def _complete(act: Act, csr: Obj, observe: Observe) -> x509.Certificate:
    cert = _sign(act, csr)
    done = act.bench.update(csr["resource_uri"], {"certificate": to_pem(cert, act.ca.cert)})
    act.record(done, observe, "complete CSR")
    assert done.accepted, done.error_text()
    return cert


def _holding(act: Act, cert: x509.Certificate) -> Obj | None:
    for obj in act.bench.tls_certificates():
        chain = load_pem_certificates(obj["certificate"])
        if chain and chain[0] == cert:
            return obj
    return None


@when("it is completed with the certificate the CA signed")
def complete_right(act: Act, observe: Observe) -> None:
    assert act.csr is not None
    act.values["signed"] = _complete(act, act.csr, observe)


@then("the certificate is listed with the request's private key and the request is gone")
def completed(act: Act, observe: Observe) -> None:
    assert act.csr is not None
    holder = _holding(act, act.values["signed"])
    observe("completed certificate", holder and {"uri": holder["resource_uri"]})
    assert holder is not None, "the signed certificate is not in the TLS certificate list"
    act.bench.track(holder["resource_uri"])
    left = [c["resource_uri"] for c in act.bench.csrs()]
    assert act.csr["resource_uri"] not in left, "the CSR was not deleted"
    assert _request(act).public_key() == act.values["signed"].public_key()


@given("a Conferencing Node with a certificate the test CA signed through a CSR")
def node_with_signed(act: Act, observe: Observe) -> None:
    _trust(act, observe)
    node = _a_conferencing_node(act)
    csr = _csr(act, observe, subject_name=node_fqdn(node), private_key_type="ECDSAP256")
    cert = _complete(act, csr, observe)
    holder = _holding(act, cert)
    assert holder is not None
    act.bench.track(holder["resource_uri"])
    act.record(act.bench.assign(node, holder["resource_uri"]), observe, f"assign {node['name']}")
    act.values["original"] = holder
    act.values["original_cert"] = cert


@when("a renewal request is made from that certificate, signed and completed")
def renew(act: Act, observe: Observe) -> None:
    original = act.values["original"]
    csr = _csr(act, observe, tls_certificate=original["resource_uri"])
    assert _request(act).public_key() == act.values["original_cert"].public_key(), "new key"
    act.values["renewed"] = _complete(act, csr, observe)


@then("the node's certificate is the renewed one, under the same assignment")
def renewed_in_place(act: Act, observe: Observe) -> None:
    assert act.node is not None
    node = act.bench.get(act.node["resource_uri"])
    holder = _holding(act, act.values["renewed"])
    observe(
        "after renewal",
        {"node": node.get("tls_certificate"), "renewed": holder and holder["resource_uri"]},
    )
    assert holder is not None, "the renewed certificate is not listed"
    assert node.get("tls_certificate") == holder["resource_uri"], "the assignment moved"
    assert holder["resource_uri"] == act.values["original"]["resource_uri"], (
        "the renewal was added alongside instead of replacing the certificate"
    )


@then("the node's SIP TLS handshake shows the new serial number")
def handshake_new_serial(act: Act, observe: Observe) -> None:
    assert act.node is not None
    endpoint = act.bench.addresses.endpoint(act.node["address"], SIP_TLS)
    shake = tls.handshake(endpoint, node_fqdn(act.node))
    observe("SIP TLS handshake", shake.observation())
    assert shake.chain, f"no TLS at {endpoint}: {shake.error}"
    renewed = act.values["renewed"]
    assert shake.leaf.serial_number == renewed.serial_number, (
        f"serves serial {shake.leaf.serial_number:x}, renewed {renewed.serial_number:x}"
    )


@when("a renewal request is made from a temporary certificate")
def renew_temporary(act: Act, observe: Observe) -> None:
    shipped = _shipped(act)[0]["resource_uri"]
    act.record(act.bench.create_csr(tls_certificate=shipped), observe, "renewal CSR")


@when(
    parsers.parse('a renewal request is made from an uploaded certificate adding the SAN "{name}"')
)
def renew_uploaded(act: Act, name: str, observe: Observe) -> None:
    leaf = _leaf(act, "renewable")
    act.leaf = leaf
    upload = act.record(
        act.bench.upload_certificate(leaf.cert_pem, leaf.key_pem()), observe, "upload"
    )
    assert upload.accepted and upload.uri, upload.error_text()
    act.values["extra"] = name
    _csr(act, observe, tls_certificate=upload.uri, additional_subject_alt_names=name)


@then("the request has the certificate's key and subject, its SANs and the added one")
def renewal_request(act: Act, observe: Observe) -> None:
    assert act.leaf is not None
    request = _request(act)
    names = san_names(request)
    observe("renewal CSR", {"subject": request.subject.rfc4514_string(), "SANs": names})
    assert request.public_key() == act.leaf.cert.public_key(), "not the certificate's key"
    assert request.subject == act.leaf.cert.subject
    assert [*san_names(act.leaf.cert), act.values["extra"]] == names, f"SANs {names}"


@then(parsers.parse('the request is refused with "{text}"'))
def request_refused(act: Act, text: str) -> None:
    refused_with(act, text)


# -- trusted CA certificates (CA-02, CA-03) ---------------------------------------------------


@when("a PEM bundle of a root, an intermediate and a server certificate with its key is imported")
def import_bundle(act: Act, observe: Observe) -> None:
    act.leaf = _leaf(act, "imported")
    bundle = to_pem(act.ca.root) + act.ca.cert_pem + act.leaf.cert_pem + act.leaf.key_pem()
    act.values["bundle"] = bundle
    act.record(act.bench.import_bundle(bundle), observe, "import")


def _fingerprints(objects: list[Obj]) -> list[str]:
    return [fingerprint_sha256(load_pem_certificates(o["certificate"])[0]) for o in objects]


@then("the root and intermediate are trusted CA certificates and the server certificate a TLS one")
def imported_where(act: Act, observe: Observe) -> None:
    cas = _fingerprints(act.bench.ca_certificates())
    tls_list = _fingerprints(act.bench.tls_certificates())
    assert act.leaf is not None
    observe("lists", {"trusted CA": len(cas), "TLS": len(tls_list)})
    assert fingerprint_sha256(act.ca.root) in cas and fingerprint_sha256(act.ca.cert) in cas
    assert (
        fingerprint_sha256(act.leaf.cert) in tls_list
        and fingerprint_sha256(act.leaf.cert) not in cas
    )


@when("the same bundle is imported again")
def import_again(act: Act, observe: Observe) -> None:
    act.values["counts"] = (len(act.bench.ca_certificates()), len(act.bench.tls_certificates()))
    act.record(act.bench.import_bundle(act.values["bundle"]), observe, "import again")


@then("nothing is added")
def nothing_added(act: Act, observe: Observe) -> None:
    counts = (len(act.bench.ca_certificates()), len(act.bench.tls_certificates()))
    observe("counts before and after", [act.values["counts"], counts])
    assert counts == act.values["counts"], f"duplicates added: {act.values['counts']} -> {counts}"


@when("a CA certificate with the same subject but another key is imported")
def import_same_subject(act: Act, observe: Observe) -> None:
    twin = CA.new(act.ca.root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    act.values["twin"] = twin.cert
    act.record(act.bench.import_bundle(twin.cert_pem), observe, "import same subject")


@then("both CA certificates with that subject are listed")
def twins_listed(act: Act, observe: Observe) -> None:
    same = [
        o
        for o in act.bench.ca_certificates()
        if load_pem_certificates(o["certificate"])[0].subject == act.ca.root.subject
    ]
    observe("same subject", [o["resource_uri"] for o in same])
    assert len(same) == 2, f"{len(same)} CA certificate(s) with that subject"


@when("the test CA's root and intermediate are uploaded as trusted CA certificates")
def upload_trusted(act: Act, observe: Observe) -> None:
    _trust(act, observe)


@then('the export is "ca-certificates.pem" with every custom trusted CA certificate')
def export(act: Act, observe: Observe) -> None:
    name, data = _web(act.bench.export_ca)
    exported = load_pem_certificates(data) if data.strip() else []
    listed = [load_pem_certificates(o["certificate"])[0] for o in act.bench.ca_certificates()]
    observe("export", {"file": name, "certificates": len(exported), "listed": len(listed)})
    assert name == "ca-certificates.pem", f"file name {name!r}"
    assert sorted(fingerprint_sha256(c) for c in exported) == sorted(
        fingerprint_sha256(c) for c in listed
    ), "the export does not hold exactly the trusted CA list"


@then("each shows its decoded subject, issuer and validity")
def decoded(act: Act, observe: Observe) -> None:
    for obj in act.bench.ca_certificates():
        cert = load_pem_certificates(obj["certificate"])[0]
        assert obj.get("text") and cert.subject.rfc4514_string().split("=", 1)[1] in obj["text"], (
            f"{obj['resource_uri']} shows no decoded data"
        )
    observe("decoded", len(act.bench.ca_certificates()))


@then("a trusted CA certificate's PEM can be replaced and a certificate deleted")
def edit_and_delete(act: Act, observe: Observe) -> None:
    objects = act.bench.ca_certificates()
    mine = [
        o
        for o in objects
        if load_pem_certificates(o["certificate"])[0] in (act.ca.root, act.ca.cert)
    ]
    assert len(mine) == 2, "the test CA's certificates are not listed"
    replacement = CA.new(act.bench.name("replacement"))
    edit = act.bench.update(mine[1]["resource_uri"], {"certificate": replacement.cert_pem})
    act.bench.track(mine[1]["resource_uri"])
    observe("edit PEM", edit.observation())
    assert edit.accepted, edit.error_text()
    shown = load_pem_certificates(act.bench.get(mine[1]["resource_uri"])["certificate"])[0]
    assert shown == replacement.cert, "the edited PEM was not kept"
    removed = act.bench.delete(mine[0]["resource_uri"])
    observe("delete", removed.observation())
    left = [o["resource_uri"] for o in act.bench.ca_certificates()]
    assert removed.accepted and mine[0]["resource_uri"] not in left, "not deleted"
