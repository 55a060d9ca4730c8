"""What each node's TLS listeners serve: its assigned certificate and chain, per handshake.

Every listener's ``SSLContext`` carries no certificate of its own; its ``sni_callback`` (which
OpenSSL calls for every ClientHello, with or without SNI) looks the node up in the model and
swaps ``ssl_socket.context`` to a context holding:

- the node's assigned ``tls_certificate`` (leaf and private key; DH parameters when stored);
- its chain, built by issuer links (name and signature) from the leaf through the
  certificates stored with it (an upload may carry its chain) and then the custom trusted CA
  list (``ca_certificate``), as the guide says nodes build it from the trusted CA list; up to
  and including a self-signed root. An incomplete chain is sent as far as it was found; a
  temporary (self-signed) certificate is sent alone.

Contexts are cached by (certificate, key, parameters, chain, policy), so a handshake loads no
keys once its context exists. Expired certificates are served all the same: the simulated clock
(``/_sim/clock``) changes nothing here.

TLS policy (``TlsPolicy``), from the node's security wizard answers and, on a Management Node,
its authentication settings; the listening context and every served context follow it:

- "Enable TLS 1.0" yes (the factory answer): TLS 1.0 and 1.1 are accepted, with OpenSSL's
  security level 0 (OpenSSL 3 refuses TLS 1.0 at any higher level); no: TLS 1.2 is the minimum.
  INFERRED: the wizard's TLS 1.0 answer governs TLS 1.1 as well.
- FIPS 140-2 mode: no handshake ends on a suite that is not FIPS-approved. TLS 1.2 and older
  offer only ECDHE/DHE with AES-GCM or AES-CBC (the context's cipher list): ChaCha20-Poly1305,
  Camellia, ARIA and the rest offered alone are refused with handshake_failure. TLS 1.3: Python's
  ``ssl`` cannot choose TLS 1.3 suites per context, so each TLS listener reads the ClientHello
  before the handshake (``clienthello.peek``) and `TlsPolicy.refuses` a TLS 1.3 offer on which
  OpenSSL would choose TLS_CHACHA20_POLY1305_SHA256, with the handshake_failure alert OpenSSL
  sends when it shares no suite (``clienthello.refuse``): ChaCha20-Poly1305 offered alone is
  refused, AES-GCM is accepted. This is what an OpenSSL server restricted to AES-GCM TLS 1.3
  suites does (checked: ``openssl s_server -ciphersuites
  TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256`` refuses a client offering TLS 1.2 and 1.3
  with only ChaCha20 for TLS 1.3, rather than falling back to TLS 1.2). INFERRED: a real node in
  FIPS mode behaves so (Pexip does not publish its suites). LIMITATION: a TLS 1.3 offer of
  ChaCha20-Poly1305 and AES-128-GCM without AES-256-GCM is refused, where a server restricted
  to AES-GCM would choose AES-128-GCM (OpenSSL's preference puts ChaCha20 before AES-128-GCM
  and cannot be changed from Python). The fault ``secw01_fips_accepts_tls13_chacha20`` turns
  the TLS 1.3 refusal off (the simulator as it was before it had one).
- "Require client certificate" (Management Node): the listener asks every client for a
  certificate (optional at the TLS layer; the application refuses a request without one) and
  verifies a presented one against the node's trusted CA list; an untrusted one fails the
  handshake.

A node without a certificate (or whose certificate cannot be loaded) fails every handshake
with a ``handshake_failure`` alert (INFERRED: the guide does not say).

Sync delay: the real platform replicates certificate changes to the nodes "typically after
approximately one minute" (the guide). ``CertificateSync(delay=...)`` models that: a change of
a node's certificate, its assignment or the CA list takes effect at the first handshake at
least ``delay`` seconds after the change was first seen (at a sync point — after every write
request — or at a handshake). A newer change restarts the wait; a change undone within the
delay never shows. A node's first certificate (a node just created) is served at once. Tests
use 0, the default: the next handshake serves the change.
"""

from __future__ import annotations

import functools
import os
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from simulator.pexip import certdata, faults
from simulator.pexip.certdata import CertError
from simulator.pexip.certificate_resources import CA_CERTIFICATE, TLS_CERTIFICATE
from simulator.pexip.clienthello import TLS13, ClientHello
from simulator.pexip.fields import Key
from simulator.pexip.models import PexipModel
from simulator.pexip.resources import MANAGEMENT_VM, WORKER_VM
from simulator.pexip.state import State

