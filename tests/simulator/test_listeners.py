"""Node listeners (TLS-08, TLS-16): what every node serves on the wire, through real TLS
handshakes with Python's ``ssl`` (no mocks): the API on the Management Node's listener, each
Conferencing Node's HTTPS and SIP TLS, the assigned certificate and its chain, sync delay,
listeners following the model."""

from __future__ import annotations

import ipaddress
import random
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from accord.http import session
from simulator.pexip import ManagementNodeSimulator, Seed, listeners, services
from simulator.pexip.resources import WORKER_VM
from tests.simulator.certs import CA, Issued
from tests.simulator.conftest import CONFIG, PASSWORD, USERNAME

TLS = CONFIG + "tls_certificate/"
CA_LIST = CONFIG + "ca_certificate/"
MGR_FQDN = "pxmgr01.pexip.example.com"
CONF1_FQDN = "pxconf01.pexip.example.com"
HSTS = "max-age=31536000; includeSubDomains"
OPTIONS = (
    "OPTIONS sip:pxconf01.pexip.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-1\r\n"
    "Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bK-0\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:probe@example.com>;tag=abc\r\n"
    "To: <sip:pxconf01.pexip.example.com>\r\n"
    "Call-ID: 1234@probe\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n"
)


class NodeApi:
    """``requests`` to the API, verified against ``trust`` for the Management Node's FQDN."""

    def __init__(self, sim: ManagementNodeSimulator, trust: Path) -> None:
        self.base = sim.url.rstrip("/")
        self.trust = trust
        # Connect by address, send SNI and verify the certificate for the node's FQDN.
        self.session = session(sim.server_name)
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        self.session.auth = (USERNAME, PASSWORD)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, verify=str(self.trust), **kwargs)

    def created(self, path: str, body: dict[str, Any]) -> str:
        response = self.request("POST", path, json=body)
        assert response.status_code == 201, response.text
        return response.headers["Location"].removeprefix(self.base)

    def write(self, method: str, path: str, body: Any = None) -> None:
        response = self.request(method, path, json=body)
        assert response.status_code in (200, 201, 202, 204), response.text


def reach(sim: ManagementNodeSimulator, address: str) -> str:
    """Where node ``address`` listens, by the simulator's published ``address_map``."""
    ((source, destination),) = sim.address_map.items()
    offset = int(ipaddress.ip_address(address)) - int(ipaddress.ip_network(source)[0])
    return str(ipaddress.ip_network(destination)[0] + offset)


def handshake(host: str, port: int, server_name: str | None = None) -> list[x509.Certificate]:
    """The certificates a listener sends (leaf first), without verifying them."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            public = getattr(tls, "get_unverified_chain", None)  # Python 3.13+
            chain = public() if public else tls._sslobj.get_unverified_chain()  # type: ignore
    return [
        x509.load_der_x509_certificate(c)
        if isinstance(c, bytes)
        else x509.load_pem_x509_certificate(c.public_bytes().encode())
        for c in chain
    ]


def sip(host: str, request: str, port: int = 5061) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(request.encode())
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    return data.decode()


def refused(host: str, port: int) -> bool:
    """Nothing listens there: the connection is reset, or (a node dropping packets to closed
    ports, the factory answer, when the run has root) it times out."""
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except (ConnectionRefusedError, TimeoutError):
        return True
    return False


def subjects(chain: list[x509.Certificate]) -> list[str]:
    return [c.subject.rfc4514_string() for c in chain]


@pytest.fixture
def net(network_sim: ManagementNodeSimulator) -> ManagementNodeSimulator:
    """The module's simulator with node listeners, factory-fresh (reset in-process, then the
    listeners synchronised as a write request would)."""
    network_sim.model.reset()
    network_sim.app.log.clear()
    network_sim.sync_listeners()
    return network_sim


@pytest.fixture
def trust(net: ManagementNodeSimulator, tmp_path: Path) -> Path:
    """A bundle of the shipped Management Node certificate and the test CA's root."""
    path = tmp_path / "trust.pem"
    path.write_text(net.ca_file.read_text() + TEST_CA.root.pem)
    return path


TEST_CA = CA("Listener", intermediate=True)


