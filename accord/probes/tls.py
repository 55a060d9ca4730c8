"""TLS probes: the certificate chain a listener serves, an independent verification, its headers.

Each probe opens a real TLS connection to an `Endpoint` and returns an observation the evidence
can show: where it connected, the name it asked for (SNI), the protocol and cipher, and the
served certificates (subject, issuer, serial, SHA-256 fingerprint). Certificates are public;
nothing secret passes through a probe.

`negotiate` is a capability probe: a client that allows exactly one protocol version (and, if
asked, only some cipher suites) and accepts anything else the server chooses, so that a failed
handshake is the server's refusal, never the client's. `client_allows` checks, without the
network, that this machine's OpenSSL can really complete such a handshake at all; `negotiate`
refuses to send an offer it cannot. Python's ``ssl`` makes every offer but TLS 1.3 restricted to
some suites, which it cannot make: pyOpenSSL (``Context.set_tls13_ciphersuites``) does.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import socket
import ssl
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from OpenSSL import SSL

from accord.network import Endpoint
from accord.pki import fingerprint_sha256
from accord.recording.observations import observed

TIMEOUT = 5.0

#: How the evidence describes a client certificate the probe holds: whether the server asked for
#: it (and so whether it was sent) is invisible to Python's ``ssl``.
CLIENT_CERTIFICATE_NOTE = "configured (sent only if the server requests one)"


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


@observed
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


@observed
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
    client_certificate: bool = False

    def observation(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.headers.items() if k.lower() != "set-cookie"}
        observed: dict[str, Any] = {
            "request": f"GET {self.path} at {self.endpoint}",
            "status": self.status,
            "headers": shown,
            "error": self.error,
        }
        if self.client_certificate:
            observed["client_certificate"] = CLIENT_CERTIFICATE_NOTE
        return observed


@observed
def web_get(
    endpoint: Endpoint,
    server_name: str | None,
    path: str = "/",
    timeout: float = TIMEOUT,
    *,
    client_certificate: tuple[Path, Path] | None = None,
) -> WebResponse:
    """One unauthenticated HTTPS GET: the status and response headers (cookies not kept).

    ``client_certificate`` (certificate file, key file) is presented if the server asks for one.
    Whether it asked cannot be observed: Python's ``ssl`` has no public hook for the server's
    CertificateRequest. A server that requires one refuses the connection without it.
    """
    context = _client_context()
    if client_certificate is not None:
        context.load_cert_chain(*map(str, client_certificate))
    presented = client_certificate is not None
    connection = http.client.HTTPSConnection(
        endpoint.host, endpoint.connect_port, timeout=timeout, context=context
    )
    try:
        headers = {"Host": server_name or endpoint.address}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return WebResponse(
            endpoint, path, response.status, dict(response.getheaders()), None, presented
        )
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return WebResponse(endpoint, path, None, {}, f"{type(exc).__name__}: {exc}", presented)
    finally:
        connection.close()


TlsVersion = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
TLS_VERSIONS: tuple[TlsVersion, ...] = get_args(TlsVersion)

_PROTOCOL = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
#: Appended to every capability probe's cipher string: OpenSSL 3's default security level (and
#: Debian's) refuses TLS 1.0/1.1 and small keys or DH groups on the client side, which would pass
#: for the server's refusal.
_ANY_STRENGTH = "@SECLEVEL=0"
_SCSV = {0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x5600: "TLS_FALLBACK_SCSV"}
#: The TLS 1.3 cipher suites (RFC 8446, B.4), by code.
TLS13_SUITES = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
}


def capability_context(version: TlsVersion, ciphers: str | None = None) -> ssl.SSLContext:
    """A client context allowing exactly ``version``, at security level 0, verifying nothing.

    ``ciphers`` (an OpenSSL cipher string) restricts the TLS <= 1.2 suites offered. Python's
    ``ssl`` cannot restrict the TLS 1.3 suites of one context (OpenSSL's ``SSL_CTX_set_
    ciphersuites`` is not exposed), so ``ciphers`` with TLS 1.3 is refused with ValueError:
    `tls13_context` makes that offer.
    """
    if version not in _PROTOCOL:
        raise ValueError(f"unknown TLS version {version!r}: use one of {', '.join(TLS_VERSIONS)}")
    if ciphers is not None and version == "TLSv1.3":
        raise ValueError(
            "Python's ssl cannot restrict TLS 1.3 cipher suites: use tls13_context (pyOpenSSL)"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; allowing them on purpose is what this probe is for.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _PROTOCOL[version]
        context.maximum_version = _PROTOCOL[version]
    try:
        context.set_ciphers(f"{ciphers or 'DEFAULT'}:{_ANY_STRENGTH}")
    except ssl.SSLError as exc:
        raise ValueError(f"no cipher matches {ciphers!r}") from exc
    return context


def tls13_context(suites: str) -> SSL.Context:
    """A pyOpenSSL client context allowing exactly TLS 1.3 and only ``suites`` (OpenSSL's
    ``-ciphersuites`` syntax: TLS 1.3 suite names joined by colons), verifying nothing.
    ValueError when no name in ``suites`` is a TLS 1.3 suite this OpenSSL knows."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    context.set_max_proto_version(SSL.TLS1_3_VERSION)
    try:
        context.set_tls13_ciphersuites(suites.encode("ascii"))
    except (SSL.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"no TLS 1.3 cipher suite matches {suites!r}") from exc
    context.set_verify(SSL.VERIFY_NONE)
    return context


