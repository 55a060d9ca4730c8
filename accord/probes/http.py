"""HTTP probe: one HTTPS request as a browser or an attacker would send it, and what came back.

The request goes to an `Endpoint` with TLS verified against a CA bundle and a server name (the
name is sent as SNI and checked against the certificate), and with a Host header of our choosing:
the node's own ``address[:port]`` by default, or a foreign name (`FOREIGN_HOST`) to show that a
node refuses requests for names it does not serve.

The exchange records what was sent (method, path, Host, the other headers with secret values
hidden, whether a client certificate was configured; never a key) and what came back: status,
reason, a few headers that carry evidence (Set-Cookie with every cookie value redacted) and the
start of a text body. If no response came, the error says at which stage: TCP connect, TLS
handshake, sending the request or reading the response.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from accord.network import Endpoint
from accord.probes.tls import CLIENT_CERTIFICATE_NOTE
from accord.recording.observations import observed
from accord.secrets import REDACTED, is_secret_field

TIMEOUT = 5.0
#: A Host header no node serves (``.invalid`` is reserved by RFC 2606, so it is nobody's name).
FOREIGN_HOST = "accord-probe.invalid"
#: Response headers the evidence shows; the others are not kept.
SHOWN_HEADERS = (
    "Location",
    "Content-Type",
    "Strict-Transport-Security",
    "WWW-Authenticate",
    "Set-Cookie",
)
EXCERPT_CHARS = 300
_READ_LIMIT = 64 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def default_host_header(endpoint: Endpoint) -> str:
    """The Host header a client of the node sends: its address, and its port unless 443."""
    host = f"[{endpoint.address}]" if ":" in endpoint.address else endpoint.address
    return host if endpoint.port == 443 else f"{host}:{endpoint.port}"


def redact_set_cookie(value: str) -> str:
    """A Set-Cookie header with the cookie's value hidden and its attributes kept."""
    pair, separator, attributes = value.partition(";")
    name, equals, _ = pair.partition("=")
    shown = f"{name.strip()}={REDACTED}" if equals else REDACTED
    return f"{shown}{separator}{attributes}"


def _shown_request_header(name: str, value: str) -> str:
    secret = is_secret_field(name.replace("-", "_")) or name.lower() == "proxy-authorization"
    return REDACTED if secret and value else value


def _is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(("+json", "+xml"))


@dataclass(frozen=True)
class HttpExchange:
    """One HTTPS request and its response (or the error that stopped it)."""

    endpoint: Endpoint
    method: str
    path: str
    host_header: str
    server_name: str
    ca_bundle: Path | None
    client_certificate: bool
    request_headers: tuple[tuple[str, str], ...] = ()
    body_length: int = 0
    tls_protocol: str | None = None
    status: int | None = None
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body_excerpt: str | None = None
    error: str | None = None
    # name -> value of the cookies the response set: kept for a follow-up request (a logout),
    # never shown (not in `observation`, not in the repr).
    cookies: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def answered(self) -> bool:
        return self.status is not None

    def header(self, name: str) -> str | None:
        """The first kept response header called ``name`` (any case), if any."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def observation(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                shown.setdefault(name, []).append(value)
            else:
                shown[name] = value
        return {
            "request": {
                "connected_to": str(self.endpoint),
                "method": self.method,
                "path": self.path,
                "host": self.host_header,
                "sni": self.server_name,
                "verified_with": str(self.ca_bundle) if self.ca_bundle else "system trust store",
                "client_certificate": CLIENT_CERTIFICATE_NOTE if self.client_certificate else None,
                "headers": dict(self.request_headers),
                "body_bytes": self.body_length,
            },
            "tls": self.tls_protocol,
            "status": self.status,
            "reason": self.reason,
            "headers": shown,
            "body_excerpt": self.body_excerpt,
            "error": self.error,
        }


def _context(
    ca_bundle: Path | None, client_certificate: tuple[Path, Path] | None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    if client_certificate is not None:
        context.load_cert_chain(*map(str, client_certificate))
    return context


@observed
def request(
    endpoint: Endpoint,
    path: str = "/",
    *,
    method: str = "GET",
    server_name: str | None,
    ca_bundle: Path | None,
    host_header: str | None = None,
    client_certificate: tuple[Path, Path] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = TIMEOUT,
) -> HttpExchange:
    """Send one HTTPS request and record the exchange.

    TLS is verified against ``ca_bundle`` (None: the system's trust store) for ``server_name``
    (None: the endpoint's address). ``host_header`` defaults to `default_host_header`; pass
    `FOREIGN_HOST` to ask for a name the node does not serve. ``client_certificate`` is a
    (certificate file, key file) pair, sent if the server requests one; Python's ``ssl`` cannot
    show whether it did.
    """
    name = server_name or endpoint.address
    host = host_header or default_host_header(endpoint)
    sent = {"Host": host, **(headers or {})}
    exchange = HttpExchange(
        endpoint,
        method,
        path,
        host,
        name,
        ca_bundle,
        client_certificate is not None,
        tuple((k, _shown_request_header(k, v)) for k, v in sent.items()),
        len(body or b""),
    )
    context = _context(ca_bundle, client_certificate)
    connection = http.client.HTTPConnection(endpoint.host, endpoint.connect_port, timeout=timeout)
    stage = "TCP connect"
    try:
        raw = socket.create_connection((endpoint.host, endpoint.connect_port), timeout)
        stage = "TLS handshake"
        connection.sock = context.wrap_socket(raw, server_hostname=name)
        protocol = connection.sock.version()
        stage = "sending the request"
        connection.request(method, path, body=body, headers=sent)
        stage = "reading the response"
        response = connection.getresponse()
        data = response.read(_READ_LIMIT)
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        if stage == "TLS handshake":
            raw.close()
        return replace(exchange, error=f"{stage}: {type(exc).__name__}: {exc}")
    finally:
        connection.close()
    shown = {h.lower() for h in SHOWN_HEADERS}
    kept = tuple(
        (k, redact_set_cookie(v) if k.lower() == "set-cookie" else v)
        for k, v in response.getheaders()
        if k.lower() in shown
    )
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.partition(";")[0]
            key, equals, cookie = pair.partition("=")
            if equals:
                cookies[key.strip()] = cookie.strip()
    return replace(
        exchange,
        tls_protocol=protocol,
        status=response.status,
        reason=response.reason,
        headers=kept,
        body_excerpt=_excerpt(response, data),
        cookies=cookies,
    )


def _excerpt(response: http.client.HTTPResponse, data: bytes) -> str | None:
    """The first characters of a text body; None for other content."""
    if not _is_text(response.getheader("Content-Type")):
        return None
    charset = response.headers.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]
