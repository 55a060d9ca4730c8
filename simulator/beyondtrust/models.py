"""The simulated appliances: each one's certificate store and the guide's operations on it.

``Appliance`` is one BeyondTrust PRA appliance's /appliance > Security > Certificates page as
a Python object; ``Site`` holds the appliances of one BeyondTrust site by name (primary,
backup for failover, Atlas traffic nodes). Every operation validates its whole input first and
then swaps in a new store (``store.Store``): a refused operation changes nothing. Errors are
the typed errors of ``errors`` (``ValidationError`` 400, ``Conflict`` 409, ``NotFound`` 404),
each naming its field; none ever carries a private key or a passphrase. Thread-safe.

At construction (and ``reset()``) an appliance holds only the factory "BeyondTrust Appliance"
certificate, which is the default. The factory key is made once per appliance: a reset gives
back the same factory certificate, as a real appliance keeps the one it shipped with. A reset
may also make the appliance part of a cloud site or not (``reset(cloud=...)``); without it, the
appliance is as it was created.

Every operation reads the simulator's active faults (``faults``; one ``Faults`` for the whole
``Site``) once, and a fault changes the one behaviour it names, where that behaviour lives: the
factory certificate's protection (``delete``), the FQDN common name rule of the self-signed
Create (``create_self_signed``), the key kept out of the Request Data (``_request_row``), the
import's request linking, same-subject handling and root acceptance (``import_file`` and
``store.Store.merge``), the chain warning (``store.Store.render``), the PKCS#12 encryption
(``exports``) and the support bundle's contents (``support_bundle``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from cryptography import x509

from simulator.beyondtrust import faults
from simulator.beyondtrust.errors import Conflict, NotFound, ValidationError
from simulator.beyondtrust.exports import ExportFile, Selected, export_file, support_bundle
from simulator.beyondtrust.faults import Faults
from simulator.beyondtrust.fields import CertificateForm, is_fqdn, parse_form
from simulator.beyondtrust.material import (
    FACTORY_NAME,
    ImportedFile,
    certificate_request,
    classify,
    factory_certificate,
    name_label,
    new_key,
    read_import,
    self_signed,
)
from simulator.beyondtrust.pki import is_self_signed, signed_by, to_pkcs8
from simulator.beyondtrust.store import (
    Certificate,
    CertificateRequest,
    Merged,
    Store,
    StoredCertificate,
    StoredRequest,
    TlsMaterial,
)

__all__ = ["ROLES", "Appliance", "ApplianceSpec", "Clock", "ImportResult", "Role", "Site"]

Role = Literal["primary", "backup", "traffic_node", "scratch"]
ROLES: tuple[Role, ...] = ("primary", "backup", "traffic_node", "scratch")
Clock = Callable[[], dt.datetime]
T = TypeVar("T")
CLOUD_REFUSED = "Customers with a cloud site environment cannot create a self-signed certificate."
FACTORY_UNDELETABLE = "The factory default configuration may not be removed."
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _form(
    form: CertificateForm | Mapping[str, Any], *, fqdn_common_name_first_san: bool = True
) -> CertificateForm:
    if isinstance(form, CertificateForm):
        return form
    return parse_form(form, fqdn_common_name_first_san=fqdn_common_name_first_san)


def _unrelated_root(store: Store, parsed: ImportedFile) -> x509.Certificate | None:
    """The first root (self-signed CA) certificate of an imported file that issued none of the
    store's certificates nor any other certificate of the file (a stored copy of the root
    counts: it issued itself); ``None`` if there is none."""
    pool = [c.certificate for c in store.certificates] + list(parsed.certificates)
    for root in parsed.certificates:
        if classify(root, False) != "root":
            continue
        issued = any(
            c == root or (c.issuer == root.subject and signed_by(c, root))
            for c in pool
            if c is not root
        )
        if not issued:
            return root
    return None


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a certificate id (an integer)", field)
    return value


@dataclass(frozen=True)
class ImportResult:
    """What an import did: entries ``added``; entries already stored that gained the file's
    private key (``key_added``); entries already stored and left as they were (``unchanged``,
    duplicates are never added twice); the ids of the pending requests whose key the new
    certificates were linked to (``linked_requests``; those requests left the list)."""

    added: tuple[Certificate, ...]
    key_added: tuple[Certificate, ...]
    unchanged: tuple[Certificate, ...]
    linked_requests: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "added": [c.as_json() for c in self.added],
            "key_added": [c.as_json() for c in self.key_added],
            "unchanged": [c.as_json() for c in self.unchanged],
            "linked_requests": list(self.linked_requests),
        }


class Appliance:
    """One appliance's certificate store and operations (see module doc).

    ``name``: the appliance's name in its site (used in API paths); ``hostname``: its own FQDN;
    ``role``: ``primary``, ``backup``, ``traffic_node`` or ``scratch`` (an appliance of no
    site, where the guide's actions are performed); ``cloud``: part of a cloud site (then it
    cannot create self-signed certificates). ``clock`` gives the current UTC time (expiry
    warnings, creation dates). ``faults``: the simulator's active faults (default: its own,
    none active).
    """

    def __init__(
        self,
        name: str,
        hostname: str,
        *,
        role: Role = "primary",
        cloud: bool = False,
        clock: Clock | None = None,
        faults: Faults | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"appliance name must match {_NAME.pattern}, not {name!r}")
        if not isinstance(hostname, str) or hostname.startswith("*") or not is_fqdn(hostname):
            raise ValueError(f"appliance hostname must be an FQDN, not {hostname!r}")
        if role not in ROLES:
            raise ValueError(f"appliance role must be one of {ROLES}, not {role!r}")
        self.name = name
        self.hostname = hostname
        self.role: Role = role
        self.cloud = bool(cloud)
        self._created_cloud = self.cloud
        self.clock: Clock = clock or _utcnow
        self.faults = faults if faults is not None else Faults()
        self._lock = threading.Lock()
        key = new_key(2048)
        self._factory = StoredCertificate(
            1, FACTORY_NAME, factory_certificate(key, self.clock()), key, factory=True
        )
        self._store = self._fresh()
        self.version = 0  # bumped at every change (listeners may cache on it)

    def __repr__(self) -> str:
        return (
            f"Appliance(name={self.name!r}, hostname={self.hostname!r}, role={self.role!r}, "
            f"cloud={self.cloud!r})"
        )

    def _fresh(self) -> Store:
        return Store((self._factory,), (), default_id=1, next_id=2)

    def _commit(self, build: Callable[[Store], tuple[Store, T]]) -> tuple[Store, T]:
        """Run ``build`` on the current store and swap in the store it returns, atomically;
        an error raised by ``build`` changes nothing."""
        with self._lock:
            store, result = build(self._store)
            self._store = store
            self.version += 1
            return store, result

    @property
    def store(self) -> Store:
        """The current store (an immutable snapshot)."""
        return self._store

    def reset(self, *, cloud: bool | None = None) -> None:
        """Back to the factory state: only the factory certificate, as the default, no pending
        request. ``cloud``: whether it is now part of a cloud site (``None``: as created).
        The active faults are not state: they stay."""
        as_cloud = self._created_cloud if cloud is None else bool(cloud)

        def build(_store: Store) -> tuple[Store, None]:
            self.cloud = as_cloud
            return self._fresh(), None

        self._commit(build)

    # --- reads ----------------------------------------------------------------------------

    def certificates(self) -> list[Certificate]:
        """The Security :: Certificates table, in id order."""
        store, now, active = self._store, self.clock(), self.faults.current()
        return [store.render(c, now, active) for c in store.certificates]

    def certificate(self, certificate_id: int) -> Certificate:
        """One row; ``NotFound`` (field ``id``) for an unknown id."""
        store = self._store
        entry = store.find(certificate_id)
        if entry is None:
            raise NotFound(f"no certificate with id {certificate_id}", "id")
        return store.render(entry, self.clock(), self.faults.current())

    def default(self) -> Certificate:
        """The default certificate (served for no or unknown SNI)."""
        return self.certificate(self._store.default_id)

    def requests(self) -> list[CertificateRequest]:
        """The Security :: Certificate Requests table (pending requests), in id order."""
        active = self.faults.current()
        return [self._request_row(r, active) for r in self._store.requests]

    def request(self, request_id: int) -> CertificateRequest:
        """One pending request with its Request Data; ``NotFound`` (field ``id``)."""
        found = self._store.find_request(request_id)
        if found is None:
            raise NotFound(f"no pending certificate request with id {request_id}", "id")
        return self._request_row(found, self.faults.current())

    @staticmethod
    def _request_row(stored: StoredRequest, active: frozenset[str]) -> CertificateRequest:
        """The request's row and detail: the CSR as Request Data, its key left out."""
        row = CertificateRequest.of(stored)
        if faults.BT03_REQUEST_DATA_HOLDS_KEY in active:
            leaked = to_pkcs8(stored.key).decode("ascii")
            row = dataclasses.replace(row, request_data=row.request_data + leaked)
        return row

    def select_certificate(self, server_name: str | None) -> Certificate:
        """The entry served to a client sending ``server_name`` (``None``: no SNI): a
        certificate with a private key whose subject alternative names match (a wildcard
        covers exactly one leftmost label; the latest expiry wins), else the default."""
        store = self._store
        return store.render(store.select(server_name), self.clock(), self.faults.current())

    def tls_material(self, server_name: str | None) -> TlsMaterial:
        """``select_certificate``'s entry with its intermediates (issuers in the store, the
        self-signed root left out) and private key, for the TLS listener."""
        store = self._store
        entry = store.select(server_name)
        chain, _complete = store.chain(entry)
        assert entry.key is not None  # only keyed entries are selected or default
        intermediates = tuple(c for c in chain if not is_self_signed(c))
        row = store.render(entry, self.clock(), self.faults.current())
        return TlsMaterial(row, intermediates, entry.key)

    # --- Create ---------------------------------------------------------------------------

    def create_self_signed(self, form: CertificateForm | Mapping[str, Any]) -> Certificate:
        """Create Self-Signed Certificate from the Create form (``fields``).

        ``Conflict`` on a cloud appliance ("Customers with a cloud site environment cannot
        create a self-signed certificate."); ``ValidationError`` naming the field otherwise.
        """
        if self.cloud:
            raise Conflict(CLOUD_REFUSED, "cloud")
        active = self.faults.current()
        checked = _form(
            form,
            fqdn_common_name_first_san=faults.BT02_FQDN_COMMON_NAME_NOT_FIRST_SAN_ACCEPTED
            not in active,
        )
        key = new_key(checked.key_size)
        cert = self_signed(checked, key, self.clock())

        def build(store: Store) -> tuple[Store, StoredCertificate]:
            entry = StoredCertificate(store.next_id, checked.friendly_name, cert, key)
            return dataclasses.replace(
                store, certificates=(*store.certificates, entry), next_id=store.next_id + 1
            ), entry

        store, entry = self._commit(build)
        return store.render(entry, self.clock(), active)

    def create_request(self, form: CertificateForm | Mapping[str, Any]) -> CertificateRequest:
        """Create Certificate Request from the Create form: a new key stays on the appliance
        (never returned); the request is listed until its signed certificate is imported.
        ``ValidationError`` naming the field."""
        checked = _form(form)
        key = new_key(checked.key_size)
        csr = certificate_request(checked, key)

        def build(store: Store) -> tuple[Store, StoredRequest]:
            entry = StoredRequest(store.next_id, checked.friendly_name, csr, key)
            return dataclasses.replace(
                store, requests=(*store.requests, entry), next_id=store.next_id + 1
            ), entry

        return self._request_row(self._commit(build)[1], self.faults.current())

    def delete_request(self, request_id: int) -> None:
        """Delete a pending request and its key; ``NotFound`` (field ``id``)."""

        def build(store: Store) -> tuple[Store, None]:
            if store.find_request(request_id) is None:
                raise NotFound(f"no pending certificate request with id {request_id}", "id")
            kept = tuple(r for r in store.requests if r.id != request_id)
            return dataclasses.replace(store, requests=kept), None

        self._commit(build)

    # --- Import ---------------------------------------------------------------------------

    def import_file(self, data: bytes, password: str | None = None) -> ImportResult:
        """Import one certificate file (``material.read_import``: DER, PEM, PKCS#7, PKCS#12).

        Every certificate in it is stored once (a duplicate of a stored one is not added
        again; if the file brings the private key of a stored certificate that lacked one,
        the key is added to it). A certificate without a key in the file whose public key
        matches a pending request is linked to that request's key and takes its friendly name;
        the request leaves the list ("Installing the new certificate in BeyondTrust
        automatically links the private key to the new certificate"). INFERRED: a certificate
        whose public key matches a stored certificate's key (a renewal on the same key) gets
        that key too. Other entries are named after their Issued To (a PKCS#12 file's friendly
        name for its own certificate).

        ``ValidationError`` (field ``file`` or ``password``): unreadable, truncated, a CSR,
        a key without its certificate, a wrong or missing password. Nothing changes then.
        """
        parsed = read_import(data, password)
        active = self.faults.current()

        def build(current: Store) -> tuple[Store, Merged]:
            if faults.BT13_UNRELATED_ROOT_REFUSED in active:
                root = _unrelated_root(current, parsed)
                if root is not None:
                    raise Conflict(
                        f"the root certificate {name_label(root.subject)!r} issued none of this "
                        "appliance's certificates: it was not imported",
                        "file",
                    )
            return current.merge(parsed, active)

        store, merged = self._commit(build)
        now = self.clock()

        def rows(ids: tuple[int, ...]) -> tuple[Certificate, ...]:
            found = (store.find(i) for i in ids)
            return tuple(store.render(e, now, active) for e in found if e is not None)

        return ImportResult(
            rows(merged.added), rows(merged.key_added), rows(merged.unchanged), merged.linked
        )

    # --- Export and the support bundle ------------------------------------------------------

    def export(
        self,
        ids: Sequence[int],
        *,
        include_certificate: bool = True,
        include_private_key: bool = False,
        include_chain: bool = False,
        passphrase: str | None = None,
    ) -> ExportFile:
        """Export the selected certificates (``exports.export_file``: DER, PKCS#8, PKCS#7 or
        PKCS#12). ``ValidationError`` for no ids or bad options (see ``export_file``),
        ``NotFound`` (field ``ids``) for an unknown id. Exporting removes nothing."""
        if isinstance(ids, str | bytes) or not isinstance(ids, Sequence) or not ids:
            raise ValidationError("select at least one certificate id", "ids")
        store = self._store
        selected: list[Selected] = []
        for value in dict.fromkeys(_id(i, "ids") for i in ids):
            entry = store.find(value)
            if entry is None:
                raise NotFound(f"no certificate with id {value}", "ids")
            chain = tuple(store.chain(entry)[0])
            selected.append(Selected(entry.friendly_name, entry.certificate, entry.key, chain))
        return export_file(
            selected,
            include_certificate=include_certificate,
            include_private_key=include_private_key,
            include_chain=include_chain,
            passphrase=passphrase,
            active=self.faults.current(),
        )

    def support_bundle(self, certificate_id: int | None = None) -> ExportFile:
        """The .zip for BeyondTrust Technical Support (``exports.support_bundle``) for one
        certificate (default: the default certificate): its chain as PEM files and a Status >
        Basics stand-in; never a private key (but see the BT-07 fault). ``NotFound`` (field
        ``id``)."""
        store, active = self._store, self.faults.current()
        entry = store.find(store.default_id if certificate_id is None else certificate_id)
        if entry is None:
            raise NotFound(f"no certificate with id {certificate_id}", "id")
        row = store.render(entry, self.clock(), active)
        files = [(row.kind, entry.friendly_name, entry.certificate)]
        for cert in store.chain(entry)[0]:
            stored = next((c for c in store.certificates if c.certificate == cert), None)
            name = stored.friendly_name if stored else name_label(cert.subject)
            files.append((classify(cert, False), name, cert))
        lines = [
            "Status > Basics (simulated appliance)",
            f"Appliance: {self.name}",
            f"Hostname: {self.hostname}",
            f"Role: {self.role}",
            f"Certificate: {row.friendly_name} ({row.fingerprint})",
            *(f"Warning: {w}" for w in row.warnings),
        ]
        key_file = None
        if faults.BT07_SUPPORT_BUNDLE_HOLDS_KEY in active and entry.key is not None:
            key_file = (entry.friendly_name, entry.key)
        return support_bundle(lines, files, key_file)

    # --- Default and Delete -----------------------------------------------------------------

    def set_default(self, certificate_id: int) -> Certificate:
        """Make a certificate the default (the Default column's radio button).

        ``NotFound`` (field ``id``); ``Conflict`` (field ``id``) for a certificate without a
        private key, which could not be served.
        """
        _id(certificate_id, "id")

        def build(store: Store) -> tuple[Store, StoredCertificate]:
            entry = store.find(certificate_id)
            if entry is None:
                raise NotFound(f"no certificate with id {certificate_id}", "id")
            if entry.key is None:
                raise Conflict(
                    f"the certificate {entry.friendly_name!r} has no private key on this "
                    "appliance, so it cannot be served as the default",
                    "id",
                )
            return dataclasses.replace(store, default_id=certificate_id), entry

        store, entry = self._commit(build)
        return store.render(entry, self.clock(), self.faults.current())

    def delete(self, certificate_id: int) -> None:
        """Delete a certificate (and its key). ``NotFound`` (field ``id``); ``Conflict``
        (field ``id``) for the factory certificate ("The factory default configuration may not
        be removed.") and for the current default (choose another default first)."""
        _id(certificate_id, "id")
        active = self.faults.current()

        def build(store: Store) -> tuple[Store, None]:
            entry = store.find(certificate_id)
            if entry is None:
                raise NotFound(f"no certificate with id {certificate_id}", "id")
            if entry.factory and faults.BT01_FACTORY_CERTIFICATE_DELETABLE not in active:
                raise Conflict(FACTORY_UNDELETABLE, "id")
            if entry.id == store.default_id:
                raise Conflict(
                    f"the certificate {entry.friendly_name!r} is the default: choose another "
                    "default certificate before deleting it",
                    "id",
                )
            kept = tuple(c for c in store.certificates if c.id != certificate_id)
            return dataclasses.replace(store, certificates=kept), None

        self._commit(build)


