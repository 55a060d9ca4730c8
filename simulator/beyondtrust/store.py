"""One appliance's certificate store as an immutable snapshot, and what is read from it.

``Store`` is never changed in place: every operation of ``models.Appliance`` builds a new one
and swaps it in as a whole, so a refused operation leaves no trace and a reader (a TLS
handshake) always sees one consistent store without taking a lock.

Reads:

- ``render``: the Security :: Certificates table's row of an entry (``Certificate``), with its
  warnings:
  - the factory certificate: ``FACTORY_WARNING``. The guide: "You will see a "BeyondTrust
    Appliance" certificate listed. This is a standard certificate which ships with all
    BeyondTrust appliances. Both the certificate and its warning should be ignored." Its
    table shows "1 Warning(s)" under it; the text is INFERRED.
  - a server certificate whose issuers (intermediate and/or root) are not all in the store:
    ``CHAIN_WARNING`` — "If the new certificate shows a warning beneath its name, this
    typically means the intermediate and/or root certificates from the CA have not been
    imported." It goes once they are imported.
  - an expired certificate: ``EXPIRED_WARNING`` (INFERRED).
- ``select``: the entry served for a TLS server name (SNI auto-selection).
- ``chain``: an entry's issuers found in the store.

Writes: ``merge`` (an imported file into a new store); ``models.Appliance`` makes the rest.

``render`` and ``merge`` take the simulator's active faults (``faults``): the BT-05 fault drops
the chain warning, the BT-04 fault leaves a signed certificate unlinked from its request's key,
the BT-12 fault makes a same-subject import replace the stored certificate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from simulator.beyondtrust import faults
from simulator.beyondtrust.material import (
    ImportedFile,
    Kind,
    PrivateKey,
    classify,
    dn_text,
    issuer_path,
    name_label,
)
from simulator.beyondtrust.pki import (
    fingerprint,
    key_algorithm,
    pairs,
    san_names,
    serves_name,
    to_pem,
)

__all__ = [
    "CHAIN_WARNING",
    "EXPIRED_WARNING",
    "FACTORY_WARNING",
    "Certificate",
    "CertificateRequest",
    "Merged",
    "Store",
    "StoredCertificate",
    "StoredRequest",
    "TlsMaterial",
]

FACTORY_WARNING = (
    'This is the factory "BeyondTrust Appliance" certificate, "a standard certificate which '
    "ships with all BeyondTrust appliances\": it is self-signed and does not match your site's "
    "hostname."
)
CHAIN_WARNING = "The certificate chain is incomplete: intermediate or root missing"
EXPIRED_WARNING = "The certificate has expired"


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StoredCertificate:
    """A stored certificate, its private key if the appliance holds it (never in ``repr``)."""

    id: int
    friendly_name: str
    certificate: x509.Certificate
    key: PrivateKey | None = field(default=None, repr=False)
    factory: bool = False

    @property
    def fingerprint(self) -> bytes:
        return self.certificate.fingerprint(hashes.SHA256())


@dataclass(frozen=True)
class StoredRequest:
    """A pending certificate request and the private key made for it (never in ``repr``)."""

    id: int
    friendly_name: str
    request: x509.CertificateSigningRequest
    key: PrivateKey = field(repr=False)


@dataclass
class Merged:
    """The ids an import touched: added, given a key, left unchanged; requests linked."""

    added: tuple[int, ...] = ()
    key_added: tuple[int, ...] = ()
    unchanged: tuple[int, ...] = ()
    linked: tuple[int, ...] = ()


@dataclass(frozen=True)
class Store:
    """One appliance's certificates (id order), pending requests, default and next id."""

    certificates: tuple[StoredCertificate, ...]
    requests: tuple[StoredRequest, ...]
    default_id: int
    next_id: int

    def find(self, certificate_id: int) -> StoredCertificate | None:
        return next((c for c in self.certificates if c.id == certificate_id), None)

    def find_request(self, request_id: int) -> StoredRequest | None:
        return next((r for r in self.requests if r.id == request_id), None)

    def chain(self, entry: StoredCertificate) -> tuple[list[x509.Certificate], bool]:
        """``entry``'s issuers found in the store, root last, and whether the root was."""
        pool = [c.certificate for c in self.certificates if c.id != entry.id]
        return issuer_path(entry.certificate, pool)

    def render(
        self, entry: StoredCertificate, now: dt.datetime, active: frozenset[str] = frozenset()
    ) -> Certificate:
        """The table row of ``entry`` (see module doc for its warnings); ``active``: the
        simulator's active faults."""
        cert = entry.certificate
        kind = classify(cert, entry.key is not None)
        warnings: list[str] = []
        if entry.factory:
            warnings.append(FACTORY_WARNING)
        if kind == "server" and not self.chain(entry)[1]:
            if faults.BT05_MISSING_CHAIN_NOT_WARNED not in active:
                warnings.append(CHAIN_WARNING)
        if now > cert.not_valid_after_utc:
            warnings.append(EXPIRED_WARNING)
        return Certificate(
            id=entry.id,
            friendly_name=entry.friendly_name,
            issued_to=name_label(cert.subject),
            issued_by=name_label(cert.issuer),
            subject=dn_text(cert.subject),
            issuer=dn_text(cert.issuer),
            alternative_names=tuple(san_names(cert)),
            serial=format(cert.serial_number, "X"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            fingerprint=fingerprint(cert),
            private_key=entry.key is not None,
            kind=kind,
            warnings=tuple(warnings),
            default=entry.id == self.default_id,
            factory=entry.factory,
            certificate=cert,
        )

    def merge(
        self, parsed: ImportedFile, active: frozenset[str] = frozenset()
    ) -> tuple[Store, Merged]:
        """This store with an imported file's certificates merged in (``Appliance.import_file``
        says how), and the ids concerned; ``active``: the simulator's active faults."""
        certs = list(self.certificates)
        requests = list(self.requests)
        next_id = self.next_id
        merged = Merged()
        for cert in parsed.certificates:
            own = cert == parsed.key_certificate
            key = parsed.key if own else None
            name = (parsed.friendly_name if own else None) or name_label(cert.subject)
            index = next((i for i, c in enumerate(certs) if c.certificate == cert), None)
            if index is not None:
                if key is not None and certs[index].key is None:
                    certs[index] = dataclasses.replace(certs[index], key=key)
                    merged.key_added += (certs[index].id,)
                else:
                    merged.unchanged += (certs[index].id,)
                continue
            if key is None:
                request = next((r for r in requests if pairs(cert, r.key)), None)
                if faults.BT04_SIGNED_CERTIFICATE_NOT_LINKED in active:
                    request = None
                if request is not None:
                    key, name = request.key, request.friendly_name
                    requests.remove(request)
                    merged.linked += (request.id,)
                else:  # a renewal on a stored certificate's key (INFERRED)
                    key = next((c.key for c in certs if c.key and pairs(cert, c.key)), None)
            if faults.BT12_SAME_SUBJECT_IMPORT_REPLACES in active:
                index = next(
                    (
                        i
                        for i, c in enumerate(certs)
                        if c.certificate.subject == cert.subject
                        and not c.factory
                        # never leave a default that cannot be served (no key)
                        and (key is not None or c.id != self.default_id)
                    ),
                    None,
                )
                if index is not None:
                    certs[index] = StoredCertificate(certs[index].id, name, cert, key)
                    merged.added += (certs[index].id,)
                    continue
            certs.append(StoredCertificate(next_id, name, cert, key))
            merged.added += (next_id,)
            next_id += 1
        new = dataclasses.replace(
            self, certificates=tuple(certs), requests=tuple(requests), next_id=next_id
        )
        return new, merged

    def select(self, server_name: str | None) -> StoredCertificate:
        """SNI auto-selection: among entries holding a private key, those whose subject
        alternative names match ``server_name`` (case-insensitive, a wildcard covering exactly
        one leftmost label; the Common Name is not used); the latest expiry wins, then the
        newest entry (INFERRED tie-breaks). No name, or no match: the default."""
        if server_name:
            matching = [
                c
                for c in self.certificates
                if c.key is not None and serves_name(c.certificate, server_name)
            ]
            if matching:
                return max(matching, key=lambda c: (c.certificate.not_valid_after_utc, c.id))
        default = self.find(self.default_id)
        assert default is not None  # the store always keeps its default
        return default


@dataclass(frozen=True)
class Certificate:
    """A row of the Security :: Certificates table (public data only).

    ``issued_to`` / ``issued_by``: the subject's / issuer's Common Name (or whole name);
    ``alternative_names``: DNS names (and IP addresses) of the subjectAltName ("No Supported
    Names" when empty); ``not_after`` is the "Expiration"; ``fingerprint``: SHA-256, upper-case
    hex pairs joined by colons; ``private_key``: "Private Key?"; ``default``: the Default
    column's radio button.
    """

    id: int
    friendly_name: str
    issued_to: str
    issued_by: str
    subject: str
    issuer: str
    alternative_names: tuple[str, ...]
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str
    private_key: bool
    kind: Kind
    warnings: tuple[str, ...]
    default: bool
    factory: bool
    certificate: x509.Certificate = field(repr=False, compare=False)

    @property
    def expiration(self) -> str:
        """The Expiration column: ``2019-03-27 12:00:00 GMT``."""
        return self.not_after.strftime("%Y-%m-%d %H:%M:%S GMT")

    def as_json(self) -> dict[str, Any]:
        """JSON form (the certificate's PEM included: it is public)."""
        return {
            "id": self.id,
            "friendly_name": self.friendly_name,
            "issued_to": self.issued_to,
            "issued_by": self.issued_by,
            "subject": self.subject,
            "issuer": self.issuer,
            "alternative_names": list(self.alternative_names),
            "serial": self.serial,
            "not_before": _time(self.not_before),
            "not_after": _time(self.not_after),
            "expiration": self.expiration,
            "fingerprint_sha256": self.fingerprint,
            "private_key": self.private_key,
            "kind": self.kind,
            "warnings": list(self.warnings),
            "default": self.default,
            "factory": self.factory,
            "certificate_pem": to_pem(self.certificate),
        }


@dataclass(frozen=True)
class CertificateRequest:
    """A row of Security :: Certificate Requests and its detail page: Subject, Alternative
    Name(s), Fingerprint (SHA-256 of the request's DER, colon-separated hex), Public Key
    (``RSA (2048 Bits)``) and Request Data (PEM). Never the private key."""

    id: int
    friendly_name: str
    subject: str
    alternative_names: tuple[str, ...]
    fingerprint: str
    public_key: str
    request_data: str

    @classmethod
    def of(cls, stored: StoredRequest) -> CertificateRequest:
        csr = stored.request
        algorithm, bits = key_algorithm(csr)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(csr.public_bytes(Encoding.DER))
        return cls(
            id=stored.id,
            friendly_name=stored.friendly_name,
            subject=dn_text(csr.subject),
            alternative_names=tuple(san_names(csr)),
            fingerprint=digest.finalize().hex(":").upper(),
            public_key=f"{algorithm} ({bits} Bits)",
            request_data=csr.public_bytes(Encoding.PEM).decode("ascii"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "friendly_name": self.friendly_name,
            "subject": self.subject,
            "alternative_names": list(self.alternative_names),
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "request_data": self.request_data,
        }


@dataclass(frozen=True)
class TlsMaterial:
    """What a TLS handshake serves: the selected entry, its certificate, the intermediates
    (issuers found in the store, self-signed root left out) and its key."""

    entry: Certificate
    chain: tuple[x509.Certificate, ...]
    key: PrivateKey = field(repr=False)

    @property
    def leaf(self) -> x509.Certificate:
        return self.entry.certificate
