"""Fault injection in the BeyondTrust appliance simulator, over real HTTPS with Accord's own
client (``BeyondTrustClient``) and control plane (``BeyondTrustSimControl``): each fault breaks
its one guide behaviour and that behaviour is normal without it; ``/_sim/faults`` (GET/PUT,
errors) and ``/_sim/reset`` (every appliance, or one, optionally as part of a cloud site)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.beyondtrust import BeyondTrustApiError, BeyondTrustClient, CertificateForm
from accord.labca import LabCA
from accord.pki import CA, PkiError, from_pkcs12, key_matches, load_private_key, to_pem
from accord.secrets import Secret
from accord.simcontrol import BeyondTrustSimControl
from simulator.beyondtrust import FAULTS, ApplianceSpec, BeyondTrustSimulator
from simulator.beyondtrust import faults as bt
from simulator.beyondtrust.store import CHAIN_WARNING
from tests.beyondtrust.helpers import create_form, der

PASSWORD = "bt-faults-Passw0rd"
PASSPHRASE = "Fault-Export-Passphr4se"
APPLIANCES = (
    ApplianceSpec("primary", "pra1.example.com"),
    ApplianceSpec("cloud", "example.bomgarcloud.com", cloud=True),
    ApplianceSpec("scratch", "scratch.example.com", role="scratch"),
)
NAMES = {
    "bt01_factory_certificate_deletable": "BT-01",
    "bt02_fqdn_common_name_not_first_san_accepted": "BT-02",
    "bt03_request_data_holds_key": "BT-03",
    "bt04_signed_certificate_not_linked": "BT-04",
    "bt05_missing_chain_not_warned": "BT-05",
    "bt06_pkcs12_passphrase_ignored": "BT-06",
    "bt07_support_bundle_holds_key": "BT-07",
    "bt12_same_subject_import_replaces": "BT-12",
    "bt13_unrelated_root_refused": "BT-13",
}
FORM = CertificateForm(
    friendly_name="access.example.com",
    key_size=2048,
    country="US",
    common_name="access.example.com",
    alternative_names=("access.example.com", "scratch.example.com"),
    organization="Business Company",
)
ON_OFF = pytest.mark.parametrize("faulty", [False, True], ids=["normal", "faulty"])


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    workdir = tmp_path_factory.mktemp("bt-faults-sim")
    with BeyondTrustSimulator(APPLIANCES, password=PASSWORD, workdir=workdir) as started:
        yield started


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("bt-faults-lab"))


@pytest.fixture
def control(sim: BeyondTrustSimulator) -> Iterator[BeyondTrustSimControl]:
    """The control plane, with no fault active and every appliance factory-fresh (before and
    after the test)."""
    made = BeyondTrustSimControl(sim.url, "admin", Secret(PASSWORD), sim.ca_file)
    made.set_faults([])
    made.reset()
    yield made
    made.set_faults([])
    made.reset()
    made.close()


@pytest.fixture
def client(
    sim: BeyondTrustSimulator, control: BeyondTrustSimControl
) -> Iterator[BeyondTrustClient]:
    with BeyondTrustClient(
        sim.url, "admin", Secret(PASSWORD), ca_bundle=sim.ca_file, read_only=False
    ) as made:
        yield made


@pytest.fixture
def raw(sim: BeyondTrustSimulator, control: BeyondTrustSimControl) -> Iterator[requests.Session]:
    """A plain ``requests`` session (bodies the control client never sends)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sim.ca_file)
    session.auth = ("admin", PASSWORD)
    yield session
    session.close()


def _inject(control: BeyondTrustSimControl, name: str, faulty: bool) -> None:
    control.set_faults([name] if faulty else [])


def _refused(error: pytest.ExceptionInfo[BeyondTrustApiError], status: int, field: str) -> None:
    assert (error.value.status, error.value.field) == (status, field), str(error.value)


def _spki(public: Any) -> bytes:
    return public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _installed(client: BeyondTrustClient, lab: LabCA, form: CertificateForm = FORM) -> int:
    """The guide's CA-signed path on the scratch appliance; the new default's id."""
    request = client.create_request("scratch", form)
    signed = (lab.sign(request.request_data) + lab.root_pem).encode()
    result = client.import_file("scratch", signed, filename="signed.pem")
    [leaf] = [row for row in result.added if row.private_key]
    return client.set_default("scratch", leaf.id).id


def _error_body(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"field", "message"}
    error: dict[str, Any] = body["error"]
    return error


# --- the catalogue --------------------------------------------------------------------------


