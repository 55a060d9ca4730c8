"""The simulators' private control plane (``/_sim/``): reset, state, request log, faults.

Never part of the real API; only the `sim` target, the harness and our own tests use it. Both
simulators' planes share one client (`ControlPlane`: the session, the CA to verify, fault
injection); `SimControl` (a simulated Management Node) and `BeyondTrustSimControl` (the
simulated appliances) add what each plane has of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from accord.http import session
from accord.secrets import Secret
from accord.site import Site


class ControlPlane:
    """A client of one simulator's ``/_sim/``: HTTP Basic with the simulator's administrator
    account, verified against ``ca_bundle`` (as ``server_name`` when given)."""

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        ca_bundle: Path | None,
        server_name: str | None = None,
    ) -> None:
        self.base = url.rstrip("/") + "/_sim/"
        self._session = session(server_name)
        self._session.auth = (username, password.reveal())
        # Per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE override that.
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._session.request(
            method, urljoin(self.base, path), timeout=15, verify=self._verify, **kwargs
        )
        response.raise_for_status()
        return response

    def faults(self) -> dict[str, Any]:
        """``{"active": [...], "available": {name: what it breaks}}``."""
        return self._call("GET", "faults").json()

    def set_faults(self, names: list[str]) -> None:
        """Make the simulator break these guide behaviours on purpose (mutation tests; ``[]``:
        none). ``requests.HTTPError`` (400) for an unknown name, nothing changed. A reset
        keeps them."""
        self._call("PUT", "faults", json={"active": names})

    def close(self) -> None:
        self._session.close()


class SimControl(ControlPlane):
    """Control one simulated Management Node through ``/_sim/``."""

    @classmethod
    def for_site(cls, site: Site, deployment: str) -> SimControl:
        """The control plane of the simulator a site file names as ``deployment``."""
        system = getattr(site.systems.pexip, deployment)
        return cls(
            system.url,
            system.username,
            site.resolve(system.password),
            site.file(system.ca_bundle),
            system.tls_server_name,
        )

    def reset(self) -> None:
        """Back to the factory-fresh deployment (and an empty request log)."""
        self._call("POST", "reset")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state").json()

    def restore(self, state: dict[str, Any]) -> None:
        self._call("PUT", "state", json=state)

    def requests(self) -> dict[str, Any]:
        """``{"total", "writes", "requests": [{"method", "path", "query", "status"}]}``."""
        return self._call("GET", "requests").json()

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def security_wizard(self) -> dict[str, Any]:
        """``{"completed", "answers", "nodes": {<node uri>: answers}}``: the console wizard."""
        return self._call("GET", "security_wizard").json()

    def run_security_wizard(self, answers: dict[str, Any]) -> dict[str, Any]:
        """Run the console security wizard with these answers (the others keep theirs)."""
        return self._call("PUT", "security_wizard", json={"answers": answers}).json()

    def diverge_security_wizard(self, nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Give single nodes other answers (mutation tests): ``{<node uri>: {...}}``."""
        return self._call("PATCH", "security_wizard", json={"nodes": nodes}).json()


class BeyondTrustSimControl(ControlPlane):
    """The BeyondTrust appliance simulator's control plane (``/_sim/``): reset (every
    appliance, or one, optionally as part of a cloud site) and fault injection."""

    @classmethod
    def for_site(cls, site: Site) -> BeyondTrustSimControl:
        """The control plane of the simulated appliances a site file names (`LookupError` when
        it names no simulator: a real appliance has none)."""
        system = site.systems.beyondtrust
        if system is None or system.api_url is None or system.password is None:
            raise LookupError(f"{site.path}: no simulated BeyondTrust appliances (api_url)")
        return cls(
            system.api_url,
            system.username,
            site.resolve(system.password),
            site.file(system.ca_bundle),
        )

    def reset(self, appliance: str | None = None, *, cloud: bool = False) -> None:
        """Back to the factory state (only the factory certificate, no pending request).

        Without ``appliance``: every appliance, each part of a cloud site or not as the
        simulator created it. With ``appliance``: only that one (the others are untouched),
        part of a cloud site when ``cloud`` (its self-signed Create is then refused).
        ``ValueError`` for ``cloud`` without an appliance; ``requests.HTTPError`` (404) for an
        unknown appliance. The active faults stay."""
        if appliance is None:
            if cloud:
                raise ValueError("cloud applies to one appliance: name it")
            self._call("POST", "reset")
            return
        self._call("POST", "reset", json={"appliance": appliance, "cloud": cloud})
