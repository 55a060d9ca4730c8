"""Fault injection (/_sim/faults): the endpoint, and each fault breaking its requirement's
behaviour while it is active and no longer once it is cleared.

Fault names are written out as strings here on purpose: they are an interface (Accord's
mutation tests use them), and ``test_every_fault_is_tested_here`` checks each is used below.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from simulator.pexip.faults import FAULTS
from tests.simulator.certs import CA, key_pem, openssl, pem
from tests.simulator.conftest import CONFIG, STATUS
from tests.simulator.test_csr import MISMATCH, MS_TEMPLATE, NO_AUTO, make, path_of, sans, spki

FAULTS_URL = "/_sim/faults"
TLS = CONFIG + "tls_certificate/"
CSR = CONFIG + "certificate_signing_request/"
CA_LIST = CONFIG + "ca_certificate/"
IMPORT = "/api/admin/command/v1/platform/certificates_import/"
EXPORT = "/_sim/ui/ca_certificate/export"
DOWNLOAD = "/_sim/ui/tls_certificate/download"
FMT = "%Y-%m-%dT%H:%M:%S.%f"


def inject(api, *names: str) -> None:
    """Make exactly ``names`` the active faults (over HTTP, as Accord's tests do)."""
    response = api.put(FAULTS_URL, json={"active": list(names)})
    assert response.status_code == 200, response.text
    assert response.json()["active"] == sorted(names)


def upload(api, issued) -> str:
    response = api.post(TLS, json={"certificate": issued.pem, "private_key": issued.key_pem})
    return path_of(api, response)


def disposition(response) -> str:
    return response.headers["Content-Disposition"].split("filename=", 1)[1].strip('"')


# -- the endpoint --------------------------------------------------------------------------


def test_the_catalogue_names_each_requirement():
    ids = {name.split("_", 1)[0] for name in FAULTS}
    assert ids == {f"tls{n}" for n in range(10, 16)} | {f"csr{n:02d}" for n in range(1, 11)} | {
        "ca02",
        "ca03",
        "tls08",  # the node listeners' faults, tested in test_listeners.py
        "tls16",
        "snmp04",  # the SNMP agents' faults, tested in test_node_snmp.py
        "auth05",  # administrator access faults, tested in test_access.py
        "auth06",
        "mgmt03",
        "conf01",
        "secw01",  # FIPS mode's TLS 1.3 refusal, tested in test_security_wizard.py
        "secw08",
    }
    for name, description in FAULTS.items():
        prefix = name.split("_", 1)[0].upper()
        requirement = f"{prefix[:-2]}-{prefix[-2:]}"
        assert description.startswith(f"{requirement}: "), name


def test_every_fault_is_tested_here():
    here = Path(__file__).parent
    source = "".join(
        (here / name).read_text()
        for name in (
            "test_faults.py",
            "test_listeners.py",
            "test_node_snmp.py",
            "test_access.py",
            "test_security_wizard.py",
        )
    )
    untested = [name for name in FAULTS if source.count(f'"{name}"') < 1]
    assert not untested


def test_list_set_clear_and_refuse_unknown_names(api):
    assert api.ok(FAULTS_URL) == {"active": [], "available": FAULTS}
    inject(api, "csr01_server_auth_only", "tls13_no_expiry_alarm")
    assert api.ok(FAULTS_URL)["active"] == ["csr01_server_auth_only", "tls13_no_expiry_alarm"]
    for body in (
        {"active": ["csr01_server_auth_only", "no_such_fault"]},
        {"active": "csr01_server_auth_only"},
        {"active": [1]},
        {"active": [], "extra": 1},
        {},
        ["csr01_server_auth_only"],
    ):
        response = api.put(FAULTS_URL, json=body)
        assert response.status_code == 400, body
    assert "no_such_fault" in api.put(FAULTS_URL, json={"active": ["no_such_fault"]}).text
    assert api.put(FAULTS_URL, data=b"{bad").status_code == 400
    assert api.ok(FAULTS_URL)["active"] == ["csr01_server_auth_only", "tls13_no_expiry_alarm"]
    assert api.delete(FAULTS_URL).status_code == 405
    assert api.post(FAULTS_URL, json={"active": []}).status_code == 405
    assert api.get(FAULTS_URL + "/").status_code == 200
    inject(api)
    assert api.ok(FAULTS_URL)["active"] == []
    assert api.ok("/_sim/requests")["total"] == 0  # control requests are not logged


def test_faults_are_not_state(api):
    inject(api, "ca03_export_wrong_name")
    snapshot = api.http_state()
    assert "ca03_export_wrong_name" not in str(snapshot)
    assert api.post("/_sim/reset").status_code == 204
    assert api.ok(FAULTS_URL)["active"] == ["ca03_export_wrong_name"]
    assert api.put("/_sim/state", json=snapshot).status_code == 204
    assert api.ok(FAULTS_URL)["active"] == ["ca03_export_wrong_name"]
    assert disposition(api.get(EXPORT)) == "ca_certificates.pem"
    inject(api)
    assert api.http_state() == snapshot  # clearing faults changes no state either


# -- TLS-10 .. TLS-15 ----------------------------------------------------------------------


def test_tls10_accept_mismatched_key(api):
    leaf, other = CA().leaf("pair.example.com"), CA().leaf("other.example.com")
    body = {"certificate": leaf.pem, "private_key": other.key_pem}
    inject(api, "tls10_accept_mismatched_key")
    obj = api.ok(path_of(api, api.post(TLS, json=body)))
    assert obj["subject_name"] == "pair.example.com"
    # The faulty state still snapshots, restores and downloads without a 5xx.
    assert api.put("/_sim/state", json=api.http_state()).status_code == 204
    p12 = {"format": "pkcs12", "include_private_key": True, "passphrase": "p"}
    refused = api.post(DOWNLOAD, json={"certificates": [obj["resource_uri"]], **p12})
    assert refused.status_code == 400
    # Completing a CSR still checks its key (that is CSR-08's fault).
    csr, _ = make(api, subject_name="csr.example.com")
    wrong = api.patch(csr["resource_uri"], json={"certificate": CA().leaf("csr.example.com").pem})
    assert wrong.json() == {"certificate_signing_request": {"certificate": [MISMATCH]}}
    inject(api)
    again = api.post(TLS, json=body)
    assert again.json() == {"tls_certificate": {"private_key": [MISMATCH]}}


def test_tls11_same_subject_replaces(api):
    ca = CA()
    first = upload(api, ca.leaf("same.example.com", serial=1001))
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": first})
    inject(api, "tls11_same_subject_replaces")
    other_issuer = CA("Other").leaf("same.example.com", serial=1002)
    assert upload(api, other_issuer) == first
    replaced = api.ok(first)
    assert replaced["serial_no"] == "1002" and replaced["nodes"] == ["pxconf01.pexip.example.com"]
    inject(api)
    assert upload(api, ca.leaf("same.example.com", serial=1003)) != first
    names = [c["subject_name"] for c in api.objects("tls_certificate")]
    assert names.count("same.example.com") == 2


def test_tls11_assignment_ignored(api):
    new = upload(api, CA().leaf("assign.example.com"))
    inject(api, "tls11_assignment_ignored")
    assert api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": new}).status_code == 202
    assert api.ok(CONFIG + "worker_vm/1/")["tls_certificate"] == TLS + "2/"
    assert api.ok(new)["nodes"] == []
    # Removing a certificate still works (that is TLS-13's no-certificate alarm set-up).
    assert api.patch(CONFIG + "worker_vm/2/", json={"tls_certificate": None}).status_code == 202
    assert api.ok(CONFIG + "worker_vm/2/")["tls_certificate"] is None
    inject(api)
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": new})
    assert api.ok(CONFIG + "worker_vm/1/")["tls_certificate"] == new


def test_tls12_dates_misreported(api):
    leaf = CA().leaf("dates.example.com", days=20)
    uri = upload(api, leaf)
    start, end = leaf.cert.not_valid_before_utc, leaf.cert.not_valid_after_utc
    year = dt.timedelta(days=365)
    inject(api, "tls12_dates_misreported")
    obj = api.ok(uri)
    assert obj["start_date"] == (start + year).strftime(FMT)
    assert obj["end_date"] == (end + year).strftime(FMT)
    assert api.patch(uri, json=obj).status_code == 202  # a GET-modify-PATCH round trip
    root = CA().root
    ca_obj = api.ok(path_of(api, api.post(CA_LIST, json={"certificate": root.pem})))
    assert ca_obj["end_date"] == root.cert.not_valid_after_utc.strftime(FMT)  # TLS only
    inject(api)
    obj = api.ok(uri)
    assert (obj["start_date"], obj["end_date"]) == (start.strftime(FMT), end.strftime(FMT))


def _alarm_names(api) -> set[str]:
    return {a["name"] for a in api.objects("alarm", STATUS)}


@pytest.mark.parametrize(
    ("fault", "dropped"),
    [
        ("tls13_no_missing_certificate_alarm", {"tls_certificate_missing"}),
        ("tls13_no_incomplete_chain_alarm", {"tls_certificate_chain_incomplete"}),
        ("tls13_no_expiry_alarm", {"tls_certificate_expiring", "ca_certificate_expiring"}),
    ],
)
def test_tls13_alarm_faults(api, fault, dropped):
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": None})
    untrusted = upload(api, CA("Untrusted").leaf("chain.example.com", days=20))
    api.patch(CONFIG + "worker_vm/2/", json={"tls_certificate": untrusted})
    api.post(CA_LIST, json={"certificate": CA("Soon", days=20).root.pem})
    honest = _alarm_names(api)
    assert honest == {
        "tls_certificate_missing",
        "tls_certificate_chain_incomplete",
        "tls_certificate_expiring",
        "ca_certificate_expiring",
    }
    inject(api, fault)
    assert _alarm_names(api) == honest - dropped
    inject(api)
    assert _alarm_names(api) == honest


def test_tls13_no_expiry_alarm_covers_expired_certificates(api):
    api.post(CA_LIST, json={"certificate": CA("Old", days=1).root.pem})
    api.put("/_sim/clock", json={"advance_days": 3})
    assert "ca_certificate_expired" in _alarm_names(api)
    inject(api, "tls13_no_expiry_alarm")
    assert "ca_certificate_expired" not in _alarm_names(api)


def test_tls14_temporary_download_allowed(api):
    inject(api, "tls14_temporary_download_allowed")
    allowed = api.post(DOWNLOAD, json={"certificates": [TLS + "1/"]})
    assert allowed.status_code == 200
    assert allowed.text == api.ok(TLS + "1/")["certificate"]
    inject(api)
    assert api.post(DOWNLOAD, json={"certificates": [TLS + "1/"]}).status_code == 400


def test_tls14_key_without_passphrase(api):
    leaf = CA().leaf("nopass.example.com")
    body = {"certificates": [upload(api, leaf)], "include_private_key": True}
    inject(api, "tls14_key_without_passphrase")
    response = api.post(DOWNLOAD, json=body)
    assert response.status_code == 200
    assert "-----BEGIN PRIVATE KEY-----" in response.text and leaf.pem in response.text
    inject(api)
    refused = api.post(DOWNLOAD, json=body)
    assert refused.status_code == 400 and list(refused.json()["download"]) == ["passphrase"]


def test_tls14_wrong_file_name(api):
    one, two = upload(api, CA().leaf("a.example.com")), upload(api, CA().leaf("b.example.com"))
    inject(api, "tls14_wrong_file_name")
    assert disposition(api.post(DOWNLOAD, json={"certificates": [one]})) == "a.example.com.pem"
    both = api.post(DOWNLOAD, json={"certificates": [one, two]})
    assert disposition(both) == "certificates.pem"
    p12 = api.post(DOWNLOAD, json={"certificates": [one], "format": "pkcs12"})
    assert disposition(p12) == "a.example.com.pfx"
    inject(api)
    plain = api.post(DOWNLOAD, json={"certificates": [one]})
    assert disposition(plain) == "a.example.com_certificate.pem"


def _shipped_sizes(api, tmp_path) -> list[tuple[int, int]]:
    """(RSA key bits, DH prime bits) of every shipped certificate."""
    out = []
    for cert in api.objects("tls_certificate"):
        parsed = x509.load_pem_x509_certificate(cert["certificate"].encode())
        public = parsed.public_key()
        assert isinstance(public, rsa.RSAPublicKey) and parsed.issuer == parsed.subject
        dh = openssl("dhparam", "-noout", "-text", cwd=tmp_path, stdin=cert["parameters"])
        bits = re.search(r"\((\d+) bit\)", dh)
        assert bits is not None, dh
        out.append((public.key_size, int(bits.group(1))))
    return out


@pytest.mark.parametrize(
    ("fault", "sizes"),
    [
        # The Management Node's own keeps its 4096-bit key (clients anchor their trust on it).
        ("tls15_shipped_rsa2048", [(4096, 2048)] + [(2048, 2048)] * 3),
        ("tls15_shipped_dh1024", [(4096, 2048)] + [(4096, 1024)] * 3),
    ],
)
def test_tls15_shipped_certificates_weakened_at_the_next_reset(api, tmp_path, fault, sizes):
    honest = (4096, 2048)
    before = api.objects("tls_certificate")
    inject(api, fault)
    assert api.objects("tls_certificate") == before  # the state changes at the next reset
    assert api.post("/_sim/reset").status_code == 204
    assert _shipped_sizes(api, tmp_path) == sizes
    weak = api.objects("tls_certificate")
    for old, new in zip(before, weak, strict=True):
        assert (new["subject_name"], new["nodes"]) == (old["subject_name"], old["nodes"])
        assert (new["start_date"], new["end_date"]) == (old["start_date"], old["end_date"])
    assert api.put("/_sim/state", json=api.http_state()).status_code == 204
    inject(api)
    api.post("/_sim/reset")
    assert _shipped_sizes(api, tmp_path) == [honest] * 4


# -- CSR-01 .. CSR-10 ----------------------------------------------------------------------


def _eku(csr: x509.CertificateSigningRequest) -> set[x509.ObjectIdentifier]:
    return set(csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_csr01_server_auth_only(api):
    inject(api, "csr01_server_auth_only")
    _, csr = make(api, subject_name="eku.example.com")
    assert _eku(csr) == {ExtendedKeyUsageOID.SERVER_AUTH}
    inject(api)
    _, csr = make(api, subject_name="eku.example.com")
    assert _eku(csr) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}


def test_csr02_ip_common_name_refused(api):
    inject(api, "csr02_ip_common_name_refused")
    for name in ("192.0.2.99", "2001:db8::1"):
        refused = api.post(CSR, json={"subject_name": name, "private_key_type": "ECDSAP256"})
        assert list(refused.json()["certificate_signing_request"]) == ["subject_name"]
    make(api, subject_name="custom.example.com")  # a custom DNS name is still fine
    make(api, subject_name="pxconf01.pexip.example.com")
    inject(api)
    _, csr = make(api, subject_name="192.0.2.99")
    assert sans(csr) == ["192.0.2.99"]


def test_csr03_default_rsa1024(api):
    inject(api, "csr03_default_rsa1024")
    default = api.ok(path_of(api, api.post(CSR, json={"subject_name": "weak.example.com"})))
    public = x509.load_pem_x509_csr(default["csr"].encode()).public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 1024
    _, asked = make(api, subject_name="asked.example.com", private_key_type="RSA2048")
    assert asked.public_key().key_size == 2048
    inject(api)
    default = api.ok(path_of(api, api.post(CSR, json={"subject_name": "weak.example.com"})))
    assert x509.load_pem_x509_csr(default["csr"].encode()).public_key().key_size == 2048


def test_csr03_ecc_key_refused(api):
    ecc = key_pem(ec.generate_private_key(ec.SECP256R1()))
    body = {"subject_name": "ecc.example.com", "private_key_type": "UPLOAD", "private_key": ecc}
    inject(api, "csr03_ecc_key_refused")
    refused = api.post(CSR, json=body)
    assert list(refused.json()["certificate_signing_request"]) == ["private_key"]
    rsa_key = key_pem(rsa.generate_private_key(65537, 2048))
    make(api, subject_name="rsa.example.com", private_key_type="UPLOAD", private_key=rsa_key)
    inject(api)
    assert api.post(CSR, json=body).status_code == 201


def test_csr04_cn_not_in_sans(api):
    inject(api, "csr04_cn_not_in_sans")
    _, csr = make(api, subject_name="cn.example.com", additional_subject_alt_names="alt.example")
    assert sans(csr) == ["alt.example"]
    _, bare = make(api, subject_name="bare.example.com")
    assert x509.SubjectAlternativeName not in [type(e.value) for e in bare.extensions]
    # A renewal keeps its certificate's SANs (that is CSR-10).
    leaf = CA().leaf("renew.example.com", sans=("renew.example.com", "x.example.com"))
    _, renewal = make(api, tls_certificate=upload(api, leaf))
    assert sans(renewal) == ["renew.example.com", "x.example.com"]
    inject(api)
    _, csr = make(api, subject_name="cn.example.com", additional_subject_alt_names="alt.example")
    assert sans(csr) == ["cn.example.com", "alt.example"]


def _has_template(csr: x509.CertificateSigningRequest) -> bool:
    return MS_TEMPLATE in [e.oid for e in csr.extensions]


def test_csr05_template_always_and_never(api):
    inject(api, "csr05_template_always")
    assert _has_template(make(api, subject_name="t.example.com")[1])
    inject(api, "csr05_template_never")
    assert not _has_template(make(api, subject_name="t.example.com", ad_compatible=True)[1])
    inject(api)
    assert not _has_template(make(api, subject_name="t.example.com")[1])
    assert _has_template(make(api, subject_name="t.example.com", ad_compatible=True)[1])


def test_csr06_download_faults(api):
    obj, _ = make(api, subject_name="dl.example.com")
    url = f"/_sim/ui/certificate_signing_request/{obj['id']}/download"
    inject(api, "csr06_download_includes_key")
    with_key = api.get(url)
    assert "PRIVATE KEY" in with_key.text and with_key.text.endswith(obj["csr"])
    assert disposition(with_key) == "dl.example.com.csr"
    inject(api, "csr06_download_wrong_name")
    misnamed = api.get(url)
    assert disposition(misnamed) == "dl.example.com_csr.pem" and misnamed.text == obj["csr"]
    inject(api)
    honest = api.get(url)
    assert disposition(honest) == "dl.example.com.csr" and honest.text == obj["csr"]


def test_csr07_csr_modifiable(api):
    obj, before = make(api, subject_name="fixed.example.com", dn="O=Old,C=NO")
    uri = obj["resource_uri"]
    inject(api, "csr07_csr_modifiable")
    changed = api.patch(uri, json={"additional_subject_alt_names": "x.test, 192.0.2.7"})
    assert changed.status_code == 202
    after = x509.load_pem_x509_csr(api.ok(uri)["csr"].encode())
    assert sans(after) == ["fixed.example.com", "x.test", "192.0.2.7"]
    assert after.subject == before.subject and spki(after.public_key()) == spki(before.public_key())
    assert api.patch(uri, json={"subject_name": "moved.example.com"}).status_code == 202
    moved = api.ok(uri)
    renamed = x509.load_pem_x509_csr(moved["csr"].encode())
    assert moved["subject_name"] == "moved.example.com"
    assert renamed.subject.rfc4514_string() == "CN=moved.example.com,O=Old,C=NO"
    assert sans(renamed) == ["moved.example.com", "x.test", "192.0.2.7"]
    assert api.patch(uri, json={"ad_compatible": True, "dn": "O=New"}).status_code == 202
    templated = x509.load_pem_x509_csr(api.ok(uri)["csr"].encode())
    assert _has_template(templated) and _eku(templated) == _eku(before)
    assert templated.subject.rfc4514_string() == "CN=moved.example.com,O=New"
    assert api.patch(uri, json={"subject_name": "bad name"}).status_code == 400
    assert api.put("/_sim/state", json=api.http_state()).status_code == 204
    inject(api)
    refused = api.patch(uri, json={"additional_subject_alt_names": "y.test"})
    assert refused.status_code == 400 and "cannot be modified" in refused.text


def test_csr08_completion_key_unchecked(api):
    ca = CA()
    obj, _ = make(api, subject_name="wrong.example.com")
    other = ca.leaf("wrong.example.com")
    inject(api, "csr08_completion_key_unchecked")
    done = api.patch(obj["resource_uri"], json={"certificate": other.pem})
    assert done.status_code == 202
    tls = api.ok(path_of(api, done))
    assert tls["serial_no"] == str(other.cert.serial_number)
    assert api.get(obj["resource_uri"]).status_code == 404
    assert api.put("/_sim/state", json=api.http_state()).status_code == 204
    # Uploads still check the pair (that is TLS-10's fault).
    mismatched = api.post(TLS, json={"certificate": other.pem, "private_key": ca.root.key_pem})
    assert mismatched.json() == {"tls_certificate": {"private_key": [MISMATCH]}}
    inject(api)
    again, _ = make(api, subject_name="wrong.example.com")
    refused = api.patch(again["resource_uri"], json={"certificate": other.pem})
    assert refused.json() == {"certificate_signing_request": {"certificate": [MISMATCH]}}


def test_csr08_csr_kept(api):
    ca = CA()
    obj, _ = make(api, subject_name="kept.example.com")
    inject(api, "csr08_csr_kept")
    done = api.patch(obj["resource_uri"], json={"certificate": pem(ca.sign_csr(obj["csr"]))})
    assert done.status_code == 202 and api.ok(path_of(api, done))["subject_name"]
    assert api.ok(obj["resource_uri"]) == obj
    inject(api)
    again, _ = make(api, subject_name="kept.example.com")
    api.patch(again["resource_uri"], json={"certificate": pem(ca.sign_csr(again["csr"]))})
    assert api.get(again["resource_uri"]).status_code == 404


def _renew(api, ca, tls_path: str) -> str:
    obj, _ = make(api, tls_certificate=tls_path)
    done = api.patch(obj["resource_uri"], json={"certificate": pem(ca.sign_csr(obj["csr"]))})
    return path_of(api, done)


def test_csr09_renewal_added_alongside(api):
    ca = CA()
    tls_path = upload(api, ca.leaf("renew.example.com"))
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": tls_path})
    inject(api, "csr09_renewal_added_alongside")
    added = _renew(api, ca, tls_path)
    assert added != tls_path and api.ok(added)["nodes"] == []
    assert api.ok(tls_path)["nodes"] == ["pxconf01.pexip.example.com"]
    inject(api)
    assert _renew(api, ca, tls_path) == tls_path


def test_csr10_renewal_from_temporary(api):
    inject(api, "csr10_renewal_from_temporary")
    obj, csr = make(api, tls_certificate=TLS + "2/")
    shipped = x509.load_pem_x509_certificate(api.ok(TLS + "2/")["certificate"].encode())
    assert obj["subject_name"] == "pxconf01.pexip.example.com"
    assert spki(csr.public_key()) == spki(shipped.public_key())
    inject(api)
    refused = api.post(CSR, json={"tls_certificate": TLS + "2/"})
    assert refused.json() == {"certificate_signing_request": {"tls_certificate": [NO_AUTO]}}


def test_csr10_renewal_new_key(api):
    ca = CA()
    leaf = ca.leaf("newkey.example.com")
    tls_path = upload(api, leaf)
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": tls_path})
    inject(api, "csr10_renewal_new_key")
    _, csr = make(api, tls_certificate=tls_path)
    assert spki(csr.public_key()) != spki(leaf.key.public_key())
    assert csr.subject == leaf.cert.subject
    # Another key is not a renewal any more: its certificate is added alongside.
    assert _renew(api, ca, tls_path) != tls_path
    assert api.ok(tls_path)["nodes"] == ["pxconf01.pexip.example.com"]
    inject(api)
    _, csr = make(api, tls_certificate=tls_path)
    public = x509.load_pem_x509_certificate(api.ok(tls_path)["certificate"].encode()).public_key()
    assert spki(csr.public_key()) == spki(public)


# -- CA-02, CA-03 --------------------------------------------------------------------------


def test_ca02_import_duplicates_added(api):
    ca = CA()
    leaf = ca.leaf("dup.example.com")
    bundle = ca.root.pem + leaf.pem + leaf.key_pem
    api.post(IMPORT, json={"bundle": bundle})
    inject(api, "ca02_import_duplicates_added")
    again = api.post(IMPORT, json={"bundle": bundle}).json()
    assert again["result"] == {
        "tls_certificates": [TLS + "6/"],
        "ca_certificates": [CA_LIST + "2/"],
        "ignored": 0,
    }
    inject(api)
    thrice = api.post(IMPORT, json={"bundle": bundle}).json()
    assert thrice["result"]["ignored"] == 2 and not thrice["result"]["tls_certificates"]
    assert len(api.objects("ca_certificate")) == 2 and len(api.objects("tls_certificate")) == 6


def test_ca02_import_server_as_ca(api):
    ca = CA()
    leaf = ca.leaf("server.example.com")
    bundle = ca.root.pem + leaf.pem + leaf.key_pem
    inject(api, "ca02_import_server_as_ca")
    result = api.post(IMPORT, json={"bundle": bundle}).json()["result"]
    assert result["tls_certificates"] == [] and len(result["ca_certificates"]) == 2
    assert [c["subject_name"] for c in api.objects("ca_certificate")] == [
        "Test Root CA",
        "server.example.com",
    ]
    inject(api)
    api.post("/_sim/reset")
    result = api.post(IMPORT, json={"bundle": bundle}).json()["result"]
    assert result["tls_certificates"] == [TLS + "5/"] and result["ca_certificates"] == [
        CA_LIST + "1/"
    ]


def test_ca03_export_omits_one(api):
    ca = CA(intermediate=True)
    for cert in (ca.root, ca.intermediate):
        api.post(CA_LIST, json={"certificate": cert.pem})
    inject(api, "ca03_export_omits_one")
    assert api.get(EXPORT).text == ca.root.pem
    inject(api)
    assert api.get(EXPORT).text == ca.root.pem + ca.intermediate.pem


def test_ca03_export_wrong_name(api):
    inject(api, "ca03_export_wrong_name")
    assert disposition(api.get(EXPORT)) == "ca_certificates.pem"
    inject(api)
    assert disposition(api.get(EXPORT)) == "ca-certificates.pem"
