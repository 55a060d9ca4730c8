"""TLS probes: the certificate chain a listener serves, an independent verification, its headers.

Each probe opens a real TLS connection to an `Endpoint` and returns an observation the evidence
can show: where it connected, the name it asked for (SNI), the protocol and cipher, and the
served certificates (subject, issuer, serial, SHA-256 fingerprint). Certificates are public;
nothing secret passes through a probe.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from accord.network import Endpoint
from accord.pki import fingerprint_sha256

TIMEOUT = 5.0


def _served_chain(sock: ssl.SSLSocket) -> tuple[x509.Certificate, ...]:
    """The certificates the server sent, leaf first, whatever they are (not verified).

    Python 3.13 has `SSLSocket.get_unverified_chain()`; 3.10 to 3.12 have the same method on the
    socket's internal SSL object only.
    """
    getter = getattr(sock, "get_unverified_chain", None)
    if getter is None:
        getter = sock._sslobj.get_unverified_chain  # type: ignore[union-attr]
    certificates = []
    for item in getter() or []:
        der = item if isinstance(item, bytes) else item.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        certificates.append(x509.load_der_x509_certificate(der))
    return tuple(certificates)


def describe(cert: x509.Certificate) -> dict[str, str]:
    """A certificate as the evidence shows it."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": fingerprint_sha256(cert),
    }


@dataclass(frozen=True)
class Handshake:
    """What one TLS handshake showed."""

    endpoint: Endpoint
    server_name: str | None
    protocol: str | None = None
    cipher: str | None = None
    chain: tuple[x509.Certificate, ...] = ()
    error: str | None = None

    @property
    def leaf(self) -> x509.Certificate:
        if not self.chain:
            raise AssertionError(f"{self.endpoint}: no certificate was served ({self.error})")
        return self.chain[0]

    def observation(self) -> dict[str, Any]:
        return {
            "connected_to": str(self.endpoint),
            "sni": self.server_name,
            "protocol": self.protocol,
            "cipher": self.cipher,
            "served_chain": [describe(c) for c in self.chain],
            "error": self.error,
        }


def _client_context(trust: Path | None = None, check_name: bool = True) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if trust is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.check_hostname = check_name
        context.load_verify_locations(cafile=str(trust))
    return context


def handshake(endpoint: Endpoint, server_name: str | None, timeout: float = TIMEOUT) -> Handshake:
    """Connect, complete a handshake accepting any certificate, and record what was served."""
    context = _client_context()
    try:
        with (
            socket.create_connection((endpoint.host, endpoint.connect_port), timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as sock,
        ):
            return Handshake(
                endpoint,
                server_name,
                sock.version(),
                (sock.cipher() or (None,))[0],
                _served_chain(sock),
            )
    except (OSError, ssl.SSLError) as exc:
        return Handshake(endpoint, server_name, error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Verification:
    """An independent client's verdict (OpenSSL through Python's `ssl`) on a listener."""

    endpoint: Endpoint
    server_name: str
    trusted: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def observation(self) -> dict[str, Any]:
        return {
            "connected_to": str(self.endpoint),
            "verified_for": self.server_name,
            "trust_anchors": self.trusted,
            "verified": self.ok,
            "error": self.error,
        }


def verify(
    endpoint: Endpoint,
    server_name: str,
    trust: Path,
    timeout: float = TIMEOUT,
    *,
    check_name: bool = True,
) -> Verification:
    """Handshake as a strict client would: the served chain must lead to a certificate in
    ``trust`` (a PEM file of roots only, so intermediates must be served) and, unless
    ``check_name`` is false, be valid for ``server_name`` (always sent as SNI)."""
    anchors = [describe(c)["subject"] for c in x509.load_pem_x509_certificates(trust.read_bytes())]
    try:
        with (
            socket.create_connection((endpoint.host, endpoint.connect_port), timeout) as raw,
            _client_context(trust, check_name).wrap_socket(raw, server_hostname=server_name),
        ):
            return Verification(endpoint, server_name, anchors)
    except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
        return Verification(endpoint, server_name, anchors, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class WebResponse:
    endpoint: Endpoint
    path: str
    status: int | None
    headers: dict[str, str]
    error: str | None = None

    def observation(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.headers.items() if k.lower() != "set-cookie"}
        return {
            "request": f"GET {self.path} at {self.endpoint}",
            "status": self.status,
            "headers": shown,
            "error": self.error,
        }


def web_get(
    endpoint: Endpoint, server_name: str | None, path: str = "/", timeout: float = TIMEOUT
) -> WebResponse:
    """One unauthenticated HTTPS GET: the status and response headers (cookies not kept)."""
    context = _client_context()
    connection = http.client.HTTPSConnection(
        endpoint.host, endpoint.connect_port, timeout=timeout, context=context
    )
    try:
        headers = {"Host": server_name or endpoint.address}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return WebResponse(endpoint, path, response.status, dict(response.getheaders()))
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return WebResponse(endpoint, path, None, {}, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
