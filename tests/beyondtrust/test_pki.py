"""The appliance's own certificate toolkit (``simulator.beyondtrust.pki``) against Accord's
``accord.pki``: two independent readings of the same files must agree where both speak (chain
order of a PKCS#7 bundle, SNI name matching, names, fingerprints, keys, signatures), and the
toolkit's refusals name the form field the appliance reports."""

from __future__ import annotations

import itertools

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from accord import pki as verifier
from accord.pki import CA, private_key_pem, self_signed_cert
from simulator.beyondtrust import pki

NAMES = (
    "pra1.example.com",
    "PRA1.Example.com.",
    "a.pra.example.com",
    "pra.example.com",
    "x.y.example.com",
    "example.com",
    "192.0.2.10",
    "2001:db8::1",
    "other.example.org",
)


@pytest.fixture(scope="module")
def leaf(issuing_ca: CA):
    return issuing_ca.issue_cert(
        "pra1.example.com", "*.pra.example.com", "192.0.2.10", "2001:db8::1", key_type="rsa"
    )


def test_pkcs7_bundles_come_back_in_the_same_chain_order(root_ca, issuing_ca, leaf, other_root):
    certs = [leaf.cert, issuing_ca.cert, root_ca.cert, other_root.cert]
    for order in itertools.permutations(certs):
        bundle = verifier.to_pkcs7(list(order), encoding="der")
        assert pki.pkcs7_certificates(bundle) == verifier.from_pkcs7(bundle)


@pytest.mark.parametrize("name", NAMES)
def test_sni_matching_agrees_with_the_verifier_without_common_name(leaf, name):
    expected = verifier.matches_hostname(leaf.cert, name, cn_fallback=False)
    assert pki.serves_name(leaf.cert, name) is expected


def test_a_common_name_alone_serves_no_name():
    cert = self_signed_cert(common_name="pra1.example.com").cert  # no subjectAltName
    assert not pki.serves_name(cert, "pra1.example.com")


def test_names_fingerprints_keys_and_signatures_agree(root_ca, issuing_ca, leaf):
    for cert in (leaf.cert, issuing_ca.cert, root_ca.cert):
        assert pki.san_names(cert) == verifier.san_names(cert)
        assert pki.fingerprint(cert) == verifier.fingerprint_sha256(cert)
        assert pki.key_algorithm(cert) == verifier.public_key_info(cert)
        assert pki.is_ca(cert) is verifier.is_ca(cert)
        assert pki.is_self_signed(cert) is verifier.is_self_signed(cert)
    assert pki.signed_by(leaf.cert, issuing_ca.cert) and not pki.signed_by(leaf.cert, root_ca.cert)
    assert pki.pairs(leaf.cert, leaf.key) and not pki.pairs(issuing_ca.cert, leaf.key)


def test_private_key_refusals_name_the_password_or_the_file(leaf):
    encrypted = private_key_pem(leaf.key, "secret").encode()
    assert pki.pairs(leaf.cert, pki.read_private_key(encrypted, "secret"))
    with pytest.raises(pki.FileError) as missing:
        pki.read_private_key(encrypted, None)
    assert (missing.value.field, missing.value.message) == (
        "password",
        "private key is encrypted: a password is needed",
    )
    with pytest.raises(pki.FileError) as wrong:
        pki.read_private_key(encrypted, "wrong")
    assert (wrong.value.field, wrong.value.message) == (
        "password",
        "could not decrypt the private key: wrong password",
    )
    with pytest.raises(pki.FileError) as garbage:
        pki.read_private_key(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None
        )
    assert garbage.value.field == "file"
    plain = private_key_pem(ec.generate_private_key(ec.SECP256R1())).encode()
    assert pki.read_private_key(plain, "not needed") is not None


def test_written_files_read_back(leaf, issuing_ca):
    p12 = pki.to_pkcs12(leaf.key, leaf.cert, [issuing_ca.cert], password="pw", friendly_name="n")
    read = pki.read_pkcs12(p12, "pw")
    assert (read.cert, read.chain, read.friendly_name) == (leaf.cert, (issuing_ca.cert,), "n")
    with pytest.raises(pki.FileError) as wrong:
        pki.read_pkcs12(p12, "other")
    assert wrong.value.field == "password"
    assert pki.pem_certificates(pki.to_pem(leaf.cert, issuing_ca.cert).encode()) == [
        leaf.cert,
        issuing_ca.cert,
    ]
    assert pki.pem_labels(pki.to_pkcs8(leaf.key, "pw")) == ["ENCRYPTED PRIVATE KEY"]
