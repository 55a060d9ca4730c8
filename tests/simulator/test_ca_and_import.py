"""ca_certificate, the certificates_import command, and the UI's export and download actions
(simulator-only routes under /_sim/ui/)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.simulator.certs import CA, key_pem, openssl
from tests.simulator.conftest import CONFIG

CA_LIST = CONFIG + "ca_certificate/"
TLS = CONFIG + "tls_certificate/"
IMPORT = "/api/admin/command/v1/platform/certificates_import/"
EXPORT = "/_sim/ui/ca_certificate/export"
DOWNLOAD = "/_sim/ui/tls_certificate/download"


def created(api, response) -> dict:
    assert response.status_code == 201, response.text
    return api.ok(response.headers["Location"].removeprefix(api.sim.url.rstrip("/")))


def test_ca_certificate_upload_metadata_and_edit(api):
    ca = CA(intermediate=True)
    root = created(api, api.post(CA_LIST, json={"certificate": ca.root.pem}))
    assert root["subject_name"] == "Test Root CA" and root["issuer_name"] == "Test Root CA"
    assert root["trusted_intermediate"] is False and "subject_alt_names" not in root
    ski = ca.root.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert root["key_id"] == ski.value.digest.hex()
    mid = created(
        api,
        api.post(CA_LIST, json={"certificate": ca.intermediate.pem, "trusted_intermediate": True}),
    )
    assert mid["trusted_intermediate"] is True and mid["issuer_name"] == "Test Root CA"
    other = CA("Other")
    assert api.patch(root["resource_uri"], json={"certificate": other.root.pem}).status_code == 202
    assert api.ok(root["resource_uri"])["subject_name"] == "Other Root CA"


def test_ca_certificate_refusals(api, tmp_path):
    ca = CA()
    two = api.post(CA_LIST, json={"certificate": ca.root.pem + CA("B").root.pem})
    assert list(two.json()["ca_certificate"]) == ["certificate"]
    openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "r.csr",
        "-subj",
        "/CN=x",
        cwd=tmp_path,
    )
    csr = api.post(CA_LIST, json={"certificate": (tmp_path / "r.csr").read_text()})
    assert "not a certificate" in csr.json()["ca_certificate"]["certificate"][0]
    assert api.post(CA_LIST, json={}).json() == {
        "ca_certificate": {"certificate": ["This field is required."]}
    }
    assert api.objects("ca_certificate") == []


def test_ca_same_subject_rule_and_exact_duplicates(api):
    ca = CA()
    first = created(api, api.post(CA_LIST, json={"certificate": ca.root.pem}))
    again = created(api, api.post(CA_LIST, json={"certificate": ca.root.pem}))
    assert again == first
    renewed = CA()  # same subject "Test Root CA", other key and serial
    alongside = created(api, api.post(CA_LIST, json={"certificate": renewed.root.pem}))
    assert alongside["id"] != first["id"] and alongside["subject_name"] == first["subject_name"]
    assert len(api.objects("ca_certificate")) == 2


def test_import_routes_cas_and_server_certificates(api, tmp_path):
    ca = CA(intermediate=True)
    one, two = ca.leaf("one.example.com"), ca.leaf("two.example.com")
    ec_params = openssl("ecparam", "-name", "prime256v1", cwd=tmp_path)
    bundle = (
        ca.root.pem
        + ca.intermediate.pem
        + one.pem
        + ec_params
        + one.key_pem
        + two.key_pem
        + two.pem
    )
    response = api.post(IMPORT, json={"bundle": bundle})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["result"] == {
        "tls_certificates": [TLS + "5/", TLS + "6/"],
        "ca_certificates": [CA_LIST + "1/", CA_LIST + "2/"],
        "ignored": 0,
    }
    assert [c["subject_name"] for c in api.objects("ca_certificate")] == [
        "Test Root CA",
        "Test Issuing CA",
    ]
    first = api.ok(TLS + "5/")
    assert first["subject_name"] == "one.example.com" and first["parameters"] == ec_params
    assert api.ok(TLS + "6/")["parameters"] == ""
    again = api.post(IMPORT, json={"bundle": bundle}).json()
    assert again["result"] == {"tls_certificates": [], "ca_certificates": [], "ignored": 4}
    assert len(api.objects("tls_certificate")) == 6 and len(api.objects("ca_certificate")) == 2


def test_import_encrypted_keys_and_bad_bundles(api, tmp_path):
    ca = CA()
    leaf = ca.leaf("enc.example.com")
    encrypted = key_pem(leaf.key, "Bundle-Pass-3")
    missing = api.post(IMPORT, json={"bundle": leaf.pem + encrypted})
    assert list(missing.json()["certificates_import"]) == ["private_key_passphrase"]
    ok = api.post(
        IMPORT, json={"bundle": leaf.pem + encrypted, "private_key_passphrase": "Bundle-Pass-3"}
    )
    assert ok.status_code == 200 and ok.json()["result"]["tls_certificates"] == [TLS + "5/"]
    assert "Bundle-Pass-3" not in str(api.ok("/_sim/requests")) + str(api.http_state())
    before = api.state()
    lonely = ca.leaf("nokey.example.com")
    for bad in [
        "",
        "just text",
        lonely.pem,  # a server certificate without its key
        ca.leaf("x.example.com").key_pem + ca.root.pem,  # a key without its certificate
        openssl("ecparam", "-name", "prime256v1", cwd=tmp_path) + lonely.pem,
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    ]:
        response = api.post(IMPORT, json={"bundle": bad})
        assert response.status_code == 400, bad
        assert list(response.json()["certificates_import"]) == ["bundle"]
    assert api.post(IMPORT, json={}).json() == {
        "certificates_import": {"bundle": ["This field is required."]}
    }
    assert api.post(IMPORT, json=["x"]).status_code == 400
    assert api.state() == before
    assert api.get(IMPORT).status_code == 405 and api.get(IMPORT).headers["Allow"] == "POST"
    assert api.post("/api/admin/command/v1/platform/backup_create/", json={}).status_code == 404


def test_export_gives_every_custom_ca_certificate(api):
    empty = api.get(EXPORT)
    assert empty.status_code == 200 and empty.content == b""
    ca = CA(intermediate=True)
    for cert in (ca.root, ca.intermediate):
        api.post(CA_LIST, json={"certificate": cert.pem})
    response = api.get(EXPORT)
    assert response.headers["Content-Disposition"] == 'attachment; filename="ca-certificates.pem"'
    assert response.text == ca.root.pem + ca.intermediate.pem


def upload_chain(api):
    ca = CA(intermediate=True)
    leaf = ca.leaf("dl.example.com")
    response = api.post(
        TLS, json={"certificate": leaf.pem + ca.intermediate.pem, "private_key": leaf.key_pem}
    )
    return ca, leaf, response.headers["Location"].removeprefix(api.sim.url.rstrip("/"))


def test_download_pem_with_chain_and_key(api):
    ca, leaf, uri = upload_chain(api)
    plain = api.post(DOWNLOAD, json={"certificates": [uri]})
    assert plain.status_code == 200
    assert 'filename="dl.example.com_certificate.pem"' in plain.headers["Content-Disposition"]
    assert plain.text == leaf.pem + ca.intermediate.pem
    only = api.post(DOWNLOAD, json={"certificates": [uri], "include_chain": False})
    assert only.text == leaf.pem
    refused = api.post(DOWNLOAD, json={"certificates": [uri], "include_private_key": True})
    assert refused.status_code == 400 and list(refused.json()["download"]) == ["passphrase"]
    keycert = api.post(
        DOWNLOAD,
        json={"certificates": [uri], "include_private_key": True, "passphrase": "Dl-Pass-7"},
    )
    assert 'filename="dl.example.com_keycert.pem"' in keycert.headers["Content-Disposition"]
    assert "ENCRYPTED PRIVATE KEY" in keycert.text and keycert.text.endswith(
        leaf.pem + ca.intermediate.pem
    )
    key_block = keycert.text[: keycert.text.index("-----BEGIN CERTIFICATE")]
    key = serialization.load_pem_private_key(key_block.encode(), b"Dl-Pass-7")
    assert key.private_numbers() == leaf.key.private_numbers()
    assert "Dl-Pass-7" not in str(api.ok("/_sim/requests"))


def test_download_pkcs12(api):
    ca, leaf, uri = upload_chain(api)
    response = api.post(
        DOWNLOAD,
        json={
            "certificates": [uri],
            "format": "pkcs12",
            "include_private_key": True,
            "passphrase": "P12-Pass",
        },
    )
    assert 'filename="dl.example.com_keycert.pfx"' in response.headers["Content-Disposition"]
    loaded = pkcs12.load_key_and_certificates(response.content, b"P12-Pass")
    assert loaded[0].private_numbers() == leaf.key.private_numbers()
    assert loaded[1] == leaf.cert and loaded[2] == [ca.intermediate.cert]
    certs_only = api.post(DOWNLOAD, json={"certificates": [uri], "format": "pkcs12"})
    assert pkcs12.load_key_and_certificates(certs_only.content, None)[0] is None


def test_download_several_and_refusals(api):
    _, first, one = upload_chain(api)
    _, second, two = upload_chain(api)
    both = api.post(DOWNLOAD, json={"certificates": [one, two], "include_chain": False})
    assert 'filename="all_certificates.pem"' in both.headers["Content-Disposition"]
    assert both.text == first.pem + second.pem
    keys = api.post(
        DOWNLOAD, json={"certificates": [one, two], "include_private_key": True, "passphrase": "p"}
    )
    assert 'filename="all_keycerts.pem"' in keys.headers["Content-Disposition"]
    temporary = api.post(DOWNLOAD, json={"certificates": [TLS + "1/"]})
    assert temporary.status_code == 400
    assert "temporary / self-signed" in temporary.json()["download"]["certificates"][0]
    for body in (
        {},
        {"certificates": []},
        {"certificates": [TLS + "99/"]},
        {"certificates": [one], "format": "der"},
        {"certificates": [one], "include_chain": "yes"},
        {
            "certificates": [one, two],
            "format": "pkcs12",
            "include_private_key": True,
            "passphrase": "p",
        },
        {"certificates": [one], "bogus": 1},
    ):
        assert api.post(DOWNLOAD, json=body).status_code == 400, body
    assert api.post(DOWNLOAD, data=b"{bad").status_code == 400
    assert api.get(DOWNLOAD).status_code == 405


def test_other_key_algorithms(api, tmp_path):
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ed25519",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
        "-days",
        "30",
        "-subj",
        "/CN=Ed CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        cwd=tmp_path,
    )
    cert, key = (tmp_path / "c.pem").read_text(), (tmp_path / "k.pem").read_text()
    trusted = api.post(CA_LIST, json={"certificate": cert})
    assert trusted.status_code == 201
    assert api.objects("ca_certificate")[0]["subject_name"] == "Ed CA"
    refused = api.post(TLS, json={"certificate": cert, "private_key": key})
    assert "RSA and ECDSA" in refused.json()["tls_certificate"]["private_key"][0]
    bundle = api.post(IMPORT, json={"bundle": cert + key})
    assert (
        bundle.status_code == 400
        and "RSA and ECDSA" in bundle.json()["certificates_import"]["bundle"][0]
    )