def upload(client: NodeApi, leaf: Issued, chain: tuple[Issued, ...] = ()) -> str:
    text = leaf.pem + "".join(c.pem for c in chain)
    return client.created(TLS, {"certificate": text, "private_key": leaf.key_pem})


def trust_ca_list(client: NodeApi, ca: CA) -> None:
    assert ca.intermediate is not None
    client.created(CA_LIST, {"certificate": ca.intermediate.pem})
    client.created(CA_LIST, {"certificate": ca.root.pem})


# -- the API on the Management Node's listener -------------------------------------------


def test_api_is_the_management_nodes_listener_verified_by_ca_file_and_fqdn(net):
    assert net.server_name == MGR_FQDN
    ((source, destination),) = net.address_map.items()
    assert source == "192.0.2.0/24"
    loopback = ipaddress.ip_network(destination)
    assert loopback.prefixlen == 24 and loopback.subnet_of(ipaddress.ip_network("127.0.0.0/8"))
    assert net.port_map == {443: 8443, 22: 2222, 161: 1161}
    assert net.url == f"https://{reach(net, '192.0.2.10')}:8443/"
    shipped = x509.load_pem_x509_certificate(net.ca_file.read_bytes())
    assert shipped.subject == shipped.issuer  # the shipped temporary certificate
    assert handshake(reach(net, "192.0.2.10"), 8443, MGR_FQDN) == [shipped]
    client = NodeApi(net, net.ca_file)
    response = client.request("GET", CONFIG + "management_vm/1/")
    assert response.status_code == 200 and response.json()["address"] == "192.0.2.10"
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert net.app.log.summary()["total"] == 1
    # Verified for the FQDN, not the address it is reached at.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(net.url, verify=str(net.ca_file), timeout=5)


def test_ca_file_stays_valid_across_resets_and_clock_moves(net):
    before = net.ca_file.read_bytes()
    client = NodeApi(net, net.ca_file)
    client.write("PUT", "/_sim/clock", {"advance_days": 400})
    client.write("POST", "/_sim/reset")
    assert net.ca_file.read_bytes() == before
    shipped = x509.load_pem_x509_certificate(before)
    assert handshake(reach(net, "192.0.2.10"), 8443) == [shipped]
    assert client.request("GET", CONFIG + "global/1/").status_code == 200


def test_api_serves_an_assigned_ca_signed_certificate_with_the_chain_from_the_ca_list(
    net, trust, tmp_path
):
    client = NodeApi(net, trust)
    leaf = TEST_CA.leaf(MGR_FQDN)
    uri = upload(client, leaf)
    trust_ca_list(client, TEST_CA)
    client.write("PATCH", CONFIG + "management_vm/1/", {"tls_certificate": uri})
    assert TEST_CA.intermediate is not None
    chain = handshake(reach(net, "192.0.2.10"), 8443, MGR_FQDN)
    assert chain == [leaf.cert, TEST_CA.intermediate.cert, TEST_CA.root.cert]
    root_only = tmp_path / "root.pem"
    root_only.write_text(TEST_CA.root.pem)
    response = NodeApi(net, root_only).request("GET", CONFIG + "management_vm/1/")
    assert response.status_code == 200
    assert response.json()["tls_certificate"] == uri
    with pytest.raises(requests.exceptions.SSLError):  # the shipped certificate is gone
        NodeApi(net, net.ca_file).request("GET", CONFIG + "global/1/")


# -- Conferencing Nodes: HTTPS and SIP TLS -----------------------------------------------


def test_conferencing_node_serves_its_assigned_certificate_on_https_and_sip_tls(net, trust):
    client = NodeApi(net, trust)
    host = reach(net, "192.0.2.21")
    shipped = handshake(host, 8443)
    assert len(shipped) == 1 and subjects(shipped) == [f"CN={CONF1_FQDN}"]
    assert handshake(host, 5061) == shipped
    leaf = TEST_CA.leaf(CONF1_FQDN)
    uri = upload(client, leaf)
    trust_ca_list(client, TEST_CA)
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": uri})
    assert TEST_CA.intermediate is not None
    full = [leaf.cert, TEST_CA.intermediate.cert, TEST_CA.root.cert]
    assert handshake(host, 8443, CONF1_FQDN) == full
    assert handshake(host, 5061, CONF1_FQDN) == full
    # A client trusting only the root verifies the node for its FQDN on both ports.
    verifier = ssl.create_default_context(cadata=TEST_CA.root.pem)
    for port in (8443, 5061):
        with socket.create_connection((host, port), timeout=5) as raw:
            with verifier.wrap_socket(raw, server_hostname=CONF1_FQDN) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # The other nodes still serve their own (shipped) certificates.
    assert subjects(handshake(reach(net, "192.0.2.22"), 8443)) == ["CN=pxconf02.pexip.example.com"]


