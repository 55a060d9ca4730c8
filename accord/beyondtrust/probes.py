"""What a BeyondTrust appliance shows to the network: the certificate it serves per SNI name.

A real appliance has no certificate API, so this is how a live appliance is verified, and the
simulator's listeners are probed the very same way. ``served`` opens a real TLS handshake
(``accord.probes.tls.handshake``) sending a server name or none, as the guide's "SSL Certificate
Auto-Selection" describes: a client sending a name gets the certificate whose SANs match it, a
client sending none (or an unknown one) gets the default. With a trust file it then asks an
independent, strict client whether the chain verifies (OpenSSL through Python's ``ssl``).

The pure checks answer the requirements' questions about what was served: ``covers`` (a SAN DNS
entry matches the hostname; a wildcard covers exactly one leftmost label), ``chain_complete``
(the chain sent lets a client that trusts only the root build the path), ``ca_signed`` and
``days_left``. Certificates are public; nothing secret passes through a probe.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from accord.network import Endpoint
from accord.pki import (
    PkiError,
    build_chain,
    fingerprint_sha256,
    is_self_signed,
    load_pem_certificates,
    matches_hostname,
    san_names,
)
from accord.pki import days_left as _pki_days_left
from accord.probes.tls import TIMEOUT, describe, handshake, verify
from accord.recording.observations import observed

__all__ = [
    "ProbeError",
    "ServedCertificate",
    "ca_signed",
    "chain_complete",
    "chain_problem",
    "covers",
    "days_left",
    "served",
]


class ProbeError(RuntimeError):
    """A question about a served certificate that cannot be answered: nothing was served
    (the handshake failed), or the trust list holds no root certificate."""


@dataclass(frozen=True)
class ServedCertificate:
    """What one handshake showed: the chain sent (leaf first, as sent), the protocol, and, when
    a trust file was given, a strict client's verdict for ``server_name`` (without a name: the
    chain only). ``error`` is the handshake's failure (then ``chain`` is empty)."""

    endpoint: Endpoint
    server_name: str | None
    chain: tuple[x509.Certificate, ...] = ()
    protocol: str | None = None
    error: str | None = None
    trust: Path | None = None
    verified: bool | None = None
    verify_error: str | None = None

    @property
    def ok(self) -> bool:
        """The handshake completed and a certificate was served."""
        return self.error is None and bool(self.chain)

    @property
    def leaf(self) -> x509.Certificate:
        """The server certificate; ``ProbeError`` when nothing was served."""
        if not self.chain:
            raise ProbeError(f"{self.endpoint}: no certificate was served ({self.error})")
        return self.chain[0]

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The certificates sent after the leaf."""
        return self.chain[1:]

    @property
    def alternative_names(self) -> list[str]:
        return san_names(self.leaf)

    @property
    def subject(self) -> str:
        return self.leaf.subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        return self.leaf.issuer.rfc4514_string()

    @property
    def not_after(self) -> dt.datetime:
        return self.leaf.not_valid_after_utc

    @property
    def self_signed(self) -> bool:
        return is_self_signed(self.leaf)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the leaf, upper-case hex pairs joined by colons."""
        return fingerprint_sha256(self.leaf)

    def observation(self) -> dict[str, Any]:
        """The evidence: where, which SNI, what was served and the verdict (public data)."""
        leaf: dict[str, Any] | None = None
        if self.chain:
            leaf = {
                **describe(self.leaf),
                "alternative_names": self.alternative_names,
                "self_signed": self.self_signed,
            }
        return {
            "connected_to": str(self.endpoint),
            "sni": self.server_name,
            "protocol": self.protocol,
            "leaf": leaf,
            "served_chain": [describe(c) for c in self.chain],
            "verified_against": str(self.trust) if self.trust is not None else None,
            "verified_for": self.server_name if self.trust is not None else None,
            "verified": self.verified,
            "verify_error": self.verify_error,
            "error": self.error,
        }


