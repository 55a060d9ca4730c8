"""A listener's look at a TLS ClientHello before its handshake, and a refusal of it.

Python's ``ssl`` cannot restrict the TLS 1.3 cipher suites of one context (OpenSSL's
``SSL_CTX_set_ciphersuites`` is not exposed), and its ``sni_callback`` runs before OpenSSL has
recorded what the client offered. So a listener that must refuse some TLS 1.3 offers (a node in
FIPS 140-2 mode) reads the ClientHello first without consuming it (``MSG_PEEK``): `peek`. When
the offer is to be refused, `refuse` reads the ClientHello for real and answers it as OpenSSL
answers a ClientHello it shares no cipher suite with: a fatal ``handshake_failure`` alert (40)
in a plaintext alert record, then the connection closes. Anything else is left in the socket
for OpenSSL's handshake, which sees exactly the bytes the client sent.

What this sees: the record layer's version, the cipher suites offered and the versions offered
(the ``supported_versions`` extension, or the legacy version without it), from a ClientHello
spread over any number of records and TCP segments. Not seen: a second ClientHello after a
HelloRetryRequest (RFC 8446 requires its cipher suites to be the first one's), SSLv2-format
hellos (treated as "not TLS": left to OpenSSL, which refuses them).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

HANDSHAKE, ALERT = 22, 21
CLIENT_HELLO = 1
SUPPORTED_VERSIONS = 43
TLS12, TLS13 = 0x0303, 0x0304
HANDSHAKE_FAILURE = 40
MAX_RECORD = 2**14 + 2048
MAX_HELLO = 2**16
PAUSE = 0.005  # between two looks at a ClientHello still arriving


@dataclass(frozen=True)
class ClientHello:
    """What a ClientHello offers; ``length``: the bytes its records take in the socket."""

    versions: frozenset[int]
    suites: tuple[int, ...]
    length: int


def _message(data: bytes) -> tuple[bytes, int] | int | None:
    """The handshake message at the start of ``data`` (TLS records): the whole ClientHello and
    the bytes its records take, the number of bytes needed to have it (more than
    ``len(data)``), or None when ``data`` does not start with a ClientHello."""
    message, at = b"", 0
    while True:
        if len(data) < at + 5:
            return at + 5
        length = int.from_bytes(data[at + 3 : at + 5], "big")
        if data[at] != HANDSHAKE or data[at + 1] != 3 or not 0 < length <= MAX_RECORD:
            return None
        if len(data) < at + 5 + length:
            return at + 5 + length
        message += data[at + 5 : at + 5 + length]
        at += 5 + length
        if len(message) >= 4:
            if message[0] != CLIENT_HELLO:
                return None
            total = 4 + int.from_bytes(message[1:4], "big")
            if total > MAX_HELLO:
                return None
            if len(message) >= total:
                return message[:total], at


def _vector(body: bytes, at: int, size: int) -> tuple[bytes, int]:
    """A length-prefixed field (``size`` bytes of length) at ``at``; ValueError if cut."""
    length = int.from_bytes(body[at : at + size], "big")
    end = at + size + length
    if len(body) < end:
        raise ValueError("truncated ClientHello")
    return body[at + size : end], end


def parse(message: bytes, length: int) -> ClientHello:
    """The offer of a whole ClientHello handshake message; ValueError if malformed."""
    body = message[4:]
    legacy = int.from_bytes(body[0:2], "big")
    at = 2 + 32  # legacy version, random
    _, at = _vector(body, at, 1)  # session id
    codes, at = _vector(body, at, 2)
    _, at = _vector(body, at, 1)  # compression methods
    suites = tuple(int.from_bytes(codes[i : i + 2], "big") for i in range(0, len(codes) - 1, 2))
    versions = frozenset({legacy})
    if at < len(body):
        extensions, _ = _vector(body, at, 2)
        cursor = 0
        while cursor + 4 <= len(extensions):
            kind = int.from_bytes(extensions[cursor : cursor + 2], "big")
            data, cursor = _vector(extensions, cursor + 2, 2)
            if kind == SUPPORTED_VERSIONS and data:
                listed = data[1 : 1 + data[0]]
                versions = frozenset(
                    int.from_bytes(listed[i : i + 2], "big") for i in range(0, len(listed) - 1, 2)
                )
    return ClientHello(versions, suites, length)


def peek(sock: socket.socket) -> ClientHello | None:
    """The ClientHello waiting in ``sock`` (a connected TCP socket, possibly an ``SSLSocket``
    before its handshake), left unread; None when the client sends something else. Waits at
    most the socket's timeout in all; raises ``TimeoutError`` (or another ``OSError``) when the
    client sends nothing in time or closes first."""
    timeout = sock.gettimeout()
    deadline = None if timeout is None else time.monotonic() + timeout
    want = 5
    while True:
        # The plain socket's recv: an SSLSocket's own refuses flags (and would handshake).
        data = socket.socket.recv(sock, want, socket.MSG_PEEK)
        if not data:
            raise ConnectionResetError("the client closed before its ClientHello")
        found = _message(data)
        if found is None:
            return None
        if isinstance(found, tuple):
            try:
                return parse(*found)
            except ValueError:
                return None
        if len(data) >= want:
            want = found
            continue
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("the ClientHello did not arrive in time")
        time.sleep(PAUSE)  # the rest of it is still on its way


def refuse(sock: socket.socket, hello: ClientHello) -> None:
    """Read ``hello`` off ``sock`` and answer it with a fatal handshake_failure alert, as
    OpenSSL does when it shares no cipher suite with the client. The caller closes ``sock``.

    Reading the ClientHello first matters: closing a socket with unread data sends a TCP reset,
    which may reach the client before the alert does."""
    left = hello.length
    while left > 0:
        chunk = socket.socket.recv(sock, left)
        if not chunk:
            return
        left -= len(chunk)
    alert = bytes([ALERT]) + TLS12.to_bytes(2, "big") + b"\x00\x02\x02" + bytes([HANDSHAKE_FAILURE])
    socket.socket.sendall(sock, alert)
    socket.socket.shutdown(sock, socket.SHUT_WR)


def screened(sock: socket.socket, refuses: Callable[[ClientHello], bool]) -> bool:
    """Whether the TLS handshake on ``sock`` may go on: false when ``refuses`` refused its
    ClientHello (answered with the alert), or when the client sent nothing in time or closed
    first (the caller closes the connection). Something other than a ClientHello goes on, for
    OpenSSL to refuse."""
    try:
        hello = peek(sock)
        if hello is not None and refuses(hello):
            refuse(sock, hello)
            return False
    except OSError:
        return False
    return True
