"""The guide's PKI bootstrap: a CA-signed certificate on every node, and the chain trusted.

For each Management Node and Conferencing Node whose assigned certificate is not what the guide
asks (CA-signed by the site's CA, valid for the node's FQDN and, on a Conferencing Node, its SIP
TLS FQDN, not weak, not a wildcard, not expiring soon), the deployer creates a CSR *in the
Management Node* (the key never leaves it) for the node's FQDN with the SIP TLS FQDN as an extra
SAN, gets it signed, completes the CSR and assigns the certificate to the node. A certificate the
site's CA issued that only expires soon is renewed from itself instead (a renewal CSR: same key,
and the completion keeps its node assignments). It also uploads the site's CA certificates to the
trusted CA list and sets each Conferencing Node's SIP TLS FQDN (``alternative_fqdn``).

Signing: with ``[pexip.certificates] lab_ca`` (the `sim` target's lab CA) at once; with
``exchange_dir`` (live: real CAs are offline) the deployer writes ``<fqdn>.csr`` there and, on a
later run, completes the pending CSR with ``<fqdn>.pem`` (certificate and chain) once the CA has
put it there. Without either, the plan has no certificate steps: certificates are left alone.
``Signer`` does both; the BeyondTrust deployer signs its appliances' request through it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from accord.labca import LabCA
from accord.pexip.certificates import Node, PlatformCertificates, holds_all
from accord.pexip.client import PexipClient
from accord.pki import (
    PkiError,
    build_chain,
    days_left,
    fingerprint_sha256,
    is_self_signed,
    is_weak_signature,
    is_wildcard,
    load_pem_certificates,
    matches_hostname,
    to_pem,
)
from accord.site import Site


@dataclass(frozen=True)
class CertificateChange:
    """One step of the bootstrap: trust a CA certificate, issue or renew a node's certificate,
    or set a SIP TLS FQDN."""

    action: Literal["trust", "issue", "renew", "sip_tls_fqdn"]
    label: str
    reason: str
    node: Node | None = None
    ca_pem: str | None = None
    value: str | None = None

    def describe(self) -> str:
        return f"  ~ {self.action} {self.label}: {self.reason}"


def sip_tls_fqdn(site: Site, node: Node) -> str:
    """The SIP TLS FQDN the site wants for a Conferencing Node (default: its own FQDN)."""
    return site.pexip.certificates.sip_tls_fqdns.get(node.name, node.fqdn)


def site_ca_certificates(site: Site) -> list[x509.Certificate]:
    """The site CA's certificates (intermediates and root) from ``trusted_ca_bundle``."""
    path = site.file(site.pexip.certificates.trusted_ca_bundle)
    return load_pem_certificates(path.read_bytes()) if path else []


@dataclass(frozen=True)
class Problem:
    """Why a node's certificate must go; ``renewable`` when only its expiry is (renew in place)."""

    reason: str
    renewable: bool = False


def _problem(site: Site, node: Node, site_cas: list[x509.Certificate]) -> Problem | None:
    """Why a node's certificate must be replaced, or ``None`` when it is what the guide asks."""
    stored = node.certificate
    if stored is None:
        return Problem("no certificate assigned")
    leaf = stored.leaf
    if is_self_signed(leaf):
        return Problem("the shipped temporary (self-signed) certificate")
    try:
        build_chain(leaf, site_cas)
    except PkiError:
        return Problem("not issued by the site's CA")
    if not matches_hostname(leaf, node.fqdn, cn_fallback=False):
        return Problem(f"not valid for {node.fqdn}")
    if node.kind == "Conferencing Node":
        sip = sip_tls_fqdn(site, node)
        if not matches_hostname(leaf, sip, cn_fallback=False) or is_wildcard(leaf):
            return Problem(f"not a non-wildcard certificate for the SIP TLS FQDN {sip}")
    if is_weak_signature(leaf):
        return Problem("weak signature")
    if days_left(leaf) <= site.pexip.certificates.renew_within_days:
        return Problem(f"expires in {days_left(leaf)} days", renewable=True)
    return None


def plan(client: PexipClient, site: Site) -> list[CertificateChange]:
    """The bootstrap steps this Management Node still needs (nothing is written)."""
    config = site.pexip.certificates
    if config.lab_ca is None and config.exchange_dir is None:
        return []
    site_cas = site_ca_certificates(site)
    platform = PlatformCertificates(client)
    changes = [
        CertificateChange(
            "trust", c.subject.rfc4514_string(), "not in the trusted CA list", ca_pem=to_pem(c)
        )
        for c in holds_all(platform.trusted, site_cas)
    ]
    for node in platform.nodes:
        problem = _problem(site, node, site_cas)
        if problem is not None:
            action = "renew" if problem.renewable else "issue"
            changes.append(CertificateChange(action, str(node), problem.reason, node))
        if node.kind == "Conferencing Node" and node.sip_tls_fqdn != sip_tls_fqdn(site, node):
            want = sip_tls_fqdn(site, node)
            changes.append(
                CertificateChange(
                    "sip_tls_fqdn",
                    str(node),
                    f"{node.sip_tls_fqdn!r} -> {want!r}",
                    node,
                    value=want,
                )
            )
    return changes