def _verify_without_name(endpoint: Endpoint, trust: Path, timeout: float) -> str | None:
    """A strict client sending no SNI: the chain must lead to ``trust`` (no name check)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(cafile=str(trust))
    try:
        with (
            socket.create_connection((endpoint.host, endpoint.connect_port), timeout) as raw,
            context.wrap_socket(raw, server_hostname=None),
        ):
            return None
    except (OSError, ssl.SSLError) as exc:
        return f"{type(exc).__name__}: {exc}"


@observed
def served(
    endpoint: Endpoint,
    server_name: str | None,
    trust: Path | None,
    *,
    timeout: float = TIMEOUT,
) -> ServedCertificate:
    """The certificate ``endpoint`` serves to a client sending ``server_name`` as SNI (``None``:
    no SNI). One handshake accepting anything records the chain; with ``trust`` (a PEM file of
    the roots to trust) a second, strict handshake says whether it verifies for ``server_name``
    (hostname included) or, without a name, whether the chain alone does. Never raises for a
    network or TLS failure: ``error`` (handshake) and ``verify_error`` say what went wrong;
    ``OSError`` (``ssl.SSLError`` included) or ``ValueError`` only if ``trust`` cannot be read
    as PEM certificates."""
    done = handshake(endpoint, server_name, timeout)
    result = ServedCertificate(endpoint, server_name, done.chain, done.protocol, done.error)
    if trust is None or not result.ok:
        return result
    if server_name:
        problem = verify(endpoint, server_name, trust, timeout).error
    else:
        problem = _verify_without_name(endpoint, trust, timeout)
    return ServedCertificate(
        endpoint,
        server_name,
        done.chain,
        done.protocol,
        None,
        trust,
        problem is None,
        problem,
    )


def _leaf(cert: ServedCertificate | x509.Certificate) -> x509.Certificate:
    return cert.leaf if isinstance(cert, ServedCertificate) else cert


def covers(cert: ServedCertificate | x509.Certificate, hostname: str) -> bool:
    """Whether a SAN DNS entry of the certificate matches ``hostname`` (case-insensitive; a
    wildcard ``*.example.com`` matches exactly one leftmost label; the Common Name is not used,
    as the appliance's auto-selection does not). ``ProbeError`` if nothing was served."""
    return matches_hostname(_leaf(cert), hostname, cn_fallback=False)


def _roots(trust: Path | Iterable[x509.Certificate]) -> list[x509.Certificate]:
    certs = load_pem_certificates(trust.read_bytes()) if isinstance(trust, Path) else list(trust)
    roots = [c for c in certs if is_self_signed(c)]
    if not roots:
        raise ProbeError("the trust list holds no root (self-signed) certificate")
    return roots


def chain_problem(
    served: ServedCertificate, trust: Path | Iterable[x509.Certificate]
) -> str | None:
    """Why a client trusting only the roots in ``trust`` cannot build a path from the leaf
    with the certificates the server sent, or ``None`` when it can. Only the roots of
    ``trust`` count (an intermediate in it is ignored: the server must send it); roots the
    server sent are ignored too. Validity dates are not looked at (see ``days_left``).
    ``ProbeError`` if nothing was served or ``trust`` holds no root; ``OSError`` or
    ``PkiError`` if the trust file cannot be read."""
    roots = _roots(trust)
    pool = [c for c in served.intermediates if not is_self_signed(c)] + roots
    try:
        build_chain(served.leaf, pool)
    except PkiError as exc:
        return str(exc)
    return None


def chain_complete(served: ServedCertificate, trust: Path | Iterable[x509.Certificate]) -> bool:
    """The chain sent lets a client that trusts only the root build the path (BT-09: "with
    its full chain"). Raises as ``chain_problem``."""
    return chain_problem(served, trust) is None


def ca_signed(served: ServedCertificate | x509.Certificate) -> bool:
    """The leaf is not self-signed (the factory certificate and self-signed ones are).
    ``ProbeError`` if nothing was served."""
    return not is_self_signed(_leaf(served))


def days_left(served: ServedCertificate | x509.Certificate, now: dt.datetime | None = None) -> int:
    """Whole days until the leaf's notAfter (negative once expired). ``ProbeError`` if
    nothing was served; ``PkiError`` for a naive ``now``."""
    return _pki_days_left(_leaf(served), now)
