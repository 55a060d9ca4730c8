"""The platform's certificates as the guides talk about them, read through the management API.

Four list calls (Management Nodes, Conferencing Nodes, TLS certificates, trusted CA
certificates) give every node with the certificate assigned to it and the chain it stored. The
guide's status values (Good, Temporary, ...) are what the web interface shows; the API has no
status field, so they are computed here from the certificate data the API returns, which works
the same against a real Management Node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from accord.pexip.client import PexipClient
from accord.pki import PkiError, build_chain, fingerprint_sha256, load_pem_certificates, status

Obj = dict[str, Any]


def node_fqdn(node: Obj) -> str:
    """A node's FQDN: hostname.domain."""
    return f"{node['hostname']}.{node['domain']}" if node.get("domain") else node["hostname"]


@dataclass(frozen=True)
class StoredCertificate:
    """One ``tls_certificate`` object: its server certificate and the chain stored with it."""

    obj: Obj
    chain: tuple[x509.Certificate, ...]

    @classmethod
    def from_api(cls, obj: Obj) -> StoredCertificate:
        try:
            chain = tuple(load_pem_certificates(obj.get("certificate") or ""))
        except PkiError as exc:
            raise AssertionError(f"{obj['resource_uri']}: unreadable certificate: {exc}") from exc
        return cls(obj, chain)

    @property
    def uri(self) -> str:
        return self.obj["resource_uri"]

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def status(self) -> str:
        """The guide's status value, now."""
        return status(self.leaf)

    def describe(self) -> dict[str, Any]:
        leaf = self.leaf
        return {
            "uri": self.uri,
            "subject": leaf.subject.rfc4514_string(),
            "issuer": leaf.issuer.rfc4514_string(),
            "serial": format(leaf.serial_number, "x"),
            "not_after": leaf.not_valid_after_utc.isoformat(),
            "status": self.status,
        }


@dataclass(frozen=True)
class Node:
    """A Management Node or Conferencing Node and the certificate assigned to it."""

    kind: str
    obj: Obj
    certificate: StoredCertificate | None

    @property
    def name(self) -> str:
        return self.obj["name"]

    @property
    def fqdn(self) -> str:
        return node_fqdn(self.obj)

    @property
    def sip_tls_fqdn(self) -> str | None:
        """A Conferencing Node's SIP TLS FQDN (the API's ``alternative_fqdn``)."""
        return self.obj.get("alternative_fqdn") or None

    @property
    def address(self) -> str:
        return self.obj["address"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.fqdn})"


class PlatformCertificates:
    """Every node, TLS certificate and trusted CA certificate of one Management Node."""

    def __init__(self, client: PexipClient) -> None:
        self.tls = {
            o["resource_uri"]: StoredCertificate.from_api(o) for o in client.list("tls_certificate")
        }
        # (trusted CA object, certificate): an object's PEM is normally one certificate.
        self.ca_entries: list[tuple[Obj, x509.Certificate]] = [
            (obj, cert)
            for obj in client.list("ca_certificate")
            for cert in load_pem_certificates(obj["certificate"])
        ]
        self.trusted = [cert for _, cert in self.ca_entries]
        self.nodes = [self._node("Management Node", o) for o in client.list("management_vm")] + [
            self._node("Conferencing Node", o) for o in client.list("worker_vm")
        ]

    def _node(self, kind: str, obj: Obj) -> Node:
        uri = obj.get("tls_certificate")
        if isinstance(uri, dict):
            uri = uri.get("resource_uri")
        return Node(kind, obj, self.tls.get(uri) if uri else None)

    @property
    def conferencing_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "Conferencing Node"]

    def chain_of(self, stored: StoredCertificate) -> list[x509.Certificate]:
        """The path from a server certificate to a trusted root through the trusted CA list
        (`PkiError` naming the first missing issuer: the guide's incomplete chain)."""
        return build_chain(stored.leaf, self.trusted)

    def trusted_roots(self) -> list[x509.Certificate]:
        return [c for c in self.trusted if c.subject == c.issuer]


def holds_all(
    trusted: Sequence[x509.Certificate], wanted: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The ``wanted`` certificates missing from ``trusted`` (compared by fingerprint)."""
    have = {fingerprint_sha256(c) for c in trusted}
    return [c for c in wanted if fingerprint_sha256(c) not in have]
