"""Fault injection: make the simulator break one guide behaviour on purpose (``/_sim/faults``).

Accord proves an "act" requirement (an upload is refused, a CSR carries both EKUs, an import
ignores duplicates...) by performing the action and checking the outcome. To show that such a
scenario really fails when the product misbehaves, a test switches on a fault here and runs the
scenario: each fault breaks exactly one requirement's behaviour, at the one place where that
behaviour lives (``if ... in faults`` there), and nothing else.

Faults are NOT part of the state: a reset or a state restore keeps them and snapshots do not
hold them; only ``PUT /_sim/faults`` changes them (``Faults.set``). The catalogue (``FAULTS``)
maps each name to the requirement it breaks and how. The names are a stable interface (tests
outside the simulator use them): never rename one.

The shipped-certificate faults (TLS-15) change the factory state, so they take effect at the
next reset (``certificates.shipped.weaken_shipped``).
"""

from __future__ import annotations

from typing import Any

from simulator.core.faults import USAGE, FaultRegistry
from simulator.pexip.errors import BadRequest

TLS10_ACCEPT_MISMATCHED_KEY = "tls10_accept_mismatched_key"
TLS11_SAME_SUBJECT_REPLACES = "tls11_same_subject_replaces"
TLS11_ASSIGNMENT_IGNORED = "tls11_assignment_ignored"
TLS12_DATES_MISREPORTED = "tls12_dates_misreported"
TLS13_NO_MISSING_CERTIFICATE_ALARM = "tls13_no_missing_certificate_alarm"
TLS13_NO_INCOMPLETE_CHAIN_ALARM = "tls13_no_incomplete_chain_alarm"
TLS13_NO_EXPIRY_ALARM = "tls13_no_expiry_alarm"
TLS14_TEMPORARY_DOWNLOAD_ALLOWED = "tls14_temporary_download_allowed"
TLS14_KEY_WITHOUT_PASSPHRASE = "tls14_key_without_passphrase"
TLS14_WRONG_FILE_NAME = "tls14_wrong_file_name"
TLS15_SHIPPED_RSA2048 = "tls15_shipped_rsa2048"
TLS15_SHIPPED_DH1024 = "tls15_shipped_dh1024"
CSR01_SERVER_AUTH_ONLY = "csr01_server_auth_only"
CSR02_IP_COMMON_NAME_REFUSED = "csr02_ip_common_name_refused"
CSR03_DEFAULT_RSA1024 = "csr03_default_rsa1024"
CSR03_ECC_KEY_REFUSED = "csr03_ecc_key_refused"
CSR04_CN_NOT_IN_SANS = "csr04_cn_not_in_sans"
CSR05_TEMPLATE_ALWAYS = "csr05_template_always"
CSR05_TEMPLATE_NEVER = "csr05_template_never"
CSR06_DOWNLOAD_INCLUDES_KEY = "csr06_download_includes_key"
CSR06_DOWNLOAD_WRONG_NAME = "csr06_download_wrong_name"
CSR07_CSR_MODIFIABLE = "csr07_csr_modifiable"
CSR08_COMPLETION_KEY_UNCHECKED = "csr08_completion_key_unchecked"
CSR08_CSR_KEPT = "csr08_csr_kept"
CSR09_RENEWAL_ADDED_ALONGSIDE = "csr09_renewal_added_alongside"
CSR10_RENEWAL_FROM_TEMPORARY = "csr10_renewal_from_temporary"
CSR10_RENEWAL_NEW_KEY = "csr10_renewal_new_key"
CA02_IMPORT_DUPLICATES_ADDED = "ca02_import_duplicates_added"
CA02_IMPORT_SERVER_AS_CA = "ca02_import_server_as_ca"
CA03_EXPORT_OMITS_ONE = "ca03_export_omits_one"
CA03_EXPORT_WRONG_NAME = "ca03_export_wrong_name"
# Wire faults (node listeners), for configuration-and-wire requirements.
TLS08_NODE_SERVES_SHIPPED = "tls08_node_serves_shipped_certificate"
TLS16_NO_HSTS_ON_NODES = "tls16_no_hsts_on_conferencing_nodes"
SNMP04_ANSWERS_V2C = "snmp04_answers_v2c"
CONF01_BOOTSTRAP_REPORTED_COMPLETE = "conf01_bootstrap_reported_complete"
SECW08_TOTAL_LIMIT_IGNORED = "secw08_total_limit_ignored"
SECW08_PER_USER_LIMIT_OFF_BY_ONE = "secw08_per_user_limit_off_by_one"
AUTH05_IDENTITY_NOT_CHECKED = "auth05_identity_not_checked"
AUTH05_LOGIN_PAGE_OFFERED = "auth05_login_page_offered"
AUTH06_LOCAL_PASSWORD_ACCEPTED = "auth06_local_password_accepted"
MGMT03_START_PAGE_REFUSED = "mgmt03_start_page_refused"
SNMP04_ACCEPTS_MD5_DES = "snmp04_accepts_md5_des"
SECW01_FIPS_ACCEPTS_TLS13_CHACHA20 = "secw01_fips_accepts_tls13_chacha20"

