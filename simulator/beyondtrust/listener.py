"""Each appliance's TLS listener: SSL Certificate Auto-Selection over real handshakes.

The guide: "Through the utilization of Server Name Indication (SNI) ... any SSL certificate
stored on the appliance is a candidate to be served to any client", and "You may choose a
default certificate to serve to clients who do not send SNI information with their request, or
to clients who do send SNI information, but which does not match anything in the appliance
database."

``ApplianceListener`` listens on loopback only (port 0: a free port, by default) and serves a tiny
HTTPS page naming the appliance (werkzeug, through ``simulator.core.serving``). Its
listening ``SSLContext`` holds no certificate: its ``sni_callback`` (which OpenSSL calls for
every ClientHello, with or without SNI) asks the appliance which entry to serve
(``Appliance.tls_material``) and switches the connection to a context holding that
certificate, its intermediates (the issuers found in the store, self-signed root left out) and
its key. The store is read at each handshake, so the next handshake follows any change.
Contexts are cached per (certificate, chain). If no context can be made, the handshake fails
with a ``handshake_failure`` alert (INFERRED). TLS 1.2 is the minimum (INFERRED).

The private key reaches OpenSSL through a 0600 temporary file, encrypted with a random
per-listener password, deleted as soon as it is loaded.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from werkzeug.wrappers import Request, Response

from simulator.beyondtrust.models import Appliance
from simulator.beyondtrust.pki import to_pem
from simulator.beyondtrust.store import TlsMaterial
from simulator.core.service import Service
from simulator.core.serving import Serving, listen_https

__all__ = ["ApplianceListener", "require_loopback"]

CONTEXT_CACHE = 64


def require_loopback(host: str, what: str) -> None:
    """``ValueError`` unless ``host`` is a loopback address literal or ``localhost``: the
    simulator never listens beyond this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{what} must be a loopback address (127.0.0.0/8, ::1), not {host!r}")


def _page(appliance: Appliance) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        text = (
            f"BeyondTrust Privileged Remote Access (simulated appliance {appliance.name}, "
            f"{appliance.hostname}): {request.path}\n"
        )
        return Response(text, mimetype="text/plain")(environ, start_response)

    return app


class ApplianceListener(Service):
    """The TLS listener of one ``Appliance`` (see module doc)."""

    def __init__(self, appliance: Appliance, *, host: str = "127.0.0.1", port: int = 0) -> None:
        require_loopback(host, "listener host")
        self.appliance = appliance
        self.host = host
        self.port = port
        self._password = secrets.token_bytes(32)
        self._contexts: dict[tuple[bytes, ...], ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._serving: Serving | None = None

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` it listens on (the port is known once started)."""
        return self.host, self.port

    def listening_context(self) -> ssl.SSLContext:
        """A server context without a certificate of its own, choosing one per handshake."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.sni_callback = self._pick
        return context

    def _pick(self, sock: Any, server_name: str | None, _context: ssl.SSLContext) -> int | None:
        try:
            sock.context = self.context_for(self.appliance.tls_material(server_name))
        except Exception:  # whatever went wrong, the handshake fails cleanly, never half-done
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        return None

    def context_for(self, material: TlsMaterial) -> ssl.SSLContext:
        """A server context serving ``material``'s certificate, intermediates and key
        (cached)."""
        cache_key = tuple(c.fingerprint(hashes.SHA256()) for c in (material.leaf, *material.chain))
        with self._lock:
            cached = self._contexts.get(cache_key)
        if cached is not None:
            return cached
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        key_pem = material.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._password),
        ).decode("ascii")
        fd, name = tempfile.mkstemp(prefix="accord-sim-bt-", suffix=".pem")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key_pem + to_pem(material.leaf, *material.chain))
            context.load_cert_chain(name, password=self._password)
        finally:
            Path(name).unlink(missing_ok=True)
        with self._lock:
            if len(self._contexts) >= CONTEXT_CACHE:
                self._contexts.clear()
            self._contexts[cache_key] = context
        return context

    def start(self) -> ApplianceListener:
        """Bind and serve in a daemon thread; ``OSError`` (one line) if it cannot bind,
        ``RuntimeError`` if already started."""
        if self._serving is not None:
            raise RuntimeError(f"the listener of {self.appliance.name!r} is already running")
        self._serving = listen_https(
            self.host,
            self.port,
            _page(self.appliance),
            self.listening_context(),
            who=f"appliance {self.appliance.name!r}",
            name=f"bt-sim-{self.appliance.name}-tls",
        )
        self.port = self._serving.server.port  # type: ignore[attr-defined]
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.close()
