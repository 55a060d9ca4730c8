"""The files the appliance hands out: Security :: Certificates :: Export and the support bundle.

Export, as the guide's Export page says ("All exported files will be in binary format"):

- DER: "Used when exporting just the server certificate" → ``<name>.cer``;
- PKCS#8: "Used when exporting just the private key" → ``<name>.key``, encrypted with the
  passphrase;
- PKCS#7: "Used when exporting multiple certificates" (several selected, or a certificate with
  its chain) → ``<name>.p7b`` (``certificates.p7b`` for several selected);
- PKCS#12: "Used when exporting the server certificate and private key with or without the
  server certificate chain" → ``<name>.p12``, protected by the passphrase.

The chain ("Include Certificate Chain") is every issuer found in the store, root included.
A private key is never exported without a passphrase (INFERRED: the guide only "strongly
recommends" one; the simulator refuses, as Accord's baseline requires). The passphrase and the
key never appear in an error or in ``repr``.

The support bundle is the .zip the guide has you send to BeyondTrust Technical Support: "all of
the SSL certificates files for your certificate chain" as PEM files, and a ``status-basics.txt``
standing in for the screenshot of Status > Basics; "Do NOT include any private key files (e.g.,
.p12, .pfx, or .key files)": it never holds one, nor any private key material.

Two faults (``faults``) break this on purpose: with the BT-06 fault a PKCS#12 export is written
without encryption whatever the passphrase; with the BT-07 fault ``models.Appliance`` hands the
support bundle the certificate's key, which it then writes as a ``.key`` file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from simulator.beyondtrust import faults
from simulator.beyondtrust.errors import ValidationError
from simulator.beyondtrust.material import PrivateKey
from simulator.beyondtrust.pki import to_der, to_pem, to_pkcs7, to_pkcs8, to_pkcs12

__all__ = ["ExportFile", "file_stem", "export_file", "support_bundle"]

DER_TYPE = "application/pkix-cert"
PKCS7_TYPE = "application/x-pkcs7-certificates"
PKCS8_TYPE = "application/pkcs8"
PKCS12_TYPE = "application/x-pkcs12"
ZIP_TYPE = "application/zip"


@dataclass(frozen=True)
class ExportFile:
    """A file to download: its name, content type and bytes (not shown by ``repr``)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


def file_stem(friendly_name: str) -> str:
    """A safe file name stem for a friendly name (``*.example.com`` → ``wildcard.example.com``)."""
    text = friendly_name.replace("*", "wildcard")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return stem or "certificate"


@dataclass(frozen=True)
class Selected:
    """One selected certificate: its friendly name, certificate, key and chain (issuers)."""

    friendly_name: str
    certificate: x509.Certificate
    key: PrivateKey | None = field(repr=False)
    chain: tuple[x509.Certificate, ...]


def _key_export(
    item: Selected,
    include_certificate: bool,
    include_chain: bool,
    passphrase: str | None,
    active: frozenset[str],
) -> ExportFile:
    if item.key is None:
        raise ValidationError(
            f"the certificate {item.friendly_name!r} has no private key on this appliance",
            "include_private_key",
        )
    if not passphrase:
        raise ValidationError("a passphrase is required to export a private key", "passphrase")
    stem = file_stem(item.friendly_name)
    if include_certificate:
        chain = item.chain if include_chain else ()
        protection: str | None = passphrase
        if faults.BT06_PKCS12_PASSPHRASE_IGNORED in active:
            protection = None  # written without encryption
        data = to_pkcs12(
            item.key,
            item.certificate,
            chain,
            password=protection,
            friendly_name=item.friendly_name,
        )
        return ExportFile(f"{stem}.p12", PKCS12_TYPE, data)
    if include_chain:
        raise ValidationError(
            "a private key is exported with its certificate (PKCS#12) or alone (PKCS#8), not "
            "with the chain alone",
            "include_chain",
        )
    data = to_pkcs8(item.key, passphrase, der=True)
    return ExportFile(f"{stem}.key", PKCS8_TYPE, data)


def export_file(
    selected: Sequence[Selected],
    *,
    include_certificate: bool = True,
    include_private_key: bool = False,
    include_chain: bool = False,
    passphrase: str | None = None,
    active: frozenset[str] = frozenset(),
) -> ExportFile:
    """The export of ``selected`` certificates with the Export page's options (see module doc);
    ``active``: the simulator's active faults.

    ``ValidationError``: nothing included (field ``include_certificate``); a private key asked
    for several certificates (``ids``), for a certificate without one
    (``include_private_key``), without a passphrase (``passphrase``) or with the chain but not
    the certificate (``include_chain``); a chain asked alone where there is none
    (``include_chain``).
    """
    if not (include_certificate or include_private_key or include_chain):
        raise ValidationError(
            "choose at least one of the certificate, the private key or the certificate chain",
            "include_certificate",
        )
    if include_private_key:
        if len(selected) != 1:
            raise ValidationError(
                "a private key can be exported for one certificate at a time", "ids"
            )
        return _key_export(selected[0], include_certificate, include_chain, passphrase, active)
    certs: list[x509.Certificate] = []
    for item in selected:
        if include_certificate:
            certs.append(item.certificate)
        if include_chain:
            certs.extend(item.chain)
    certs = list(dict.fromkeys(certs))
    if not certs:
        raise ValidationError(
            "the certificate has no chain in this appliance's store", "include_chain"
        )
    stem = file_stem(selected[0].friendly_name) if len(selected) == 1 else "certificates"
    if len(certs) == 1:
        return ExportFile(f"{stem}.cer", DER_TYPE, to_der(certs[0]))
    return ExportFile(f"{stem}.p7b", PKCS7_TYPE, to_pkcs7(certs))


def support_bundle(
    appliance_lines: Sequence[str],
    files: Sequence[tuple[str, str, x509.Certificate]],
    key_file: tuple[str, PrivateKey] | None = None,
) -> ExportFile:
    """A zip of the certificate chain as PEM files and ``status-basics.txt``.

    ``files``: ``(kind, friendly name, certificate)`` from the server certificate up to the
    root; ``appliance_lines``: the text standing in for the Status > Basics screenshot.
    Named ``support-certificates.zip``; entries ``NN-<kind>-<name>.pem``. ``key_file``:
    ``(friendly name, private key)`` written as ``<name>.key`` (unencrypted PKCS#8 PEM): only
    the BT-07 fault passes one.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (kind, name, cert) in enumerate(files, start=1):
            archive.writestr(f"{index:02d}-{kind}-{file_stem(name)}.pem", to_pem(cert))
        if key_file is not None:
            name, key = key_file
            archive.writestr(f"{file_stem(name)}.key", to_pkcs8(key))
        archive.writestr("status-basics.txt", "\n".join(appliance_lines) + "\n")
    return ExportFile("support-certificates.zip", ZIP_TYPE, buffer.getvalue())
