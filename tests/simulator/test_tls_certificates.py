"""tls_certificate: shipped certificates, uploads (pairing, CSRs, keys, chains, parameters),
the same-subject rule, node assignment and deletion, PATCH, methods."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.simulator.certs import CA, key_pem, openssl, openssl_self_signed
from tests.simulator.conftest import CONFIG

TLS = CONFIG + "tls_certificate/"
MISMATCH = "Certificate and private key do not appear to be part of the same key pair"


def upload(api, certificate, private_key, **extra):
    return api.post(TLS, json={"certificate": certificate, "private_key": private_key, **extra})


def created(api, response) -> dict:
    assert response.status_code == 201, response.text
    return api.ok(response.headers["Location"].removeprefix(api.sim.url.rstrip("/")))


def test_shipped_certificates_are_temporary_rsa4096_with_dh2048(api, tmp_path):
    certs = api.objects("tls_certificate")
    nodes = [api.ok(CONFIG + "management_vm/1/")] + api.objects("worker_vm")
    assert [c["id"] for c in certs] == [1, 2, 3, 4]
    for node, cert in zip(nodes, certs, strict=True):
        fqdn = f"{node['hostname']}.{node['domain']}"
        assert node["tls_certificate"] == cert["resource_uri"]
        assert cert["nodes"] == [fqdn] and cert["subject_name"] == fqdn
        assert cert["private_key"] == "" and cert["private_key_passphrase"] == ""
        parsed = x509.load_pem_x509_certificate(cert["certificate"].encode())
        public = parsed.public_key()
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 4096
        assert parsed.issuer == parsed.subject  # self-signed: "Temporary"
        parsed.verify_directly_issued_by(parsed)
        dh_text = openssl("dhparam", "-noout", "-text", cwd=tmp_path, stdin=cert["parameters"])
        assert "(2048 bit)" in dh_text
    assert certs[0]["nodes"] == ["pxmgr01.pexip.example.com"]


def test_upload_ec_certificate_and_read_its_metadata(api, tmp_path):
    ca = CA()
    leaf = ca.leaf("meet.example.com", sans=("meet.example.com", "sip.example.com"))
    obj = created(api, upload(api, leaf.pem, leaf.key_pem))
    (tmp_path / "leaf.pem").write_text(leaf.pem)
    openssl_hash = openssl("x509", "-in", "leaf.pem", "-noout", "-hash", cwd=tmp_path).strip()
    issuer_hash = openssl("x509", "-in", "leaf.pem", "-noout", "-issuer_hash", cwd=tmp_path)
    assert obj["certificate"] == leaf.pem
    assert obj["private_key"] == "" and obj["nodes"] == [] and obj["parameters"] == ""
    assert obj["subject_name"] == "meet.example.com"
    assert obj["issuer_name"] == "Test Root CA"
    assert obj["raw_subject"] == "CN=meet.example.com"
    assert obj["raw_issuer"] == "CN=Test Root CA,O=Accord tests"
    assert obj["subject_hash"] == openssl_hash
    assert obj["issuer_hash"] == issuer_hash.strip()
    assert obj["subject_alt_names"] == "meet.example.com, sip.example.com"
    assert obj["serial_no"] == str(leaf.cert.serial_number)
    assert obj["key_id"] is None
    assert obj["issuer_key_id"] is None
    assert obj["start_date"] == leaf.cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert obj["end_date"] == leaf.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert "Subject: CN=meet.example.com" in obj["text"] and "ecdsa-with-SHA256" in obj["text"]
    key_body = leaf.key_pem.splitlines()[1]
    assert key_body not in api.get(TLS).text
    assert key_body not in str(api.ok("/_sim/requests"))


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_openssl_made_key_pairs_are_accepted(api, tmp_path, kind):
    certificate, private_key = openssl_self_signed(tmp_path, kind)
    obj = created(api, upload(api, certificate, private_key))
    assert obj["subject_name"] == f"{kind}.openssl.example.com"


def test_sha1_certificate_uploads_fine(api, tmp_path):
    # "Weak signature" is a status Accord computes; the API accepts the certificate.
    certificate, private_key = openssl_self_signed(tmp_path, "rsa", "-sha1")
    obj = created(api, upload(api, certificate, private_key))
    assert "sha1WithRSAEncryption" in obj["text"]


def test_mismatched_pair_is_refused_with_the_guides_text(api, tmp_path):
    before = api.state()
    leaf = CA().leaf("a.example.com")
    other = ec.generate_private_key(ec.SECP256R1())
    response = upload(api, leaf.pem, key_pem(other))
    assert response.status_code == 400
    assert response.json() == {"tls_certificate": {"private_key": [MISMATCH]}}
    certificate, _ = openssl_self_signed(tmp_path, "ec")
    response = upload(api, certificate, leaf.key_pem)
    assert response.json() == {"tls_certificate": {"private_key": [MISMATCH]}}
    assert api.state() == before


def test_a_csr_pasted_as_the_certificate_is_refused(api, tmp_path):
    openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
        "-subj",
        "/CN=csr.example.com",
        cwd=tmp_path,
    )
    csr, key = (tmp_path / "req.csr").read_text(), (tmp_path / "key.pem").read_text()
    response = upload(api, csr, key)
    assert response.status_code == 400
    message = response.json()["tls_certificate"]["certificate"][0]
    assert "certificate signing request" in message and "not a certificate" in message


def test_encrypted_key_needs_its_passphrase(api, tmp_path):
    leaf = CA().leaf("enc.example.com")
    (tmp_path / "plain.pem").write_text(leaf.key_pem)
    openssl(
        "pkey",
        "-in",
        "plain.pem",
        "-aes256",
        "-passout",
        "pass:Correct-Horse-1",
        "-out",
        "enc.pem",
        cwd=tmp_path,
    )
    encrypted = (tmp_path / "enc.pem").read_text()
    assert "ENCRYPTED" in encrypted
    missing = upload(api, leaf.pem, encrypted)
    assert missing.status_code == 400
    assert list(missing.json()["tls_certificate"]) == ["private_key_passphrase"]
    wrong = upload(api, leaf.pem, encrypted, private_key_passphrase="Wrong-Horse-2")
    assert list(wrong.json()["tls_certificate"]) == ["private_key_passphrase"]
    assert "Wrong-Horse-2" not in wrong.text
    obj = created(api, upload(api, leaf.pem, encrypted, private_key_passphrase="Correct-Horse-1"))
    assert obj["private_key_passphrase"] == "" and obj["private_key"] == ""
    snapshot = api.http_state()
    assert "Correct-Horse-1" not in str(snapshot) and "Correct-Horse-1" not in str(
        api.ok("/_sim/requests")
    )


def test_garbage_and_unsupported_keys_are_refused(api, tmp_path):
    leaf = CA().leaf("k.example.com")
    bad = upload(api, leaf.pem, "not a key")
    assert list(bad.json()["tls_certificate"]) == ["private_key"]
    openssl("genpkey", "-algorithm", "ed25519", "-out", "ed.pem", cwd=tmp_path)
    ed = upload(api, leaf.pem, (tmp_path / "ed.pem").read_text())
    assert "RSA and ECDSA" in ed.json()["tls_certificate"]["private_key"][0]
    junk = upload(api, "hello", leaf.key_pem)
    assert list(junk.json()["tls_certificate"]) == ["certificate"]
    key_in_cert = upload(api, leaf.pem + leaf.key_pem, leaf.key_pem)
    assert list(key_in_cert.json()["tls_certificate"]) == ["certificate"]
    missing = api.post(TLS, json={"certificate": leaf.pem})
    assert missing.json() == {"tls_certificate": {"private_key": ["This field is required."]}}


def test_several_certificates_one_pairs_with_the_key(api):
    ca = CA(intermediate=True)
    leaf = ca.leaf("chain.example.com")
    bundle = ca.intermediate.pem + leaf.pem + ca.root.pem
    obj = created(api, upload(api, bundle, leaf.key_pem))
    assert obj["certificate"] == leaf.pem + ca.intermediate.pem + ca.root.pem
    assert obj["subject_name"] == "chain.example.com"
    nothing_pairs = upload(api, ca.intermediate.pem + ca.root.pem, leaf.key_pem)
    assert nothing_pairs.json() == {"tls_certificate": {"private_key": [MISMATCH]}}


def test_parameters_supplied_or_appended(api, tmp_path):
    dh = api.ok(TLS + "1/")["parameters"]
    ec_params = openssl("ecparam", "-name", "prime256v1", cwd=tmp_path)
    one, two, three = (CA().leaf(f"p{i}.example.com") for i in range(3))
    supplied = created(api, upload(api, one.pem, one.key_pem, parameters=dh + ec_params))
    assert supplied["parameters"] == dh + ec_params
    appended = created(api, upload(api, two.pem + ec_params, two.key_pem))
    assert appended["parameters"] == ec_params and appended["certificate"] == two.pem
    twice = upload(api, three.pem + ec_params, three.key_pem, parameters=dh)
    assert list(twice.json()["tls_certificate"]) == ["parameters"]
    bad = upload(api, three.pem, three.key_pem, parameters="-----BEGIN DH PARAMETERS-----\nAA\n")
    assert list(bad.json()["tls_certificate"]) == ["parameters"]


def test_same_subject_is_added_alongside_unless_issuer_and_serial_match(api):
    ca = CA()
    key = ec.generate_private_key(ec.SECP256R1())
    first = ca.leaf("same.example.com", serial=1001, key=key)
    obj = created(api, upload(api, first.pem, first.key_pem))
    renewed = ca.leaf("same.example.com", serial=1002, days=700)
    alongside = created(api, upload(api, renewed.pem, renewed.key_pem))
    assert alongside["id"] != obj["id"]
    reissued = ca.leaf("same.example.com", serial=1001, days=30, key=key)
    updated = created(api, upload(api, reissued.pem, reissued.key_pem))
    assert updated["id"] == obj["id"] and updated["end_date"] != obj["end_date"]
    duplicate = created(api, upload(api, reissued.pem, reissued.key_pem))
    assert duplicate == updated
    assert [c["subject_name"] for c in api.objects("tls_certificate")].count(
        "same.example.com"
    ) == 2


def test_assigning_replaces_a_nodes_certificate_and_assigned_ones_cannot_be_deleted(api):
    leaf = CA().leaf("conf.example.com")
    obj = created(api, upload(api, leaf.pem, leaf.key_pem))
    for worker in ("worker_vm/1/", "worker_vm/2/"):
        response = api.patch(CONFIG + worker, json={"tls_certificate": obj["resource_uri"]})
        assert response.status_code == 202
    assert api.ok(obj["resource_uri"])["nodes"] == [
        "pxconf01.pexip.example.com",
        "pxconf02.pexip.example.com",
    ]
    assert api.ok(TLS + "2/")["nodes"] == []  # conf01's shipped certificate, now unused
    refused = api.delete(obj["resource_uri"])
    assert refused.status_code == 400
    assert "pxconf01.pexip.example.com, pxconf02.pexip.example.com" in refused.json()["error"]
    assert api.delete(TLS + "2/").status_code == 204
    api.patch(CONFIG + "worker_vm/1/", json={"tls_certificate": None})
    api.patch(CONFIG + "worker_vm/2/", json={"tls_certificate": TLS + "3/"})
    assert api.delete(obj["resource_uri"]).status_code == 204
    assert api.ok(CONFIG + "worker_vm/1/")["tls_certificate"] is None


def test_patch_changes_certificate_but_never_the_key(api):
    ca = CA()
    leaf = ca.leaf("patch.example.com")
    obj = created(api, upload(api, leaf.pem, leaf.key_pem))
    uri = obj["resource_uri"]
    refused = api.patch(uri, json={"private_key": key_pem(ec.generate_private_key(ec.SECP256R1()))})
    assert refused.json() == {
        "tls_certificate": {"private_key": ["You cannot modify the private key."]}
    }
    same_key = ca.leaf("patch.example.com", key=leaf.key, days=90)
    assert api.patch(uri, json={"certificate": same_key.pem}).status_code == 202
    assert api.ok(uri)["serial_no"] == str(same_key.cert.serial_number)
    other = ca.leaf("patch.example.com")
    mismatch = api.patch(uri, json={"certificate": other.pem})
    assert mismatch.json() == {"tls_certificate": {"certificate": [MISMATCH]}}
    round_trip = api.ok(uri)
    assert api.patch(uri, json=round_trip).status_code == 202
    assert api.ok(uri) == round_trip


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", TLS + "1/", "GET, PATCH, DELETE"),
        ("DELETE", TLS, "GET, POST"),
        ("PATCH", TLS, "GET, POST"),
        ("PUT", CONFIG + "certificate_signing_request/1/", "GET, PATCH, DELETE"),
        ("DELETE", CONFIG + "ca_certificate/", "GET, POST"),
        ("PUT", CONFIG + "ca_certificate/1/", "GET, PATCH, DELETE"),
    ],
)
def test_certificate_methods(api, method, path, allow):
    response = api.request(method, path, json={})
    assert response.status_code == 405 and response.headers["Allow"] == allow


def test_schema_marks_key_fields(api):
    fields = api.ok(TLS + "schema/")["fields"]
    assert fields["private_key"]["default"] == "" and fields["nodes"]["readonly"] is True
    assert fields["nodes"]["type"] == "list" and fields["subject_name"]["readonly"] is True
    csr = api.ok(CONFIG + "certificate_signing_request/schema/")["fields"]
    assert csr["private_key_type"]["valid_choices"] == ["RSA2048", "RSA4096", "ECDSAP256", "UPLOAD"]
    assert api.ok(CONFIG + "certificate_signing_request/")["objects"] == []
