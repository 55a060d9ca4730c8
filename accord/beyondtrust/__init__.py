"""BeyondTrust Privileged Remote Access appliances: the simulator's certificate API client and
the TLS probes that verify what any appliance (live or simulated) serves.

A real appliance has no certificate API (its /appliance web interface only), so ``client``
drives the simulator alone: on ``live`` the steps that act are reported "not run on live", and
verification goes through ``probes`` (real TLS handshakes, SNI per hostname).
"""

from accord.beyondtrust.client import (
    Appliance,
    BeyondTrustApiError,
    BeyondTrustClient,
    Certificate,
    CertificateForm,
    CertificateRequest,
    ImportResult,
    ReadOnlyError,
)
from accord.beyondtrust.probes import (
    ProbeError,
    ServedCertificate,
    ca_signed,
    chain_complete,
    chain_problem,
    covers,
    days_left,
    served,
)

__all__ = [
    "Appliance",
    "BeyondTrustApiError",
    "BeyondTrustClient",
    "Certificate",
    "CertificateForm",
    "CertificateRequest",
    "ImportResult",
    "ProbeError",
    "ReadOnlyError",
    "ServedCertificate",
    "ca_signed",
    "chain_complete",
    "chain_problem",
    "covers",
    "days_left",
    "served",
]
