"""Steps for who can use the primary Management Node, as its HTTPS listener shows it.

Each step sends real HTTPS requests (`accord.probes.http`) to the primary Management Node's API
and Administrator interface, with or without one of the site's client certificates
(``[systems.pexip.primary.client_certificates]``) or the local administrator's user name and
password, and records each exchange with secrets, cookies and keys hidden. A step that logs in
logs out again, so verification leaves no session behind.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.x509.oid import NameOID
from pytest_bdd import then

from accord.labca import write_private
from accord.pexip.certificates import node_fqdn
from accord.pexip.deployment import Deployment
from accord.pki import CA, load_certificate, upn_names
from accord.probes import http
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe

Obj = dict[str, Any]
HTTPS = 443
API_PATH = "/api/admin/configuration/v1/system_location/?limit=1"
LOGIN, HOME, LOGOUT = "/admin/login/", "/admin/", "/admin/logout/"
FORM = "application/x-www-form-urlencoded"


class ManagementNodeWeb:
    """How the probes reach a system's (primary) Management Node over HTTPS, and with what."""

    def __init__(
        self, deployment: Deployment, systems: Systems, site: Site, system_name: str = "primary"
    ) -> None:
        node = next(n for n in deployment.management_nodes() if n.get("primary", True))
        self.site = site
        self.system_name = system_name
        self.server_name = node_fqdn(node)
        self.endpoint = systems.addresses(system_name).endpoint(node["address"], HTTPS)
        system = getattr(site.systems.pexip, system_name)
        self.system = system
        self.ca_bundle = site.file(system.ca_bundle)
        self.username = system.username
        self.settings = deployment.authentication()

    @property
    def certificates_required(self) -> bool:
        return self.settings.get("client_certificate", "NO") != "NO"

    def certificate(self, which: str) -> tuple[Path, Path]:
        """One of the site's client certificates; the step fails when the site names none."""
        found = self.site.client_certificate(self.system_name, which)
        if found is None:
            pytest.fail(
                f"the site file names no "
                f"[systems.pexip.{self.system_name}.client_certificates.{which}]"
            )
        return found

    def local_password(self) -> str:
        return self.site.resolve(self.system.password).reveal()

    def basic(self) -> dict[str, str]:
        """An Authorization header with the local administrator's name and password."""
        token = base64.b64encode(f"{self.username}:{self.local_password()}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        certificate: tuple[Path, Path] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> http.HttpExchange:
        return http.request(
            self.endpoint,
            path,
            method=method,
            server_name=self.server_name,
            ca_bundle=self.ca_bundle,
            host_header=self.server_name,
            client_certificate=certificate,
            headers=headers,
            body=body,
        )

    def login_form(self, username: str, password: str) -> http.HttpExchange:
        """The login form posted with a user name and password."""
        form = urlencode({"username": username, "password": password}).encode()
        return self.request(LOGIN, method="POST", headers={"Content-Type": FORM}, body=form)

    @contextmanager
    def session(self, login: http.HttpExchange) -> Iterator[str | None]:
        """The session a login opened (its cookie), logged out afterwards."""
        cookie = login.cookies.get("sessionid")
        try:
            yield cookie
        finally:
            if cookie is not None:
                self.request(LOGOUT, method="POST", headers={"Cookie": f"sessionid={cookie}"})


@pytest.fixture
def management_node(primary: Deployment, systems: Systems, site: Site) -> ManagementNodeWeb:
    return ManagementNodeWeb(primary, systems, site)


def _refused(exchange: http.HttpExchange) -> bool:
    """The node would not serve it: 401/403, or the TLS handshake failed (a certificate the
    node does not trust)."""
    if exchange.status is not None:
        return exchange.status in (401, 403)
    return (exchange.error or "").startswith("TLS handshake") or "SSL" in (exchange.error or "")


def _logged_in(exchange: http.HttpExchange) -> bool:
    """A login that opened a session: a redirect to the interface with a session cookie."""
    location = exchange.header("Location") or ""
    return (
        exchange.status in (301, 302, 303)
        and location.endswith(HOME)
        and bool(exchange.cookies.get("sessionid"))
    )


def _record(observe: Observe, what: str, exchanges: dict[str, http.HttpExchange]) -> None:
    observe(what, {name: exchange.observation() for name, exchange in exchanges.items()})


@then(
    "the API refuses a request without a client certificate, even with the local "
    "administrator's password"
)
def api_needs_certificate(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: neither no credentials nor a password opens the API without a certificate."""
    node = management_node
    results = {
        "no credentials": node.request(API_PATH),
        "local administrator's password": node.request(API_PATH, headers=node.basic()),
    }
    _record(observe, "API requests without a client certificate", results)
    served = [f"{name}: {r.status or r.error}" for name, r in results.items() if not _refused(r)]
    assert not served, f"the API answered without a client certificate ({'; '.join(served)})"


@then("the Administrator interface offers no password login page without a client certificate")
def no_login_page(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: "When a client certificate is required, the standard login page is no longer
    presented" (the guide)."""
    exchange = management_node.request(LOGIN)
    _record(observe, f"GET {LOGIN} without a client certificate", {"login page": exchange})
    page = exchange.body_excerpt or ""
    offered = exchange.status == 200 and 'name="password"' in page
    assert exchange.answered, f"no answer from the Administrator interface: {exchange.error}"
    assert not offered, "the password login page is offered"
    assert _refused(exchange), f"answered {exchange.status} without a client certificate"


def _with_certificate(node: ManagementNodeWeb, certificate: tuple[Path, Path]) -> dict[str, Any]:
    """The API and the Administrator interface, each asked with ``certificate``."""
    return {
        "API": node.request(API_PATH, certificate=certificate),
        "Administrator interface": node.request(LOGIN, certificate=certificate),
    }


@then(
    "a client certificate whose identity is in no directory is refused by the API and the "
    "Administrator interface"
)
def outsider_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: a certificate from a trusted CA is not enough; its identity must be in LDAP."""
    results = _with_certificate(management_node, management_node.certificate("not_in_directory"))
    _record(observe, "requests with a client certificate for an identity in no directory", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not _refused(r)]
    assert not served, f"served for an identity in no directory ({'; '.join(served)})"


@then("a client certificate with the administrator's identity that no trusted CA signed is refused")
def untrusted_refused(management_node: ManagementNodeWeb, observe: Observe, tmp_path: Path) -> None:
    """AUTH-05: the identity alone is not enough; the certificate must be valid (signed by a
    CA the node trusts). The probe makes its own CA and certificate for this request."""
    cert_file, _ = management_node.certificate("administrator")
    genuine = load_certificate(cert_file.read_bytes())
    names = genuine.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    upns = upn_names(genuine)
    stranger = CA.new("Accord probe: an untrusted CA", key_type="ecdsa", days=1)
    leaf = stranger.issue_cert(
        common_name=str(names[0].value) if names else None,
        upn=upns[0] if upns else None,
        eku=("clientAuth",),
        days=1,
    )
    certificate, key = tmp_path / "untrusted.pem", tmp_path / "untrusted-key.pem"
    certificate.write_text(leaf.cert_pem)
    write_private(key, leaf.key_pem())
    results = _with_certificate(management_node, (certificate, key))
    _record(observe, "requests with an untrusted certificate naming the administrator", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not _refused(r)]
    assert not served, f"served for an untrusted certificate ({'; '.join(served)})"


@then(
    "the administrator's client certificate is accepted by the API and the Administrator interface"
)
def administrator_accepted(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """The refusals above are about the certificates, not about the node refusing everyone."""
    node = management_node
    certificate = node.certificate("administrator")
    api = node.request(API_PATH, certificate=certificate)
    login = node.request(LOGIN, certificate=certificate)
    with node.session(login):
        _record(
            observe, "requests with the administrator's certificate", {"API": api, "login": login}
        )
    assert api.status == 200, f"the API answered {api.status or api.error}"
    assert _logged_in(login), f"no session from the interface: {login.status or login.error}"


@then("the local administrator's user name and password are refused by the API and the login form")
def local_password_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-06: the local account "can no longer log in"."""
    node = management_node
    api = node.request(API_PATH, headers=node.basic())
    form = node.login_form(node.username, node.local_password())
    with node.session(form):
        _record(observe, "the local administrator's password", {"API": api, "login form": form})
    assert _refused(api), f"the API answered {api.status} to the local administrator"
    assert not _logged_in(form), "the login form opened a session for the local administrator"


@then("a client certificate naming the local administrator account is refused")
def local_certificate_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-06: with the source "LDAP database" only, an identity that exists only in the local
    database is in no selected source (with "LDAP and local" it would be accepted)."""
    node = management_node
    results = _with_certificate(node, node.certificate("local_administrator"))
    _record(observe, "requests with a certificate naming the local administrator", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not _refused(r)]
    assert not served, f"served for the local administrator's identity ({'; '.join(served)})"


@then("the configured administrator logs in to the Administrator interface over HTTPS")
def administrator_logs_in(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """MGMT-03: with a client certificate where the node requires one, else with the local
    administrator's user name and password through the login form; the interface's start page
    is then served for the session."""
    node = management_node
    if node.certificates_required:
        certificate: tuple[Path, Path] | None = node.certificate("administrator")
        login = node.request(LOGIN, certificate=certificate)
        how = "with the administrator's client certificate"
    else:
        certificate = None
        login = node.login_form(node.username, node.local_password())
        how = "with the local administrator's user name and password"
    with node.session(login) as cookie:
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
        home = node.request(HOME, certificate=certificate, headers=headers)
        _record(observe, f"logging in {how}", {"login": login, "start page": home})
    assert _logged_in(login), f"no session: {login.status or login.error}"
    assert home.status == 200, f"the start page answered {home.status or home.error}"
