"""``accord.deployer.beyondtrust`` against the appliance simulator: from the factory state plan →
apply → an empty plan, after which the primary, the backup and both traffic nodes serve the
identical CA-signed certificate for the site hostname and their own hostnames, with its full
chain, on real TLS handshakes (BT-09, BT-10, BT-11); resuming an interrupted run; refusals with
typed errors that never show the passphrase."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from accord.beyondtrust.client import (
    BeyondTrustApiError,
    BeyondTrustClient,
    ImportResult,
    ReadOnlyError,
)
from accord.beyondtrust.probes import ca_signed, chain_complete, covers, served
from accord.deployer.beyondtrust import (
    Appliances,
    BeyondTrustDeployError,
    ChainIncompleteError,
    FormDefaults,
    Plan,
    PlanInputError,
    SigningError,
    apply,
    plan,
)
from accord.labca import LabCA
from accord.network import Endpoint
from accord.pki import fingerprint_sha256, load_csr, to_pem, to_pkcs12
from accord.secrets import Secret
from simulator.beyondtrust import ApplianceSpec, BeyondTrustSimulator

PASSWORD = "bt-deploy-Passw0rd"
PASSPHRASE = "Canary-Deploy-Passphr4se"
SITE = "access.example.com"
HOSTNAMES = {
    "primary": "pra1.example.com",
    "backup": "pra2.example.com",
    "atlas1": "node1.example.com",
    "atlas2": "node2.example.com",
}
APPLIANCES = Appliances("primary", ("backup",), ("atlas1", "atlas2"))
DEFAULTS = FormDefaults(country="US", state="Mississippi", organization="Business Company")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    specs = [
        ApplianceSpec("primary", HOSTNAMES["primary"]),
        ApplianceSpec("backup", HOSTNAMES["backup"], role="backup"),
        ApplianceSpec("atlas1", HOSTNAMES["atlas1"], role="traffic_node"),
        ApplianceSpec("atlas2", HOSTNAMES["atlas2"], role="traffic_node"),
    ]
    workdir = tmp_path_factory.mktemp("bt-deploy-sim")
    with BeyondTrustSimulator(specs, password=PASSWORD, workdir=workdir) as started:
        yield started


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("bt-deploy-lab"))


@pytest.fixture(scope="module")
def trust(lab: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bt-deploy-trust") / "root.pem"
    path.write_text(lab.root_pem)
    return path


@pytest.fixture
def client(sim: BeyondTrustSimulator) -> Iterator[BeyondTrustClient]:
    sim.site.reset()
    with BeyondTrustClient(
        sim.url, "admin", Secret(PASSWORD), ca_bundle=sim.ca_file, read_only=False
    ) as made:
        yield made


def site_plan(client: BeyondTrustClient, **kwargs: object) -> Plan:
    return plan(client, APPLIANCES, SITE, HOSTNAMES, DEFAULTS, **kwargs)  # type: ignore[arg-type]


def deploy(client: BeyondTrustClient, lab: LabCA) -> list[str]:
    return apply(client, site_plan(client), lab.sign, Secret(PASSPHRASE), roots=lab.root_pem)


def test_factory_plan_apply_then_every_appliance_serves_the_same_certificate(
    client: BeyondTrustClient, sim: BeyondTrustSimulator, lab: LabCA, trust: Path
) -> None:
    first = site_plan(client)
    assert [(s.action, s.appliance) for s in first.steps] == [
        ("issue", "primary"),
        ("replicate", "backup"),
        ("replicate", "atlas1"),
        ("replicate", "atlas2"),
    ]
    assert first.names == (SITE, *HOSTNAMES.values())
    assert first.form.common_name == SITE and first.form.key_size == 2048
    rendered = first.render()
    assert "4 change(s)" in rendered and "factory" in rendered
    assert f"request CN={SITE}, SANs {', '.join(first.names)}, RSA 2048" in rendered
    done = apply(client, first, lab.sign, Secret(PASSPHRASE), roots=lab.root_pem)
    assert len(done) == 4
    again = site_plan(client)
    assert again.empty and "no changes" in again.render()
    assert apply(client, again, lab.sign, Secret(PASSPHRASE)) == []
    fingerprints = set()
    for name, (host, port) in sim.listeners.items():
        default = client.default(name)
        assert not default.warnings and default.private_key  # no chain warning left
        endpoint = Endpoint(HOSTNAMES[name], 443, host, port)
        for server_name in (SITE, HOSTNAMES[name], None):
            seen = served(endpoint, server_name, trust)
            assert seen.verified, (name, server_name, seen.verify_error)
            assert ca_signed(seen) and chain_complete(seen, trust)
            assert all(covers(seen, n) for n in first.names)
            fingerprints.add(seen.fingerprint)
    assert len(fingerprints) == 1
    assert client.requests("primary") == []
    assert PASSPHRASE not in "\n".join(done)


def test_an_interrupted_run_is_resumed(client: BeyondTrustClient, lab: LabCA) -> None:
    deploy(client, lab)
    installed = client.default("primary")
    client.set_default("backup", 1)
    client.set_default("primary", 1)
    held = next(r for r in client.certificates("backup") if r.fingerprint == installed.fingerprint)
    resumed = site_plan(client)
    assert [(s.action, s.appliance, s.certificate_id) for s in resumed.steps] == [
        ("set_default", "primary", installed.id),
        ("set_default", "backup", held.id),
    ]
    assert resumed.source == installed.fingerprint
    apply(client, resumed, lab.sign, Secret(PASSPHRASE))
    assert site_plan(client).empty
    assert client.default("primary").fingerprint == installed.fingerprint
    # A pending request of an interrupted issue is reused rather than made again.
    client.set_default("primary", 1)
    client.delete("primary", installed.id)
    pending = client.create_request("primary", resumed.form)
    issue = site_plan(client)
    assert [s.action for s in issue.steps] == ["issue", "replicate", "replicate", "replicate"]
    apply(client, issue, lab.sign, Secret(PASSPHRASE), roots=lab.root_pem)
    assert client.requests("primary") == [] and site_plan(client).empty
    assert client.default("primary").friendly_name == pending.friendly_name


def test_a_ca_signed_wildcard_already_everywhere_needs_nothing(
    client: BeyondTrustClient, lab: LabCA
) -> None:
    wildcard = lab.issuer.issue_cert(SITE, "*.example.com", key_type="rsa")
    p12 = to_pkcs12(
        wildcard.key, wildcard.cert, (lab.issuer.cert, lab.issuer.root), passphrase=PASSPHRASE
    )
    for name in APPLIANCES.all:
        added = client.import_file(name, p12, Secret(PASSPHRASE)).added
        client.set_default(name, next(r.id for r in added if r.private_key))
    assert site_plan(client).empty
    late = site_plan(client, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=340))
    assert [s.action for s in late.steps][0] == "issue"
    assert "expires in" in late.steps[0].reason


def test_without_the_root_a_chain_warning_stops_apply(
    client: BeyondTrustClient, lab: LabCA
) -> None:
    with pytest.raises(ChainIncompleteError) as stopped:
        apply(client, site_plan(client), lab.sign, Secret(PASSPHRASE))
    assert "roots" in str(stopped.value) and PASSPHRASE not in str(stopped.value)
    assert client.default("primary").factory  # never made the default with a warning
    retried = site_plan(client)
    assert retried.steps[0].action == "issue"
    apply(client, retried, lab.sign, Secret(PASSPHRASE), roots=lab.root_pem)
    assert site_plan(client).empty


def test_refusals_are_typed_and_never_show_the_passphrase(
    client: BeyondTrustClient, sim: BeyondTrustSimulator, lab: LabCA
) -> None:
    first = site_plan(client)
    assert PASSPHRASE not in first.render() and PASSPHRASE not in repr(first)
    versions = {a.name: a.version for a in sim.site}
    with pytest.raises(PlanInputError, match="passphrase is required"):
        apply(client, first, lab.sign, Secret(""), roots=lab.root_pem)
    reader = BeyondTrustClient(sim.url, "admin", Secret(PASSWORD), ca_bundle=sim.ca_file)
    with reader, pytest.raises(ReadOnlyError):
        apply(reader, first, lab.sign, Secret(PASSPHRASE))
    assert {a.name: a.version for a in sim.site} == versions  # nothing was written
    bad_answers = {
        "not PEM certificates": lambda _csr: "garbage",
        "is for the request": lambda _csr: lab.issuer.issue_cert(SITE).chain_pem,
        "does not cover pra1.example.com, pra2": lambda csr: _narrowed(lab, csr),
    }
    for expected, sign in bad_answers.items():
        with pytest.raises(SigningError, match=expected) as refused:
            apply(client, site_plan(client), sign, Secret(PASSPHRASE))
        assert isinstance(refused.value, BeyondTrustDeployError)
        assert PASSPHRASE not in str(refused.value)
    assert len(client.requests("primary")) == 1  # the pending request is reused each time


def _narrowed(lab: LabCA, csr_pem: str) -> str:
    """A CA that signs the request's key but for the site hostname alone (misses names)."""
    csr = load_csr(csr_pem)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(lab.issuer.cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SITE)]), critical=False)
        .sign(lab.issuer.key, hashes.SHA256())
    )
    return to_pem(cert, lab.issuer.cert)


