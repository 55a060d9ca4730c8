"""The ``ca_certificate`` resource (the trusted CA list) and its export.

A trusted CA certificate is exactly one PEM certificate, without DH/EC parameters; an upload
whose subject, issuer and serial are those of a stored one updates it in place
(``common.store_row``, CA-02). The export (the UI's; see ``control``) is every custom trusted
CA certificate as ``ca-certificates.pem``, in id order.

Faults: CA-03 (the export leaves one out, or is misnamed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certdata import CertError
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
)
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Download,
    Faults,
    metadata_of,
    store_row,
)
from simulator.pexip.errors import ValidationError
from simulator.pexip.fields import Key
from simulator.pexip.state import State

ONE_CERTIFICATE = (
    "Enter exactly one PEM certificate (import a bundle with the certificates_import command)."
)


def ca_contents(certificate: str) -> dict[str, Any]:
    """Validated stored fields of a CA certificate (exactly one certificate)."""
    try:
        parsed = certdata.parse_certificate_text(certificate, allow_parameters=False)
    except CertError as error:
        raise ValidationError(CA_CERTIFICATE.name, {"certificate": [error.message]}) from None
    if len(parsed.certificates) != 1:
        raise ValidationError(CA_CERTIFICATE.name, {"certificate": [ONE_CERTIFICATE]})
    cert = certdata.load_certificate(parsed.certificates[0])
    return {"certificate": parsed.certificates[0], **metadata_of(cert, with_sans=False)}


def create(state: State, row: dict[str, Any]) -> Key:
    row.update(ca_contents(row["certificate"]))
    table = state.table(CA_CERTIFICATE)
    return store_row(table.rows, table, row)


def update(state: State, key: Key, row: dict[str, Any], body: Mapping[str, Any]) -> None:
    """PATCH: a new ``certificate`` is validated like an upload."""
    if "certificate" in body:
        row.update(ca_contents(row["certificate"]))
    state.table(CA_CERTIFICATE).rows[key] = row


def export_ca(state: State, faults: Faults = NO_FAULTS) -> Download:
    """Every custom trusted CA certificate as ``ca-certificates.pem`` (id order)."""
    rows = state.table(CA_CERTIFICATE).rows
    keys = sorted(rows)
    if f.CA03_EXPORT_OMITS_ONE in faults:
        keys = keys[:-1]
    text = "".join(rows[k]["certificate"] for k in keys)
    name = "ca_certificates.pem" if f.CA03_EXPORT_WRONG_NAME in faults else "ca-certificates.pem"
    return Download(name, "application/x-pem-file", text.encode("ascii"))