def _hello_suites(records: bytes, names: dict[int, str]) -> tuple[str, ...]:
    """The cipher suites of the ClientHello in ``records`` (TLS records, as a client sends
    them), named from ``names`` (else their code)."""
    message = b""
    while len(records) >= 5:  # TLS records: type, version, length, fragment
        length = int.from_bytes(records[3:5], "big")
        message += records[5 : 5 + length]
        records = records[5 + length :]
    at = 4 + 2 + 32  # handshake header, legacy version, random
    at += 1 + message[at]  # session id
    length = int.from_bytes(message[at : at + 2], "big")
    codes = message[at + 2 : at + 2 + length]
    suites = (int.from_bytes(codes[i : i + 2], "big") for i in range(0, len(codes), 2))
    return tuple(names.get(code, f"0x{code:04X}") for code in suites)


def _client_hello_suites(context: ssl.SSLContext, server_name: str | None) -> tuple[str, ...]:
    """The cipher suites ``context`` really puts in its ClientHello (built in memory, not sent).

    ``SSLContext.get_ciphers()`` also lists suites OpenSSL leaves out of the hello (PSK and SRP
    suites without credentials, suites of other versions), so the hello itself is read.
    """
    names = {c["id"] & 0xFFFF: c["name"] for c in context.get_ciphers()} | _SCSV
    outgoing = ssl.MemoryBIO()
    client = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=server_name)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as exc:
        raise ValueError(f"this client cannot offer anything: {exc}") from exc
    return _hello_suites(outgoing.read(), names)


def _tls13_client(context: SSL.Context, server_name: str | None) -> SSL.Connection:
    """A pyOpenSSL client connection over memory buffers (`_pending` reads what it sends)."""
    client = SSL.Connection(context, None)
    if server_name:
        client.set_tlsext_host_name(server_name.encode("idna"))
    client.set_connect_state()
    return client


def _pending(client: SSL.Connection) -> bytes:
    """What a memory-buffered pyOpenSSL connection has to send."""
    out = b""
    while True:
        try:
            out += client.bio_read(65536)
        except SSL.WantReadError:
            return out


def _tls13_hello_suites(context: SSL.Context, server_name: str | None) -> tuple[str, ...]:
    """The cipher suites a `tls13_context` client puts in its ClientHello (built in memory)."""
    client = _tls13_client(context, server_name)
    try:
        client.do_handshake()
    except SSL.WantReadError:
        pass
    except SSL.Error as exc:
        raise ValueError(f"this client cannot offer anything: {_ssl_error(exc)}") from exc
    return _hello_suites(_pending(client), TLS13_SUITES | _SCSV)


def _ssl_error(exc: SSL.Error) -> str:
    """pyOpenSSL's error as one line: OpenSSL's reasons."""
    reasons = [item[-1] for item in exc.args[0] if isinstance(item, tuple)] if exc.args else []
    return "; ".join(reasons) or str(exc) or type(exc).__name__


@dataclass(frozen=True)
class Negotiation:
    """What a server did with a client that allows one TLS version (and maybe some ciphers)."""

    endpoint: Endpoint
    server_name: str | None
    version: TlsVersion
    ciphers: str | None
    offered: tuple[str, ...]
    connected: bool
    accepted: bool = False
    protocol: str | None = None
    cipher: str | None = None
    error: str | None = None

    @property
    def refused(self) -> bool:
        """The server took the TCP connection and refused the handshake."""
        return self.connected and not self.accepted

    def observation(self) -> dict[str, Any]:
        return {
            "connected_to": str(self.endpoint),
            "sni": self.server_name,
            "offered_version": self.version,
            "offered_cipher_string": self.ciphers,
            "offered_ciphers": list(self.offered),
            "connected": self.connected,
            "accepted": self.accepted,
            "protocol": self.protocol,
            "cipher": self.cipher,
            "error": self.error,
        }