def test_unusable_input_is_refused_before_any_request(client: BeyondTrustClient) -> None:
    cases = [
        (APPLIANCES, SITE, {"primary": HOSTNAMES["primary"]}, DEFAULTS, "no hostname"),
        (Appliances("primary", ("primary",)), SITE, HOSTNAMES, DEFAULTS, "more than once"),
        (APPLIANCES, "*.example.com", HOSTNAMES, DEFAULTS, "fully qualified"),
        (APPLIANCES, "access", HOSTNAMES, DEFAULTS, "fully qualified"),
        (APPLIANCES, SITE, HOSTNAMES, FormDefaults(country="USA"), "two-letter"),
    ]
    for appliances, site, hostnames, defaults, expected in cases:
        with pytest.raises(PlanInputError, match=expected):
            plan(client, appliances, site, hostnames, defaults)
    ghost = Appliances("primary", ("ghost",))
    with pytest.raises(BeyondTrustApiError) as unknown:
        plan(client, ghost, SITE, {**HOSTNAMES, "ghost": "ghost.example.com"}, DEFAULTS)
    assert (unknown.value.status, unknown.value.field) == (404, "appliance")


def test_while_the_ca_has_not_answered_apply_leaves_only_a_pending_request(
    client: BeyondTrustClient, sim: BeyondTrustSimulator, lab: LabCA
) -> None:
    """An exchange folder: ``sign`` returns None until the CA answers. apply stops after the
    request, says what it waits for, and a later plan and apply complete that request."""
    handed: list[str] = []

    def not_yet(csr_pem: str) -> None:
        handed.append(csr_pem)
        return None

    before = {name: client.default(name).fingerprint for name in APPLIANCES.all}
    first = site_plan(client)
    lines = apply(
        client, first, not_yet, Secret(PASSPHRASE), roots=lab.root_pem, awaiting="the CA (x)"
    )
    assert lines == [f"request {SITE!r} pending on primary: waiting for the CA (x)"]
    (pending,) = client.requests("primary")
    assert handed == [pending.request_data]
    assert {name: client.default(name).fingerprint for name in APPLIANCES.all} == before
    assert len(client.certificates("primary")) == 1  # nothing imported
    again = site_plan(client)
    assert [s.action for s in again.steps] == ["issue", "replicate", "replicate", "replicate"]
    apply(client, again, not_yet, Secret(PASSPHRASE), roots=lab.root_pem)
    assert handed[-1] == pending.request_data and len(client.requests("primary")) == 1
    done = apply(client, site_plan(client), lab.sign, Secret(PASSPHRASE), roots=lab.root_pem)
    assert done[0] == "issued and made default on primary" and len(done) == 4
    assert client.requests("primary") == [] and site_plan(client).empty
    assert client.default("primary").friendly_name == pending.friendly_name


