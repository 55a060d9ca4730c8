"""Address maps, the TLS server name of an API session, and the TLS probes, against real
listeners on loopback (Python's ssl server with a certificate from a test CA)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.http import session
from accord.network import AddressMap
from accord.pki import CA
from accord.probes import tls


def test_address_map_translates_hosts_of_a_network_and_ports():
    mapping = AddressMap({"192.0.2.0/24": "127.9.8.0/24"}, {"443": 8443})
    endpoint = mapping.endpoint("192.0.2.21", 443)
    assert (endpoint.host, endpoint.connect_port) == ("127.9.8.21", 8443)
    assert str(endpoint) == "192.0.2.21:443 (reached at 127.9.8.21:8443)"
    elsewhere = mapping.endpoint("198.51.100.7", 5061)
    assert (elsewhere.host, elsewhere.connect_port) == ("198.51.100.7", 5061)
    assert str(elsewhere) == "198.51.100.7:5061"
    assert AddressMap().endpoint("node.example.com", 443).host == "node.example.com"


class Listener:
    """A TLS server on loopback serving a leaf (and its chain) for ``name``; answers one HTTP
    request per connection with HSTS."""

    def __init__(self, directory: Path, name: str) -> None:
        root = CA.new("Probe Test Root")
        issuer = root.issue_intermediate("Probe Test Issuing")
        self.leaf = issuer.issue_cert(name)
        self.root_file = directory / "root.pem"
        self.root_file.write_text(self.leaf.root_pem)
        chain_file = directory / "chain.pem"
        chain_file.write_text(self.leaf.key_pem() + self.leaf.chain_pem)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain_file)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(2)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data:
                        conn.sendall(
                            b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=60\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\nok"
                        )
            except (OSError, ssl.SSLError):
                pass


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    served = Listener(tmp_path, "node.accord.test")
    yield served
    served.sock.close()


def test_a_session_verifies_the_certificate_against_the_server_name(listener):
    url = f"https://127.0.0.1:{listener.port}/"
    named = session("node.accord.test")
    assert named.get(url, verify=str(listener.root_file), timeout=5).text == "ok"
    with pytest.raises(Exception, match="(?i)hostname|match|certificate"):
        session("other.accord.test").get(url, verify=str(listener.root_file), timeout=5)
    with pytest.raises(Exception, match="(?i)hostname|match|certificate|IP"):
        session().get(url, verify=str(listener.root_file), timeout=5)


def test_handshake_records_the_served_chain_and_verify_needs_the_right_name(listener):
    endpoint = AddressMap({"192.0.2.0/24": "127.0.0.0/24"}, {"443": listener.port}).endpoint(
        "192.0.2.1", 443
    )
    shake = tls.handshake(endpoint, "node.accord.test")
    assert shake.error is None and shake.leaf == listener.leaf.cert
    assert list(shake.chain) == list(listener.leaf.chain)
    observed = shake.observation()
    assert observed["served_chain"][0]["subject"] == "CN=node.accord.test"
    assert tls.verify(endpoint, "node.accord.test", listener.root_file).ok
    wrong = tls.verify(endpoint, "elsewhere.accord.test", listener.root_file)
    assert not wrong.ok and "elsewhere" in (wrong.error or "")
    answer = tls.web_get(endpoint, "node.accord.test")
    assert answer.status == 200 and answer.headers["Strict-Transport-Security"] == "max-age=60"


def test_a_closed_port_is_an_observed_error_not_an_exception(listener):
    endpoint = AddressMap(port_map={"443": 9}).endpoint("127.0.0.1", 443)
    shake = tls.handshake(endpoint, "node.accord.test", timeout=2)
    assert shake.chain == () and "Error" in (shake.error or "")
    with pytest.raises(AssertionError, match="no certificate was served"):
        _ = shake.leaf


def test_verify_can_leave_the_name_to_another_check(listener):
    endpoint = AddressMap(port_map={"443": listener.port}).endpoint("127.0.0.1", 443)
    assert tls.verify(endpoint, "elsewhere.accord.test", listener.root_file, check_name=False).ok
