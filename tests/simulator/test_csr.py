"""certificate_signing_request: generated CSRs (parsed and checked), uploaded keys, validation,
immutability, completion, renewal of an existing certificate."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulator.pexip import certdata
from tests.simulator.certs import CA, openssl, pem
from tests.simulator.conftest import CONFIG

CSR = CONFIG + "certificate_signing_request/"
TLS = CONFIG + "tls_certificate/"
MISMATCH = "Certificate and private key do not appear to be part of the same key pair"
NO_AUTO = (
    "It was not possible to automatically create a certificate signing request from this "
    "certificate"
)
MS_TEMPLATE = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")


def path_of(api, response) -> str:
    assert response.status_code in (201, 202), response.text
    return response.headers["Location"].removeprefix(api.sim.url.rstrip("/"))


def make(api, **body):
    body.setdefault("private_key_type", "ECDSAP256")
    obj = api.ok(path_of(api, api.post(CSR, json=body)))
    return obj, x509.load_pem_x509_csr(obj["csr"].encode())


def sans(csr_or_cert) -> list[str]:
    ext = csr_or_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(v) for v in ext.get_values_for_type(x509.DNSName)] + [
        str(v) for v in ext.get_values_for_type(x509.IPAddress)
    ]


def spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def stored(api, resource: str, key: int) -> dict:
    rows = api.state()["tables"][f"configuration/{resource}"]["rows"]
    return next(r for r in rows if r["id"] == key)


def test_generated_csr_contents(api):
    obj, csr = make(
        api,
        subject_name="pxconf01.pexip.example.com",
        dn="O=Example Corp,OU=Video,L=Oslo,ST=Oslo,C=no",
        additional_subject_alt_names="meet.example.com, 192.0.2.80",
    )
    assert csr.is_signature_valid
    subject = {a.oid: a.value for a in csr.subject}
    assert subject == {
        NameOID.COMMON_NAME: "pxconf01.pexip.example.com",
        NameOID.ORGANIZATION_NAME: "Example Corp",
        NameOID.ORGANIZATIONAL_UNIT_NAME: "Video",
        NameOID.LOCALITY_NAME: "Oslo",
        NameOID.STATE_OR_PROVINCE_NAME: "Oslo",
        NameOID.COUNTRY_NAME: "NO",
    }
    assert sans(csr) == ["pxconf01.pexip.example.com", "meet.example.com", "192.0.2.80"]
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert MS_TEMPLATE not in [e.oid for e in csr.extensions]
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey)
    # Write-only fields read back empty; the key never leaves.
    assert (obj["dn"], obj["additional_subject_alt_names"], obj["private_key_type"]) == ("",) * 3
    assert obj["ad_compatible"] is False and obj["private_key"] == "" and obj["certificate"] == ""
    assert obj["subject_name"] == "pxconf01.pexip.example.com" and obj["tls_certificate"] is None


def test_ad_compatible_adds_the_webserver_template(api):
    _, csr = make(api, subject_name="ad.example.com", ad_compatible=True)
    ext = csr.extensions.get_extension_for_oid(MS_TEMPLATE)
    assert ext.value.value == b"\x1e\x12" + "WebServer".encode("utf-16-be")


def test_default_key_is_rsa2048_and_rsa4096_on_request(api):
    obj, csr = make(api, subject_name="rsa.example.com", private_key_type="RSA2048")
    default = api.post(CSR, json={"subject_name": "default.example.com"})
    generated = x509.load_pem_x509_csr(api.ok(path_of(api, default))["csr"].encode())
    for request in (csr, generated):
        public = request.public_key()
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    _, big = make(api, subject_name="big.example.com", private_key_type="RSA4096")
    assert big.public_key().key_size == 4096


def test_custom_common_name_may_be_an_ip_address(api):
    _, csr = make(api, subject_name="192.0.2.21")
    assert sans(csr) == ["192.0.2.21"]


def test_uploaded_key_openssl_made_and_encrypted(api, tmp_path):
    openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes256",
        "-pass",
        "pass:Csr-Pass-9",
        "-out",
        "key.pem",
        cwd=tmp_path,
    )
    encrypted = (tmp_path / "key.pem").read_text()
    needs = api.post(
        CSR,
        json={
            "subject_name": "up.example.com",
            "private_key_type": "UPLOAD",
            "private_key": encrypted,
        },
    )
    assert list(needs.json()["certificate_signing_request"]) == ["private_key_passphrase"]
    _, csr = make(
        api,
        subject_name="up.example.com",
        private_key_type="UPLOAD",
        private_key=encrypted,
        private_key_passphrase="Csr-Pass-9",
    )
    openssl(
        "pkey",
        "-in",
        "key.pem",
        "-passin",
        "pass:Csr-Pass-9",
        "-pubout",
        "-out",
        "pub.pem",
        cwd=tmp_path,
    )
    public = serialization.load_pem_public_key((tmp_path / "pub.pem").read_bytes())
    assert spki(csr.public_key()) == spki(public)
    assert "Csr-Pass-9" not in str(api.http_state()) + str(api.ok("/_sim/requests"))
    missing = api.post(CSR, json={"subject_name": "up.example.com", "private_key_type": "UPLOAD"})
    assert list(missing.json()["certificate_signing_request"]) == ["private_key"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject_name"),
        ({"subject_name": ""}, "subject_name"),
        ({"subject_name": "x" * 65}, "subject_name"),
        ({"subject_name": "has space"}, "subject_name"),
        ({"subject_name": "a.example.com", "dn": "C=NOR"}, "dn"),
        ({"subject_name": "a.example.com", "dn": "C=N0"}, "dn"),
        ({"subject_name": "a.example.com", "dn": "X=1"}, "dn"),
        ({"subject_name": "a.example.com", "dn": "O=a,O=b"}, "dn"),
        (
            {"subject_name": "a.example.com", "additional_subject_alt_names": "ok.com, b@d"},
            "additional_subject_alt_names",
        ),
        ({"subject_name": "a.example.com", "private_key_type": "DSA"}, "private_key_type"),
        ({"subject_name": "a.example.com", "certificate": "x"}, "certificate"),
        ({"tls_certificate": TLS + "99/"}, "tls_certificate"),
    ],
)
def test_csr_validation(api, body, field):
    before = api.state()
    response = api.post(CSR, json={"private_key_type": "ECDSAP256", **body})
    assert response.status_code == 400
    assert field in response.json()["certificate_signing_request"], response.json()
    assert api.state() == before


def test_csrs_cannot_be_modified(api):
    obj, _ = make(api, subject_name="fixed.example.com")
    uri = obj["resource_uri"]
    for change in ({"subject_name": "other.example.com"}, {"dn": "O=x"}, {"ad_compatible": True}):
        response = api.patch(uri, json=change)
        assert response.status_code == 400
        assert "cannot be modified" in str(response.json())
    assert api.ok(uri) == obj
    assert api.patch(uri, json={}).status_code == 202
    assert api.put(uri, json=obj).status_code == 405
    assert api.delete(uri).status_code == 204 and api.get(uri).status_code == 404


def test_completion_links_the_key_creates_the_certificate_and_deletes_the_csr(api):
    ca = CA(intermediate=True)
    obj, _ = make(api, subject_name="new.example.com")
    csr_key = stored(api, "certificate_signing_request", obj["id"])["private_key"]
    wrong = ca.leaf("new.example.com")
    refused = api.patch(obj["resource_uri"], json={"certificate": wrong.pem})
    assert refused.json() == {"certificate_signing_request": {"certificate": [MISMATCH]}}
    assert api.ok(obj["resource_uri"]) == obj
    signed = ca.sign_csr(obj["csr"])
    response = api.patch(obj["resource_uri"], json={"certificate": pem(signed) + ca.root.pem})
    assert response.status_code == 202
    tls_path = path_of(api, response)
    assert api.get(obj["resource_uri"]).status_code == 404
    tls = api.ok(tls_path)
    assert tls["certificate"] == pem(signed) + ca.root.pem and tls["nodes"] == []
    assert stored(api, "tls_certificate", tls["id"])["private_key"] == csr_key


def test_renewal_keeps_key_and_subject_and_node_assignments(api):
    ca = CA()
    current = ca.leaf("conf.example.com", sans=("conf.example.com", "alt.example.com"))
    upload = api.post(
        TLS, json={"certificate": current.pem, "private_key": current.key_pem, "parameters": ""}
    )
    tls_path = path_of(api, upload)
    for node in ("worker_vm/1/", "worker_vm/3/"):
        api.patch(CONFIG + node, json={"tls_certificate": tls_path})
    before = api.ok(tls_path)
    obj, csr = make(api, tls_certificate=tls_path, additional_subject_alt_names="extra.example.com")
    assert obj["subject_name"] == "conf.example.com" and obj["tls_certificate"] == tls_path
    assert csr.subject == current.cert.subject
    assert spki(csr.public_key()) == spki(current.key.public_key())
    assert sans(csr) == ["conf.example.com", "alt.example.com", "extra.example.com"]
    other_subject = api.post(CSR, json={"tls_certificate": tls_path, "subject_name": "x.example"})
    assert "subject_name" in other_subject.json()["certificate_signing_request"]
    response = api.patch(obj["resource_uri"], json={"certificate": pem(ca.sign_csr(obj["csr"]))})
    assert path_of(api, response) == tls_path
    after = api.ok(tls_path)
    assert after["id"] == before["id"] and after["serial_no"] != before["serial_no"]
    assert after["nodes"] == ["pxconf01.pexip.example.com", "pxconf03.pexip.example.com"]
    assert after["subject_alt_names"] == "conf.example.com, alt.example.com, extra.example.com"
    assert (
        len(api.objects("tls_certificate")) == 5
        and api.objects("certificate_signing_request") == []
    )


def test_completing_a_new_csr_for_an_existing_subject_and_key_replaces_it(api):
    ca = CA()
    obj, _ = make(api, subject_name="again.example.com")
    first = path_of(
        api, api.patch(obj["resource_uri"], json={"certificate": pem(ca.sign_csr(obj["csr"]))})
    )
    api.patch(CONFIG + "worker_vm/2/", json={"tls_certificate": first})
    key = stored(api, "tls_certificate", int(first.rstrip("/").rsplit("/", 1)[1]))["private_key"]
    # Upload the same key again through a new CSR (UPLOAD): same subject and key → replaced.
    again, _ = make(
        api, subject_name="again.example.com", private_key_type="UPLOAD", private_key=key
    )
    second = path_of(
        api, api.patch(again["resource_uri"], json={"certificate": pem(ca.sign_csr(again["csr"]))})
    )
    assert second == first and api.ok(first)["nodes"] == ["pxconf02.pexip.example.com"]


def test_no_renewal_csr_from_a_temporary_certificate(api):
    response = api.post(CSR, json={"tls_certificate": TLS + "1/"})
    assert response.json() == {"certificate_signing_request": {"tls_certificate": [NO_AUTO]}}


def test_no_renewal_csr_when_the_subject_cannot_be_reused(api):
    ca = CA()
    bad_cn = ca.leaf("not a hostname", sans=("bad.example.com",))
    response = api.post(TLS, json={"certificate": bad_cn.pem, "private_key": bad_cn.key_pem})
    refused = api.post(CSR, json={"tls_certificate": path_of(api, response)})
    assert refused.json() == {"certificate_signing_request": {"tls_certificate": [NO_AUTO]}}
    assert certdata.KEY_MISMATCH == MISMATCH


def test_renewal_with_new_subject_fields_still_replaces_the_certificate(api):
    ca = CA()
    current = ca.leaf("dn.example.com")
    response = api.post(TLS, json={"certificate": current.pem, "private_key": current.key_pem})
    tls_path = path_of(api, response)
    api.patch(CONFIG + "management_vm/1/", json={"tls_certificate": tls_path})
    obj, csr = make(api, tls_certificate=tls_path, dn="O=New Org,C=SE")
    assert {a.oid: a.value for a in csr.subject} == {
        NameOID.COMMON_NAME: "dn.example.com",
        NameOID.ORGANIZATION_NAME: "New Org",
        NameOID.COUNTRY_NAME: "SE",
    }
    done = api.patch(obj["resource_uri"], json={"certificate": pem(ca.sign_csr(obj["csr"]))})
    assert path_of(api, done) == tls_path
    after = api.ok(tls_path)
    assert after["raw_subject"] == "CN=dn.example.com,O=New Org,C=SE"
    assert after["nodes"] == ["pxmgr01.pexip.example.com"]


def download_url(key) -> str:
    return f"/_sim/ui/certificate_signing_request/{key}/download"


def test_csr_download_is_the_pem_named_after_the_subject_without_the_key(api):
    obj, csr = make(api, subject_name="dl.example.com", dn="O=Example")
    response = api.get(download_url(obj["id"]))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="dl.example.com.csr"'
    assert response.text == obj["csr"] and "PRIVATE KEY" not in response.text
    assert x509.load_pem_x509_csr(response.content) == csr
    ipv6, _ = make(api, subject_name="2001:db8::1")
    named = api.get(download_url(ipv6["id"]) + "/")  # a trailing slash is optional on /_sim/
    assert 'filename="2001_db8__1.csr"' in named.headers["Content-Disposition"]
    logged = [r["path"] for r in api.ok("/_sim/requests")["requests"]]
    assert not [p for p in logged if p.startswith("/_sim/")]  # like every /_sim/ request
    for missing in ("99", "abc"):
        assert api.get(download_url(missing)).status_code == 404
    assert api.post(download_url(obj["id"])).status_code == 405
    api.delete(obj["resource_uri"])
    assert api.get(download_url(obj["id"])).status_code == 404


def eku(csr) -> set:
    try:
        return set(csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def test_eku_options_default_on_and_leave_out_a_usage(api):
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    schema = api.ok(CSR + "schema/")["fields"]
    for name in ("eku_server_auth", "eku_client_auth"):
        assert schema[name]["type"] == "boolean" and schema[name]["default"] is True
    obj, both = make(api, subject_name="eku.example.com", eku_server_auth=True)
    assert eku(both) == {server, client}
    obj, server_only = make(api, subject_name="eku.example.com", eku_client_auth=False)
    assert eku(server_only) == {server}
    # Write-only like the other CSR options: reads give the default, the csr tells the truth.
    assert obj["eku_client_auth"] is True and obj["eku_server_auth"] is True
    _, client_only = make(api, subject_name="eku.example.com", eku_server_auth=False)
    assert eku(client_only) == {client}
    _, neither = make(
        api, subject_name="eku.example.com", eku_server_auth=False, eku_client_auth=False
    )
    assert eku(neither) == set()
    leaf = CA().leaf("renew-eku.example.com")
    upload = api.post(TLS, json={"certificate": leaf.pem, "private_key": leaf.key_pem})
    _, renewal = make(api, tls_certificate=path_of(api, upload), eku_client_auth=False)
    assert eku(renewal) == {server}
    bad = api.post(CSR, json={"subject_name": "eku.example.com", "eku_client_auth": "no"})
    assert list(bad.json()["certificate_signing_request"]) == ["eku_client_auth"]
