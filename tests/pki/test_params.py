"""accord.pki.params: DH parameters' size and EC parameters' curve, from openssl-made blocks."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

from accord.pki import PkiError, dh_parameters_bits, ec_parameters_curve

from .conftest import NOW


def test_pkcs3_dh_parameters_from_openssl_dhparam(openssl, tmp_path: Path):
    openssl("dhparam", "-2", "-outform", "PEM", "-out", "dh.pem", "512")
    text = (tmp_path / "dh.pem").read_text()
    assert text.startswith("-----BEGIN DH PARAMETERS-----")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FFDH deprecation warning from cryptography
        assert dh_parameters_bits(text) == 512


def test_2048_bit_ffdhe_group_appended_to_a_certificate(root, openssl, tmp_path: Path):
    # the named RFC 7919 group is instant, where generating a 2048-bit safe prime takes seconds
    openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "p")
    params = (tmp_path / "p").read_text()
    leaf = root.issue_cert("dh.example.com", now=NOW)
    bundle = (
        leaf.cert_pem + leaf.key_pem() + params
    )  # "added 'as is' to the end of the certificate"
    assert dh_parameters_bits(bundle) == 2048
    expected = openssl("dhparam", "-in", "p", "-text", "-noout").stdout.decode()
    assert "(2048 bit)" in expected


def test_x942_dh_parameters_from_dsaparam(openssl, tmp_path: Path):
    started = time.monotonic()
    openssl("dhparam", "-dsaparam", "-out", "x.pem", "1024")
    assert time.monotonic() - started < 10
    text = (tmp_path / "x.pem").read_text()
    assert text.startswith("-----BEGIN X9.42 DH PARAMETERS-----")
    assert dh_parameters_bits(text) == 1024


def test_dh_parameters_errors(root):
    with pytest.raises(
        PkiError, match=r"no DH PARAMETERS block found \(the text holds CERTIFICATE"
    ):
        dh_parameters_bits(root.cert_pem)
    with pytest.raises(PkiError, match="no PEM blocks"):
        dh_parameters_bits("nothing here")
    with pytest.raises(PkiError, match="not valid DER DH parameters"):
        dh_parameters_bits("-----BEGIN DH PARAMETERS-----\nMAMCAQE=\n-----END DH PARAMETERS-----\n")
    with pytest.raises(PkiError, match="no usable prime"):
        dh_parameters_bits(
            "-----BEGIN DH PARAMETERS-----\nMAYCAQECAQI=\n-----END DH PARAMETERS-----\n"
        )


@pytest.mark.parametrize(
    ("openssl_name", "curve"), [("prime256v1", "secp256r1"), ("secp384r1", "secp384r1")]
)
def test_named_ec_parameters(openssl, tmp_path: Path, openssl_name, curve):
    out = openssl("ecparam", "-name", openssl_name).stdout.decode()
    assert ec_parameters_curve(out) == curve


def test_ec_parameters_errors(openssl):
    explicit = openssl("ecparam", "-name", "prime256v1", "-param_enc", "explicit").stdout
    with pytest.raises(PkiError, match="not a named curve"):
        ec_parameters_curve(explicit)
    with pytest.raises(PkiError, match="no EC PARAMETERS block"):
        ec_parameters_curve("")
    unknown = "-----BEGIN EC PARAMETERS-----\nBgMqAwQ=\n-----END EC PARAMETERS-----\n"  # 1.2.3.4
    with pytest.raises(PkiError, match="unknown curve 1.2.3.4"):
        ec_parameters_curve(unknown)
