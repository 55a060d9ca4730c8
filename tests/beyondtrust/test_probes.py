"""``accord.beyondtrust.probes`` over real TLS handshakes with the simulator's appliance listener:
SNI per hostname, no SNI and unknown names get the default (BT-08), wildcards cover one label,
the chain sent is complete or not (BT-09), the factory self-signed default and an expired
certificate are told apart; the pure checks on their own."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.beyondtrust.probes import (
    ProbeError,
    ServedCertificate,
    ca_signed,
    chain_complete,
    chain_problem,
    covers,
    days_left,
    served,
)
from accord.labca import LabCA
from accord.network import Endpoint
from accord.pki import LeafCert
from simulator.beyondtrust import Appliance, ApplianceSpec, BeyondTrustSimulator

HOSTNAME = "pra1.example.com"
SITE = "access.example.com"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    workdir = tmp_path_factory.mktemp("bt-probe-sim")
    spec = ApplianceSpec("primary", HOSTNAME)
    with BeyondTrustSimulator((spec,), password="bt-probe-Passw0rd", workdir=workdir) as started:
        yield started


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("bt-probe-lab"))


@pytest.fixture(scope="module")
def trust(lab: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root alone: what a client trusts (the intermediate must be served)."""
    path = tmp_path_factory.mktemp("bt-probe-trust") / "root.pem"
    path.write_text(lab.root_pem)
    return path


@pytest.fixture(scope="module")
def site_cert(lab: LabCA) -> LeafCert:
    return lab.issuer.issue_cert(SITE, HOSTNAME, key_type="rsa")


@pytest.fixture
def appliance(sim: BeyondTrustSimulator) -> Appliance:
    found = sim.appliance("primary")
    found.reset()
    return found


@pytest.fixture
def endpoint(sim: BeyondTrustSimulator) -> Endpoint:
    host, port = sim.listeners["primary"]
    return Endpoint(HOSTNAME, 443, host, port)


def install(appliance: Appliance, lab: LabCA, leaf: LeafCert, *, chain: bool = True) -> int:
    """Import ``leaf`` with its key (and the intermediate and root); its id."""
    text = leaf.cert_pem + leaf.key_pem()
    if chain:
        text += lab.issuer.cert_pem + lab.root_pem
    return next(r.id for r in appliance.import_file(text.encode()).added if r.private_key)


def test_factory_default_is_detected_as_self_signed(
    endpoint: Endpoint, appliance: Appliance, trust: Path
) -> None:
    factory = appliance.default()
    for name in (None, SITE):
        seen = served(endpoint, name, trust)
        assert seen.ok and seen.fingerprint == factory.fingerprint
        assert seen.self_signed and not ca_signed(seen)
        assert seen.subject == seen.issuer == "CN=BeyondTrust Appliance"
        assert seen.verified is False and seen.verify_error
        assert not chain_complete(seen, trust)
        assert "not in the trust list" in (chain_problem(seen, trust) or "")
        assert not covers(seen, SITE) and seen.alternative_names == []
    observed = seen.observation()
    text = json.dumps(observed)
    assert "PRIVATE" not in text and observed["sni"] == SITE
    assert observed["leaf"]["self_signed"] is True and observed["verified"] is False
    assert observed["connected_to"] == str(endpoint)


def test_sni_selects_per_hostname_and_the_default_otherwise(
    endpoint: Endpoint, appliance: Appliance, lab: LabCA, site_cert: LeafCert, trust: Path
) -> None:
    site_id = install(appliance, lab, site_cert)
    other = lab.issuer.issue_cert("remote.example.net", key_type="rsa")
    install(appliance, lab, other)
    factory = appliance.default().fingerprint
    for name, expected in ((SITE, site_cert), (HOSTNAME, site_cert), ("remote.example.net", other)):
        seen = served(endpoint, name, trust)
        assert seen.leaf == expected.cert, name
        assert seen.verified and seen.verify_error is None
        assert covers(seen, name) and ca_signed(seen) and chain_complete(seen, trust)
        assert len(seen.chain) == 2  # leaf and intermediate; the root is not sent
    for name in (None, "nobody.example.org"):
        assert served(endpoint, name, None).fingerprint == factory
    appliance.set_default(site_id)
    no_sni = served(endpoint, None, trust)
    assert no_sni.leaf == site_cert.cert and no_sni.verified  # the chain alone, no name
    unknown = served(endpoint, "nobody.example.org", trust)
    assert unknown.leaf == site_cert.cert
    assert unknown.verified is False and "nobody.example.org" in (unknown.verify_error or "")
    assert unknown.observation()["verified_for"] == "nobody.example.org"
    assert no_sni.alternative_names == [SITE, HOSTNAME]
    assert no_sni.issuer == "CN=Accord Lab Issuing CA" and no_sni.subject == f"CN={SITE}"


