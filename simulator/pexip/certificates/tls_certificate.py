"""The ``tls_certificate`` resource: uploads, updates, rendering, delete checks, downloads.

- Upload (POST): the certificate must pair with the private key, else "Certificate and private
  key do not appear to be part of the same key pair" (on ``private_key``); a CSR is refused (on
  ``certificate``); RSA and ECDSA keys; an encrypted key needs ``private_key_passphrase``;
  several certificates may be pasted: the one pairing with the key is the certificate, the
  others (in the given order) its chain; DH/EC parameters may be in ``parameters`` or appended
  to the certificate text (not both: INFERRED). The stored ``certificate`` is the leaf followed
  by its chain (parameters moved to ``parameters``); the key is stored decrypted (PKCS#8) and
  never returned. Same subject: ``common.store_row`` (TLS-11).
- PATCH may change ``certificate``/``parameters`` (the new certificate must pair with the
  stored key); the private key cannot be modified (guide: "You cannot modify the private key";
  400 on ``private_key``).
- Deleting a certificate assigned to a node is refused with a 400 naming the nodes (INFERRED:
  the guide does not say; a node never silently loses its certificate).
- Download (the UI's; the real API has none, see ``control`` for the simulator-only route):
  not for temporary certificates; a private key only with a passphrase (it then encrypts the
  key / the PKCS#12 file).

Faults: TLS-10 (pairing skipped), TLS-11 (same subject replaces), TLS-12 (dates misreported),
TLS-14 (temporary download, key without passphrase, file names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certdata import CertError
from simulator.pexip.certificate_resources import (
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Download,
    Errors,
    Faults,
    chain_of,
    fail,
    leaf_of,
    metadata_of,
    node_fqdn,
    node_rows,
    safe_name,
    store_row,
    uploaded_key,
)
from simulator.pexip.errors import BadRequest, ValidationError
from simulator.pexip.fields import NOT_STRING, UNKNOWN, Key
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.state import State

# INFERRED wordings.
KEY_IMMUTABLE = "You cannot modify the private key."
PARAMETERS_TWICE = (
    "DH/EC parameters were given both here and appended to the certificate: give them once."
)
TEMPORARY_DOWNLOAD = "You cannot download a temporary / self-signed certificate."
KEY_NEEDS_PASSPHRASE = "A passphrase is required to include the private key."
DOWNLOAD = "download"
_METADATA_TIME = "%Y-%m-%dT%H:%M:%S.%f"  # certdata.describe's format


def tls_contents(
    certificate: str,
    key: certdata.PrivateKey | None,
    key_errors: Errors,
    parameters_text: str,
    *,
    key_field: str = "private_key",
    check_pairing: bool = True,
) -> dict[str, Any]:
    """Validated stored fields of a TLS certificate; raises ``ValidationError``.

    Without ``check_pairing`` (a fault) a key that pairs with no certificate is accepted and
    the first certificate is the leaf."""
    errors: Errors = dict(key_errors)
    parsed: certdata.CertificateText | None = None
    params = certdata.Parameters()
    try:
        parsed = certdata.parse_certificate_text(certificate)
    except CertError as error:
        errors["certificate"] = [error.message]
    try:
        params = certdata.parameters_from_text(parameters_text)
    except CertError as error:
        errors["parameters"] = [error.message]
    fail(TLS_CERTIFICATE, errors)
    assert parsed is not None and key is not None
    if parsed.parameters.text and params.text:
        fail(TLS_CERTIFICATE, {"parameters": [PARAMETERS_TWICE]})
    certs = [certdata.load_certificate(c) for c in parsed.certificates]
    paired = [i for i, c in enumerate(certs) if certdata.pairs(c, key)]
    if not paired and not check_pairing:
        paired = [0]
    if not paired:
        fail(TLS_CERTIFICATE, {key_field: [certdata.KEY_MISMATCH]})
    leaf = parsed.certificates[paired[0]]
    chain = [c for i, c in enumerate(parsed.certificates) if i != paired[0]]
    return {
        "certificate": "".join([leaf, *chain]),
        "private_key": certdata.key_pem(key),
        "parameters": (parsed.parameters.text or params.text),
        **metadata_of(certs[paired[0]], with_sans=True),
    }


def create(state: State, row: dict[str, Any], extras: Mapping[str, Any], faults: Faults) -> Key:
    key, errors = uploaded_key(row["private_key"], extras.get("private_key_passphrase", ""))
    pairing = f.TLS10_ACCEPT_MISMATCHED_KEY not in faults
    row.update(
        tls_contents(row["certificate"], key, errors, row["parameters"], check_pairing=pairing)
    )
    table = state.table(TLS_CERTIFICATE)
    by_subject = f.TLS11_SAME_SUBJECT_REPLACES in faults
    return store_row(table.rows, table, row, by_subject=by_subject)


def update(state: State, key: Key, row: dict[str, Any], body: Mapping[str, Any]) -> None:
    if body.get("private_key"):
        fail(TLS_CERTIFICATE, {"private_key": [KEY_IMMUTABLE]})
    if "certificate" in body or "parameters" in body:
        stored_key = certdata.load_stored_key(row["private_key"])
        parameters = row["parameters"]
        if "parameters" not in body and _appended_parameters(row["certificate"]):
            parameters = ""  # parameters appended to a new certificate replace the stored ones
        row.update(
            tls_contents(row["certificate"], stored_key, {}, parameters, key_field="certificate")
        )
    state.table(TLS_CERTIFICATE).rows[key] = row


def _appended_parameters(text: str) -> bool:
    try:
        return bool(certdata.parse_certificate_text(text).parameters.text)
    except CertError:
        return False


def render_nodes(state: State, key: Key) -> list[str]:
    """FQDNs of the nodes using TLS certificate ``key`` (Management Nodes first)."""
    return users_by_certificate(state).get(key, [])


def users_by_certificate(state: State) -> dict[Key, list[str]]:
    """Each TLS certificate's nodes' FQDNs (Management Nodes first), in one pass over the
    nodes: rendering a list of certificates asks it once, not once per certificate."""
    users: dict[Key, list[str]] = {}
    for _, _, row in node_rows(state):
        users.setdefault(row["tls_certificate"], []).append(node_fqdn(row))
    return users


def check_delete(rdef: ResourceDef, state: State, key: Key) -> None:
    """Refuse to delete a TLS certificate still assigned to a node (INFERRED)."""
    if rdef is TLS_CERTIFICATE:
        users = render_nodes(state, key)
        if users:
            raise BadRequest(
                f"Cannot delete tls_certificate {key}: it is assigned to {', '.join(users)}. "
                "Assign another certificate to those nodes first."
            )


def render(
    state: State,
    key: Key,
    out: dict[str, Any],
    faults: Faults = NO_FAULTS,
    users: dict[Key, list[str]] | None = None,
) -> None:
    """Fill in the computed fields of a rendered TLS certificate (``nodes``; ``users``: what
    `users_by_certificate` says, when the caller renders many)."""
    out["nodes"] = list((users if users is not None else users_by_certificate(state)).get(key, []))
    if f.TLS12_DATES_MISREPORTED in faults:
        for name in ("start_date", "end_date"):
            moment = dt.datetime.strptime(out[name], _METADATA_TIME)
            out[name] = (moment + dt.timedelta(days=365)).strftime(_METADATA_TIME)


def download(
    state: State,
    body: Any,
    resolve: Callable[[str, str], Key | None],
    faults: Faults = NO_FAULTS,
) -> Download:
    """Download TLS certificates as PEM or PKCS#12 (see ``control`` for the request shape)."""
    if not isinstance(body, dict):
        raise BadRequest("Malformed JSON in request body: expected a JSON object")
    allowed = {"certificates", "format", "include_chain", "include_private_key", "passphrase"}
    errors: Errors = {n: [UNKNOWN] for n in body if n not in allowed}
    uris = body.get("certificates")
    fmt = body.get("format", "pem")
    include_chain = body.get("include_chain", True)
    include_key = body.get("include_private_key", False)
    passphrase = body.get("passphrase", "")
    keys: list[Key] = []
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        errors["certificates"] = ["Enter a non-empty list of tls_certificate resource URIs."]
    else:
        for uri in uris:
            found = resolve(TLS_CERTIFICATE.name, uri)
            if found is None:
                errors.setdefault("certificates", []).append(f"Object does not exist: {uri}")
            elif found not in keys:
                keys.append(found)
    if fmt not in ("pem", "pkcs12"):
        errors["format"] = ["Value must be 'pem' or 'pkcs12'."]
    for name, value in (("include_chain", include_chain), ("include_private_key", include_key)):
        if not isinstance(value, bool):
            errors[name] = [f"“{value}” value must be either True or False."]
    if not isinstance(passphrase, str):
        errors["passphrase"] = [NOT_STRING]
    elif include_key is True and passphrase == "" and f.TLS14_KEY_WITHOUT_PASSPHRASE not in faults:
        errors["passphrase"] = [KEY_NEEDS_PASSPHRASE]
    rows = [state.table(TLS_CERTIFICATE).rows[k] for k in keys]
    temporary_ok = f.TLS14_TEMPORARY_DOWNLOAD_ALLOWED in faults
    if any(certdata.self_signed(leaf_of(r)) for r in rows) and not temporary_ok:
        errors.setdefault("certificates", []).append(TEMPORARY_DOWNLOAD)
    if fmt == "pkcs12" and include_key is True and len(rows) > 1:
        errors["format"] = ["A PKCS#12 download holds one private key: download one at a time."]
    if errors:
        raise ValidationError(DOWNLOAD, errors)
    assert isinstance(passphrase, str)
    kind = "keycert" if include_key else "certificate"
    base = f"{safe_name(rows[0]['subject_name'])}_{kind}" if len(rows) == 1 else f"all_{kind}s"
    if f.TLS14_WRONG_FILE_NAME in faults:
        base = safe_name(rows[0]["subject_name"]) if len(rows) == 1 else "certificates"
    if fmt == "pkcs12":
        row = rows[0] if len(rows) == 1 else None
        certs = [c for r in rows for c in [leaf_of(r), *(chain_of(r) if include_chain else [])]]
        key = certdata.load_stored_key(row["private_key"]) if include_key and row else None
        if key is not None and not certdata.pairs(certs[0], key):  # only after a pairing fault
            raise ValidationError(DOWNLOAD, {"certificates": [certdata.KEY_MISMATCH]})
        data = certdata.pkcs12_bytes(base, key, certs, passphrase)
        return Download(f"{base}.pfx", "application/x-pkcs12", data)
    parts: list[str] = []
    for row in rows:
        if include_key:
            parts.append(certdata.key_pem(certdata.load_stored_key(row["private_key"]), passphrase))
        blocks = certdata.pem_blocks(row["certificate"])
        parts += [b.text for b in (blocks if include_chain else blocks[:1])]
    return Download(f"{base}.pem", "application/x-pem-file", "".join(parts).encode("ascii"))
