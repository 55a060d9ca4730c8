"""What the certificate resources share: stored rows, the same-subject rule, file downloads.

A stored TLS or CA certificate row keeps its PEM (``certificate``: the leaf, then its chain) and
the metadata ``certdata.describe`` reads from it; `leaf_of`, `chain_of` and `metadata_of` read
them back. `store_row` is the same-subject rule (TLS-11, CA-02): a certificate whose subject
exists already is added alongside, unless issuer AND serial are identical too: then the existing
object is updated in place (the POST answers 201 with the existing object's Location; INFERRED)
and keeps its node assignments; an exact duplicate changes nothing. ``Faults`` is the active
fault names every entry point takes (``simulator.pexip.faults``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from simulator.pexip import certdata
from simulator.pexip.certdata import KeyProblem
from simulator.pexip.errors import ValidationError
from simulator.pexip.fields import BLANK, Key
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import MANAGEMENT_VM, WORKER_VM
from simulator.pexip.state import State

Errors = dict[str, list[str]]
Faults = frozenset[str]
NO_FAULTS: Faults = frozenset()


def fail(resource: ResourceDef, errors: Mapping[str, list[str]]) -> None:
    """``ValidationError`` on ``resource`` with ``errors``, if there are any."""
    if errors:
        raise ValidationError(resource.name, errors)


def node_fqdn(row: Mapping[str, Any]) -> str:
    """hostname.domain (just the hostname when there is no domain)."""
    return f"{row['hostname']}.{row['domain']}" if row["domain"] else row["hostname"]


def node_rows(state: State) -> list[tuple[str, Key, dict[str, Any]]]:
    """(kind, key, row) of every node: Management Nodes first, each kind in key order."""
    out: list[tuple[str, Key, dict[str, Any]]] = []
    for rdef, kind in ((MANAGEMENT_VM, "Management Node"), (WORKER_VM, "Conferencing Node")):
        out += [(kind, k, r) for k, r in sorted(state.table(rdef).rows.items())]
    return out


def leaf_of(row: Mapping[str, Any]) -> x509.Certificate:
    """The certificate of a stored row (its first PEM block)."""
    return certdata.load_certificate(certdata.pem_blocks(row["certificate"])[0].text)


def chain_of(row: Mapping[str, Any]) -> list[x509.Certificate]:
    """The chain stored after the certificate of a row."""
    return [certdata.load_certificate(b.text) for b in certdata.pem_blocks(row["certificate"])[1:]]


def metadata_of(leaf: x509.Certificate, with_sans: bool) -> dict[str, Any]:
    """The read-only fields a row stores about its certificate (``with_sans``: TLS rows)."""
    out = certdata.describe(leaf)
    if with_sans:
        out["subject_alt_names"] = ", ".join(certdata.san_values(leaf))
        out |= certdata.key_usages(leaf)
    return out


def identity_of(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """Subject, issuer and serial: what makes two stored certificates the same one."""
    return row["raw_subject"], row["raw_issuer"], row["serial_no"]


def store_row(
    table_rows: dict[Key, dict[str, Any]],
    state_table: Any,
    row: dict[str, Any],
    *,
    by_subject: bool = False,
) -> Key:
    """Add ``row`` unless an object with the same subject, issuer and serial exists: then
    update that one in place (TLS-11 / CA-02) and return its key. ``by_subject`` (the fault
    ``tls11_same_subject_replaces``) matches on the subject alone."""
    for key, existing in table_rows.items():
        if by_subject:
            same = existing["raw_subject"] == row["raw_subject"]
        else:
            same = identity_of(existing) == identity_of(row)
        if same:
            existing.update({k: v for k, v in row.items() if k != "trusted_intermediate"})
            return key
    return state_table.add(row)


def uploaded_key(text: str, passphrase: str) -> tuple[certdata.PrivateKey | None, Errors]:
    """An uploaded ``private_key`` (decrypted with ``passphrase``), or the field errors."""
    if text == "":
        return None, {"private_key": [BLANK]}
    try:
        return certdata.parse_private_key(text, passphrase), {}
    except KeyProblem as error:
        return None, {error.field: [error.message]}


@dataclass(frozen=True)
class Download:
    """A file to hand to the client."""

    filename: str
    content_type: str
    data: bytes


def safe_name(text: str) -> str:
    """``text`` fit for a file name (anything but letters, digits and ``._-`` as ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "certificate"