def test_the_catalogue_names_nine_faults_each_with_its_requirement() -> None:
    assert {name: fault.requirement for name, fault in FAULTS.items()} == NAMES
    assert bt.BT01_FACTORY_CERTIFICATE_DELETABLE == "bt01_factory_certificate_deletable"
    assert all(fault.description and "\n" not in fault.description for fault in FAULTS.values())


# --- each fault breaks its one behaviour ------------------------------------------------------


@ON_OFF
def test_bt01_factory_certificate_deletable(
    client: BeyondTrustClient, control: BeyondTrustSimControl, faulty: bool
) -> None:
    _inject(control, bt.BT01_FACTORY_CERTIFICATE_DELETABLE, faulty)
    with pytest.raises(BeyondTrustApiError) as default:
        client.delete("scratch", 1)  # the default: refused with or without the fault
    _refused(default, 409, "id")
    own = client.create_self_signed("scratch", create_form())
    client.set_default("scratch", own.id)
    if faulty:
        client.delete("scratch", 1)
        assert [c.id for c in client.certificates("scratch")] == [own.id]
    else:
        with pytest.raises(BeyondTrustApiError) as factory:
            client.delete("scratch", 1)
        _refused(factory, 409, "id")
        assert "may not be removed" in factory.value.message
        assert [c.factory for c in client.certificates("scratch")] == [True, False]


@ON_OFF
def test_bt02_fqdn_common_name_not_first_san_accepted_by_self_signed_create_only(
    client: BeyondTrustClient, control: BeyondTrustSimControl, faulty: bool
) -> None:
    _inject(control, bt.BT02_FQDN_COMMON_NAME_NOT_FIRST_SAN_ACCEPTED, faulty)
    form = create_form(
        common_name="access.example.com",
        alternative_names=["scratch.example.com", "access.example.com"],
    )
    if faulty:
        made = client.create_self_signed("scratch", form)
        assert made.issued_to == "access.example.com"
        assert made.alternative_names[0] == "scratch.example.com"
    else:
        with pytest.raises(BeyondTrustApiError) as caught:
            client.create_self_signed("scratch", form)
        _refused(caught, 400, "alternative_names")
    with pytest.raises(BeyondTrustApiError) as request:
        client.create_request("scratch", form)  # the CSR keeps the rule either way
    _refused(request, 400, "alternative_names")
    first = create_form(common_name="access.example.com")
    assert client.create_self_signed("scratch", first).issued_to == "access.example.com"


@ON_OFF
def test_bt03_request_data_holds_key(
    client: BeyondTrustClient, control: BeyondTrustSimControl, faulty: bool
) -> None:
    _inject(control, bt.BT03_REQUEST_DATA_HOLDS_KEY, faulty)
    made = client.create_request("scratch", FORM)
    [listed] = client.requests("scratch")
    for data in (made.request_data, listed.request_data):
        csr = x509.load_pem_x509_csr(data.encode())
        assert data.startswith("-----BEGIN CERTIFICATE REQUEST-----")
        if faulty:
            assert "-----BEGIN PRIVATE KEY-----" in data
            key = load_private_key(data)
            assert _spki(key.public_key()) == _spki(csr.public_key())
        else:
            assert "PRIVATE KEY" not in data
            with pytest.raises(PkiError):
                load_private_key(data)


@ON_OFF
def test_bt04_signed_certificate_not_linked(
    client: BeyondTrustClient, control: BeyondTrustSimControl, lab: LabCA, faulty: bool
) -> None:
    _inject(control, bt.BT04_SIGNED_CERTIFICATE_NOT_LINKED, faulty)
    request = client.create_request("scratch", FORM)
    result = client.import_file("scratch", lab.sign(request.request_data).encode())
    [leaf] = [row for row in result.added if row.kind == "server"]
    assert leaf.issued_to == "access.example.com"
    if faulty:
        assert result.linked_requests == ()
        assert not leaf.private_key
        assert [r.id for r in client.requests("scratch")] == [request.id]
    else:
        assert result.linked_requests == (request.id,)
        assert leaf.private_key and leaf.friendly_name == FORM.friendly_name
        assert client.requests("scratch") == []