def test_chain_uploaded_with_the_certificate_and_incomplete_chains(net, trust):
    client = NodeApi(net, trust)
    host = reach(net, "192.0.2.22")
    assert TEST_CA.intermediate is not None
    alone = TEST_CA.leaf("alone.example.com")
    client.write("PATCH", CONFIG + "worker_vm/2/", {"tls_certificate": upload(client, alone)})
    assert handshake(host, 8443) == [alone.cert]  # no issuer known: the leaf only
    with_mid = TEST_CA.leaf("with-mid.example.com")
    uri = upload(client, with_mid, (TEST_CA.intermediate,))
    client.write("PATCH", CONFIG + "worker_vm/2/", {"tls_certificate": uri})
    assert handshake(host, 8443) == [with_mid.cert, TEST_CA.intermediate.cert]
    client.created(CA_LIST, {"certificate": TEST_CA.root.pem})
    assert handshake(host, 5061) == [with_mid.cert, TEST_CA.intermediate.cert, TEST_CA.root.cert]
    # Unrelated CA certificates are never sent.
    client.created(CA_LIST, {"certificate": CA("Unrelated").root.pem})
    assert len(handshake(host, 8443)) == 3


def test_assigning_another_certificate_changes_the_next_handshake(net, trust):
    client = NodeApi(net, trust)
    host = reach(net, "192.0.2.23")
    first, second = TEST_CA.leaf("first.example.com"), TEST_CA.leaf("second.example.com")
    first_uri, second_uri = upload(client, first), upload(client, second)
    for leaf, uri in ((first, first_uri), (second, second_uri), (first, first_uri)):
        client.write("PATCH", CONFIG + "worker_vm/3/", {"tls_certificate": uri})
        assert handshake(host, 8443)[0] == leaf.cert
        assert handshake(host, 5061)[0] == leaf.cert


def test_no_sni_and_any_sni_get_the_nodes_certificate(net):
    host = reach(net, "192.0.2.21")
    expected = handshake(host, 8443, CONF1_FQDN)
    assert handshake(host, 8443, None) == expected
    assert handshake(host, 8443, "another.name.example.com") == expected
    assert handshake(host, 5061, None) == expected
    assert handshake(reach(net, "192.0.2.10"), 8443, None)[0].subject.rfc4514_string() == (
        f"CN={MGR_FQDN}"
    )


def test_the_simulated_clock_does_not_change_what_is_served(net):
    host = reach(net, "192.0.2.21")
    before = handshake(host, 8443)
    NodeApi(net, net.ca_file).write("PUT", "/_sim/clock", {"advance_days": 5000})  # expired
    assert handshake(host, 8443) == before


def test_a_node_without_a_certificate_fails_every_handshake(net):
    client = NodeApi(net, net.ca_file)
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": None})
    host = reach(net, "192.0.2.21")
    for port in (8443, 5061):
        with pytest.raises(ssl.SSLError):
            handshake(host, port)


