"""TLS parameters: DH parameters' size and an EC parameters block's curve.

Pexip appends "2048 bit Diffie-Hellman parameters" to its shipped certificates and accepts custom
DH parameters and an EC curve name next to a certificate. cryptography 50 deprecates loading
finite-field DH parameters (``load_pem_parameters`` warns), so these blocks are decoded with
cryptography's declarative DER reader (:mod:`cryptography.hazmat.asn1`, cryptography >= 47):

- ``DH PARAMETERS`` (PKCS#3): ``SEQUENCE { p INTEGER, g INTEGER, privateValueLength INTEGER
  OPTIONAL }`` — what ``openssl dhparam`` writes;
- ``X9.42 DH PARAMETERS`` (RFC 3279 DomainParameters): ``SEQUENCE { p, g, q INTEGER, j INTEGER
  OPTIONAL, validationParms SEQUENCE OPTIONAL }`` — what ``openssl dhparam -dsaparam`` writes;
- ``EC PARAMETERS``: a named curve's OBJECT IDENTIFIER — what ``openssl ecparam -name`` writes.

The size of DH parameters is the bit length of the prime ``p``.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives.asymmetric import ec

from accord.pki.errors import PkiError
from accord.pki.parse import pem_blocks, pem_labels

__all__ = ["dh_parameters_bits", "ec_parameters_curve"]


@asn1.sequence
class _DHParameter:
    p: int
    g: int
    private_value_length: int | None


@asn1.sequence
class _ValidationParms:
    seed: asn1.BitString
    pgen_counter: int


@asn1.sequence
class _DomainParameters:
    p: int
    g: int
    q: int
    j: int | None
    validation_parms: _ValidationParms | None


def dh_parameters_bits(text: str | bytes) -> int:
    """The size in bits of the first DH parameters block in ``text`` (which may also hold
    certificates and keys, as when parameters are appended to a certificate)."""
    blocks = pem_blocks(text, "DH PARAMETERS", "X9.42 DH PARAMETERS")
    if not blocks:
        labels = pem_labels(text)
        held = ", ".join(labels) if labels else "no PEM blocks"
        raise PkiError(f"no DH PARAMETERS block found (the text holds {held})")
    label, der = blocks[0]
    kind: type[_DHParameter] | type[_DomainParameters] = (
        _DomainParameters if label.startswith("X9.42") else _DHParameter
    )
    try:
        prime = asn1.decode_der(kind, der).p
    except ValueError:
        raise PkiError(f"the {label} block is not valid DER DH parameters") from None
    if prime < 3:
        raise PkiError(f"the {label} block has no usable prime")
    return prime.bit_length()


def ec_parameters_curve(text: str | bytes) -> str:
    """The curve name (cryptography's, e.g. ``"secp256r1"``) of the first ``EC PARAMETERS`` block;
    explicit (unnamed) curve parameters give :class:`PkiError`."""
    blocks = pem_blocks(text, "EC PARAMETERS")
    if not blocks:
        raise PkiError("no EC PARAMETERS block found")
    try:
        oid = asn1.decode_der(x509.ObjectIdentifier, blocks[0][1])
    except ValueError:
        raise PkiError("the EC PARAMETERS block is not a named curve") from None
    try:
        return ec.get_curve_for_oid(oid).name
    except LookupError:
        raise PkiError(
            f"the EC PARAMETERS block names an unknown curve {oid.dotted_string}"
        ) from None