@ON_OFF
def test_bt05_missing_chain_not_warned(
    client: BeyondTrustClient,
    control: BeyondTrustSimControl,
    issuing_ca: CA,
    root_ca: CA,
    faulty: bool,
) -> None:
    _inject(control, bt.BT05_MISSING_CHAIN_NOT_WARNED, faulty)
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    [row] = client.import_file("scratch", (leaf.cert_pem + leaf.key_pem()).encode()).added
    assert row.warnings == (() if faulty else (CHAIN_WARNING,))
    client.import_file("scratch", der(issuing_ca.cert))
    assert client.certificates("scratch")[-2].warnings == (() if faulty else (CHAIN_WARNING,))
    client.import_file("scratch", der(root_ca.cert))
    assert [c.warnings for c in client.certificates("scratch")[1:]] == [(), (), ()]
    # the factory certificate keeps its own warning either way
    assert len(client.certificates("scratch")[0].warnings) == 1


@ON_OFF
def test_bt06_pkcs12_passphrase_ignored(
    client: BeyondTrustClient, control: BeyondTrustSimControl, lab: LabCA, faulty: bool
) -> None:
    _inject(control, bt.BT06_PKCS12_PASSPHRASE_IGNORED, faulty)
    leaf = _installed(client, lab)
    name, data = client.export(
        "scratch",
        [leaf],
        include_private_key=True,
        include_chain=True,
        passphrase=Secret(PASSPHRASE),
    )
    assert name.endswith(".p12")
    if faulty:
        opened = from_pkcs12(data, None)
        assert opened.key is not None and opened.cert is not None
    else:
        with pytest.raises(PkiError):
            from_pkcs12(data, None)
        assert from_pkcs12(data, PASSPHRASE).key is not None
    _key_name, key_only = client.export(
        "scratch",
        [leaf],
        include_certificate=False,
        include_private_key=True,
        include_chain=False,
        passphrase=Secret(PASSPHRASE),
    )
    with pytest.raises(PkiError):  # the PKCS#8 key export is encrypted either way
        load_private_key(key_only)
    with pytest.raises(BeyondTrustApiError) as caught:  # and a passphrase is still required
        client.export(
            "scratch", [leaf], include_private_key=True, include_chain=False, passphrase=None
        )
    _refused(caught, 400, "passphrase")


@ON_OFF
def test_bt07_support_bundle_holds_key(
    client: BeyondTrustClient, control: BeyondTrustSimControl, lab: LabCA, faulty: bool
) -> None:
    _inject(control, bt.BT07_SUPPORT_BUNDLE_HOLDS_KEY, faulty)
    leaf = _installed(client, lab)
    _name, data = client.support_bundle("scratch")
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert "status-basics.txt" in names
    assert sum(n.endswith(".pem") for n in names) == 3  # server, intermediate, root
    keys = [n for n in names if n.endswith((".key", ".p12", ".pfx"))]
    if faulty:
        [key_name] = keys
        key = load_private_key(archive.read(key_name))
        cert = next(c for c in client.certificates("scratch") if c.id == leaf).certificate
        assert key_matches(cert, key)
    else:
        assert keys == []
        assert all(b"PRIVATE KEY" not in archive.read(n) for n in names)


@ON_OFF
def test_bt12_same_subject_import_replaces(
    client: BeyondTrustClient, control: BeyondTrustSimControl, lab: LabCA, faulty: bool
) -> None:
    _inject(control, bt.BT12_SAME_SUBJECT_IMPORT_REPLACES, faulty)
    old = _installed(client, lab)
    old_row = client.default("scratch")
    renewal = client.create_request("scratch", FORM)  # same subject, new key
    signed = lab.sign(renewal.request_data, days=730).encode()
    [new] = [row for row in client.import_file("scratch", signed).added if row.kind == "server"]
    assert new.subject == old_row.subject and new.not_after > old_row.not_after
    servers = [c for c in client.certificates("scratch") if c.kind == "server" and not c.factory]
    if faulty:
        assert new.id == old and new.default
        assert [c.fingerprint for c in servers] == [new.fingerprint]
    else:
        assert new.id != old and not new.default
        assert {c.fingerprint for c in servers} == {old_row.fingerprint, new.fingerprint}
        client.set_default("scratch", new.id)
        client.delete("scratch", old)
    assert client.default("scratch").fingerprint == new.fingerprint


@ON_OFF
def test_bt13_unrelated_root_refused(
    client: BeyondTrustClient,
    control: BeyondTrustSimControl,
    issuing_ca: CA,
    root_ca: CA,
    other_root: CA,
    faulty: bool,
) -> None:
    _inject(control, bt.BT13_UNRELATED_ROOT_REFUSED, faulty)
    leaf = issuing_ca.issue_cert("access.example.com", key_type="rsa")
    chain = to_pem(issuing_ca.cert, root_ca.cert)  # a root that issued one of the file's
    client.import_file("scratch", (leaf.cert_pem + leaf.key_pem() + chain).encode())
    client.import_file("scratch", der(root_ca.cert))  # again: a stored root is related
    before = client.certificates("scratch")
    if faulty:
        with pytest.raises(BeyondTrustApiError) as caught:
            client.import_file("scratch", der(other_root.cert))  # the new CA's, before the switch
        _refused(caught, 409, "file")
        assert "Other Root CA" in caught.value.message
        assert client.certificates("scratch") == before
    else:
        [root] = client.import_file("scratch", der(other_root.cert)).added
        assert root.kind == "root" and root.issued_to == "Other Root CA"