def test_only_the_roots_that_issued_the_chain_are_imported(
    client: BeyondTrustClient,
    sim: BeyondTrustSimulator,
    lab: LabCA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``roots`` may be a bundle of every root the clients trust: only the CA's own root is
    imported, and none when the CA's answer already ends with its root."""
    unrelated = LabCA.create(tmp_path / "unrelated", name="Unrelated")
    bundle = unrelated.root_pem + lab.root_pem
    imported: list[bytes] = []
    original = client.import_file

    def recording(appliance: str, data: bytes, *args: Any, **kwargs: Any) -> ImportResult:
        if appliance == "primary":
            imported.append(data)
        return original(appliance, data, *args, **kwargs)

    monkeypatch.setattr(client, "import_file", recording)
    apply(client, site_plan(client), lab.sign, Secret(PASSPHRASE), roots=bundle)
    assert imported[2:] == [lab.root_pem.encode("ascii")]  # leaf, intermediate, the CA's root
    held = {r.fingerprint for r in client.certificates("primary")}
    assert fingerprint_sha256(unrelated.issuer.root) not in held
    assert site_plan(client).empty
    sim.site.reset()
    imported.clear()

    def with_root(csr_pem: str) -> str:
        return lab.sign(csr_pem) + lab.root_pem

    apply(client, site_plan(client), with_root, Secret(PASSPHRASE), roots=bundle)
    assert len(imported) == 3 and imported[2] == lab.root_pem.encode("ascii")
    assert site_plan(client).empty
