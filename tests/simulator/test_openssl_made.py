"""Certificates made by the openssl command line, not by our code, meet the guide's rules in the
simulator: an openssl CA completes the simulator's CSR (and one for another key is refused with
the guide's text), an openssl chain pasted with its key and appended DH parameters is accepted,
and an openssl-made bundle is sorted by the import."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from tests.simulator.certs import openssl
from tests.simulator.conftest import CONFIG

CSR = CONFIG + "certificate_signing_request/"
TLS = CONFIG + "tls_certificate/"
IMPORT = "/api/admin/command/v1/platform/certificates_import/"
MISMATCH = "Certificate and private key do not appear to be part of the same key pair"
LEAF_EXT = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n"


def openssl_ca(tmp: Path) -> None:
    """root.pem/root.key and an intermediate ca.pem/ca.key it signed, all by openssl."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key",
            "-out", "root.pem", "-days", "30", "-subj", "/CN=OpenSSL Root",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=tmp)  # fmt: skip
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.csr", "-subj", "/CN=OpenSSL Issuing", cwd=tmp)  # fmt: skip
    (tmp / "ca.ext").write_text("basicConstraints=critical,CA:TRUE,pathlen:0\n")
    openssl("x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key",
            "-CAcreateserial", "-out", "ca.pem", "-days", "30", "-sha256",
            "-extfile", "ca.ext", cwd=tmp)  # fmt: skip


def openssl_sign(tmp: Path, csr_pem: str, name: str, san: str) -> str:
    (tmp / f"{name}.csr").write_text(csr_pem)
    (tmp / f"{name}.ext").write_text(LEAF_EXT + f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-sha256",
            "-extfile", f"{name}.ext", cwd=tmp)  # fmt: skip
    return (tmp / f"{name}.pem").read_text()


def test_an_openssl_ca_completes_the_simulators_csr(api, tmp_path):
    openssl_ca(tmp_path)
    made = api.post(CSR, json={"subject_name": "pxconf01.pexip.example.com"})
    assert made.status_code == 201, made.text
    path = made.headers["Location"].removeprefix(api.sim.url.rstrip("/"))
    request = api.ok(path)
    # A certificate for another key (an openssl-made CSR) is refused with the guide's text.
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
            "-out", "other.csr", "-subj", "/CN=pxconf01.pexip.example.com",
            cwd=tmp_path)  # fmt: skip
    other = openssl_sign(
        tmp_path, (tmp_path / "other.csr").read_text(), "other", "DNS:pxconf01.pexip.example.com"
    )
    refused = api.patch(path, json={"certificate": other})
    assert refused.status_code == 400
    assert MISMATCH in str(refused.json())
    signed = openssl_sign(tmp_path, request["csr"], "leaf", "DNS:pxconf01.pexip.example.com")
    done = api.patch(path, json={"certificate": signed + (tmp_path / "ca.pem").read_text()})
    assert done.status_code in (200, 202), done.text
    assert api.get(path).status_code == 404  # the CSR is gone
    leaf = x509.load_pem_x509_certificate(signed.encode())
    stored = [
        o for o in api.objects("tls_certificate") if o["serial_no"] == str(leaf.serial_number)
    ]
    assert len(stored) == 1 and stored[0]["subject_name"] == "pxconf01.pexip.example.com"


def test_an_openssl_chain_with_its_key_and_appended_dh_parameters_is_accepted(api, tmp_path):
    openssl_ca(tmp_path)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "web.key", "-out", "web.csr", "-subj", "/CN=meet.example.com",
            cwd=tmp_path)  # fmt: skip
    leaf = openssl_sign(tmp_path, (tmp_path / "web.csr").read_text(), "web", "DNS:meet.example.com")
    dh = openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
                 cwd=tmp_path)  # fmt: skip
    chain = (tmp_path / "ca.pem").read_text()
    response = api.post(
        TLS,
        json={
            "certificate": leaf + chain + dh,
            "private_key": (tmp_path / "web.key").read_text(),
        },
    )
    assert response.status_code == 201, response.text
    obj = api.ok(response.headers["Location"].removeprefix(api.sim.url.rstrip("/")))
    assert obj["subject_name"] == "meet.example.com"
    assert obj["certificate"].count("BEGIN CERTIFICATE") == 2
    assert "DH PARAMETERS" in obj["parameters"]


def test_an_openssl_bundle_is_sorted_by_the_import(api, tmp_path):
    openssl_ca(tmp_path)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key",
            "-out", "srv.csr", "-subj", "/CN=srv.example.com", cwd=tmp_path)  # fmt: skip
    server = openssl_sign(
        tmp_path, (tmp_path / "srv.csr").read_text(), "srv", "DNS:srv.example.com"
    )
    bundle = (
        (tmp_path / "root.pem").read_text()
        + (tmp_path / "ca.pem").read_text()
        + server
        + (tmp_path / "srv.key").read_text()
    )
    cas, servers = len(api.objects("ca_certificate")), len(api.objects("tls_certificate"))
    assert api.post(IMPORT, json={"bundle": bundle}).status_code in (200, 202)
    assert len(api.objects("ca_certificate")) == cas + 2
    assert len(api.objects("tls_certificate")) == servers + 1
    assert api.post(IMPORT, json={"bundle": bundle}).status_code in (200, 202)  # duplicates
    assert len(api.objects("ca_certificate")) == cas + 2
    assert len(api.objects("tls_certificate")) == servers + 1