def test_faults_apply_to_every_appliance(
    client: BeyondTrustClient, control: BeyondTrustSimControl
) -> None:
    control.set_faults([bt.BT03_REQUEST_DATA_HOLDS_KEY])
    for name in ("primary", "cloud", "scratch"):
        assert "PRIVATE KEY" in client.create_request(name, FORM).request_data


def test_each_fault_leaves_the_other_faults_behaviours_alone(
    client: BeyondTrustClient, control: BeyondTrustSimControl, lab: LabCA
) -> None:
    """With every fault but BT-04's, a signed certificate is still linked to its request."""
    control.set_faults([n for n in FAULTS if n != bt.BT04_SIGNED_CERTIFICATE_NOT_LINKED])
    request = client.create_request("scratch", FORM)
    signed = (lab.sign(request.request_data) + lab.root_pem).encode()
    assert client.import_file("scratch", signed).linked_requests == (request.id,)


# --- /_sim/faults ---------------------------------------------------------------------------


def test_get_and_put_faults(control: BeyondTrustSimControl) -> None:
    described = control.faults()
    assert described["active"] == []
    assert set(described["available"]) == set(NAMES)
    for name, text in described["available"].items():
        assert text.startswith(f"{NAMES[name]}: ")
    control.set_faults([bt.BT13_UNRELATED_ROOT_REFUSED, bt.BT01_FACTORY_CERTIFICATE_DELETABLE])
    assert control.faults()["active"] == [
        bt.BT01_FACTORY_CERTIFICATE_DELETABLE,
        bt.BT13_UNRELATED_ROOT_REFUSED,
    ]
    control.set_faults([])
    assert control.faults()["active"] == []


def test_put_answers_like_get(sim: BeyondTrustSimulator, raw: requests.Session) -> None:
    response = raw.put(f"{sim.url}_sim/faults", json={"active": [bt.BT05_MISSING_CHAIN_NOT_WARNED]})
    assert response.status_code == 200
    assert response.json() == raw.get(f"{sim.url}_sim/faults").json()
    assert response.json()["active"] == [bt.BT05_MISSING_CHAIN_NOT_WARNED]
    assert sim.faults.current() == {bt.BT05_MISSING_CHAIN_NOT_WARNED}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"active": ["bt99_no_such_fault"]}, "active"),
        ({"active": [bt.BT01_FACTORY_CERTIFICATE_DELETABLE, "nope"]}, "active"),
        ({"active": "bt01_factory_certificate_deletable"}, "active"),
        ({"active": [1]}, "active"),
        ({}, "active"),
        ({"active": [], "extra": True}, "extra"),
        (["bt01_factory_certificate_deletable"], None),
    ],
)
def test_a_bad_faults_body_is_refused_and_changes_nothing(
    sim: BeyondTrustSimulator,
    control: BeyondTrustSimControl,
    raw: requests.Session,
    body: Any,
    field: str | None,
) -> None:
    control.set_faults([bt.BT07_SUPPORT_BUNDLE_HOLDS_KEY])
    error = _error_body(raw.put(f"{sim.url}_sim/faults", json=body), 400)
    assert error["field"] == field
    if "nope" in str(body) or "bt99" in str(body):
        unknown = "nope" if "nope" in str(body) else "bt99_no_such_fault"
        assert unknown in error["message"]
    assert control.faults()["active"] == [bt.BT07_SUPPORT_BUNDLE_HOLDS_KEY]


def test_an_unknown_fault_through_the_control_client(control: BeyondTrustSimControl) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        control.set_faults(["bt99_no_such_fault"])
    assert caught.value.response is not None and caught.value.response.status_code == 400


def test_faults_and_malformed_json(sim: BeyondTrustSimulator, raw: requests.Session) -> None:
    _error_body(raw.put(f"{sim.url}_sim/faults", data=b"{not json"), 400)
    response = raw.delete(f"{sim.url}_sim/faults")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, PUT"
    anonymous = requests.get(f"{sim.url}_sim/faults", verify=str(sim.ca_file), timeout=10)
    assert anonymous.status_code == 401