def test_shipped_dh_parameters_serve_dhe_on_tls12(net):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("DHE-RSA-AES256-GCM-SHA384")
    with socket.create_connection((reach(net, "192.0.2.21"), 8443), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            assert tls.cipher()[0] == "DHE-RSA-AES256-GCM-SHA384"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_below_1_2_follows_the_security_wizard(net):
    # This client can speak TLS 1.1 (OpenSSL 3 at security level 0). A factory-fresh node
    # accepts it ("Enable TLS 1.0": YES); once the wizard answers NO, the listener must not.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    host = reach(net, "192.0.2.21")
    with socket.create_connection((host, 8443), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            assert tls.version() == "TLSv1.1"
    NodeApi(net, net.ca_file).write("PUT", "/_sim/security_wizard", {"answers": {"tls10": False}})
    for port in (8443, 5061):
        with socket.create_connection((host, port), timeout=5) as raw:
            with pytest.raises(ssl.SSLError):
                context.wrap_socket(raw)


# -- web and SIP answers -----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_conferencing_node_web_responses_carry_hsts(net):
    host = reach(net, "192.0.2.22")
    session = requests.Session()
    session.trust_env = False
    page = session.get(f"https://{host}:8443/", verify=False, timeout=5)
    assert page.status_code == 200 and "Pexip Infinity Connect" in page.text
    assert page.headers["Content-Type"].startswith("text/html")
    missing = session.get(f"https://{host}:8443/api/admin/", verify=False, timeout=5)
    posted = session.post(f"https://{host}:8443/", verify=False, timeout=5)
    assert missing.status_code == 404 and posted.status_code == 405
    for response in (page, missing, posted):
        assert response.headers["Strict-Transport-Security"] == HSTS


def test_sip_options_is_answered_200_over_tls_echoing_the_dialog_headers(net):
    answer = sip(reach(net, "192.0.2.21"), OPTIONS)
    head, _, body = answer.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "SIP/2.0 200 OK" and body == ""
    assert lines[1:3] == [
        "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-1",
        "Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bK-0",
    ]
    assert "From: <sip:probe@example.com>;tag=abc" in lines
    to = next(line for line in lines if line.startswith("To: "))
    assert to.startswith("To: <sip:pxconf01.pexip.example.com>;tag=")
    assert "Call-ID: 1234@probe" in lines and "CSeq: 1 OPTIONS" in lines
    assert lines[-1] == "Content-Length: 0"


def test_sip_other_methods_405_and_compact_headers(net):
    invite = OPTIONS.replace("OPTIONS sip:", "INVITE sip:").replace("1 OPTIONS", "1 INVITE")
    answer = sip(reach(net, "192.0.2.23"), invite)
    assert answer.startswith("SIP/2.0 405 Method Not Allowed\r\n")
    assert "\r\nAllow: OPTIONS\r\n" in answer and "\r\nCSeq: 1 INVITE\r\n" in answer
    compact = (
        "OPTIONS sip:x SIP/2.0\r\nv: SIP/2.0/TLS a;branch=z9hG4bK-2\r\nf: <sip:a@b>;tag=1\r\n"
        "t: <sip:x>;tag=2\r\ni: c@d\r\nCSeq: 7 OPTIONS\r\n\r\n"
    )
    answer = sip(reach(net, "192.0.2.23"), compact)
    assert answer.startswith("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK-2\r\n")
    assert "\r\nTo: <sip:x>;tag=2\r\n" in answer and "\r\nCall-ID: c@d\r\n" in answer
    garbage = sip(reach(net, "192.0.2.23"), "HELLO\r\n\r\n")
    assert garbage.startswith("SIP/2.0 400 Bad Request\r\n")


def test_sip_requests_are_bounded_in_size_and_time(net, monkeypatch):
    host = reach(net, "192.0.2.21")
    assert sip(host, "OPTIONS sip:x SIP/2.0\r\nX-Filler: " + "a" * 20000) == ""  # closed
    monkeypatch.setattr(services, "SIP_TIMEOUT", 0.3)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, 5061), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            started = time.perf_counter()
            tls.sendall(b"OPTIONS sip:x SIP/2.0\r\n")  # and then nothing
            assert tls.recv(100) == b""
            assert time.perf_counter() - started < 3


def test_the_management_node_has_no_sip_listener(net):
    assert refused(reach(net, "192.0.2.10"), 5061)


def test_silent_clients_do_not_block_https_or_sip(net):
    host = reach(net, "192.0.2.21")
    silent = [socket.create_connection((host, port), timeout=5) for port in (8443, 5061)]
    silent.append(socket.create_connection((reach(net, "192.0.2.10"), 8443), timeout=5))
    try:
        started = time.perf_counter()
        assert handshake(host, 8443) and handshake(reach(net, "192.0.2.10"), 8443)
        assert sip(host, OPTIONS).startswith("SIP/2.0 200 OK")
        assert time.perf_counter() - started < 1.0
    finally:
        for sock in silent:
            sock.close()


# -- listeners follow the model ----------------------------------------------------------


def test_created_node_gets_listeners_and_a_deleted_nodes_ports_refuse(net, trust):
    client = NodeApi(net, trust)
    host = reach(net, "192.0.2.40")
    assert refused(host, 8443) and refused(host, 5061)
    leaf = TEST_CA.leaf("pxconf09.pexip.example.com")
    body = {
        "name": "conf09",
        "hostname": "pxconf09",
        "domain": "pexip.example.com",
        "address": "192.0.2.40",
        "netmask": "255.255.255.0",
        "system_location": CONFIG + "system_location/1/",
        "tls_certificate": upload(client, leaf),
    }
    uri = client.created(CONFIG + "worker_vm/", body)
    assert handshake(host, 8443)[0] == leaf.cert
    assert sip(host, OPTIONS).startswith("SIP/2.0 200 OK")
    client.write("DELETE", uri)
    assert refused(host, 8443) and refused(host, 5061)
    assert handshake(reach(net, "192.0.2.21"), 8443)  # the others carry on


def test_a_changed_address_rebinds_and_outside_the_seed_network_has_no_listener(net):
    client = NodeApi(net, net.ca_file)
    old, new = reach(net, "192.0.2.21"), reach(net, "192.0.2.99")
    expected = handshake(old, 8443)
    client.write("PATCH", CONFIG + "worker_vm/1/", {"address": "192.0.2.99"})
    assert refused(old, 8443) and refused(old, 5061)
    assert handshake(new, 8443) == expected and handshake(new, 5061) == expected
    client.write("PATCH", CONFIG + "worker_vm/1/", {"address": "198.51.100.21"})
    assert refused(new, 8443) and refused(new, 5061)
    client.write("POST", "/_sim/reset")  # the reset brings it back where it was
    assert handshake(old, 8443) == expected


def test_in_process_changes_take_effect_at_sync_listeners(net):
    host = reach(net, "192.0.2.22")
    net.model.delete(WORKER_VM, "2")
    with pytest.raises(ssl.SSLError):  # the node is gone: nothing to serve
        handshake(host, 8443)
    net.sync_listeners()
    assert refused(host, 8443) and refused(host, 5061)


# -- sync delay --------------------------------------------------------------------------

DELAY = 0.5


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[ManagementNodeSimulator]:
    with ManagementNodeSimulator(
        name="pexip-slow",
        username=USERNAME,
        password=PASSWORD,
        workdir=tmp_path,
        seed=Seed(conferencing_nodes=1, locations=1),
        node_listeners=True,
        sync_delay=DELAY,
    ) as started:
        yield started


def test_sync_delay_keeps_the_old_certificate_until_then(slow, tmp_path):
    trust = tmp_path / "trust.pem"
    trust.write_text(slow.ca_file.read_text() + TEST_CA.root.pem)
    client = NodeApi(slow, trust)
    host = reach(slow, "192.0.2.21")
    shipped = handshake(host, 8443)
    leaf = TEST_CA.leaf(CONF1_FQDN)
    uri = upload(client, leaf)
    # The change happens between `before` and `changed`: the old certificate is certain
    # until before + DELAY, the new one from changed + DELAY.
    before = time.monotonic()
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": uri})
    changed = time.monotonic()
    while time.monotonic() - before < DELAY * 0.5:
        assert handshake(host, 8443) == shipped and handshake(host, 5061) == shipped
    time.sleep(max(0.0, changed + DELAY + 0.05 - time.monotonic()))
    assert handshake(host, 5061)[0] == leaf.cert and handshake(host, 8443)[0] == leaf.cert
    # The wait counts from the change, not from the first handshake after it.
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": TLS + "2/"})
    time.sleep(DELAY + 0.05)
    assert handshake(host, 8443) == shipped


def test_a_change_undone_within_the_sync_delay_never_shows(slow):
    client = NodeApi(slow, slow.ca_file)
    host = reach(slow, "192.0.2.21")
    shipped = handshake(host, 8443)
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": TLS + "1/"})
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": TLS + "2/"})
    time.sleep(DELAY + 0.05)
    assert handshake(host, 8443) == shipped


# -- start, stop, binding ----------------------------------------------------------------


class _Fixed:
    """A "random" source that always picks the same subnet."""

    def randint(self, low: int, high: int) -> int:
        return 77


def test_busy_subnet_tries_another_then_fails_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(listeners, "_RNG", random.Random(1234))
    expected = random.Random(1234)
    first = f"127.{expected.randint(2, 254)}.{expected.randint(2, 254)}.10"
    busy = socket.socket()
    busy.bind((first, 18443))
    busy.listen()
    kwargs: dict[str, Any] = {
        "username": USERNAME,
        "password": PASSWORD,
        "workdir": tmp_path,
        "node_listeners": True,
        "https_port": 18443,
    }
    try:
        with ManagementNodeSimulator(name="moved", **kwargs) as sim:
            assert not sim.url.startswith(f"https://{first}:")
            assert sim.url.endswith(":18443/") and handshake(sim.host, sim.port)
        busy.close()
        busy = socket.socket()
        busy.bind(("127.77.77.10", 18443))
        busy.listen()
        monkeypatch.setattr(listeners, "_RNG", _Fixed())
        with pytest.raises(OSError) as failure:
            ManagementNodeSimulator(name="stuck", **kwargs).start()
        message = str(failure.value)
        assert "\n" not in message and "'stuck'" in message and "127.77.77.0/24" in message
        assert refused("127.77.77.21", 18443) and refused("127.77.77.21", 15061)
    finally:
        busy.close()


def test_stop_closes_every_listener(tmp_path):
    sim = ManagementNodeSimulator(
        name="stopped", password=PASSWORD, workdir=tmp_path, node_listeners=True
    ).start()
    hosts = [reach(sim, f"192.0.2.{n}") for n in (10, 21, 22, 23)]
    assert all(handshake(host, 8443) for host in hosts)
    sim.stop()
    sim.stop()
    assert all(refused(host, 8443) and refused(host, 5061) for host in hosts)


def test_without_node_listeners_nothing_changes(sim):
    assert sim.url.startswith("https://127.0.0.1:") and sim.server_name == "127.0.0.1"
    assert sim.address_map == {} and sim.port_map == {} and sim.network is None
    sim.sync_listeners()  # a no-op


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sync_delay": -1}, "sync_delay"),
        ({"sync_delay": float("nan")}, "sync_delay"),
        ({"sync_delay": True}, "sync_delay"),
        ({"node_listeners": True, "https_port": 0}, "https_port"),
        ({"node_listeners": True, "ssh_port": 70000}, "ssh_port"),
        ({"node_listeners": True, "https_port": 5061}, "differ"),
        ({"node_listeners": True, "https_port": 2222}, "differ"),
    ],
)
def test_bad_arguments_are_value_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ManagementNodeSimulator(password=PASSWORD, workdir=tmp_path, **kwargs)


# -- wire faults (mutation tests of TLS-08 and TLS-16) -----------------------------------


def test_fault_conferencing_nodes_keep_serving_their_shipped_certificate(net, trust):
    client = NodeApi(net, trust)
    host = reach(net, "192.0.2.21")
    shipped = handshake(host, 8443)
    uri = upload(client, TEST_CA.leaf(CONF1_FQDN))
    client.write("PATCH", CONFIG + "worker_vm/1/", {"tls_certificate": uri})
    net.model.faults.set({"active": ["tls08_node_serves_shipped_certificate"]})
    try:
        assert handshake(host, 8443) == shipped and handshake(host, 5061) == shipped
    finally:
        net.model.faults.set({"active": []})
    assert handshake(host, 8443)[0] != shipped[0]


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_fault_conferencing_node_web_without_hsts(net):
    host = reach(net, "192.0.2.22")
    net.model.faults.set({"active": ["tls16_no_hsts_on_conferencing_nodes"]})
    try:
        page = requests.get(f"https://{host}:8443/", verify=False, timeout=5)
        assert "Strict-Transport-Security" not in page.headers
    finally:
        net.model.faults.set({"active": []})
