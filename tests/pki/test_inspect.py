"""accord.pki.inspect: status values, names, usages, key pairs and chains of trust."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from accord.pki import (
    CA,
    STATUS_PRECEDENCE,
    PkiError,
    build_chain,
    chain_complete,
    common_name,
    days_left,
    eku_names,
    find_key_pair,
    fingerprint_sha256,
    has_eku,
    is_ca,
    is_expired,
    is_self_signed,
    is_weak_signature,
    is_wildcard,
    key_matches,
    load_certificate,
    load_private_key,
    matches_hostname,
    public_key_info,
    role,
    san_names,
    self_signed_cert,
    signature_hash_name,
    signed_by,
    sort_chain,
    status,
    statuses,
)

from .conftest import NOW

DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


# --- status values ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaf_61(intermediate):
    return intermediate.issue_cert("expiry.example.com", now=NOW, days=61).cert


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (NOW, "Good"),  # 61 days left
        (NOW + SECOND, "60 days left"),  # 60 days 23:59:59 left: whole days, rounded down
        (NOW + DAY, "60 days left"),  # exactly 60 days: "within the next 60 days"
        (NOW + DAY + SECOND, "59 days left"),
        (NOW + 31 * DAY, "30 days left"),
        (NOW + 60 * DAY, "1 days left"),
        (NOW + 60 * DAY + SECOND, "0 days left"),
        (NOW + 61 * DAY, "0 days left"),  # the notAfter second itself is still valid
        (NOW + 61 * DAY + SECOND, "Expired"),
        (NOW + 400 * DAY, "Expired"),
    ],
)
def test_expiry_status_boundaries(leaf_61, at, expected):
    assert status(leaf_61, now=at) == expected


def test_days_left_and_is_expired(leaf_61):
    assert days_left(leaf_61, NOW) == 61
    assert days_left(leaf_61, NOW + 61 * DAY) == 0
    assert days_left(leaf_61, NOW + 61 * DAY + SECOND) == -1
    assert not is_expired(leaf_61, NOW + 61 * DAY)
    assert is_expired(leaf_61, NOW + 61 * DAY + SECOND)


def test_status_uses_the_real_clock_by_default(root):
    fresh = root.issue_cert("clock.example.com", days=365).cert
    assert status(fresh) == "Good"
    assert days_left(fresh) in (364, 365)


def test_naive_now_is_refused(leaf_61):
    with pytest.raises(PkiError, match="timezone-aware"):
        status(leaf_61, now=dt.datetime(2030, 1, 1))


def test_expired_certificate_issued_in_the_past(root):
    old = root.issue_cert("old.example.com", now=NOW - 400 * DAY, days=365)
    assert status(old.cert, NOW) == "Expired"


def test_good_certificate(intermediate):
    leaf = intermediate.issue_cert("good.example.com", now=NOW)
    assert statuses(leaf.cert, NOW) == ["Good"]


def test_temporary_for_self_signed():
    ss = self_signed_cert("pexnode.example.com", now=NOW)
    assert status(ss.cert, NOW) == "Temporary"
    assert is_self_signed(ss.cert)


def test_empty_subject(intermediate):
    leaf = intermediate.issue_cert("sanonly.example.com", empty_subject=True, now=NOW)
    assert status(leaf.cert, NOW) == "Empty subject"


def test_precedence_expiry_beats_the_rest():
    ss = self_signed_cert("pexnode.example.com", now=NOW, days=10)
    assert statuses(ss.cert, NOW) == ["10 days left", "Temporary"]
    assert status(ss.cert, NOW) == "10 days left"
    assert statuses(ss.cert, NOW + 11 * DAY) == ["Expired", "Temporary"]


def test_precedence_empty_subject_over_good_and_after_expiry(root):
    leaf = root.issue_cert("e.example.com", empty_subject=True, now=NOW, days=5)
    assert statuses(leaf.cert, NOW) == ["5 days left", "Empty subject"]


def test_statuses_follow_the_documented_precedence(openssl, tmp_path: Path):
    openssl(
        "req", "-x509", "-sha1", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-subj", "/CN=weak.example.com",
        "-days", "20",
    )  # fmt: skip
    cert = load_certificate((tmp_path / "c.pem").read_bytes())
    found = statuses(cert)
    assert found[1:] == ["Weak signature", "Temporary"] and found[0].endswith("days left")
    order = [s if not s.endswith("days left") else "<n> days left" for s in found]
    assert order == sorted(order, key=STATUS_PRECEDENCE.index)


def test_sha1_certificate_made_by_openssl_is_weak(openssl, tmp_path: Path):
    openssl(
        "req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem",
        "-out", "c.pem", "-subj", "/CN=sha1.example.com", "-days", "365",
    )  # fmt: skip
    cert = load_certificate((tmp_path / "c.pem").read_bytes())
    assert signature_hash_name(cert) == "sha1"
    assert is_weak_signature(cert)
    assert status(cert) == "Weak signature"
    assert statuses(cert) == ["Weak signature", "Temporary"]


def test_sha1_leaf_signed_by_our_ca_chains_and_is_weak(root, openssl, tmp_path: Path):
    (tmp_path / "ca.pem").write_text(root.cert_pem)
    (tmp_path / "ca.key").write_text(root.key_pem())
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=sha1leaf.example.com",
    )  # fmt: skip
    openssl(
        "x509", "-req", "-sha1", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "365", "-out", "leaf.pem",
    )  # fmt: skip
    cert = load_certificate((tmp_path / "leaf.pem").read_bytes())
    assert status(cert) == "Weak signature"
    assert not is_self_signed(cert)
    assert signed_by(cert, root.cert)
    assert chain_complete(cert, [root.cert]) == (True, "")


def test_md5_certificate_is_weak(openssl, tmp_path: Path):
    proc = openssl(
        "req", "-x509", "-md5", "-newkey", "rsa:1024", "-nodes", "-keyout", "k.pem",
        "-out", "c.pem", "-subj", "/CN=md5.example.com", "-days", "365", check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.skip("this openssl refuses to sign with MD5")
    cert = load_certificate((tmp_path / "c.pem").read_bytes())
    assert signature_hash_name(cert) == "md5"
    assert status(cert) == "Weak signature"


def test_signature_hash_names(root, intermediate):
    assert signature_hash_name(root.cert) == "sha256"
    assert not is_weak_signature(intermediate.cert)
    p384 = CA.new("P-384", key_type="ecdsa-p384", now=NOW)
    assert signature_hash_name(p384.cert) == "sha384"


# --- names ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def named(intermediate):
    return intermediate.issue_cert(
        "conf01.example.com", "*.meet.example.com", "192.0.2.10", "2001:db8::1", now=NOW
    ).cert


def test_san_names_and_common_name(named):
    assert san_names(named) == [
        "conf01.example.com",
        "*.meet.example.com",
        "192.0.2.10",
        "2001:db8::1",
    ]
    assert common_name(named) == "conf01.example.com"


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("conf01.example.com", True),
        ("CONF01.Example.COM.", True),  # case-insensitive, trailing dot ignored
        ("a.meet.example.com", True),  # wildcard: one left-most label
        ("meet.example.com", False),  # the wildcard needs a label
        ("a.b.meet.example.com", False),  # and only one
        ("conf02.example.com", False),
        ("192.0.2.10", True),
        ("2001:db8:0::1", True),
        ("192.0.2.11", False),
    ],
)
def test_matches_hostname(named, host, ok):
    assert matches_hostname(named, host) is ok


def test_common_name_is_used_only_without_sans(root):
    cn_only = root.issue_cert(common_name="legacy.example.com", now=NOW).cert
    assert matches_hostname(cn_only, "legacy.example.com")
    assert not matches_hostname(cn_only, "legacy.example.com", cn_fallback=False)
    ip_cn = root.issue_cert(common_name="10.1.2.3", now=NOW).cert
    assert matches_hostname(ip_cn, "10.1.2.3")
    with_san = root.issue_cert("san.example.com", common_name="cn.example.com", now=NOW).cert
    assert matches_hostname(with_san, "san.example.com")
    assert not matches_hostname(with_san, "cn.example.com")


def test_wildcards_that_never_match(root):
    cert = root.issue_cert("*.com", "f*.example.com", "a.*.example.org", now=NOW).cert
    assert not matches_hostname(cert, "example.com")
    assert not matches_hostname(cert, "foo.example.com")
    assert not matches_hostname(cert, "a.b.example.org")


def test_wildcard_detection(root, named):
    assert is_wildcard(named)
    plain = root.issue_cert("plain.example.com", now=NOW).cert
    assert not is_wildcard(plain)
    cn_wild = root.issue_cert(common_name="*.example.com", now=NOW).cert
    assert is_wildcard(cn_wild)
    partial = root.issue_cert("f*.example.com", now=NOW).cert
    assert is_wildcard(partial)
    deeper = root.issue_cert("a.*.example.com", now=NOW).cert
    assert not is_wildcard(deeper)  # not a left-most wildcard


# --- usages and roles -------------------------------------------------------------------------


def test_eku(root):
    server = root.issue_cert("s.example.com", now=NOW).cert
    both = root.issue_cert("b.example.com", eku=("serverAuth", "clientAuth"), now=NOW).cert
    other = root.issue_cert("o.example.com", eku=(x509.ObjectIdentifier("1.2.3.4"),), now=NOW).cert
    none = root.issue_cert("n.example.com", eku=(), now=NOW).cert
    assert eku_names(server) == ["serverAuth"] and has_eku(server, "serverAuth")
    assert not has_eku(server, "clientAuth")
    assert eku_names(both) == ["serverAuth", "clientAuth"] and has_eku(both, "clientAuth")
    assert has_eku(both, "1.3.6.1.5.5.7.3.2")
    assert eku_names(other) == ["1.2.3.4"] and has_eku(other, "1.2.3.4")
    assert eku_names(none) == [] and not has_eku(none, "serverAuth")


def test_roles(root, intermediate):
    leaf = intermediate.issue_cert("r.example.com", now=NOW).cert
    ss = self_signed_cert("ss.example.com", now=NOW).cert
    assert [role(c) for c in (root.cert, intermediate.cert, leaf, ss)] == [
        "root",
        "intermediate",
        "leaf",
        "leaf",
    ]
    assert is_ca(root.cert) and is_ca(intermediate.cert) and not is_ca(leaf)


def test_public_key_info_and_fingerprint(root, openssl, tmp_path: Path):
    leaf = root.issue_cert("fp.example.com", key_type="rsa", now=NOW)
    assert public_key_info(leaf.cert) == ("RSA", 2048)
    assert public_key_info(root.cert) == ("ECDSA", 256)
    (tmp_path / "c.pem").write_text(leaf.cert_pem)
    out = openssl("x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha256").stdout.decode()
    assert out.strip().split("=", 1)[1] == fingerprint_sha256(leaf.cert)


# --- key pairs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "newkey",
    [("-newkey", "rsa:2048"), ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")],
    ids=["rsa", "ecdsa"],
)
def test_key_matches_openssl_pairs(openssl, tmp_path: Path, newkey):
    for name in ("a", "b"):
        openssl(
            "req", "-x509", *newkey, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
            "-subj", f"/CN={name}.example.com", "-days", "30",
        )  # fmt: skip
    cert_a = load_certificate((tmp_path / "a.pem").read_bytes())
    key_a = load_private_key((tmp_path / "a.key").read_bytes())
    key_b = load_private_key((tmp_path / "b.key").read_bytes())
    assert key_matches(cert_a, key_a)
    assert not key_matches(cert_a, key_b)


def test_key_matches_across_key_types(root):
    ec_leaf = root.issue_cert("ec.example.com", now=NOW)
    rsa_leaf = root.issue_cert("rsa.example.com", key_type="rsa", now=NOW)
    assert not key_matches(ec_leaf.cert, rsa_leaf.key)
    assert not key_matches(rsa_leaf.cert, ec_leaf.key)


def test_find_key_pair_among_pasted_certificates(root, intermediate):
    leaf = intermediate.issue_cert("pair.example.com", now=NOW)
    pasted = [root.cert, intermediate.cert, leaf.cert]
    assert find_key_pair(pasted, leaf.key) is leaf.cert
    assert find_key_pair([root.cert, intermediate.cert], leaf.key) is None


# --- chain of trust ---------------------------------------------------------------------------


def test_complete_chain(root, intermediate):
    leaf = intermediate.issue_cert("chain.example.com", now=NOW).cert
    assert chain_complete(leaf, [intermediate.cert, root.cert]) == (True, "")
    assert build_chain(leaf, [root.cert, intermediate.cert]) == [
        leaf,
        intermediate.cert,
        root.cert,
    ]


def test_missing_intermediate_is_named(root, intermediate):
    leaf = intermediate.issue_cert("chain.example.com", now=NOW).cert
    ok, missing = chain_complete(leaf, [root.cert])
    assert not ok
    assert "CN=Accord Test Intermediate CA" in missing
    assert "CN=chain.example.com" in missing


def test_missing_root_is_named(root, intermediate):
    leaf = intermediate.issue_cert("chain.example.com", now=NOW).cert
    ok, missing = chain_complete(leaf, [intermediate.cert])
    assert not ok and "CN=Accord Test Root CA" in missing


def test_impostor_with_the_same_name_does_not_complete_the_chain(root, intermediate):
    impostor = CA.new("Accord Test Root CA", now=NOW).issue_intermediate(
        "Accord Test Intermediate CA", now=NOW
    )
    leaf = intermediate.issue_cert("chain.example.com", now=NOW).cert
    ok, missing = chain_complete(leaf, [impostor.cert, root.cert])
    assert not ok and "CN=Accord Test Intermediate CA" in missing
    # with both, the genuine one is found
    assert chain_complete(leaf, [impostor.cert, intermediate.cert, root.cert]) == (True, "")


def test_root_signed_leaf_and_self_signed_certificates(root):
    leaf = root.issue_cert("direct.example.com", now=NOW).cert
    assert chain_complete(leaf, [root.cert]) == (True, "")
    assert chain_complete(root.cert, [root.cert]) == (True, "")
    ss = self_signed_cert("ss.example.com", now=NOW).cert
    ok, missing = chain_complete(ss, [root.cert])
    assert not ok and "self-signed CN=ss.example.com is not in the trust list" in missing
    assert chain_complete(ss, [ss]) == (True, "")


def test_empty_trust_list(intermediate):
    leaf = intermediate.issue_cert("chain.example.com", now=NOW).cert
    assert chain_complete(leaf, [])[0] is False
    with pytest.raises(PkiError, match="missing issuer"):
        build_chain(leaf, [])


def test_two_level_intermediates(root):
    mid = root.issue_intermediate("Mid CA", path_length=1, now=NOW)
    low = mid.issue_intermediate("Low CA", now=NOW)
    leaf = low.issue_cert("deep.example.com", now=NOW)
    assert leaf.chain == (leaf.cert, low.cert, mid.cert)
    assert chain_complete(leaf.cert, [low.cert, mid.cert, root.cert]) == (True, "")
    ok, missing = chain_complete(leaf.cert, [low.cert, root.cert])
    assert not ok and "CN=Mid CA" in missing


def test_sort_chain(root, intermediate):
    leaf = intermediate.issue_cert("sort.example.com", now=NOW).cert
    other = CA.new("Other Root", now=NOW).cert
    shuffled = [root.cert, other, leaf, intermediate.cert, leaf]
    assert sort_chain(shuffled) == [leaf, intermediate.cert, root.cert, other]
    assert sort_chain([]) == []
    assert sort_chain([intermediate.cert, leaf]) == [leaf, intermediate.cert]
    assert sort_chain([root.cert]) == [root.cert]


def test_signed_by_and_is_self_signed(root, intermediate):
    leaf = intermediate.issue_cert("sig.example.com", now=NOW).cert
    assert signed_by(leaf, intermediate.cert)
    assert not signed_by(leaf, root.cert)
    assert is_self_signed(root.cert) and not is_self_signed(intermediate.cert)
    # same subject as issuer but another key: not self-signed
    renamed = CA.new("Accord Test Root CA", now=NOW)
    assert not signed_by(root.cert, renamed.cert)
