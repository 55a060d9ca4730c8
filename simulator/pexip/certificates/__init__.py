"""Certificate behaviour of the Management Node, one module per resource or action.

Sources: the TLS guide (``guides/pexip-tls-and-trusted-ca-certificates.md``, THE behaviour
source) and the CSR sections of ``guides/pexip-secure-mode-guide-later.txt``; crypto helpers in
``simulator.pexip.certdata``. Layout: ``dispatch`` (what the model calls: create, update,
render, the snapshot check) over ``tls_certificate`` (uploads, updates, delete checks,
downloads), ``ca_certificate`` (the trusted CA list and its export),
``certificate_signing_request`` (CSRs, renewals, completion, the CSR download),
``certificates_import`` (the import command), ``alarms`` (derived certificate alarms),
``shipped`` (the nodes' temporary certificates and the TLS-15 faults) and ``common`` (stored
rows, the same-subject rule, file downloads). Each fault (``simulator.pexip.faults``) is
checked (``if f.NAME in faults``) in the module of the resource whose behaviour it breaks.
"""

from simulator.pexip.certificates.alarms import ALARM_NAMES, certificate_alarms
from simulator.pexip.certificates.ca_certificate import export_ca
from simulator.pexip.certificates.certificate_signing_request import csr_download
from simulator.pexip.certificates.certificates_import import IMPORT, import_bundle
from simulator.pexip.certificates.common import Download, node_fqdn
from simulator.pexip.certificates.dispatch import HANDLED, check_restored, create, render, update
from simulator.pexip.certificates.shipped import temporary_row, weaken_shipped
from simulator.pexip.certificates.tls_certificate import (
    check_delete,
    download,
    users_by_certificate,
)

__all__ = [
    "ALARM_NAMES",
    "HANDLED",
    "IMPORT",
    "Download",
    "certificate_alarms",
    "check_delete",
    "check_restored",
    "create",
    "csr_download",
    "download",
    "export_ca",
    "import_bundle",
    "node_fqdn",
    "render",
    "temporary_row",
    "update",
    "users_by_certificate",
    "weaken_shipped",
]
