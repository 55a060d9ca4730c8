"""`sip.options` over UDP, TCP and TLS against small SIP responders on random loopback addresses,
and what it reports when nobody answers or the port is closed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from accord.network import Endpoint
from accord.probes import sip
from tests.probes.test_tls_negotiate import (
    SERVER_NAME,
    Pki,
    endpoint_at,
    free_port,
    loopback_address,
    make_pki,
    server_context,
    stream_server,
)

SERVER = "Pexip Infinity Conferencing Platform/35 (probe test)"
MANDATORY = ("via", "max-forwards", "from", "to", "call-id", "cseq", "contact", "content-length")


def headers_of(request: bytes) -> tuple[str, dict[str, str]]:
    head = request.split(b"\r\n\r\n", 1)[0].decode()
    first, *lines = head.split("\r\n")
    return first, {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}


def answer(request: bytes, *, trying: bool = False, body: bytes = b"") -> bytes:
    """What a SIP server answers to OPTIONS: copies of Via, From, To (tagged), Call-ID, CSeq."""
    _, headers = headers_of(request)
    common = (
        f"Via: {headers['via']}\r\nFrom: {headers['from']}\r\nTo: {headers['to']};tag=node1\r\n"
        f"Call-ID: {headers['call-id']}\r\nCSeq: {headers['cseq']}\r\n"
    )
    final = (
        f"SIP/2.0 200 OK\r\n{common}Server: {SERVER}\r\n"
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
        f"Content-Type: application/sdp\r\nl: {len(body)}\r\n\r\n"
    ).encode() + body
    provisional = f"SIP/2.0 100 Trying\r\n{common}Content-Length: 0\r\n\r\n".encode()
    return (provisional if trying else b"") + final


@contextmanager
def udp_responder(address: str, *, silent: bool = False) -> Iterator[tuple[Endpoint, list]]:
    """A UDP SIP responder (or, ``silent``, a bound port that never answers)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 0))
    sock.settimeout(0.05)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            received.append(data)
            if not silent:
                reply = answer(data)
                sock.sendto(b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n", peer)
                sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield endpoint_at(address, sock.getsockname()[1]), received
    finally:
        stop.set()
        thread.join()
        sock.close()


def stream_responder(received: list[bytes]):
    """Reads one request; answers 100 Trying and 200 OK (with a body) in small pieces."""

    def handle(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        received.append(data)
        reply = answer(data, trying=True, body=b"v=0\r\n")
        for at in range(0, len(reply), 37):
            conn.sendall(reply[at : at + 37])
        conn.recv(1)

    return handle


@pytest.fixture(scope="module")
def address() -> str:
    return loopback_address()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, address: str) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), SERVER_NAME, address)


def test_options_over_udp_is_answered_200(address):
    with udp_responder(address) as (endpoint, received):
        probe = sip.options(endpoint, transport="udp")
    assert probe.answered and probe.status_code == 200 and probe.status_line == "SIP/2.0 200 OK"
    first, headers = headers_of(received[0])
    assert first == f"OPTIONS sip:{address}:{endpoint.port} SIP/2.0" == probe.request_line
    assert set(MANDATORY) <= set(headers)
    assert headers["via"].startswith("SIP/2.0/UDP ") and ";branch=z9hG4bK" in headers["via"]
    assert ";tag=" in headers["from"] and headers["cseq"] == "1 OPTIONS"
    assert headers["content-length"] == "0" and headers["max-forwards"] == "70"
    assert received[0].endswith(b"\r\n\r\n")
    observed = probe.observation()
    assert observed["answer"] == "SIP/2.0 200 OK" and observed["transport"] == "udp"
    assert observed["headers"]["Server"] == SERVER and observed["sent"] == probe.request_line


def test_options_over_tcp_skips_provisional_answers_and_reads_the_body(address):
    received: list[bytes] = []
    with stream_server(address, handler=stream_responder(received)) as endpoint:
        probe = sip.options(endpoint, transport="tcp")
    assert probe.status_code == 200, probe.error
    assert headers_of(received[0])[1]["via"].startswith("SIP/2.0/TCP ")
    assert ";transport=tcp" in headers_of(received[0])[1]["contact"]
    assert probe.observation()["tls"] is None


def test_options_over_tls_with_and_without_verification(address, pki):
    received: list[bytes] = []
    context = server_context(pki)
    with stream_server(address, context, stream_responder(received)) as endpoint:
        unverified = sip.options(endpoint, transport="tls")
        verified = sip.options(
            endpoint, transport="tls", server_name=SERVER_NAME, ca_bundle=pki.ca_file, verify=True
        )
        untrusted = sip.options(endpoint, transport="tls", server_name=SERVER_NAME, verify=True)
    assert unverified.status_code == 200 and unverified.tls_protocol == "TLSv1.3"
    assert verified.status_code == 200 and verified.observation()["verify_certificate"] is True
    assert verified.observation()["sni"] == SERVER_NAME
    assert headers_of(received[0])[1]["via"].startswith("SIP/2.0/TLS ")
    assert not untrusted.answered
    assert untrusted.error.startswith("TLS handshake failed: SSLCertVerificationError")


def test_tls_to_a_plain_tcp_listener_is_a_tls_failure(address):
    with stream_server(address, handler=lambda conn: conn.recv(4096)) as endpoint:
        probe = sip.options(endpoint, transport="tls", timeout=1.0)
    assert not probe.answered and probe.error.startswith("TLS handshake failed")


def test_a_silent_udp_port_gives_no_answer(address):
    with udp_responder(address, silent=True) as (endpoint, received):
        probe = sip.options(endpoint, transport="udp", timeout=0.3)
    assert received and not probe.answered and probe.status_code is None
    assert probe.error == "no answer within 0.3 s"
    assert probe.observation()["answer"] == probe.error


def test_a_closed_udp_port_is_refused_by_icmp(address):
    endpoint = endpoint_at(address, free_port(address, socket.SOCK_DGRAM))
    probe = sip.options(endpoint, transport="udp", timeout=1.0)
    assert probe.error == "refused (ICMP port unreachable)" and not probe.answered


def test_a_closed_tcp_port_is_refused(address):
    endpoint = endpoint_at(address, free_port(address))
    for transport in ("tcp", "tls"):
        probe = sip.options(endpoint, transport=transport)
        assert probe.error == "refused (TCP reset)", probe


def test_a_tcp_listener_that_hangs_up_gives_no_answer(address):
    with stream_server(address) as endpoint:  # accepts and closes at once
        probe = sip.options(endpoint, transport="tcp", timeout=1.0)
    assert not probe.answered
    assert probe.error in (
        "closed by the server without an answer",
        "reset by the server before an answer",
    )


def test_a_tcp_listener_that_never_answers(address):
    with stream_server(address, handler=lambda conn: conn.recv(65536) and conn.recv(1)) as endpoint:
        probe = sip.options(endpoint, transport="tcp", timeout=0.3)
    assert probe.error == "no answer within 0.3 s"


def test_ipv6_style_addresses_are_bracketed_in_the_uri():
    request = sip.options_request(
        Endpoint("2001:db8::5", 5060, "::1", 5060), "tcp", ("::1", 40000)
    ).decode()
    assert request.startswith("OPTIONS sip:[2001:db8::5]:5060 SIP/2.0\r\n")
    assert "Via: SIP/2.0/TCP [::1]:40000;branch=z9hG4bK" in request