FAULTS: dict[str, str] = {
    TLS10_ACCEPT_MISMATCHED_KEY: (
        "TLS-10: a tls_certificate upload skips the key pairing check: a certificate with the "
        "private key of another one is accepted (the first certificate is taken as the leaf)."
    ),
    TLS11_SAME_SUBJECT_REPLACES: (
        "TLS-11: a tls_certificate upload whose subject exists replaces that certificate in "
        "place, even with another issuer or serial, instead of being added alongside."
    ),
    TLS11_ASSIGNMENT_IGNORED: (
        "TLS-11: assigning a certificate to a node (its tls_certificate set to a certificate) is "
        "answered 202 but the node keeps its previous certificate (removing one still works)."
    ),
    TLS12_DATES_MISREPORTED: (
        "TLS-12: tls_certificate start_date and end_date read one year (365 days) later than the "
        "certificate's validity, so statuses computed from them are wrong."
    ),
    TLS13_NO_MISSING_CERTIFICATE_ALARM: (
        "TLS-13: no alarm is raised for a node without a TLS certificate."
    ),
    TLS13_NO_INCOMPLETE_CHAIN_ALARM: (
        "TLS-13: no alarm is raised for a node certificate with an incomplete chain of trust."
    ),
    TLS13_NO_EXPIRY_ALARM: (
        "TLS-13: no alarm is raised for a TLS or trusted CA certificate that expires within 30 "
        "days or has expired."
    ),
    TLS14_TEMPORARY_DOWNLOAD_ALLOWED: (
        "TLS-14: a temporary (self-signed) certificate can be downloaded."
    ),
    TLS14_KEY_WITHOUT_PASSPHRASE: (
        "TLS-14: a download may include the private key without a passphrase (the key is then "
        "unencrypted)."
    ),
    TLS14_WRONG_FILE_NAME: (
        "TLS-14: downloads are named <subject_name>.pem/.pfx (several: certificates.pem) "
        "instead of <subject_name>_certificate / _keycert, all_certificates / all_keycerts."
    ),
    TLS15_SHIPPED_RSA2048: (
        "TLS-15: after the next reset the Conferencing Nodes' shipped self-signed certificates "
        "have a 2048-bit RSA key instead of 4096 (the Management Node's keeps its key)."
    ),
    TLS15_SHIPPED_DH1024: (
        "TLS-15: after the next reset the Conferencing Nodes' shipped self-signed certificates "
        "come with 1024-bit DH parameters instead of 2048."
    ),
    CSR01_SERVER_AUTH_ONLY: (
        "CSR-01: generated CSRs request serverAuth only (no clientAuth extended key usage)."
    ),
    CSR02_IP_COMMON_NAME_REFUSED: (
        "CSR-02: a CSR whose custom Common Name (subject_name) is an IP address is refused."
    ),
    CSR03_DEFAULT_RSA1024: (
        "CSR-03: a CSR without private_key_type gets a 1024-bit RSA key instead of RSA 2048."
    ),
    CSR03_ECC_KEY_REFUSED: ("CSR-03: a CSR with an uploaded (UPLOAD) ECC private key is refused."),
    CSR04_CN_NOT_IN_SANS: (
        "CSR-04: a new (non-renewal) CSR does not include its Common Name in the SANs (only the "
        "additional names; no SAN extension when there are none)."
    ),
    CSR05_TEMPLATE_ALWAYS: (
        "CSR-05: the Microsoft 'WebServer' template extension is in every CSR, asked or not."
    ),
    CSR05_TEMPLATE_NEVER: (
        "CSR-05: the Microsoft 'WebServer' template extension is missing even with ad_compatible."
    ),
    CSR06_DOWNLOAD_INCLUDES_KEY: (
        "CSR-06: the CSR download holds the CSR's private key (unencrypted) before the CSR."
    ),
    CSR06_DOWNLOAD_WRONG_NAME: (
        "CSR-06: the CSR download is named <subject_name>_csr.pem instead of <subject_name>.csr."
    ),
    CSR07_CSR_MODIFIABLE: (
        "CSR-07: a CSR can be modified: a PATCH of subject_name, dn, additional_subject_alt_names, "
        "ad_compatible or the EKU options is accepted and the CSR regenerated (same key)."
    ),
    CSR08_COMPLETION_KEY_UNCHECKED: (
        "CSR-08: completing a CSR skips the key check: a certificate for another key is accepted "
        "(stored with the CSR's key)."
    ),
    CSR08_CSR_KEPT: ("CSR-08: a completed CSR is not deleted."),
    CSR09_RENEWAL_ADDED_ALONGSIDE: (
        "CSR-09: completing a renewal (same subject and key) adds a new certificate alongside "
        "instead of replacing the existing one, so the node assignments stay on the old one."
    ),
    CSR10_RENEWAL_FROM_TEMPORARY: (
        "CSR-10: a renewal CSR can be made from a temporary (self-signed) certificate."
    ),
    CSR10_RENEWAL_NEW_KEY: (
        "CSR-10: a renewal CSR gets a new key (private_key_type, default RSA 2048) instead of the "
        "certificate's key (so its completion adds a certificate alongside: same subject, other "
        "key)."
    ),
    CA02_IMPORT_DUPLICATES_ADDED: (
        "CA-02: certificates_import adds exact duplicates again instead of ignoring them."
    ),
    CA02_IMPORT_SERVER_AS_CA: (
        "CA-02: certificates_import puts server (non-CA) certificates into the trusted CA list "
        "(their keys are then ignored) instead of the TLS certificate list."
    ),
    CA03_EXPORT_OMITS_ONE: (
        "CA-03: the trusted CA export leaves out the newest custom CA certificate."
    ),
    CA03_EXPORT_WRONG_NAME: (
        "CA-03: the trusted CA export is named ca_certificates.pem instead of ca-certificates.pem."
    ),
    TLS08_NODE_SERVES_SHIPPED: (
        "TLS-08: Conferencing Nodes' listeners keep serving their shipped temporary certificate "
        "whatever is assigned (a node that never synchronised)."
    ),
    TLS16_NO_HSTS_ON_NODES: (
        "TLS-16: Conferencing Nodes' web responses carry no Strict-Transport-Security header."
    ),
    SNMP04_ANSWERS_V2C: (
        "SNMP-04: every node's SNMP agent also answers SNMPv1/v2c requests carrying the node's "
        "community, even in SNMPv3 read-only (AUTHPRIV) mode."
    ),
    AUTH05_IDENTITY_NOT_CHECKED: (
        "AUTH-05: with client certificates required, a trusted certificate whose identity is in "
        "no directory is accepted (as an administrator with every role)."
    ),
    AUTH05_LOGIN_PAGE_OFFERED: (
        "AUTH-05: with client certificates required, the password login page is still offered "
        "to a browser that presents no certificate (logging in through it still fails)."
    ),
    AUTH06_LOCAL_PASSWORD_ACCEPTED: (
        "AUTH-06: the local administrator's user name and password are accepted without a "
        "client certificate, whatever the authentication settings: by the API (HTTP Basic) and "
        "by the login form (which also breaks AUTH-05: the API is used without a certificate)."
    ),
    MGMT03_START_PAGE_REFUSED: (
        "MGMT-03: the Administrator interface's start page answers 403 to every session."
    ),
    SECW08_TOTAL_LIMIT_IGNORED: (
        "SECW-08: the Administrator interface ignores the security wizard's total limit of "
        "active management web sessions (the per-user limit still holds)."
    ),
    SECW08_PER_USER_LIMIT_OFF_BY_ONE: (
        "SECW-08: the Administrator interface allows one session more per user than the "
        "security wizard's per-user limit."
    ),
    CONF01_BOOTSTRAP_REPORTED_COMPLETE: (
        "CONF-01: the console stand-in reports the security wizard completed although it was "
        "not run, so a Conferencing Node can be deployed before the bootstrap."
    ),
    SNMP04_ACCEPTS_MD5_DES: (
        "SNMP-04: every AUTHPRIV node's SNMP agent also answers its SNMPv3 user with HMAC-MD5 "
        "authentication and DES privacy (same passwords)."
    ),
    SECW01_FIPS_ACCEPTS_TLS13_CHACHA20: (
        "SECW-01: every node in FIPS 140-2 mode accepts a TLS 1.3 handshake offering only "
        "TLS_CHACHA20_POLY1305_SHA256 (its TLS 1.2 and older suites stay FIPS-approved)."
    ),
}

# Faults that let a certificate be stored with a private key that does not pair with it.
UNPAIRED_KEYS = frozenset({TLS10_ACCEPT_MISMATCHED_KEY, CSR08_COMPLETION_KEY_UNCHECKED})


class Faults(FaultRegistry):
    """The active faults of one simulated Management Node (thread-safe; empty at start): a
    malformed ``PUT /_sim/faults`` body or an unknown name is a ``BadRequest``."""

    catalogue = FAULTS

    def requested(self, body: Any) -> list[str]:
        if not isinstance(body, dict) or set(body) != {"active"}:
            raise BadRequest(USAGE)
        names = body["active"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadRequest(USAGE)
        return names

    def unknown(self, names: list[str]) -> Exception:
        return BadRequest(f"Unknown fault(s): {', '.join(names)}. {USAGE}")