def test_a_wildcard_covers_exactly_one_leftmost_label(
    endpoint: Endpoint, appliance: Appliance, lab: LabCA, trust: Path
) -> None:
    wildcard = lab.issuer.issue_cert("*.wild.example.org", key_type="rsa")
    install(appliance, lab, wildcard)
    factory = appliance.default().fingerprint
    seen = served(endpoint, "a.wild.example.org", trust)
    assert seen.leaf == wildcard.cert and seen.verified
    for name in ("a.b.wild.example.org", "wild.example.org"):
        assert served(endpoint, name, None).fingerprint == factory, name
    assert covers(wildcard.cert, "A.Wild.Example.Org.")
    assert not covers(wildcard.cert, "a.b.wild.example.org")
    assert not covers(wildcard.cert, "wild.example.org")
    cn_only = lab.issuer.issue_cert("x.example.com", common_name="cn.example.com")
    assert not covers(cn_only.cert, "cn.example.com")  # the Common Name is not used


def test_chain_complete_only_once_the_intermediate_is_imported(
    endpoint: Endpoint, appliance: Appliance, lab: LabCA, site_cert: LeafCert, trust: Path
) -> None:
    install(appliance, lab, site_cert, chain=False)
    alone = served(endpoint, SITE, trust)
    assert alone.chain == (site_cert.cert,) and alone.verified is False
    assert not chain_complete(alone, trust)
    assert "missing issuer CN=Accord Lab Issuing CA" in (chain_problem(alone, trust) or "")
    # A trust list holding the intermediate too changes nothing: only its roots count.
    assert not chain_complete(alone, [lab.issuer.cert, lab.issuer.root])
    with pytest.raises(ProbeError, match="no root"):
        chain_complete(alone, [lab.issuer.cert])
    appliance.import_file((lab.issuer.cert_pem + lab.root_pem).encode())
    full = served(endpoint, SITE, trust)
    assert full.chain == (site_cert.cert, lab.issuer.cert)
    assert full.verified and chain_complete(full, trust) and chain_problem(full, trust) is None


def test_an_expired_certificate_is_detected(
    endpoint: Endpoint, appliance: Appliance, lab: LabCA, trust: Path
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # X.509 times are whole seconds
    old = lab.issuer.issue_cert(
        "old.example.com",
        key_type="rsa",
        not_before=now - dt.timedelta(days=40),
        not_after=now - dt.timedelta(days=10),
    )
    install(appliance, lab, old)
    seen = served(endpoint, "old.example.com", trust)
    assert seen.leaf == old.cert and seen.not_after == old.cert.not_valid_after_utc
    assert days_left(seen, now) == -10 and ca_signed(seen) and chain_complete(seen, trust)
    assert seen.verified is False and "expired" in (seen.verify_error or "")
    fresh = served(endpoint, None, None)
    assert days_left(fresh, now) > 3000  # the factory certificate: ten years


def test_a_failed_handshake_is_reported_not_raised(trust: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seen = served(Endpoint(HOSTNAME, 443, "127.0.0.1", port), SITE, trust)
    assert isinstance(seen, ServedCertificate) and not seen.ok and seen.error
    assert seen.verified is None and seen.observation()["leaf"] is None
    with pytest.raises(ProbeError, match="no certificate was served"):
        ca_signed(seen)
