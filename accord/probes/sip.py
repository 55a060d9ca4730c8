"""SIP probe: one OPTIONS request (RFC 3261 §11) over UDP, TCP or TLS, and the answer.

An OPTIONS request is the least intrusive SIP question there is: it sets up nothing. Whether a
node answers it on a transport shows whether that SIP listener is open; the status line shows
how it answered. The request carries every mandatory header (Via with an RFC 3261 branch,
Max-Forwards, From with a tag, To, Call-ID, CSeq, Contact, Content-Length) and no body.

Reading: over UDP, datagrams until a final (>= 200) response or the timeout; over TCP and TLS, one
message at a time (headers up to the blank line, then Content-Length bytes of body), likewise.
Provisional (1xx) responses are skipped when a final one follows. A refused UDP port shows on
loopback as an ICMP port unreachable, which Linux reports on the connected socket.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from accord.network import Endpoint
from accord.recording.observations import observed

TIMEOUT = 3.0
Transport = Literal["udp", "tcp", "tls"]
#: Response headers the evidence shows (what software answers and what it supports).
SHOWN_HEADERS = ("Server", "User-Agent", "Allow", "Supported")
_MAX_MESSAGE = 64 * 1024
_COMPACT = {"l": "content-length", "i": "call-id", "v": "via"}


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _hostport(host: str, port: int) -> str:
    return f"{_host(host)}:{port}"


def options_request(endpoint: Endpoint, transport: Transport, local: tuple[str, int]) -> bytes:
    """An OPTIONS request to ``sip:address:port`` sent from ``local`` (host, port)."""
    target = _hostport(endpoint.address, endpoint.port)
    here = _hostport(*local)
    contact = f"sip:accord-probe@{here}" + ("" if transport == "udp" else f";transport={transport}")
    lines = [
        f"OPTIONS sip:{target} SIP/2.0",
        f"Via: SIP/2.0/{transport.upper()} {here};branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:accord-probe@{_host(local[0])}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{target}>",
        f"Call-ID: {secrets.token_hex(12)}@accord-probe.invalid",
        "CSeq: 1 OPTIONS",
        f"Contact: <{contact}>",
        "Accept: application/sdp",
        "User-Agent: Accord probe",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass(frozen=True)
class SipProbe:
    """One OPTIONS request and the answer (or the reason there was none)."""

    endpoint: Endpoint
    transport: Transport
    request_line: str
    server_name: str | None = None
    verified: bool = False
    tls_protocol: str | None = None
    status_line: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.status_line is not None

    @property
    def status_code(self) -> int | None:
        if self.status_line is None:
            return None
        parts = self.status_line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    def observation(self) -> dict[str, Any]:
        return {
            "connected_to": str(self.endpoint),
            "transport": self.transport,
            "sent": self.request_line,
            "sni": self.server_name if self.transport == "tls" else None,
            "verify_certificate": self.verified if self.transport == "tls" else None,
            "tls": self.tls_protocol,
            "answered": self.answered,
            "answer": self.status_line or self.error,
            "status_code": self.status_code,
            "headers": dict(self.headers),
        }


def _parse(message: bytes) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The status line and the shown headers of a response."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
    status_line, *lines = head.split("\r\n")
    shown = {h.lower(): h for h in SHOWN_HEADERS}
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() in shown:
            headers.append((shown[name.strip().lower()], value.strip()))
    return status_line.strip(), tuple(headers)


def _is_final(status_line: str) -> bool:
    code = status_line.split(" ", 2)[1] if status_line.count(" ") else ""
    return not (code.isdigit() and code.startswith("1"))


def _content_length(head: bytes) -> int:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if _COMPACT.get(name, name) == "content-length" and value.strip().isdigit():
            return int(value.strip())
    return 0


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One SIP message from a stream (None if the peer closed first); ``buffer`` keeps the rest."""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_MESSAGE:
            raise ValueError("no end of headers within 64 KiB")
        chunk = sock.recv(4096)
        if not chunk:
            return None
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    total = len(head) + 4 + _content_length(head)
    while len(buffer) < total:
        chunk = sock.recv(min(4096, total - len(buffer)))
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[:total])
    del buffer[:total]
    return message


def _answer(probe: SipProbe, message: bytes) -> SipProbe:
    status_line, headers = _parse(message)
    if not status_line.startswith("SIP/2.0 "):
        return replace(probe, error=f"not a SIP response: {status_line[:80]!r}")
    return replace(probe, status_line=status_line, headers=headers, error=None)


