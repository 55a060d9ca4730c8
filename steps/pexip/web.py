"""How the steps reach a Management Node over HTTPS, and what they make of its answers.

The steps send real HTTPS requests (`accord.probes.http`) to a Management Node's API and
Administrator interface (`ManagementNodeWeb`), with or without one of the site's client
certificates (``[systems.pexip.<system>.client_certificates]``) or the local administrator's
user name and password, and record each exchange with secrets, cookies and keys hidden. A step
that logs in logs out again (`ManagementNodeWeb.session`), so verification leaves no session
behind. Administrator authentication and the configured administrator's login ask the primary
Management Node (the ``management_node`` fixture); the session limits, the scratch one.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from accord.pexip.certificates import node_fqdn
from accord.pexip.deployment import Deployment
from accord.probes import http
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe

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


def refused(exchange: http.HttpExchange) -> bool:
    """The node would not serve it: 401/403, or the TLS handshake failed (a certificate the
    node does not trust)."""
    if exchange.status is not None:
        return exchange.status in (401, 403)
    return (exchange.error or "").startswith("TLS handshake") or "SSL" in (exchange.error or "")


def logged_in(exchange: http.HttpExchange) -> bool:
    """A login that opened a session: a redirect to the interface with a session cookie."""
    location = exchange.header("Location") or ""
    return (
        exchange.status in (301, 302, 303)
        and location.endswith(HOME)
        and bool(exchange.cookies.get("sessionid"))
    )


def record(observe: Observe, what: str, exchanges: dict[str, http.HttpExchange]) -> None:
    observe(what, {name: exchange.observation() for name, exchange in exchanges.items()})