CONTEXT_CACHE = 64
#: FIPS-approved TLS 1.3 suites a listener offers: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384.
FIPS_TLS13 = frozenset({0x1301, 0x1302})
#: The TLS 1.3 suites OpenSSL's server contexts allow, in its order of preference (Python sets
#: OP_CIPHER_SERVER_PREFERENCE): the first of them a ClientHello offers is the one chosen.
TLS13_PREFERENCE = tuple(
    c["id"] & 0xFFFF
    for c in ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).get_ciphers()
    if c["protocol"] == "TLSv1.3"
)
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
DEFAULT_CIPHERS = "DEFAULT"
FIPS_CIPHERS = "ECDHE+AESGCM:DHE+AESGCM:ECDHE+AES:DHE+AES:!aNULL:!eNULL:!PSK:!SRP"
LEGACY_LEVEL = ":@SECLEVEL=0"


@dataclass(frozen=True)
class TlsPolicy:
    """What a listener accepts: TLS 1.0 on or off, FIPS suites only, client certificates
    requested and verified against ``client_cas`` (PEM; empty: none requested)."""

    tls10: bool = False
    fips: bool = False
    client_cas: tuple[str, ...] = ()

    @property
    def minimum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion.TLSv1 if self.tls10 else MINIMUM_VERSION

    @property
    def ciphers(self) -> str:
        return (FIPS_CIPHERS if self.fips else DEFAULT_CIPHERS) + (
            LEGACY_LEVEL if self.tls10 else ""
        )

    def refuses(self, hello: ClientHello) -> bool:
        """Whether a listener under this policy refuses ``hello`` before its handshake: in FIPS
        mode, a TLS 1.3 offer on which OpenSSL would choose a suite that is not FIPS-approved
        (ChaCha20-Poly1305). TLS 1.2 and older are left to the context's cipher list; an offer
        sharing no TLS 1.3 suite with OpenSSL's is left to OpenSSL, which refuses it."""
        if not self.fips or TLS13 not in hello.versions:
            return False
        chosen = next((s for s in TLS13_PREFERENCE if s in hello.suites), None)
        return chosen is not None and chosen not in FIPS_TLS13

    def apply(self, context: ssl.SSLContext) -> None:
        """Set this policy on ``context`` (new connections follow it)."""
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0; a factory-fresh node serves it all the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = self.minimum_version
        context.set_ciphers(self.ciphers)
        if self.client_cas:
            context.load_verify_locations(cadata="\n".join(self.client_cas))
            context.verify_mode = ssl.CERT_OPTIONAL
        else:
            context.verify_mode = ssl.CERT_NONE


DEFAULT_POLICY = TlsPolicy()


@dataclass(frozen=True)
class NodeId:
    """A node: ``kind`` is ``management_vm`` or ``worker_vm``; ``key`` None names the primary
    Management Node whatever its key."""

    kind: str
    key: Key | None


PRIMARY = NodeId(MANAGEMENT_VM.name, None)


@dataclass(frozen=True)
class Served:
    """A node's certificate data as stored: its ``tls_certificate`` text (leaf, then any
    chain uploaded with it), private key, parameters, and the trusted CA list (id order)."""

    certificate: str
    private_key: str
    parameters: str
    trusted: tuple[str, ...]


def node_row(state: State, node: NodeId) -> dict[str, Any] | None:
    """The stored row of ``node`` (the primary Management Node for ``PRIMARY``), or None."""
    rdef = MANAGEMENT_VM if node.kind == MANAGEMENT_VM.name else WORKER_VM
    rows = state.table(rdef).rows
    if node.key is None:
        return next((r for _, r in sorted(rows.items()) if r["primary"]), None)
    return rows.get(node.key)


def _shipped(state: State, row: dict[str, Any]) -> Key | None:
    """The node's shipped temporary certificate: self-signed and named after the node."""
    fqdn = f"{row['hostname']}.{row['domain']}"
    for key, cert in sorted(state.table(TLS_CERTIFICATE).rows.items()):
        if cert["subject_name"] == fqdn:
            leaf = _load(certdata.pem_blocks(cert["certificate"])[0].text)
            if certdata.self_signed(leaf):
                return key
    return None


def served(state: State, node: NodeId, *, shipped: bool = False) -> Served | None:
    """What ``node`` should serve now according to ``state`` (None: no certificate); with
    ``shipped`` (the TLS-08 fault) its shipped certificate, whatever is assigned."""
    row = node_row(state, node)
    if row is None or row["tls_certificate"] is None:
        return None
    key = _shipped(state, row) if shipped else None
    cert = state.table(TLS_CERTIFICATE).rows.get(key or row["tls_certificate"])
    if cert is None:
        return None
    cas = state.table(CA_CERTIFICATE).rows
    trusted = tuple(cas[k]["certificate"] for k in sorted(cas))
    return Served(cert["certificate"], cert["private_key"], cert["parameters"], trusted)