def _over_udp(probe: SipProbe, endpoint: Endpoint, timeout: float) -> SipProbe:
    family, kind, proto, _, address = socket.getaddrinfo(
        endpoint.host, endpoint.connect_port, type=socket.SOCK_DGRAM
    )[0]
    with socket.socket(family, kind, proto) as sock:
        sock.connect(address)
        request = options_request(endpoint, "udp", sock.getsockname()[:2])
        deadline = time.monotonic() + timeout
        try:
            sock.send(request)
            while (remaining := deadline - time.monotonic()) > 0:
                sock.settimeout(remaining)
                probe = _answer(probe, sock.recv(_MAX_MESSAGE))
                if probe.status_line is not None and _is_final(probe.status_line):
                    return probe
        except ConnectionRefusedError:
            return replace(probe, error="refused (ICMP port unreachable)")
        except TimeoutError:
            pass
        except OSError as exc:
            return replace(probe, error=f"{type(exc).__name__}: {exc}")
    return probe if probe.answered else replace(probe, error=f"no answer within {timeout} s")


def _tls_context(ca_bundle: Path | None, verify: bool) -> ssl.SSLContext:
    if verify:
        return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _over_stream(
    probe: SipProbe, endpoint: Endpoint, context: ssl.SSLContext | None, timeout: float
) -> SipProbe:
    try:
        sock = socket.create_connection((endpoint.host, endpoint.connect_port), timeout)
    except ConnectionRefusedError:
        return replace(probe, error="refused (TCP reset)")
    except TimeoutError:
        return replace(probe, error=f"no TCP connection within {timeout} s (timed out)")
    except OSError as exc:
        return replace(probe, error=f"TCP connect: {type(exc).__name__}: {exc}")
    if context is not None:
        try:
            sock = context.wrap_socket(sock, server_hostname=probe.server_name)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            return replace(probe, error=f"TLS handshake failed: {type(exc).__name__}: {exc}")
        probe = replace(probe, tls_protocol=sock.version())
    with sock:
        return _exchange_on_stream(probe, endpoint, sock, timeout)


def _exchange_on_stream(
    probe: SipProbe, endpoint: Endpoint, sock: socket.socket, timeout: float
) -> SipProbe:
    request = options_request(endpoint, probe.transport, sock.getsockname()[:2])
    deadline, buffer, closed = time.monotonic() + timeout, bytearray(), False
    try:
        sock.sendall(request)
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            message = _read_message(sock, buffer)
            if message is None:
                closed = True
                break
            probe = _answer(probe, message)
            if probe.status_line is not None and _is_final(probe.status_line):
                return probe
    except TimeoutError:
        pass
    except ConnectionResetError:
        return replace(probe, error="reset by the server before an answer")
    except (OSError, ValueError) as exc:
        return replace(probe, error=f"{type(exc).__name__}: {exc}")
    if probe.answered:
        return probe
    if closed:
        return replace(probe, error="closed by the server without an answer")
    return replace(probe, error=f"no answer within {timeout} s")


@observed
def options(
    endpoint: Endpoint,
    *,
    transport: Transport,
    server_name: str | None = None,
    ca_bundle: Path | None = None,
    verify: bool = False,
    timeout: float = TIMEOUT,
) -> SipProbe:
    """Send one OPTIONS to ``sip:address:port`` over ``transport`` and record the answer.

    Over TLS, ``server_name`` is the SNI; with ``verify`` the certificate must chain to
    ``ca_bundle`` (None: the system's trust store) and be valid for ``server_name`` (or the
    endpoint's address). Without ``verify`` any certificate is accepted: the probe then shows
    only whether and how the listener answers.
    """
    if transport not in ("udp", "tcp", "tls"):
        raise ValueError(f"unknown SIP transport {transport!r}: use udp, tcp or tls")
    name = server_name or (endpoint.address if verify else None)
    request_line = f"OPTIONS sip:{_hostport(endpoint.address, endpoint.port)} SIP/2.0"
    probe = SipProbe(endpoint, transport, request_line, name, verify and transport == "tls")
    if transport == "udp":
        return _over_udp(probe, endpoint, timeout)
    context = _tls_context(ca_bundle, verify) if transport == "tls" else None
    return _over_stream(probe, endpoint, context, timeout)