@dataclass(frozen=True)
class ApplianceSpec:
    """An appliance of a site: name (``[A-Za-z0-9][A-Za-z0-9_-]*``), its FQDN, role, cloud."""

    name: str
    hostname: str
    role: Role = "primary"
    cloud: bool = False


class Site:
    """The appliances of one BeyondTrust site, by name (primary, backup, Atlas traffic
    nodes, scratch appliances). ``get`` raises ``NotFound`` (field ``appliance``) for an
    unknown name. ``faults``: the active faults, shared by every appliance of the site."""

    def __init__(
        self, appliances: Iterable[ApplianceSpec] = (), *, clock: Clock | None = None
    ) -> None:
        self.clock = clock
        self.faults = Faults()
        self._appliances: dict[str, Appliance] = {}
        for spec in appliances:
            self.add(spec)

    def add(self, spec: ApplianceSpec) -> Appliance:
        """Add an appliance in its factory state; ``ValueError`` for a bad spec or a name
        already used."""
        if spec.name in self._appliances:
            raise ValueError(f"an appliance named {spec.name!r} is already in the site")
        appliance = Appliance(
            spec.name,
            spec.hostname,
            role=spec.role,
            cloud=spec.cloud,
            clock=self.clock,
            faults=self.faults,
        )
        self._appliances[spec.name] = appliance
        return appliance

    def get(self, name: str) -> Appliance:
        try:
            return self._appliances[name]
        except KeyError:
            raise NotFound(f"no appliance named {name!r}", "appliance") from None

    def __getitem__(self, name: str) -> Appliance:
        return self.get(name)

    def __iter__(self) -> Iterator[Appliance]:
        return iter(list(self._appliances.values()))

    def __len__(self) -> int:
        return len(self._appliances)

    def __contains__(self, name: object) -> bool:
        return name in self._appliances

    @property
    def names(self) -> list[str]:
        return list(self._appliances)

    def reset(self) -> None:
        """Every appliance back to its factory state, part of a cloud site or not as it was
        created (the faults stay)."""
        for appliance in self:
            appliance.reset()