@functools.lru_cache(maxsize=1024)
def _load(pem: str) -> x509.Certificate:
    return certdata.load_certificate(pem)


@functools.lru_cache(maxsize=256)
def chain_for(certificate: str, trusted: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """(leaf PEM, chain PEMs) for a stored certificate text and the trusted CA list: issuers
    from the leaf through the certificates stored with it, then the CA list, as far as they
    link (root included when found)."""
    blocks = [b.text for b in certdata.pem_blocks(certificate)]
    leaf, pool = blocks[0], [*blocks[1:], *trusted]
    chain: list[str] = []
    current = _load(leaf)
    while not certdata.self_signed(current):
        issuer = next(
            (p for p in pool if p not in chain and certdata.issued_by(current, _load(p))), None
        )
        if issuer is None:
            break
        chain.append(issuer)
        current = _load(issuer)
    return leaf, tuple(chain)


@functools.lru_cache(maxsize=CONTEXT_CACHE)
def _context(
    leaf: str, chain: tuple[str, ...], private_key: str, dh: str, policy: TlsPolicy
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    policy.apply(context)
    # The key only passes through a 0600 temporary file, deleted once loaded.
    fd, name = tempfile.mkstemp(prefix="accord-sim-node-", suffix=".pem")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            parts = [private_key, leaf, *chain, dh]
            handle.write("".join(t if t.endswith("\n") else t + "\n" for t in parts if t))
        context.load_cert_chain(name)
        if dh:
            context.load_dh_params(name)
    finally:
        Path(name).unlink(missing_ok=True)
    return context


def context_for(data: Served, policy: TlsPolicy = DEFAULT_POLICY) -> ssl.SSLContext:
    """A server context serving ``data``'s leaf and chain under ``policy`` (cached); raises
    ``ssl.SSLError``, ``CertError`` or ``ValueError`` for data OpenSSL cannot load."""
    leaf, chain = chain_for(data.certificate, data.trusted)
    dh = data.parameters if "BEGIN DH PARAMETERS" in data.parameters else ""
    return _context(leaf, chain, data.private_key, dh, policy)


class CertificateSync:
    """What each node serves, following the model ``delay`` seconds behind (see module doc).

    Thread-safe. ``clock`` is a monotonic clock in seconds (real time, never the model's).
    """

    def __init__(
        self, model: PexipModel, delay: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.model = model
        self.delay = delay
        self.clock = clock
        self._lock = threading.Lock()
        self._current: dict[NodeId, Served | None] = {}
        self._pending: dict[NodeId, tuple[Served | None, float]] = {}

    def observe(self, nodes: Iterable[NodeId]) -> dict[NodeId, Served | None]:
        """Note what the model says for ``nodes`` now; return what each serves now."""
        wanted_nodes = list(nodes)
        stale = self.model.fault(faults.TLS08_NODE_SERVES_SHIPPED)
        wanted = self.model.read_state(
            lambda s: {
                n: served(s, n, shipped=stale and n.kind == WORKER_VM.name) for n in wanted_nodes
            }
        )
        now = self.clock()
        with self._lock:
            return {node: self._step(node, data, now) for node, data in wanted.items()}

    def _step(self, node: NodeId, data: Served | None, now: float) -> Served | None:
        if node not in self._current or self._current[node] == data:
            self._current[node] = data
            self._pending.pop(node, None)
            return data
        pending = self._pending.get(node)
        if pending is None or pending[0] != data:
            pending = self._pending[node] = (data, now)
        if now - pending[1] >= self.delay:
            self._current[node] = data
            del self._pending[node]
        return self._current[node]

    def forget(self, node: NodeId) -> None:
        """Drop ``node``'s history (its listeners are gone)."""
        with self._lock:
            self._current.pop(node, None)
            self._pending.pop(node, None)

    def server_context(
        self, node: NodeId, policy: Callable[[], TlsPolicy] = lambda: DEFAULT_POLICY
    ) -> ssl.SSLContext:
        """The listening context of ``node``: picks the certificate at each handshake, served
        under ``policy()`` (read at each handshake; the caller also applies it to the
        returned listening context whenever it changes, see ``TlsPolicy.apply``)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        policy().apply(context)

        def pick(sock: Any, _server_name: str | None, _context: ssl.SSLContext) -> int | None:
            try:
                data = self.observe([node])[node]
                if data is None:
                    return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
                sock.context = context_for(data, policy())
            except (ssl.SSLError, CertError, ValueError, IndexError):
                return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
            return None

        context.sni_callback = pick
        return context
