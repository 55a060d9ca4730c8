"""The appliance's operations in-process: factory certificate (BT-01), Create (BT-02), CSR
(BT-03), chain warnings and kinds (BT-05), Default and Delete (BT-12), SNI selection (BT-08),
sites (BT-10, BT-11), and that refused operations change nothing and secrets never show."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from accord.pki import CA, is_self_signed, load_csr, san_names, to_pem
from simulator.beyondtrust import Appliance, ApplianceSpec, Site
from simulator.beyondtrust.errors import Conflict, NotFound, ValidationError
from simulator.beyondtrust.store import CHAIN_WARNING, EXPIRED_WARNING, FACTORY_WARNING
from tests.beyondtrust.helpers import create_form, der


def snapshot(appliance: Appliance) -> object:
    return appliance.store


# --- BT-01: the factory certificate ---------------------------------------------------------


def test_factory_certificate_is_present_with_its_warning(appliance: Appliance) -> None:
    [factory] = appliance.certificates()
    assert factory.friendly_name == factory.issued_to == factory.issued_by
    assert factory.issued_to == "BeyondTrust Appliance"
    assert factory.alternative_names == ()
    assert factory.private_key is True
    assert factory.default is True and factory.factory is True
    assert factory.kind == "server"
    assert factory.warnings == (FACTORY_WARNING,)
    assert "ships with all BeyondTrust appliances" in FACTORY_WARNING
    assert is_self_signed(factory.certificate)
    assert factory.expiration.endswith(" GMT")


def test_factory_certificate_cannot_be_deleted(appliance: Appliance) -> None:
    created = appliance.create_self_signed(create_form())
    appliance.set_default(created.id)  # not even once it is no longer the default
    before = snapshot(appliance)
    with pytest.raises(Conflict) as caught:
        appliance.delete(1)
    assert caught.value.message == "The factory default configuration may not be removed."
    assert caught.value.field == "id"
    assert snapshot(appliance) is before


def test_reset_gives_back_the_same_factory_certificate(appliance: Appliance) -> None:
    first = appliance.default().fingerprint
    appliance.create_self_signed(create_form())
    appliance.reset()
    assert [c.fingerprint for c in appliance.certificates()] == [first]
    assert appliance.requests() == []


# --- BT-02: Create Self-Signed Certificate ------------------------------------------------------


def test_self_signed_certificate_from_the_form(appliance: Appliance) -> None:
    created = appliance.create_self_signed(
        create_form(
            common_name="access.example.com",
            alternative_names=["access.example.com", "*.example.com"],
        )
    )
    cert = created.certificate
    assert is_self_signed(cert)
    assert san_names(cert) == ["access.example.com", "*.example.com"]
    assert created.alternative_names == ("access.example.com", "*.example.com")
    assert created.subject == (
        "CN=access.example.com, OU=Support, O=Business Company, L=Ridgeland, ST=Mississippi, C=US"
    )
    assert created.friendly_name == "access.example.com 2030"
    assert created.issued_to == created.issued_by == "access.example.com"
    assert created.private_key and created.kind == "server" and not created.default
    assert created.warnings == ()
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert appliance.certificates()[-1].id == created.id


def test_a_refused_form_changes_nothing(appliance: Appliance) -> None:
    before = snapshot(appliance)
    with pytest.raises(ValidationError) as caught:
        appliance.create_self_signed(create_form(country="USA"))
    assert caught.value.field == "country"
    with pytest.raises(ValidationError):
        appliance.create_request(create_form(alternative_names=["10.0.0.1"]))
    assert snapshot(appliance) is before


def test_a_cloud_site_cannot_create_a_self_signed_certificate() -> None:
    cloud = Appliance("cloud", "example.bomgarcloud.com", cloud=True)
    with pytest.raises(Conflict) as caught:
        cloud.create_self_signed(create_form())
    assert "cloud site environment cannot create a self-signed" in caught.value.message
    assert len(cloud.certificates()) == 1
    request = cloud.create_request(create_form())  # a CSR is still possible
    assert cloud.request(request.id).subject.startswith("CN=")


# --- BT-03: Create Certificate Request ----------------------------------------------------------


def test_certificate_request_lists_subject_sans_fingerprint_and_pem(appliance: Appliance) -> None:
    request = appliance.create_request(
        create_form(
            state="MS",
            common_name="support.example.org",
            alternative_names=["support.example.org", "*.example.org"],
        )
    )
    assert request.subject == (
        "CN=support.example.org, OU=Support, O=Business Company, L=Ridgeland, ST=MS, C=US"
    )
    assert request.alternative_names == ("support.example.org", "*.example.org")
    assert request.public_key == "RSA (2048 Bits)"
    assert len(request.fingerprint.split(":")) == 32
    assert request.request_data.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    csr = load_csr(request.request_data)
    assert csr.is_signature_valid
    assert appliance.requests() == [request]
    assert appliance.request(request.id) == request
    assert len(appliance.certificates()) == 1  # a request is not a certificate


def test_the_request_never_reveals_its_private_key(appliance: Appliance) -> None:
    request = appliance.create_request(create_form())
    text = repr(request) + repr(appliance.request(request.id).as_json())
    assert "PRIVATE KEY" not in text
    assert "key=" not in repr(appliance.store.requests[0])


def test_pending_requests_can_be_deleted(appliance: Appliance) -> None:
    request = appliance.create_request(create_form())
    appliance.delete_request(request.id)
    assert appliance.requests() == []
    with pytest.raises(NotFound) as caught:
        appliance.delete_request(request.id)
    assert caught.value.field == "id"
    with pytest.raises(NotFound):
        appliance.request(999)


# --- BT-05: kinds and chain warnings ----------------------------------------------------------


def test_server_intermediate_and_root_are_told_apart(
    appliance: Appliance, root_ca: CA, issuing_ca: CA
) -> None:
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    appliance.import_file((leaf.cert_pem + leaf.key_pem()).encode())
    server = appliance.certificates()[-1]
    assert server.kind == "server"
    assert server.warnings == (CHAIN_WARNING,)
    appliance.import_file(der(issuing_ca.cert))
    intermediate = appliance.certificates()[-1]
    assert intermediate.kind == "intermediate"
    assert intermediate.issued_to != intermediate.issued_by
    assert not intermediate.private_key
    assert appliance.certificate(server.id).warnings == (CHAIN_WARNING,)  # root still missing
    appliance.import_file(der(root_ca.cert))
    root = appliance.certificates()[-1]
    assert root.kind == "root" and root.issued_to == root.issued_by == "Example Root CA"
    assert appliance.certificate(server.id).warnings == ()


def test_deleting_the_root_brings_the_warning_back(
    appliance: Appliance, root_ca: CA, issuing_ca: CA
) -> None:
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    result = appliance.import_file(
        (leaf.cert_pem + leaf.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)).encode()
    )
    server, _, root = result.added
    assert appliance.certificate(server.id).warnings == ()
    appliance.delete(root.id)
    assert appliance.certificate(server.id).warnings == (CHAIN_WARNING,)


def test_an_expired_certificate_is_flagged(root_ca: CA) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    appliance = Appliance("clocked", "pra9.example.com", clock=lambda: later)
    created = appliance.create_self_signed(create_form())
    assert EXPIRED_WARNING not in created.warnings
    appliance.clock = lambda: later + dt.timedelta(days=400)
    assert EXPIRED_WARNING in appliance.certificate(created.id).warnings


# --- Default and Delete ---------------------------------------------------------------------


def test_choose_the_default_and_delete_the_old_one(appliance: Appliance) -> None:
    old = appliance.create_self_signed(create_form(friendly_name="old"))
    new = appliance.create_self_signed(create_form(friendly_name="new"))
    appliance.set_default(old.id)
    with pytest.raises(Conflict, match="is the default"):
        appliance.delete(old.id)
    assert appliance.set_default(new.id).default
    assert [c.id for c in appliance.certificates() if c.default] == [new.id]
    appliance.delete(old.id)
    assert [c.id for c in appliance.certificates()] == [1, new.id]
    with pytest.raises(NotFound):
        appliance.delete(old.id)


def test_a_certificate_without_a_key_cannot_be_the_default(
    appliance: Appliance, root_ca: CA
) -> None:
    [root] = appliance.import_file(der(root_ca.cert)).added
    before = snapshot(appliance)
    with pytest.raises(Conflict) as caught:
        appliance.set_default(root.id)
    assert caught.value.field == "id" and "no private key" in caught.value.message
    with pytest.raises(NotFound):
        appliance.set_default(999)
    with pytest.raises(ValidationError):
        appliance.set_default("2")  # type: ignore[arg-type]
    assert snapshot(appliance) is before


# --- BT-08: SNI selection -------------------------------------------------------------------


def test_sni_selection(appliance: Appliance, issuing_ca: CA) -> None:
    wildcard = appliance.create_self_signed(
        create_form(friendly_name="wild", alternative_names=["example.com", "*.example.com"])
    )
    other = appliance.create_self_signed(
        create_form(friendly_name="other", alternative_names=["remote.example.net"])
    )
    chosen = appliance.create_self_signed(
        create_form(friendly_name="default", alternative_names=["default.example.org"])
    )
    appliance.set_default(chosen.id)
    select = appliance.select_certificate
    assert select("access.example.com").id == wildcard.id
    assert select("ACCESS.Example.COM.").id == wildcard.id
    assert select("example.com").id == wildcard.id
    assert select("remote.example.net").id == other.id
    assert select("a.b.example.com").id == chosen.id  # one label only
    assert select("unknown.example.org").id == chosen.id
    assert select(None).id == chosen.id
    assert select("").id == chosen.id


def test_sni_prefers_the_latest_expiry(appliance: Appliance, issuing_ca: CA) -> None:
    now = dt.datetime.now(dt.UTC)
    old = issuing_ca.issue_cert("access.example.com", key_type="rsa", days=30, now=now)
    renewed = issuing_ca.issue_cert("access.example.com", key_type="rsa", days=400, now=now)
    appliance.import_file((renewed.cert_pem + renewed.key_pem()).encode())
    appliance.import_file((old.cert_pem + old.key_pem()).encode())
    chosen = appliance.select_certificate("access.example.com")
    assert chosen.certificate == renewed.cert
    assert chosen.not_after > appliance.certificates()[-1].not_after  # told apart by expiry


def test_certificates_without_a_key_are_never_selected(appliance: Appliance, issuing_ca: CA):
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    appliance.import_file(der(leaf.cert))
    assert appliance.select_certificate("access.example.com").factory


def test_tls_material_holds_intermediates_but_not_the_root(
    appliance: Appliance, root_ca: CA, issuing_ca: CA
) -> None:
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    appliance.import_file(
        (leaf.cert_pem + leaf.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)).encode()
    )
    material = appliance.tls_material("access.example.com")
    assert material.leaf == leaf.cert
    assert material.chain == (issuing_ca.cert,)
    assert "key" not in repr(material).replace("private_key=True", "")


# --- secrets and sites ------------------------------------------------------------------------


def test_reprs_never_show_keys(appliance: Appliance) -> None:
    appliance.create_self_signed(create_form())
    text = repr(appliance) + repr(appliance.store) + repr(appliance.certificates())
    assert "PRIVATE" not in text and "RSAPrivateKey" not in text and "_rsa" not in text


def test_a_site_holds_primary_backup_and_traffic_nodes() -> None:
    site = Site(
        [
            ApplianceSpec("primary", "pra1.example.com"),
            ApplianceSpec("backup", "pra2.example.com", role="backup"),
            ApplianceSpec("atlas1", "node1.example.com", role="traffic_node"),
        ]
    )
    assert site.names == ["primary", "backup", "atlas1"]
    assert "backup" in site and len(site) == 3
    assert site["atlas1"].role == "traffic_node"
    factory = {a.name: a.default().fingerprint for a in site}
    assert len(set(factory.values())) == 3  # each appliance has its own factory key
    with pytest.raises(NotFound) as caught:
        site.get("nope")
    assert caught.value.field == "appliance"
    with pytest.raises(ValueError, match="already"):
        site.add(ApplianceSpec("primary", "pra3.example.com"))
    site["primary"].create_self_signed(create_form())
    site.reset()
    assert all(len(a.certificates()) == 1 for a in site)


@pytest.mark.parametrize(
    ("name", "hostname", "role"),
    [
        ("bad name", "pra.example.com", "primary"),
        ("ok", "not a host", "primary"),
        ("ok", "*.example.com", "primary"),
        ("ok", "pra.example.com", "secondary"),
    ],
)
def test_appliance_specs_are_checked(name: str, hostname: str, role: str) -> None:
    with pytest.raises(ValueError):
        Appliance(name, hostname, role=role)  # type: ignore[arg-type]


def test_imported_certificates_are_x509(appliance: Appliance, root_ca: CA) -> None:
    [root] = appliance.import_file(der(root_ca.cert)).added
    assert isinstance(root.certificate, x509.Certificate)
    assert root.as_json()["certificate_pem"] == root_ca.cert_pem


def test_replacement_by_another_ca_with_its_root_imported_first(
    appliance: Appliance, issuing_ca: CA, root_ca: CA, other_root: CA
) -> None:
    old = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    chain = to_pem(issuing_ca.cert, root_ca.cert)
    [current, *_] = appliance.import_file((old.cert_pem + old.key_pem() + chain).encode()).added
    appliance.set_default(current.id)
    request = appliance.create_request(
        create_form(common_name="access.example.com", alternative_names=["access.example.com"])
    )
    [new_root] = appliance.import_file(der(other_root.cert)).added  # before the switch
    assert new_root.kind == "root"
    bundle = appliance.support_bundle(new_root.id)  # what Technical Support builds in
    assert bundle.filename.endswith(".zip")
    [replacement] = appliance.import_file(der(other_root.sign_csr(request.request_data))).added
    assert replacement.private_key and replacement.warnings == ()
    appliance.set_default(replacement.id)
    appliance.delete(current.id)
    assert appliance.select_certificate(None).issued_by == "Other Root CA"
    assert appliance.select_certificate("access.example.com").id == replacement.id
