"""Certificate resource definitions: ``tls_certificate``, ``certificate_signing_request``,
``ca_certificate`` (pexip-api-reference.md §5; pexip-api.md; the Go SDK's models).

The behaviour behind them (pairing, same-subject rule, CSR generation and completion) is in
``certificates``. Allowed methods (deviations from the reference's §1.5 table, as for every
resource here): PATCH and DELETE on a list (bulk forms) answer 405; no PUT on any of them.

INFERRED, in one place:
- ``tls_certificate.private_key`` and a CSR's key are never returned on GET (read as "").
  The SDK's model has a ``private_key`` field on reads; a real node may return something
  there. The passphrases are never stored at all (keys are stored decrypted).
- ``tls_certificate.nodes`` is read-only (the TF provider treats it so): node assignment is
  made on the node's ``tls_certificate`` field. It lists node FQDNs (hostname.domain).
- CSR ``subject_name`` is required unless the CSR renews ``tls_certificate`` (enforced by the
  behaviour, so the schema cannot mark it required). ``dn`` and the write-only CSR fields are not
  stored: they shape the generated ``csr`` and read back empty ("" or their default).
- CSR ``eku_server_auth`` / ``eku_client_auth`` (pexip-api.md: "newer versions also"; no type or
  default documented): booleans, default true, write-only like the other CSR options (so they
  read back true whatever was asked: the ``csr`` itself shows its EKUs); one false leaves that
  usage out of the request, both false leave out the extension.
- ``server_auth_usage`` / ``client_auth_usage`` (read-only, the schema's): whether the leaf
  certificate's extended key usage lists serverAuth / clientAuth (false without the
  extension).
- Length limits: ``dn`` 250 (schema; TF says 500), ``additional_subject_alt_names`` 500,
  ``private_key`` 12288; ``certificate`` and ``parameters`` unlimited (within the body limit).
"""

from __future__ import annotations

from simulator.pexip.fields import (
    BooleanField,
    DateTimeField,
    Field,
    ListField,
    StringField,
)
from simulator.pexip.relations import ToOneField
from simulator.pexip.resourcedef import CRUD_LIST, ResourceDef, id_field, uri_field

DETAIL = ("GET", "PATCH", "DELETE")
KEY_TYPES = ("RSA2048", "RSA4096", "ECDSAP256", "UPLOAD")


def _ro(help_text: str = "", nullable: bool = False) -> StringField:
    default = None if nullable else ""
    return StringField(readonly=True, nullable=nullable, default=default, help_text=help_text)


def metadata(with_sans: bool) -> dict[str, Field]:
    """The read-only fields parsed from the certificate (formats: see ``certdata``)."""
    out: dict[str, Field] = {
        "start_date": DateTimeField(help_text="Start of the validity period."),
        "end_date": DateTimeField(help_text="End of the validity period."),
        "subject_name": _ro("Common Name or Organisation of the subject."),
        "subject_hash": _ro("OpenSSL hash of the subject."),
    }
    if with_sans:
        out["subject_alt_names"] = _ro("The subject alternative names.")
        out["server_auth_usage"] = BooleanField(readonly=True, help_text="Has the serverAuth EKU.")
        out["client_auth_usage"] = BooleanField(readonly=True, help_text="Has the clientAuth EKU.")
    out |= {
        "raw_subject": _ro("The full subject."),
        "issuer_name": _ro("Common Name or Organisation of the issuer."),
        "issuer_hash": _ro("OpenSSL hash of the issuer."),
        "raw_issuer": _ro("The full issuer."),
        "serial_no": _ro("The serial number."),
        "key_id": _ro("Subject key identifier.", nullable=True),
        "issuer_key_id": _ro("Authority key identifier.", nullable=True),
        "text": _ro("The decoded certificate."),
    }
    return out


TLS_CERTIFICATE = ResourceDef(
    name="tls_certificate",
    api="configuration",
    verbose_name="TLS certificate",
    list_methods=CRUD_LIST,
    detail_methods=DETAIL,
    fields={
        "certificate": StringField(
            required=True,
            blank=False,
            help_text="PEM certificate, optionally followed by its chain and DH/EC parameters.",
        ),
        "private_key": StringField(
            required=True,
            max_length=12288,
            private=True,
            help_text="PEM RSA or ECDSA private key (never returned).",
        ),
        "private_key_passphrase": StringField(
            max_length=100, transient=True, help_text="Passphrase of an encrypted private key."
        ),
        "parameters": StringField(help_text="DH or EC parameters to use with this certificate."),
        **metadata(with_sans=True),
        "nodes": ListField(
            computed=True, help_text="List of nodes (FQDNs) using this TLS certificate."
        ),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

CERTIFICATE_SIGNING_REQUEST = ResourceDef(
    name="certificate_signing_request",
    api="configuration",
    verbose_name="Certificate signing request",
    list_methods=CRUD_LIST,
    detail_methods=DETAIL,
    fields={
        "subject_name": StringField(
            max_length=250,
            help_text="The Common Name field of the requested certificate's subject.",
        ),
        "dn": StringField(
            max_length=250,
            transient=True,
            help_text="Additional subject fields, e.g. O=Example,OU=IT,L=Oslo,ST=Oslo,C=NO.",
        ),
        "additional_subject_alt_names": StringField(
            max_length=500,
            transient=True,
            help_text="A comma-separated list of subject alternative names to include.",
        ),
        "private_key_type": StringField(
            choices=KEY_TYPES,
            default="RSA2048",
            transient=True,
            help_text="The type of the private key to create, or UPLOAD for a user-provided key.",
        ),
        "private_key": StringField(
            max_length=12288,
            private=True,
            help_text="If private_key_type is UPLOAD, the PEM private key. Unused otherwise.",
        ),
        "private_key_passphrase": StringField(max_length=100, transient=True),
        "ad_compatible": BooleanField(
            default=False,
            transient=True,
            help_text="Include the Microsoft certificate template extension (WebServer).",
        ),
        "eku_server_auth": BooleanField(
            default=True,
            transient=True,
            help_text="Request the serverAuth extended key usage (TLS server certificate).",
        ),
        "eku_client_auth": BooleanField(
            default=True,
            transient=True,
            help_text="Request the clientAuth extended key usage (TLS client certificate).",
        ),
        "tls_certificate": ToOneField(
            to="tls_certificate",
            nullable=True,
            help_text="TLS certificate to create a certificate signing request for.",
        ),
        "csr": StringField(readonly=True, help_text="The PEM certificate signing request."),
        "certificate": StringField(
            transient=True, help_text="The signed PEM certificate: completes the request."
        ),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

CA_CERTIFICATE = ResourceDef(
    name="ca_certificate",
    api="configuration",
    verbose_name="CA certificate",
    list_methods=CRUD_LIST,
    detail_methods=DETAIL,
    fields={
        "certificate": StringField(required=True, blank=False, help_text="One PEM certificate."),
        "trusted_intermediate": BooleanField(
            default=False,
            help_text="Allow use of this intermediate certificate for constructing TLS "
            "verification chains.",
        ),
        **metadata(with_sans=False),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

CERTIFICATE_RESOURCES = (TLS_CERTIFICATE, CERTIFICATE_SIGNING_REQUEST, CA_CERTIFICATE)