@observed
def negotiate(
    endpoint: Endpoint,
    *,
    server_name: str | None,
    version: TlsVersion,
    ciphers: str | None = None,
    timeout: float = TIMEOUT,
) -> Negotiation:
    """Offer only ``version`` (and only ``ciphers``) and see what the server does.

    ``ciphers`` is an OpenSSL cipher string for TLS <= 1.2 (Python's ``ssl``) and a list of TLS
    1.3 suite names for TLS 1.3 (``openssl s_client -ciphersuites`` syntax; pyOpenSSL, since
    Python's ``ssl`` cannot restrict TLS 1.3 suites). The client verifies no certificate and
    runs at OpenSSL security level 0, so a failed handshake is the server's refusal (its alert
    is the error). ``connected`` is false when TCP itself failed: a closed port is never a
    refused version. Before connecting, ValueError when this client cannot make the offer at
    all (`client_allows`: a refusal of it would prove nothing about the server) or when
    ``ciphers`` names nothing it knows.
    """
    if version == "TLSv1.3" and ciphers is not None:
        offered = _tls13_hello_suites(tls13_context(ciphers), server_name)
    else:
        offered = _client_hello_suites(capability_context(version, ciphers), server_name)
    if not client_allows(version, ciphers):
        raise ValueError(
            f"this machine's OpenSSL cannot complete a {version} handshake offering "
            f"{ciphers or 'its default suites'} even with a server allowing everything: "
            "a refusal would prove nothing about the server"
        )
    asked = Negotiation(endpoint, server_name, version, ciphers, offered, connected=False)
    try:
        raw = socket.create_connection((endpoint.host, endpoint.connect_port), timeout)
    except OSError as exc:
        return replace(asked, error=f"{type(exc).__name__}: {exc}")
    try:
        if version == "TLSv1.3" and ciphers is not None:
            protocol, cipher = _tls13_handshake(raw, tls13_context(ciphers), server_name)
        else:
            context = capability_context(version, ciphers)
            with context.wrap_socket(raw, server_hostname=server_name) as sock:
                protocol, cipher = sock.version(), (sock.cipher() or (None,))[0]
        return replace(asked, connected=True, accepted=True, protocol=protocol, cipher=cipher)
    except SSL.Error as exc:
        return replace(asked, connected=True, error=f"SSLError: {_ssl_error(exc)}")
    except (OSError, ssl.SSLError) as exc:
        return replace(asked, connected=True, error=f"{type(exc).__name__}: {exc}")
    finally:
        raw.close()


def _tls13_handshake(
    raw: socket.socket, context: SSL.Context, server_name: str | None
) -> tuple[str | None, str | None]:
    """A pyOpenSSL handshake over ``raw`` (its timeout bounds each wait for the server):
    (protocol, cipher) once complete; raises ``SSL.Error`` (the server's alert) or OSError."""
    client = _tls13_client(context, server_name)
    while True:
        try:
            client.do_handshake()
        except SSL.WantReadError:
            pass
        else:
            raw.sendall(_pending(client))  # the client's Finished
            return client.get_protocol_version_name(), client.get_cipher_name()
        raw.sendall(_pending(client))
        data = raw.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection during the handshake")
        client.bio_write(data)


@functools.cache
def _permissive_server() -> ssl.SSLContext:
    """A server context allowing TLS 1.0 to 1.3 and every suite at security level 0, with
    throwaway EC and RSA keys (RSA key exchange and RSA-signed suites need the latter)."""
    with tempfile.TemporaryDirectory(prefix="accord-tls-") as folder:
        directory = Path(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers(f"ALL:{_ANY_STRENGTH}")
        keys: list[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey] = [
            ec.generate_private_key(ec.SECP256R1()),
            rsa.generate_private_key(65537, 2048),
        ]
        for index, key in enumerate(keys):
            cert, private = directory / f"cert{index}.pem", directory / f"key{index}.pem"
            cert.write_bytes(_self_signed(key).public_bytes(serialization.Encoding.PEM))
            private.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            context.load_cert_chain(cert, private)
    return context


def _self_signed(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accord-self-check.invalid")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@functools.cache
def client_allows(version: TlsVersion, ciphers: str | None = None) -> bool:
    """Whether this machine's OpenSSL, as `negotiate` configures it, completes a handshake at
    ``version`` (offering ``ciphers``: a cipher string, or TLS 1.3 suite names) with a local
    server allowing TLS 1.0 to 1.3 and every suite (in memory, no network). If not, a
    `negotiate` refusal of that offer would prove nothing about the server."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = _permissive_server().wrap_bio(to_server, to_client, server_side=True)
    if version == "TLSv1.3" and ciphers is not None:
        client = _tls13_client(tls13_context(ciphers), None)
        for _ in range(4):  # a TLS 1.3 handshake takes one round trip and a half
            try:
                client.do_handshake()
            except SSL.WantReadError:
                pass
            except SSL.Error:
                return False
            to_server.write(_pending(client))
            if not _step(server):
                return False
            if to_client.pending:
                client.bio_write(to_client.read())
        return client.get_protocol_version_name() == version
    tls = capability_context(version, ciphers).wrap_bio(to_client, to_server)
    for _ in range(4):  # a full TLS 1.2 handshake, the longest, takes two round trips
        if not (_step(tls) and _step(server)):
            return False
    return tls.version() == version


def _step(side: ssl.SSLObject) -> bool:
    """One turn of an in-memory handshake: false when it failed."""
    try:
        side.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError:
        return False
    return True
