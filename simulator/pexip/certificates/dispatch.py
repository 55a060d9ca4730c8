"""What the model calls for the three certificate resources: create, update, render, and
the consistency check of a restored snapshot.

The model calls these after a request's fields have validated on their own (types, lengths,
choices, relations); they hand over to the resource's module, which checks the certificate
data, changes the state only when everything is acceptable, and raises
``ValidationError``/``BadRequest`` otherwise. ``faults``: the active fault names, in this and
every entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certdata import CertError
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    CERTIFICATE_SIGNING_REQUEST,
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates import (
    ca_certificate,
    certificate_signing_request,
    tls_certificate,
)
from simulator.pexip.certificates.ca_certificate import ca_contents
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Faults,
)
from simulator.pexip.certificates.tls_certificate import tls_contents
from simulator.pexip.errors import ValidationError
from simulator.pexip.fields import Key
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.state import State

HANDLED = {r.name for r in (TLS_CERTIFICATE, CERTIFICATE_SIGNING_REQUEST, CA_CERTIFICATE)}


def create(
    rdef: ResourceDef,
    state: State,
    row: dict[str, Any],
    extras: Mapping[str, Any],
    make_key: Callable[[str], certdata.PrivateKey] = certdata.new_key,
    faults: Faults = NO_FAULTS,
) -> Key:
    """POST: validate the certificate data, store, return the key (maybe an existing one)."""
    if rdef is TLS_CERTIFICATE:
        return tls_certificate.create(state, row, extras, faults)
    if rdef is CA_CERTIFICATE:
        return ca_certificate.create(state, row)
    return certificate_signing_request.create(state, row, extras, make_key, faults)


def update(
    rdef: ResourceDef,
    state: State,
    key: Key,
    row: dict[str, Any],
    body: Mapping[str, Any],
    faults: Faults = NO_FAULTS,
) -> str | None:
    """PATCH; returns the URI of a TLS certificate a CSR completion produced, else None."""
    if rdef is TLS_CERTIFICATE:
        tls_certificate.update(state, key, row, body)
    elif rdef is CA_CERTIFICATE:
        ca_certificate.update(state, key, row, body)
    else:
        stored = state.table(rdef).rows[key]
        target = certificate_signing_request.update(state, key, stored, body, faults)
        return TLS_CERTIFICATE.uri(target) if target is not None else None
    return None


def render(
    rdef: ResourceDef,
    state: State,
    key: Key,
    out: dict[str, Any],
    faults: Faults = NO_FAULTS,
    users: dict[Key, list[str]] | None = None,
) -> None:
    """Fill in the computed fields of a rendered object (``nodes`` of a TLS certificate;
    ``users``: what `users_by_certificate` says, when the caller renders many)."""
    if rdef is TLS_CERTIFICATE:
        tls_certificate.render(state, key, out, faults, users)


def check_restored(state: State, faults: Faults = NO_FAULTS) -> None:
    """Raise ValueError unless every certificate object in ``state`` is consistent (its PEM
    parses, its key pairs with it, its metadata is what the certificate says). While a fault
    that stores unpaired keys is active, a key need not pair."""
    pairing = not faults & f.UNPAIRED_KEYS
    for rdef in (TLS_CERTIFICATE, CA_CERTIFICATE):
        for key, row in state.table(rdef).rows.items():
            try:
                if rdef is TLS_CERTIFICATE:
                    private = certdata.load_stored_key(row["private_key"])
                    expected = tls_contents(
                        row["certificate"], private, {}, row["parameters"], check_pairing=pairing
                    )
                    expected.pop("private_key")
                else:
                    expected = ca_contents(row["certificate"])
            except (ValidationError, CertError):
                raise ValueError(f"{rdef.name} {key!r}: invalid certificate data") from None
            if any(row[name] != value for name, value in expected.items()):
                raise ValueError(f"{rdef.name} {key!r}: metadata does not match the certificate")
    for key, row in state.table(CERTIFICATE_SIGNING_REQUEST).rows.items():
        try:
            private = certdata.load_stored_key(row["private_key"])
            csr = x509.load_pem_x509_csr(row["csr"].encode("ascii"))
            ok = certdata.spki(csr.public_key()) == certdata.spki(private.public_key())
        except (CertError, ValueError, UnicodeEncodeError):
            ok = False
        if not ok:
            raise ValueError(f"certificate_signing_request {key!r}: invalid key or csr")
