"""The listeners' look at a ClientHello before the handshake (``clienthello``): real
ClientHellos made by OpenSSL, however they arrive, and what is left for OpenSSL."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest

from simulator.pexip import clienthello


def hello_records(maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> bytes:
    """The records of a ClientHello that Python's ssl sends (TLS 1.2 and 1.3 by default)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = maximum
    outgoing = ssl.MemoryBIO()
    client = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="node.example")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    return outgoing.read()


def split(records: bytes) -> bytes:
    """The same ClientHello in two handshake records (as a client may fragment it)."""
    message = records[5:]
    half = len(message) // 2
    return b"".join(
        b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part
        for part in (message[:half], message[half:])
    )


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    server.settimeout(2)
    yield server, client
    server.close()
    client.close()


@pytest.mark.parametrize("framing", [lambda r: r, split], ids=["one record", "two records"])
def test_a_clienthello_is_read_without_being_consumed(pair, framing):
    server, client = pair
    records = framing(hello_records())
    client.sendall(records)
    hello = clienthello.peek(server)
    assert hello is not None and hello.length == len(records)
    assert {0x0303, 0x0304} <= hello.versions
    assert {0x1301, 0x1302, 0x1303} <= set(hello.suites)
    assert server.recv(len(records) + 10) == records  # still there for OpenSSL


def test_a_tls_1_2_client_offers_no_tls_1_3(pair):
    server, client = pair
    client.sendall(hello_records(ssl.TLSVersion.TLSv1_2))
    hello = clienthello.peek(server)
    assert hello is not None and clienthello.TLS13 not in hello.versions


def test_a_clienthello_arriving_in_pieces_is_waited_for(pair):
    server, client = pair
    records = hello_records()

    def slowly() -> None:
        for at in range(0, len(records), 100):
            client.sendall(records[at : at + 100])
            time.sleep(0.01)

    sender = threading.Thread(target=slowly)
    sender.start()
    hello = clienthello.peek(server)
    sender.join()
    assert hello is not None and hello.length == len(records)


def test_something_else_is_left_to_openssl(pair):
    server, client = pair
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert clienthello.peek(server) is None
    assert clienthello.screened(server, lambda _hello: True)


def test_a_silent_or_closing_client_is_not_waited_for_beyond_the_timeout(pair):
    server, client = pair
    server.settimeout(0.2)
    client.sendall(hello_records()[:50])
    started = time.monotonic()
    assert not clienthello.screened(server, lambda _hello: False)
    assert time.monotonic() - started < 1
    client.close()
    assert not clienthello.screened(server, lambda _hello: False)


def test_a_refused_clienthello_gets_a_handshake_failure_alert(pair):
    server, client = pair
    records = hello_records()
    client.sendall(records)
    assert not clienthello.screened(server, lambda hello: 0x1303 in hello.suites)
    client.settimeout(2)
    assert client.recv(100) == b"\x15\x03\x03\x00\x02\x02\x28"  # fatal handshake_failure
    assert client.recv(100) == b""  # then the server's side is closed
