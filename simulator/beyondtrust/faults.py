"""Fault injection: make the simulated appliances break one guide behaviour on purpose
(``/_sim/faults``).

Accord proves an "act" requirement (the factory certificate cannot be removed, a request's key
stays on the appliance, a PKCS#12 export is protected by its passphrase...) by performing the
guide's action and checking the outcome. To show that such a scenario really fails when the
appliance misbehaves, a test switches on a fault here and runs the scenario: each fault breaks
exactly one requirement's behaviour, at the one place where that behaviour lives (``if ... in
active`` there), and nothing else.

Faults are NOT part of the state: ``/_sim/reset`` (of every appliance or of one) keeps them;
only ``PUT /_sim/faults`` changes them (``Faults.set``). They apply to every appliance of the
simulator (a ``Site`` holds one ``Faults`` that each of its appliances reads). The catalogue
(``FAULTS``) maps each name to the requirement it breaks and how. The names are a stable
interface (tests outside the simulator use them): never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.beyondtrust.errors import ValidationError
from simulator.core.faults import USAGE, FaultRegistry

__all__ = [
    "BT01_FACTORY_CERTIFICATE_DELETABLE",
    "BT02_FQDN_COMMON_NAME_NOT_FIRST_SAN_ACCEPTED",
    "BT03_REQUEST_DATA_HOLDS_KEY",
    "BT04_SIGNED_CERTIFICATE_NOT_LINKED",
    "BT05_MISSING_CHAIN_NOT_WARNED",
    "BT06_PKCS12_PASSPHRASE_IGNORED",
    "BT07_SUPPORT_BUNDLE_HOLDS_KEY",
    "BT12_SAME_SUBJECT_IMPORT_REPLACES",
    "BT13_UNRELATED_ROOT_REFUSED",
    "FAULTS",
    "Fault",
    "Faults",
]

BT01_FACTORY_CERTIFICATE_DELETABLE = "bt01_factory_certificate_deletable"
BT02_FQDN_COMMON_NAME_NOT_FIRST_SAN_ACCEPTED = "bt02_fqdn_common_name_not_first_san_accepted"
BT03_REQUEST_DATA_HOLDS_KEY = "bt03_request_data_holds_key"
BT04_SIGNED_CERTIFICATE_NOT_LINKED = "bt04_signed_certificate_not_linked"
BT05_MISSING_CHAIN_NOT_WARNED = "bt05_missing_chain_not_warned"
BT06_PKCS12_PASSPHRASE_IGNORED = "bt06_pkcs12_passphrase_ignored"
BT07_SUPPORT_BUNDLE_HOLDS_KEY = "bt07_support_bundle_holds_key"
BT12_SAME_SUBJECT_IMPORT_REPLACES = "bt12_same_subject_import_replaces"
BT13_UNRELATED_ROOT_REFUSED = "bt13_unrelated_root_refused"


@dataclass(frozen=True)
class Fault:
    """One catalogued fault: the requirement it breaks (``BT-01``) and how (one line)."""

    requirement: str
    description: str

    @property
    def text(self) -> str:
        """``"BT-01: <description>"``: what ``GET /_sim/faults`` lists."""
        return f"{self.requirement}: {self.description}"


FAULTS: dict[str, Fault] = {
    BT01_FACTORY_CERTIFICATE_DELETABLE: Fault(
        "BT-01",
        'deleting the factory "BeyondTrust Appliance" certificate succeeds when it is not the '
        'default (instead of "The factory default configuration may not be removed.").',
    ),
    BT02_FQDN_COMMON_NAME_NOT_FIRST_SAN_ACCEPTED: Fault(
        "BT-02",
        "Create Self-Signed Certificate accepts a common name that is an FQDN but not the first "
        "subject alternative name (a certificate request still refuses it).",
    ),
    BT03_REQUEST_DATA_HOLDS_KEY: Fault(
        "BT-03",
        "a certificate request's Request Data also carries its private key (unencrypted PKCS#8 "
        "PEM after the CSR): the key leaves the appliance.",
    ),
    BT04_SIGNED_CERTIFICATE_NOT_LINKED: Fault(
        "BT-04",
        "importing the signed certificate of a pending request does not link it to the "
        "request's key: it is added without a private key and the request stays pending.",
    ),
    BT05_MISSING_CHAIN_NOT_WARNED: Fault(
        "BT-05",
        "a certificate whose intermediate or root is missing from the store shows no warning.",
    ),
    BT06_PKCS12_PASSPHRASE_IGNORED: Fault(
        "BT-06",
        "a PKCS#12 export (certificate with its private key) is written without encryption, "
        "whatever passphrase is given (a PKCS#8 key export is still encrypted).",
    ),
    BT07_SUPPORT_BUNDLE_HOLDS_KEY: Fault(
        "BT-07",
        "the support bundle also holds the certificate's private key as a .key file "
        "(unencrypted PKCS#8 PEM).",
    ),
    BT12_SAME_SUBJECT_IMPORT_REPLACES: Fault(
        "BT-12",
        "importing a certificate whose subject equals a stored (non-factory) certificate's "
        "replaces that certificate, taking its id and default status, instead of adding it "
        "alongside.",
    ),
    BT13_UNRELATED_ROOT_REFUSED: Fault(
        "BT-13",
        "importing a root (self-signed CA) certificate that issued none of the appliance's "
        "certificates (nor any other in the same file) is refused with 409.",
    ),
}


class Faults(FaultRegistry):
    """The active faults of one simulator (thread-safe; empty at start): a malformed ``PUT
    /_sim/faults`` body or an unknown name is a ``ValidationError`` naming the field."""

    catalogue = {name: fault.text for name, fault in FAULTS.items()}

    def requested(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            raise ValidationError(f"the request body must be a JSON object. {USAGE}")
        unknown_fields = sorted(str(k) for k in body if k != "active")
        if unknown_fields:
            raise ValidationError(f"unknown field (known: active). {USAGE}", unknown_fields[0])
        if "active" not in body:
            raise ValidationError(f"is required. {USAGE}", "active")
        names = body["active"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationError(f"must be a list of fault names. {USAGE}", "active")
        return names

    def unknown(self, names: list[str]) -> Exception:
        return ValidationError(f"unknown fault(s): {', '.join(names)}. {USAGE}", "active")
