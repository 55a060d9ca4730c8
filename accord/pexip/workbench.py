"""The scratch Management Node where scenarios perform the guides' actions and watch the outcome.

Requirements proven by an action ("act" in requirements.md: an upload is refused, a CSR carries
both EKUs, an import ignores duplicates...) are never tried on a verified system: they run on the
site's ``[systems.pexip.scratch]`` Management Node, through a writable client. Each action
returns an `Outcome` (accepted or refused, with the API's field errors) instead of raising, so a
scenario can say what the guide expects either way. Everything a scenario creates is named with
a per-run token and removed by `cleanup()`.

The web interface's file actions (download a certificate or CSR, export the trusted CA list) have
no documented API endpoint: the simulator offers them under ``/_sim/ui/``. On a Management Node
without them, `WebInterfaceMissing` is raised and the scenario is reported not run.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any

from accord.deployer import conferencing
from accord.network import AddressMap
from accord.pexip.client import STATUS, PexipApiError, PexipClient
from accord.pexip.console import Console
from accord.site import Site

Obj = dict[str, Any]
UI = "/_sim/ui/"


class WebInterfaceMissing(RuntimeError):
    """This Management Node offers no API route for a web interface file action."""


@dataclass(frozen=True)
class Outcome:
    """What the Management Node answered to one action."""

    accepted: bool
    status: int
    uri: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""

    def error_text(self) -> str:
        parts = [m for messages in self.errors.values() for m in messages]
        return " ".join(parts) or self.message

    def observation(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "status": self.status,
            "uri": self.uri,
            "errors": self.errors or self.message or None,
        }


def _refused(error: PexipApiError) -> Outcome:
    return Outcome(False, error.status, None, error.field_errors, str(error))


class Workbench:
    """Actions on the scratch Management Node, and the cleanup after them."""

    def __init__(self, client: PexipClient, addresses: AddressMap) -> None:
        self.client = client
        self.addresses = addresses
        self.token = secrets.token_hex(3)
        self._created: list[str] = []
        self._assignments: dict[str, str | None] = {}

    def name(self, label: str) -> str:
        """A DNS name unique to this run: ``<label>-<token>.accord.test``."""
        return f"{label}-{self.token}.accord.test"

    # -- actions -----------------------------------------------------------------------------

    def _create(self, resource: str, fields: Obj) -> Outcome:
        try:
            uri = self.client.create(resource, fields)
        except PexipApiError as error:
            return _refused(error)
        self._created.append(uri)
        return Outcome(True, 201, uri)

    def upload_certificate(
        self,
        certificate: str,
        private_key: str | None = None,
        passphrase: str | None = None,
        parameters: str | None = None,
    ) -> Outcome:
        """Certificates > TLS certificates > Add (upload)."""
        fields: Obj = {"certificate": certificate}
        for name, value in (
            ("private_key", private_key),
            ("private_key_passphrase", passphrase),
            ("parameters", parameters),
        ):
            if value is not None:
                fields[name] = value
        return self._create("tls_certificate", fields)

    def upload_ca(self, certificate: str) -> Outcome:
        """Certificates > Trusted CA certificates > Add."""
        return self._create("ca_certificate", {"certificate": certificate})

    def create_csr(self, **fields: Any) -> Outcome:
        """Certificates > Certificate signing requests > Add."""
        return self._create("certificate_signing_request", fields)

    def update(self, uri: str, fields: Obj) -> Outcome:
        """Change an object (complete a CSR, edit a PEM, try to modify a CSR...)."""
        try:
            self.client.update(uri, fields)
        except PexipApiError as error:
            return _refused(error)
        return Outcome(True, 202, uri)

    def import_bundle(self, bundle: str, passphrase: str | None = None) -> Outcome:
        """Certificates > Import (one or more PEM files)."""
        fields: Obj = {"bundle": bundle}
        if passphrase is not None:
            fields["private_key_passphrase"] = passphrase
        before = {o["resource_uri"] for o in self.tls_certificates() + self.ca_certificates()}
        try:
            self.client.command("platform", "certificates_import", fields)
        except PexipApiError as error:
            return _refused(error)
        after = {o["resource_uri"] for o in self.tls_certificates() + self.ca_certificates()}
        self._created += sorted(after - before)
        return Outcome(True, 202)

    def assign(self, node: Obj, certificate_uri: str | None) -> Outcome:
        """Give a node a certificate (the node's ``tls_certificate``); undone by `cleanup`."""
        self._assignments.setdefault(node["resource_uri"], node.get("tls_certificate"))
        return self.update(node["resource_uri"], {"tls_certificate": certificate_uri})

    def delete(self, uri: str) -> Outcome:
        try:
            self.client.delete(uri)
        except PexipApiError as error:
            return _refused(error)
        return Outcome(True, 204, uri)

    def track(self, uri: str) -> None:
        """Remove ``uri`` at cleanup too (an object made by a CSR completion or an edit)."""
        if uri not in self._created:
            self._created.append(uri)

    # -- reads -------------------------------------------------------------------------------

    def get(self, uri: str) -> Obj:
        return self.client.get(uri)

    def tls_certificates(self) -> list[Obj]:
        return self.client.list("tls_certificate")

    def ca_certificates(self) -> list[Obj]:
        return self.client.list("ca_certificate")

    def csrs(self) -> list[Obj]:
        return self.client.list("certificate_signing_request")

    def conferencing_nodes(self) -> list[Obj]:
        return self.client.list("worker_vm")

    def management_nodes(self) -> list[Obj]:
        return self.client.list("management_vm")

    def alarms(self) -> list[Obj]:
        return self.client.list("alarm", api=STATUS)

    # -- the web interface's file actions ----------------------------------------------------

    def _file(self, method: str, path: str, fields: Obj | None = None) -> tuple[str, bytes]:
        try:
            return self.client.fetch_file(method, UI + path, fields)
        except PexipApiError as error:
            if error.status in (404, 405):
                raise WebInterfaceMissing(
                    "this Management Node offers no API route for the web interface's "
                    f"{path.rsplit('/', 1)[-1]} action"
                ) from None
            raise

    def download(
        self,
        uris: list[str],
        file_format: str = "pem",
        *,
        include_private_key: bool = False,
        passphrase: str = "",
    ) -> tuple[str, bytes] | Outcome:
        """TLS certificates > Download: the file, or the refusal."""
        fields = {
            "certificates": uris,
            "format": file_format,
            "include_chain": True,
            "include_private_key": include_private_key,
            "passphrase": passphrase,
        }
        try:
            return self._file("POST", "tls_certificate/download", fields)
        except PexipApiError as error:
            return _refused(error)

    def download_csr(self, uri: str) -> tuple[str, bytes]:
        """Certificate signing requests > Download."""
        key = uri.rstrip("/").rsplit("/", 1)[-1]
        return self._file("GET", f"certificate_signing_request/{key}/download")

    def export_ca(self) -> tuple[str, bytes]:
        """Trusted CA certificates > Export."""
        return self._file("GET", "ca_certificate/export")

    # -- afterwards --------------------------------------------------------------------------

    def deploy_conferencing_node(self, console: Console, site: Site) -> Outcome:
        """The deployer adds a Conferencing Node like the scratch node's first one (location,
        netmask, gateway) under a new name and address, unless the bootstrap is not complete
        (`accord.deployer.conferencing`): then it is refused with status 0 and the deployer's
        message, and nothing is written."""
        template = self.client.list("worker_vm")[0]
        network = ipaddress.ip_interface(f"{template['address']}/{template['netmask']}").network
        used = {n["address"] for n in self.client.list("worker_vm")}
        used |= {n["address"] for n in self.client.list("management_vm")}
        address = next(str(h) for h in reversed(list(network.hosts())) if str(h) not in used)
        label = f"accord-{self.token}"
        fields = {
            "name": label,
            "hostname": label,
            "domain": template.get("domain", ""),
            "address": address,
            "netmask": template["netmask"],
            "gateway": template.get("gateway"),
            "system_location": template["system_location"],
        }
        try:
            uri = conferencing.deploy_conferencing_node(self.client, console, site, fields)
        except conferencing.BootstrapIncomplete as refused:
            return Outcome(False, 0, message=str(refused))
        except PexipApiError as error:
            return _refused(error)
        self._created.append(uri)
        return Outcome(True, 201, uri)

    def cleanup(self) -> None:
        """Give nodes back their certificates, then delete what was created (newest first)."""
        for node_uri, original in self._assignments.items():
            try:
                self.client.update(node_uri, {"tls_certificate": original})
            except PexipApiError:
                pass
        for uri in reversed(self._created):
            try:
                self.client.delete(uri)
            except PexipApiError:
                pass
        self._created.clear()
        self._assignments.clear()
