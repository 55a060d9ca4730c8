"""The ``certificates_import`` command (``command/v1/platform/certificates_import/``).

CA certificates (basicConstraints CA) go to ``ca_certificate``; other certificates need their
private key in the bundle (anywhere) and go to ``tls_certificate``; DH/EC parameters attach to
the closest server certificate before them; exact duplicates are ignored. All or nothing;
errors name ``bundle`` (or ``private_key_passphrase``). Answers the command API's ``{"status":
"success", "message", "result"}``.

Faults: CA-02 (duplicates added again, server certificates taken as CAs).
"""

from __future__ import annotations

from typing import Any

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certdata import CertError, KeyProblem
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates.ca_certificate import ca_contents
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Errors,
    Faults,
    identity_of,
    metadata_of,
    store_row,
)
from simulator.pexip.errors import BadRequest, ValidationError
from simulator.pexip.fields import NOT_STRING, REQUIRED, UNKNOWN
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.state import State

IMPORT = "certificates_import"


def import_bundle(state: State, body: Any, faults: Faults = NO_FAULTS) -> dict[str, Any]:
    """``POST command/v1/platform/certificates_import/``: route a PEM bundle (see module doc)."""
    if not isinstance(body, dict):
        raise BadRequest("Malformed JSON in request body: expected a JSON object")
    errors: Errors = {n: [UNKNOWN] for n in body if n not in ("bundle", "private_key_passphrase")}
    bundle, passphrase = body.get("bundle"), body.get("private_key_passphrase", "")
    if bundle is None:
        errors["bundle"] = [REQUIRED]
    elif not isinstance(bundle, str):
        errors["bundle"] = [NOT_STRING]
    if not isinstance(passphrase, str):
        errors["private_key_passphrase"] = [NOT_STRING]
    if errors:
        raise ValidationError(IMPORT, errors)
    assert isinstance(bundle, str) and isinstance(passphrase, str)
    try:
        plan = _plan_import(bundle, passphrase, f.CA02_IMPORT_SERVER_AS_CA in faults)
    except KeyProblem as error:
        field = error.field if error.field == "private_key_passphrase" else "bundle"
        raise ValidationError(IMPORT, {field: [error.message]}) from None
    except CertError as error:
        raise ValidationError(IMPORT, {"bundle": [error.message]}) from None
    result: dict[str, Any] = {"tls_certificates": [], "ca_certificates": [], "ignored": 0}
    for rdef, row in plan:
        table = state.table(rdef)
        same = [k for k, r in table.rows.items() if identity_of(r) == identity_of(row)]
        listing = "tls_certificates" if rdef is TLS_CERTIFICATE else "ca_certificates"
        if same and f.CA02_IMPORT_DUPLICATES_ADDED in faults:
            result[listing].append(rdef.uri(table.add(row)))
            continue
        if same and all(
            table.rows[same[0]][n] == row[n] for n in ("certificate", "parameters") if n in row
        ):
            result["ignored"] += 1
            continue
        result[listing].append(rdef.uri(store_row(table.rows, table, row)))
    added = len(result["tls_certificates"]) + len(result["ca_certificates"])
    return {
        "status": "success",
        "message": f"Imported {added} certificate(s); {result['ignored']} duplicate(s) ignored.",
        "result": result,
    }


def _plan_import(
    bundle: str, passphrase: str, server_as_ca: bool = False
) -> list[tuple[ResourceDef, dict[str, Any]]]:
    """What an import would store, in order; ``server_as_ca`` (a fault) routes server
    certificates to the CA list and ignores the keys."""
    blocks = certdata.pem_blocks(bundle)
    if not blocks:
        raise CertError("No PEM-formatted certificates found in the bundle.")
    keys: list[certdata.PrivateKey] = []
    servers: list[tuple[str, list[certdata.Block]]] = []
    cas: list[str] = []
    for block in blocks:
        if block.label in certdata.CSR_LABELS:
            raise CertError(certdata.CSR_NOT_CERTIFICATE)
        if block.label in certdata.KEY_LABELS:
            keys.append(certdata.load_private_key(block, passphrase))
        elif block.label in certdata.PARAM_LABELS:
            if not servers:
                raise CertError("DH/EC parameters must follow the server certificate they are for.")
            servers[-1][1].append(block)
        elif block.label == "CERTIFICATE":
            cert = certdata.load_certificate(block.text)
            if certdata.is_ca(cert) or server_as_ca:
                cas.append(certdata.to_pem(cert))
            else:
                servers.append((certdata.to_pem(cert), []))
        else:
            raise CertError(f"Unsupported PEM block in the bundle: {block.label}.")
    plan: list[tuple[ResourceDef, dict[str, Any]]] = []
    used: set[int] = set()
    for pem, params in servers:
        cert = certdata.load_certificate(pem)
        match = next((i for i, k in enumerate(keys) if certdata.pairs(cert, k)), None)
        if match is None:
            raise CertError(
                f"No private key in the bundle pairs with the certificate for "
                f"{certdata.display_name(cert.subject) or cert.subject.rfc4514_string()}."
            )
        used.add(match)
        row = TLS_CERTIFICATE.default_row()
        row.update(
            certificate=pem,
            private_key=certdata.key_pem(keys[match]),
            parameters=certdata.parse_parameters(params).text,
            **metadata_of(cert, with_sans=True),
        )
        plan.append((TLS_CERTIFICATE, row))
    if len(used) != len(keys) and not server_as_ca:
        raise CertError("A private key in the bundle pairs with no certificate in it.")
    for pem in cas:
        row = CA_CERTIFICATE.default_row()
        row.update(ca_contents(pem))
        plan.append((CA_CERTIFICATE, row))
    return plan
