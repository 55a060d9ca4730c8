"""``accord.beyondtrust.client`` over real HTTPS against the appliance simulator: every operation,
errors naming the field and the server's message (never a secret), and the read-only mode that
refuses writes before the wire."""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from accord.beyondtrust import (
    BeyondTrustApiError,
    BeyondTrustClient,
    Certificate,
    CertificateForm,
    ReadOnlyError,
)
from accord.http import TransportError
from accord.labca import LabCA
from accord.pki import from_pkcs12
from accord.secrets import Secret
from simulator.beyondtrust import ApplianceSpec, BeyondTrustSimulator
from tests.beyondtrust.helpers import create_form

PASSWORD = "bt-client-Passw0rd"
PASSPHRASE = "Canary-Export-Passphr4se"
APPLIANCES = (
    ApplianceSpec("primary", "pra1.example.com"),
    ApplianceSpec("backup", "pra2.example.com", role="backup"),
    ApplianceSpec("cloud", "example.bomgarcloud.com", cloud=True),
)
FORM = CertificateForm(
    friendly_name="access.example.com",
    key_size=2048,
    country="us",
    common_name="access.example.com",
    alternative_names=("access.example.com", "pra1.example.com"),
    organization="Business Company",
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    workdir = tmp_path_factory.mktemp("bt-client-sim")
    with BeyondTrustSimulator(APPLIANCES, password=PASSWORD, workdir=workdir) as started:
        yield started


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("bt-client-lab"))


@pytest.fixture
def fresh(sim: BeyondTrustSimulator) -> BeyondTrustSimulator:
    sim.site.reset()
    return sim


@pytest.fixture
def client(fresh: BeyondTrustSimulator) -> Iterator[BeyondTrustClient]:
    with BeyondTrustClient(
        fresh.url, "admin", Secret(PASSWORD), ca_bundle=fresh.ca_file, read_only=False
    ) as made:
        yield made


def _installed(client: BeyondTrustClient, lab: LabCA, appliance: str = "primary") -> Certificate:
    """The guide's CA-signed path on ``appliance``: request, sign, import with root, default."""
    request = client.create_request(appliance, FORM)
    signed = (lab.sign(request.request_data) + lab.root_pem).encode()
    result = client.import_file(appliance, signed, filename="signed.pem")
    assert result.linked_requests == (request.id,)
    [leaf] = [row for row in result.added if row.private_key]
    return client.set_default(appliance, leaf.id)


def test_reads_the_factory_state(client: BeyondTrustClient, fresh: BeyondTrustSimulator) -> None:
    appliances = client.appliances()
    assert [(a.name, a.role, a.hostname) for a in appliances] == [
        ("primary", "primary", "pra1.example.com"),
        ("backup", "backup", "pra2.example.com"),
        ("cloud", "primary", "example.bomgarcloud.com"),
    ]
    assert {a.name: a.listener for a in appliances} == fresh.listeners
    [factory] = client.certificates("primary")
    assert factory.factory and factory.default and factory.kind == "server"
    assert factory.issued_to == factory.issued_by == "BeyondTrust Appliance"
    assert factory.warnings and factory.private_key
    assert factory.certificate == fresh.appliance("primary").default().certificate
    assert isinstance(factory.certificate, x509.Certificate)
    assert factory.not_after > factory.not_before
    assert client.default("primary") == factory
    assert client.requests("primary") == []
    for name in (None, "unknown.example.org"):
        assert client.select("primary", name).id == factory.id


def test_self_signed_certificate_and_request(client: BeyondTrustClient) -> None:
    row = client.create_self_signed("primary", create_form(alternative_names=["r.example.net"]))
    assert row.id == 2 and not row.default and row.alternative_names == ("r.example.net",)
    assert client.select("primary", "r.example.net").id == row.id
    request = client.create_request("primary", FORM)
    assert request.request_data.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "PRIVATE KEY" not in request.request_data
    assert request.alternative_names == FORM.alternative_names
    assert request.public_key == "RSA (2048 Bits)" and "CN=access.example.com" in request.subject
    assert client.requests("primary") == [request]


def test_import_signed_request_default_and_delete(client: BeyondTrustClient, lab: LabCA) -> None:
    installed = _installed(client, lab)
    assert installed.default and not installed.warnings
    assert installed.issued_by == "Accord Lab Issuing CA"
    assert client.default("primary").fingerprint == installed.fingerprint
    assert client.requests("primary") == []
    kinds = sorted(row.kind for row in client.certificates("primary"))
    assert kinds == ["intermediate", "root", "server", "server"]
    with pytest.raises(BeyondTrustApiError) as refused:
        client.delete("primary", 1)
    assert (refused.value.status, refused.value.field) == (409, "id")
    assert "factory default configuration" in refused.value.message
    with pytest.raises(BeyondTrustApiError, match="choose another default"):
        client.delete("primary", installed.id)
    client.set_default("primary", 1)
    client.delete("primary", installed.id)
    assert installed.id not in [row.id for row in client.certificates("primary")]


