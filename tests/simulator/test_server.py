"""The server: start-up, TLS material, HSTS, authentication, robustness of the listener."""

from __future__ import annotations

import base64
import socket
import ssl
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
from cryptography.x509.verification import PolicyBuilder, Store

from simulator.pexip import ManagementNodeSimulator, Seed
from tests.simulator.conftest import CONFIG, PASSWORD, USERNAME, Api


def served_certificate(sim: ManagementNodeSimulator) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(sim.ca_file))
    with socket.create_connection((sim.host, sim.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def test_starts_fast_and_two_simulators_share_a_workdir(tmp_path):
    started = time.perf_counter()
    primary = ManagementNodeSimulator(
        name="pexip-primary", username="admin", password="pw1", workdir=tmp_path
    ).start()
    elapsed = time.perf_counter() - started
    contingency = ManagementNodeSimulator(
        name="pexip-contingency",
        username="admin",
        password="pw2",
        workdir=tmp_path,
        seed=Seed(domain="contingency.example.com", address_prefix="198.51.100."),
    )
    with contingency:
        try:
            assert elapsed < 1.0
            assert primary.ca_file == tmp_path / "pexip-primary-ca.pem"
            assert contingency.ca_file == tmp_path / "pexip-contingency-ca.pem"
            assert primary.url != contingency.url
            assert primary.url.startswith("https://127.0.0.1:") and primary.url.endswith("/")
            mgr = Api(contingency, auth=("admin", "pw2")).ok(CONFIG + "management_vm/1/")
            assert mgr["domain"] == "contingency.example.com"
            assert mgr["address"] == "198.51.100.10"
            # each simulator's CA only vouches for its own listener
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(
                    contingency.url, verify=str(primary.ca_file), auth=("admin", "pw2"), timeout=5
                )
        finally:
            primary.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(primary.url, verify=str(primary.ca_file), timeout=2)


def test_listener_certificate_satisfies_strict_verifiers(sim):
    leaf = served_certificate(sim)
    ca = x509.load_pem_x509_certificate(sim.ca_file.read_bytes())
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert not san.critical
    assert "localhost" in san.value.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(x509.DNSName("localhost"))
    assert verifier.verify(leaf, [])[-1] == ca
    strict = ssl.create_default_context(cafile=str(sim.ca_file))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection((sim.host, sim.port), timeout=5) as raw:
        with strict.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_reachable_by_localhost_name(sim):
    url = sim.url.replace("127.0.0.1", "localhost") + "api/admin/configuration/v1/global/1/"
    session = requests.Session()
    session.trust_env = False
    response = session.get(url, auth=(USERNAME, PASSWORD), verify=str(sim.ca_file), timeout=5)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", CONFIG + "global/1/"),
        ("GET", CONFIG + "nope/"),
        ("PUT", CONFIG + "global/1/"),
        ("PATCH", CONFIG + "global/1/"),
        ("POST", "/_sim/reset"),
        ("GET", "/_sim/requests"),
    ],
)
def test_every_response_has_hsts(api, method, path):
    for client in (api, Api(api.sim, auth=None)):
        response = client.request(method, path, json={"management_qos": 1})
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic " + base64.b64encode(f"{USERNAME}:wrong".encode()).decode(),
        "Basic " + base64.b64encode(f"root:{PASSWORD}".encode()).decode(),
        "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}x".encode()).decode(),
        "Basic " + base64.b64encode(f"{USERNAME}{PASSWORD}".encode()).decode(),
        "Basic !!!notbase64",
        "Basic " + base64.b64encode("é:ü".encode()).decode(),
        "Bearer abc",
        "",
    ],
)
def test_missing_or_wrong_credentials_are_401(api, header):
    anonymous = Api(api.sim, auth=None)
    headers = {} if header is None else {"Authorization": header}
    targets = [
        ("GET", CONFIG + "global/1/"),
        ("PATCH", CONFIG + "global/1/"),
        ("GET", "/_sim/state"),
        ("POST", "/_sim/reset"),
        ("GET", "/nothing"),
    ]
    for method, path in targets:
        response = anonymous.request(method, path, headers=headers, json={"enable_chat": False})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Pexip Infinity"'
        assert set(response.json()) == {"error"}
    assert api.ok(CONFIG + "global/1/")["enable_chat"] is True


def test_silent_and_plaintext_clients_do_not_block_the_listener(api):
    silent = socket.create_connection((api.sim.host, api.sim.port), timeout=5)
    plain = socket.create_connection((api.sim.host, api.sim.port), timeout=5)
    try:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.perf_counter()
        assert api.get(CONFIG + "global/1/", timeout=3).status_code == 200
        assert time.perf_counter() - started < 1.0
    finally:
        silent.close()
        plain.close()


def test_concurrent_writes_are_serialised(api):
    import concurrent.futures

    def create(i: int) -> int:
        client = Api(api.sim)
        return client.post(CONFIG + "syslog_server/", json={"address": f"log{i}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(24)))
    assert statuses == [201] * 24
    servers = api.objects("syslog_server")
    assert sorted(s["id"] for s in servers) == list(range(1, 25))
    assert len({s["address"] for s in servers}) == 24


def test_port_in_use_is_an_oserror_not_an_exit(sim, tmp_path):
    clash = ManagementNodeSimulator(
        name="clash", username="admin", password="pw", workdir=tmp_path, port=sim.port
    )
    with pytest.raises(OSError):
        clash.start()