class Signer:
    """Gets CSRs signed: a lab CA at once, or through an exchange folder.

    ``lab_ca``: the lab CA's folder (the `sim` target), which signs at once and wins when both
    are given; ``exchange_dir``: a folder where ``sign(name, csr)`` writes ``<name>.csr`` and
    reads the CA's answer from ``<name>.pem`` (the certificate and its chain) once it is there.
    The Pexip bootstrap and the BeyondTrust deployer both sign through it.
    """

    def __init__(self, lab_ca: Path | None, exchange_dir: Path | None) -> None:
        self.lab = LabCA.load(lab_ca) if lab_ca else None
        self.folder = exchange_dir

    @classmethod
    def for_site(cls, site: Site) -> Signer:
        """The signer ``[pexip.certificates] lab_ca`` / ``exchange_dir`` describe (either may
        be missing: see ``configured``)."""
        config = site.pexip.certificates
        return cls(site.file(config.lab_ca), site.file(config.exchange_dir))

    @property
    def configured(self) -> bool:
        """Whether CSRs can be signed at all (a lab CA or an exchange folder)."""
        return self.lab is not None or self.folder is not None

    def request_file(self, name: str) -> Path:
        """Where the exchange folder holds the CSR for ``name``."""
        assert self.folder is not None
        return self.folder / f"{name}.csr"

    def answer_file(self, name: str) -> Path:
        """Where the CA puts the certificate and chain for ``name``."""
        assert self.folder is not None
        return self.folder / f"{name}.pem"

    def awaiting(self, name: str) -> str:
        """What an exchange-folder run waits for, and where (one line)."""
        return (
            f"the CA to sign {self.request_file(name)}: put its certificate and chain (PEM) in "
            f"{self.answer_file(name)}, then run accord deploy again"
        )

    def sign(self, name: str, csr_pem: str) -> str | None:
        """The signed certificate and chain, or ``None`` while the CA has not answered."""
        if self.lab is not None:
            return self.lab.sign(csr_pem)
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        self.request_file(name).write_text(csr_pem)
        signed = self.answer_file(name)
        return signed.read_text() if signed.exists() else None


def _pending_csr(client: PexipClient, fqdn: str) -> dict | None:
    for csr in client.list("certificate_signing_request"):
        if csr.get("subject_name") == fqdn:
            return csr
    return None


def _find(client: PexipClient, cert_pem: str) -> str:
    """The URI of the TLS certificate that holds this certificate (after a completion)."""
    wanted = fingerprint_sha256(load_pem_certificates(cert_pem)[0])
    for obj in client.list("tls_certificate"):
        chain = load_pem_certificates(obj.get("certificate") or "")
        if chain and fingerprint_sha256(chain[0]) == wanted:
            return obj["resource_uri"]
    raise LookupError("the completed certificate is not in the TLS certificate list")


def apply(client: PexipClient, site: Site, changes: list[CertificateChange]) -> list[str]:
    """Perform the steps in order (CA certificates first); returns what is still waiting for
    the CA (exchange folder), one line per node."""
    signer = Signer.for_site(site)
    waiting = []
    key_type = site.pexip.certificates.key_type
    for change in changes:
        node = change.node
        if change.action == "trust":
            client.create("ca_certificate", {"certificate": change.ca_pem})
        elif change.action == "sip_tls_fqdn":
            assert node is not None
            client.update(node.obj["resource_uri"], {"alternative_fqdn": change.value})
        else:
            assert node is not None
            fqdn = node.fqdn
            pending = _pending_csr(client, fqdn)
            if pending is None:
                request: dict[str, object] = {"subject_name": fqdn, "private_key_type": key_type}
                if change.action == "renew" and node.certificate is not None:
                    request = {"tls_certificate": node.certificate.uri}
                elif node.kind == "Conferencing Node":
                    sip = sip_tls_fqdn(site, node)
                    if sip != fqdn:
                        request["additional_subject_alt_names"] = sip
                uri = client.create("certificate_signing_request", request)
                pending = client.get(uri)
            signed = signer.sign(fqdn, pending["csr"])
            if signed is None:
                waiting.append(f"{node}: waiting for the CA to sign {fqdn}.csr")
                continue
            client.update(pending["resource_uri"], {"certificate": signed})
            certificate = _find(client, signed)
            if node.obj.get("tls_certificate") != certificate:
                client.update(node.obj["resource_uri"], {"tls_certificate": certificate})
    return waiting