def test_export_import_pkcs12_and_support_bundle(client: BeyondTrustClient, lab: LabCA) -> None:
    installed = _installed(client, lab)
    name, data = client.export(
        "primary", [installed.id], include_private_key=False, include_chain=False, passphrase=None
    )
    assert name.endswith(".cer")
    assert x509.load_der_x509_certificate(data) == installed.certificate
    name, data = client.export(
        "primary",
        [installed.id],
        include_private_key=True,
        include_chain=True,
        passphrase=Secret(PASSPHRASE),
    )
    assert name == "access.example.com.p12"
    bundle = from_pkcs12(data, PASSPHRASE)
    assert bundle.cert == installed.certificate and len(bundle.chain) == 2
    assert bundle.key is not None
    with pytest.raises(BeyondTrustApiError) as wrong:
        client.import_file("backup", data, Secret("Wrong-Canary-pw"), filename=name)
    assert (wrong.value.status, wrong.value.field) == (400, "password")
    assert "Wrong-Canary-pw" not in str(wrong.value) and PASSPHRASE not in str(wrong.value)
    result = client.import_file("backup", data, Secret(PASSPHRASE), filename=name)
    [copied] = [row for row in result.added if row.private_key]
    assert copied.fingerprint == installed.fingerprint and not copied.warnings
    assert len(result.certificates) == 3
    name, data = client.support_bundle("primary")
    assert name == "support-certificates.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = archive.namelist()
        text = b"".join(archive.read(f) for f in files)
    assert not [f for f in files if f.endswith((".p12", ".pfx", ".key"))]
    assert b"PRIVATE KEY" not in text and len(files) == 4


def test_refusals_name_the_field_and_the_message(client: BeyondTrustClient) -> None:
    with pytest.raises(BeyondTrustApiError) as bad:
        client.create_self_signed("primary", create_form(country="USA"))
    error = bad.value
    assert (error.method, error.status, error.field) == ("POST", 400, "country")
    assert error.path == "/api/appliances/primary/certificates/self-signed"
    assert "two letters" in error.message
    assert str(error).startswith(f"beyondtrust: POST {error.path} -> 400: country: must be exactly")
    with pytest.raises(BeyondTrustApiError) as unknown:
        client.certificates("nowhere")
    assert (unknown.value.status, unknown.value.field) == (404, "appliance")
    with pytest.raises(BeyondTrustApiError) as missing:
        client.set_default("primary", 99)
    assert (missing.value.method, missing.value.status, missing.value.field) == ("PUT", 404, "id")
    with pytest.raises(BeyondTrustApiError) as cloud:
        client.create_self_signed("cloud", create_form())
    assert (cloud.value.status, cloud.value.field) == (409, "cloud")
    with pytest.raises(BeyondTrustApiError) as no_key:
        client.export(
            "primary", [1], include_private_key=True, include_chain=False, passphrase=None
        )
    assert (no_key.value.status, no_key.value.field) == (400, "passphrase")


def test_wrong_credentials_never_show_the_password(fresh: BeyondTrustSimulator) -> None:
    canary = "Canary-Api-Passw0rd"
    made = BeyondTrustClient(fresh.url, "admin", Secret(canary), ca_bundle=fresh.ca_file)
    with made, pytest.raises(BeyondTrustApiError) as refused:
        made.appliances()
    assert refused.value.status == 401 and refused.value.field is None
    assert canary not in str(refused.value) and canary not in repr(made)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_read_only_refuses_writes_before_the_wire(fresh: BeyondTrustSimulator) -> None:
    versions = {a.name: a.version for a in fresh.site}
    reader = BeyondTrustClient(fresh.url, "admin", Secret(PASSWORD), ca_bundle=fresh.ca_file)
    nowhere = BeyondTrustClient(f"https://127.0.0.1:{_closed_port()}/", "admin", Secret("x"))
    for made in (reader, nowhere):
        assert made.read_only
        writes = [
            lambda c=made: c.create_self_signed("primary", create_form()),
            lambda c=made: c.create_request("primary", FORM),
            lambda c=made: c.import_file("primary", b"data", Secret(PASSPHRASE)),
            lambda c=made: c.export(
                "primary", [1], include_private_key=True, include_chain=True, passphrase=None
            ),
            lambda c=made: c.set_default("primary", 1),
            lambda c=made: c.delete("primary", 1),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyError) as refused:
                write()
            assert PASSPHRASE not in str(refused.value)
    # Nothing reached the simulator; the unreachable one proves no connection was tried.
    assert {a.name: a.version for a in fresh.site} == versions
    assert len(reader.certificates("primary")) == 1
    name, _data = reader.support_bundle("primary")
    assert name == "support-certificates.zip"
    with pytest.raises(TransportError, match=r"^beyondtrust: GET https://127\.0\.0\.1:\d+/api/"):
        nowhere.appliances()
    reader.close()
    nowhere.close()


def test_ca_bundle_is_given_per_request(
    fresh: BeyondTrustSimulator, lab: LabCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-ca.pem"
    other.write_text(lab.root_pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    with BeyondTrustClient(fresh.url, "admin", Secret(PASSWORD), ca_bundle=fresh.ca_file) as ok:
        assert [a.name for a in ok.appliances()][0] == "primary"
    with (
        BeyondTrustClient(fresh.url, "admin", Secret(PASSWORD)) as untrusting,
        pytest.raises(TransportError, match="TLS: the certificate is not trusted"),
    ):
        untrusting.appliances()