def test_a_reset_keeps_the_faults(
    client: BeyondTrustClient, control: BeyondTrustSimControl
) -> None:
    control.set_faults([bt.BT01_FACTORY_CERTIFICATE_DELETABLE])
    control.reset()
    control.reset("scratch", cloud=True)
    assert control.faults()["active"] == [bt.BT01_FACTORY_CERTIFICATE_DELETABLE]
    own = client.create_self_signed("primary", create_form())
    client.set_default("primary", own.id)
    client.delete("primary", 1)  # the fault still acts


# --- /_sim/reset ------------------------------------------------------------------------------


def test_a_scoped_reset_leaves_the_other_appliances_untouched(
    client: BeyondTrustClient, control: BeyondTrustSimControl
) -> None:
    for name in ("primary", "scratch"):
        made = client.create_self_signed(name, create_form())
        client.set_default(name, made.id)
        client.create_request(name, FORM)
    primary = client.certificates("primary")
    control.reset("scratch")
    [factory] = client.certificates("scratch")
    assert factory.factory and factory.default
    assert client.requests("scratch") == []
    assert client.certificates("primary") == primary
    assert len(client.requests("primary")) == 1
    control.reset()
    assert all(len(client.certificates(a.name)) == 1 for a in client.appliances())
    assert all(client.requests(a.name) == [] for a in client.appliances())


def test_a_cloud_reset_refuses_the_self_signed_create(
    client: BeyondTrustClient, control: BeyondTrustSimControl
) -> None:
    control.reset("scratch", cloud=True)
    assert {a.name: a.cloud for a in client.appliances()} == {
        "primary": False,
        "cloud": True,
        "scratch": True,
    }
    with pytest.raises(BeyondTrustApiError) as caught:
        client.create_self_signed("scratch", create_form())
    _refused(caught, 409, "cloud")
    assert client.create_request("scratch", FORM).id  # a request is still possible
    control.reset("scratch")  # cloud defaults to false
    assert client.create_self_signed("scratch", create_form()).id
    control.reset("cloud")  # created as a cloud appliance: a scoped reset makes it not one
    assert client.create_self_signed("cloud", create_form()).id
    control.reset("scratch", cloud=True)
    control.reset()  # a full reset: every appliance as it was created
    assert {a.name: a.cloud for a in client.appliances()} == {
        "primary": False,
        "cloud": True,
        "scratch": False,
    }


def test_the_scratch_role(client: BeyondTrustClient) -> None:
    roles = {a.name: a.role for a in client.appliances()}
    assert roles == {"primary": "primary", "cloud": "primary", "scratch": "scratch"}


def test_an_unknown_appliance_is_404(
    sim: BeyondTrustSimulator, control: BeyondTrustSimControl, raw: requests.Session
) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        control.reset("nope")
    assert caught.value.response is not None and caught.value.response.status_code == 404
    error = _error_body(raw.post(f"{sim.url}_sim/reset", json={"appliance": "nope"}), 404)
    assert error["field"] == "appliance" and "nope" in error["message"]
    with pytest.raises(ValueError):
        control.reset(cloud=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"appliance": 5}, "appliance"),
        ({"appliance": ""}, "appliance"),
        ({"appliance": "scratch", "cloud": "yes"}, "cloud"),
        ({"cloud": True}, "appliance"),
        ({"appliance": "scratch", "site": "x"}, "site"),
        (["scratch"], None),
    ],
)
def test_a_bad_reset_body_is_refused_and_resets_nothing(
    sim: BeyondTrustSimulator,
    client: BeyondTrustClient,
    raw: requests.Session,
    body: Any,
    field: str | None,
) -> None:
    made = client.create_self_signed("scratch", create_form())
    error = _error_body(raw.post(f"{sim.url}_sim/reset", json=body), 400)
    assert error["field"] == field
    assert [c.id for c in client.certificates("scratch")] == [1, made.id]


def test_a_reset_without_or_with_an_empty_body_resets_every_appliance(
    sim: BeyondTrustSimulator, client: BeyondTrustClient, raw: requests.Session
) -> None:
    for body in (None, {}):
        for name in ("primary", "scratch"):
            client.create_self_signed(name, create_form())
        response = raw.post(f"{sim.url}_sim/reset", json=body)
        assert response.status_code == 204
        assert all(len(client.certificates(a.name)) == 1 for a in client.appliances())
    _error_body(raw.post(f"{sim.url}_sim/reset", data=b"{oops"), 400)
