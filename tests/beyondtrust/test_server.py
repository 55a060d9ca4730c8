"""The JSON API over real HTTPS with ``requests``: every endpoint and its errors (JSON bodies
naming the field, never a 5xx), authentication, ``/_sim/reset``, and a site of several
appliances whose listeners serve what the API set up (failover BT-10, Atlas BT-11)."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from accord.pki import CA, LeafCert, from_pkcs12, to_pem, to_pkcs12
from simulator.beyondtrust import ApplianceSpec, BeyondTrustSimulator
from tests.beyondtrust.helpers import create_form, der, handshake

USERNAME = "admin"
PASSWORD = "bt-sim-Passw0rd"
SECRET = "Secret-Passphr4se"
APPLIANCES = (
    ApplianceSpec("primary", "pra1.example.com"),
    ApplianceSpec("backup", "pra2.example.com", role="backup"),
    ApplianceSpec("atlas1", "node1.example.com", role="traffic_node"),
    ApplianceSpec("cloud", "example.bomgarcloud.com", cloud=True),
)
SITE = "access.example.com"


class Api:
    """``requests`` against the simulator; ``path`` is relative to ``/api/appliances/``."""

    def __init__(self, sim: BeyondTrustSimulator, auth: Any = (USERNAME, PASSWORD)) -> None:
        self.base = sim.url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(sim.ca_file)
        self.session.auth = auth

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        url = path if path.startswith("/") else f"/api/appliances/{path}"
        return self.session.request(method, self.base + url, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json() if response.content else None

    def error(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (path, response.status_code, response.text)
        assert response.headers["Content-Type"] == "application/json"
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"field", "message"}
        assert SECRET not in response.text and "PRIVATE KEY" not in response.text
        return body["error"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    workdir = tmp_path_factory.mktemp("bt-sim")
    with BeyondTrustSimulator(APPLIANCES, password=PASSWORD, workdir=workdir) as started:
        yield started


@pytest.fixture
def api(sim: BeyondTrustSimulator) -> Iterator[Api]:
    client = Api(sim)
    assert client.call("POST", "/_sim/reset").status_code == 204
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def site_cert(issuing_ca: CA) -> LeafCert:
    """A CA-signed wildcard certificate covering the site and every appliance hostname."""
    return issuing_ca.issue_cert("*.example.com", SITE, key_type="rsa")


def import_json(api: Api, name: str, data: bytes, password: str | None = None) -> Any:
    body: dict[str, Any] = {"data": base64.b64encode(data).decode()}
    if password is not None:
        body["password"] = password
    return api.ok("POST", f"{name}/certificates/import", json=body)


# --- authentication, paths, control ----------------------------------------------------------


def test_authentication_is_required(sim: BeyondTrustSimulator) -> None:
    for auth in (None, (USERNAME, "wrong"), ("someone", PASSWORD)):
        client = Api(sim, auth=auth)
        for path in ("", "/_sim/reset"):
            response = client.call("POST" if path else "GET", path)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic")
            assert response.json()["error"]["field"] is None


def test_appliances_and_their_listeners(api: Api, sim: BeyondTrustSimulator) -> None:
    appliances = api.ok("GET", "")["appliances"]
    assert [a["name"] for a in appliances] == ["primary", "backup", "atlas1", "cloud"]
    for item in appliances:
        assert (item["listener"]["host"], item["listener"]["port"]) == sim.listeners[item["name"]]
    backup = api.ok("GET", "backup/")["appliance"]
    assert backup["role"] == "backup" and backup["hostname"] == "pra2.example.com"
    assert api.ok("GET", "cloud")["appliance"]["cloud"] is True
    assert api.error("GET", "nowhere/certificates", 404)["field"] == "appliance"


def test_unknown_paths_and_methods(api: Api) -> None:
    assert "not found" in api.error("GET", "/nope", 404)["message"]
    assert api.error("GET", "primary/certificates/abc", 404)["field"] is None
    response = api.call("DELETE", "primary/certificates")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert api.call("PATCH", "primary/certificates/default").headers["Allow"] == "GET, PUT"
    assert api.call("GET", "/_sim/reset").status_code == 405


def test_reset_restores_every_appliance(api: Api) -> None:
    api.ok("POST", "primary/certificates/self-signed", 201, json=create_form())
    api.ok("POST", "backup/requests", 201, json=create_form())
    assert api.call("POST", "/_sim/reset/").status_code == 204
    assert len(api.ok("GET", "primary/certificates")["certificates"]) == 1
    assert api.ok("GET", "backup/requests")["requests"] == []


# --- BT-01 / BT-02 / BT-03 -------------------------------------------------------------------


def test_factory_certificate_listing_and_refused_delete(api: Api) -> None:
    listing = api.ok("GET", "primary/certificates")
    [factory] = listing["certificates"]
    assert listing["default"] == factory["id"] == 1
    assert factory["issued_to"] == "BeyondTrust Appliance" and factory["warnings"]
    assert factory["private_key"] is True and factory["kind"] == "server"
    assert factory["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    error = api.error("DELETE", "primary/certificates/1", 409)
    assert error == {
        "field": "id",
        "message": "The factory default configuration may not be removed.",
    }


def test_create_self_signed_and_its_errors(api: Api) -> None:
    created = api.ok("POST", "primary/certificates/self-signed", 201, json=create_form())
    row = created["certificate"]
    assert row["alternative_names"] == ["access.example.com", "*.example.com"]
    assert row["issued_to"] == row["issued_by"] == "Example PRA certificate"
    assert api.ok("GET", f"primary/certificates/{row['id']}")["certificate"] == row
    bad = api.error("POST", "primary/certificates/self-signed", 400, json=create_form(country="X"))
    assert bad["field"] == "country"
    cn = create_form(common_name="access.example.com", alternative_names=["x.example.com"])
    assert api.error("POST", "primary/certificates/self-signed", 400, json=cn)["field"] == (
        "alternative_names"
    )
    cloud = api.error("POST", "cloud/certificates/self-signed", 409, json=create_form())
    assert "cloud site" in cloud["message"]
    assert len(api.ok("GET", "primary/certificates")["certificates"]) == 2


def test_certificate_requests(api: Api, issuing_ca: CA) -> None:
    made = api.ok("POST", "primary/requests", 201, json=create_form())["request"]
    assert made["public_key"] == "RSA (2048 Bits)"
    assert made["request_data"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "PRIVATE" not in str(made)
    assert api.ok("GET", "primary/requests")["requests"] == [made]
    assert api.ok("GET", f"primary/requests/{made['id']}")["request"] == made
    signed = issuing_ca.sign_csr(made["request_data"])
    result = api.ok(
        "POST", "primary/certificates/import", files={"file": ("signed.cer", der(signed))}
    )
    assert result["linked_requests"] == [made["id"]]
    assert result["added"][0]["private_key"] is True
    assert api.ok("GET", "primary/requests")["requests"] == []
    again = api.ok("POST", "primary/requests", 201, json=create_form())["request"]
    assert api.call("DELETE", f"primary/requests/{again['id']}").status_code == 204
    assert api.error("GET", f"primary/requests/{again['id']}", 404)["field"] == "id"
    assert api.error("POST", "primary/requests", 400, json=create_form(key_size=1024))["field"] == (
        "key_size"
    )


# --- BT-04 Import --------------------------------------------------------------------------------


def test_import_multipart_and_json(
    api: Api, site_cert: LeafCert, issuing_ca: CA, root_ca: CA
) -> None:
    p12 = to_pkcs12(site_cert.key, site_cert.cert, passphrase=SECRET)
    by_form = api.ok(
        "POST",
        "primary/certificates/import",
        files={"file": ("site.p12", p12)},
        data={"password": SECRET},
    )
    [server] = by_form["added"]
    assert server["private_key"] is True
    assert server["warnings"] == [
        "The certificate chain is incomplete: intermediate or root missing"
    ]
    chain = import_json(api, "primary", to_pem(issuing_ca.cert, root_ca.cert).encode())
    assert [c["kind"] for c in chain["added"]] == ["intermediate", "root"]
    assert api.ok("GET", f"primary/certificates/{server['id']}")["certificate"]["warnings"] == []
    again = import_json(api, "primary", der(root_ca.cert))
    assert again["added"] == [] and len(again["unchanged"]) == 1


def test_import_errors(api: Api, site_cert: LeafCert) -> None:
    path = "primary/certificates/import"
    p12 = to_pkcs12(site_cert.key, site_cert.cert, passphrase=SECRET)
    wrong = api.error("POST", path, 400, files={"file": ("x.p12", p12)}, data={"password": "no"})
    assert wrong == {"field": "password", "message": "wrong password for the PKCS#12 file"}
    assert api.error("POST", path, 400, files={"other": ("x", b"1")})["field"] == "file"
    assert api.error("POST", path, 400, json={"data": "***"})["field"] == "data"
    assert api.error("POST", path, 400, json={})["field"] == "data"
    assert api.error("POST", path, 400, json={"data": "AAAA", "extra": 1})["field"] == "extra"
    assert api.error("POST", path, 400, json={"data": "AAAA", "password": 5})["field"] == "password"
    garbage = api.error("POST", path, 400, json={"data": base64.b64encode(b"junk").decode()})
    assert garbage["field"] == "file"
    key_only = site_cert.key_pem().encode()
    assert (
        "no certificate"
        in api.error("POST", path, 400, files={"file": ("k.key", key_only)})["message"]
    )
    assert (
        "malformed JSON"
        in api.error("POST", path, 400, data=b"{", headers={"Content-Type": "application/json"})[
            "message"
        ]
    )
    assert len(api.ok("GET", "primary/certificates")["certificates"]) == 1


# --- BT-06 Export and BT-07 bundle -------------------------------------------------------------


def test_export_files(api: Api, site_cert: LeafCert, issuing_ca: CA, root_ca: CA) -> None:
    text = site_cert.cert_pem + site_cert.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)
    server = import_json(api, "primary", text.encode())["added"][0]
    response = api.call(
        "POST",
        "primary/certificates/export",
        json={
            "ids": [server["id"]],
            "include_private_key": True,
            "include_chain": True,
            "passphrase": SECRET,
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-pkcs12"
    assert (
        response.headers["Content-Disposition"] == "attachment; filename=wildcard.example.com.p12"
    )
    p12 = from_pkcs12(response.content, SECRET)
    assert p12.cert == site_cert.cert and len(p12.chain) == 2
    plain = api.call("POST", "primary/certificates/export", json={"ids": [server["id"]]})
    assert plain.headers["Content-Type"] == "application/pkix-cert"
    assert plain.content == der(site_cert.cert)


def test_export_errors(api: Api) -> None:
    path = "primary/certificates/export"
    no_pass = api.error("POST", path, 400, json={"ids": [1], "include_private_key": True})
    assert no_pass["field"] == "passphrase"
    assert api.error("POST", path, 400, json={"ids": 1})["field"] == "ids"
    assert api.error("POST", path, 400, json={"ids": []})["field"] == "ids"
    assert api.error("POST", path, 400, json={"ids": ["1"]})["field"] == "ids"
    assert api.error("POST", path, 404, json={"ids": [42]})["field"] == "ids"
    flag = api.error("POST", path, 400, json={"ids": [1], "include_chain": "yes"})
    assert flag["field"] == "include_chain"
    assert api.error("POST", path, 400, json={"ids": [1], "format": "pem"})["field"] == "format"
    assert api.error("POST", path, 400, json=[1])["field"] is None


def test_support_bundle(api: Api, site_cert: LeafCert, issuing_ca: CA, root_ca: CA) -> None:
    text = site_cert.cert_pem + site_cert.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)
    server = import_json(api, "primary", text.encode())["added"][0]
    response = api.call("GET", f"primary/certificates/support-bundle?id={server['id']}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == 4 and not any(n.endswith((".p12", ".pfx", ".key")) for n in names)
    assert b"PRIVATE KEY" not in response.content
    default = api.call("GET", "primary/certificates/support-bundle")
    assert (
        zipfile.ZipFile(io.BytesIO(default.content))
        .namelist()[0]
        .endswith("BeyondTrust_Appliance.pem")
    )
    assert api.error("GET", "primary/certificates/support-bundle?id=x", 400)["field"] == "id"
    assert api.error("GET", "primary/certificates/support-bundle?id=99", 404)["field"] == "id"


# --- Default, Delete, selection (BT-08, BT-12) ---------------------------------------------------


def test_default_delete_and_selection(api: Api, sim: BeyondTrustSimulator, root_ca: CA) -> None:
    made = api.ok("POST", "primary/certificates/self-signed", 201, json=create_form())
    new_id = made["certificate"]["id"]
    root_id = import_json(api, "primary", der(root_ca.cert))["added"][0]["id"]
    assert (
        api.ok("GET", "primary/certificates/select?server_name=x.example.com")["certificate"]["id"]
        == new_id
    )
    assert api.ok("GET", "primary/certificates/select")["certificate"]["id"] == 1
    assert api.ok("PUT", "primary/certificates/default", json={"id": new_id})["certificate"][
        "default"
    ]
    assert api.ok("GET", "primary/certificates/default")["certificate"]["id"] == new_id
    served = handshake(sim.listeners["primary"], None).leaf
    assert served == x509.load_pem_x509_certificate(made["certificate"]["certificate_pem"].encode())
    assert (
        api.error("PUT", "primary/certificates/default", 409, json={"id": root_id})["field"] == "id"
    )
    assert api.error("PUT", "primary/certificates/default", 400, json={})["field"] == "id"
    assert api.error("PUT", "primary/certificates/default", 400, json={"id": "2"})["field"] == "id"
    assert api.error("PUT", "primary/certificates/default", 404, json={"id": 77})["field"] == "id"
    assert "is the default" in api.error("DELETE", f"primary/certificates/{new_id}", 409)["message"]
    assert api.call("DELETE", f"primary/certificates/{root_id}").status_code == 204
    assert api.error("DELETE", f"primary/certificates/{root_id}", 404)["field"] == "id"


def test_renewal_becomes_default_and_old_is_removed(
    api: Api, sim: BeyondTrustSimulator, issuing_ca: CA, root_ca: CA
) -> None:
    chain = to_pem(issuing_ca.cert, root_ca.cert)
    old = issuing_ca.issue_cert(SITE, key_type="rsa", days=20)
    new = issuing_ca.issue_cert(SITE, key_type="rsa", days=400)
    old_id = import_json(api, "primary", (old.cert_pem + old.key_pem() + chain).encode())["added"][
        0
    ]["id"]
    api.ok("PUT", "primary/certificates/default", json={"id": old_id})
    new_row = import_json(api, "primary", (new.cert_pem + new.key_pem()).encode())["added"][0]
    rows = {r["id"]: r for r in api.ok("GET", "primary/certificates")["certificates"]}
    assert rows[new_row["id"]]["not_after"] > rows[old_id]["not_after"]  # later expiry
    api.ok("PUT", "primary/certificates/default", json={"id": new_row["id"]})
    assert api.call("DELETE", f"primary/certificates/{old_id}").status_code == 204
    for name in (SITE, None):
        assert handshake(sim.listeners["primary"], name).leaf == new.cert


# --- several appliances: failover and Atlas ---------------------------------------------------


def test_failover_and_atlas_serve_one_certificate(
    api: Api, sim: BeyondTrustSimulator, site_cert: LeafCert, issuing_ca: CA, root_ca: CA
) -> None:
    text = site_cert.cert_pem + site_cert.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)
    server = import_json(api, "primary", text.encode())["added"][0]
    exported = api.call(
        "POST",
        "primary/certificates/export",
        json={
            "ids": [server["id"]],
            "include_private_key": True,
            "include_chain": True,
            "passphrase": SECRET,
        },
    ).content
    for name in ("backup", "atlas1"):
        added = import_json(api, name, exported, SECRET)["added"]
        assert added[0]["fingerprint_sha256"] == server["fingerprint_sha256"]
        api.ok("PUT", f"{name}/certificates/default", json={"id": added[0]["id"]})
    api.ok("PUT", "primary/certificates/default", json={"id": server["id"]})
    hostnames = [SITE, "pra1.example.com", "pra2.example.com", "node1.example.com"]
    for name in ("primary", "backup", "atlas1"):
        for hostname in (*hostnames, None):
            done = handshake(sim.listeners[name], hostname)
            assert done.leaf == site_cert.cert and done.chain[1:] == (issuing_ca.cert,)


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'"x"', b"1e999", b"NaN", b'{"a":' * 5000, b"\xff\xfe", b"{}"],
)
def test_odd_bodies_never_give_a_server_error(api: Api, body: bytes) -> None:
    for method, path in (
        ("POST", "primary/certificates/self-signed"),
        ("POST", "primary/requests"),
        ("POST", "primary/certificates/import"),
        ("POST", "primary/certificates/export"),
        ("PUT", "primary/certificates/default"),
    ):
        response = api.call(method, path, data=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert set(response.json()["error"]) == {"field", "message"}


def test_a_body_too_large_is_refused(api: Api) -> None:
    big = b"0" * (4 * 1024 * 1024 + 10)
    assert api.error("POST", "primary/certificates/import", 413, files={"file": ("x", big)})
    assert api.error("POST", "primary/certificates/export", 413, data=big)


def test_simulator_lifecycle(tmp_path: Path) -> None:
    sim = BeyondTrustSimulator(password=PASSWORD)
    assert PASSWORD not in repr(sim) and PASSWORD not in repr(sim.app)
    with sim:
        assert sim.ca_file.exists() and list(sim.listeners) == ["primary"]
        with pytest.raises(RuntimeError):
            sim.start()
        workdir = sim.ca_file.parent
    assert not workdir.exists() and sim.listeners == {}
    with pytest.raises(ValueError):
        BeyondTrustSimulator(password="")


@pytest.mark.parametrize("where", [{"host": "0.0.0.0"}, {"listener_host": "192.0.2.1"}])
def test_the_simulator_listens_on_loopback_only(where: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="loopback"):
        BeyondTrustSimulator(password=PASSWORD, **where)
