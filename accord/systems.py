"""Connections to the systems a site file names."""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.pexip.client import PexipClient
from accord.site import Site

DEPLOYMENTS = ("primary", "contingency")


def pexip_client(site: Site, deployment: str, *, read_only: bool = True) -> PexipClient:
    """A client for the site's primary or contingency Management Node."""
    system = getattr(site.systems.pexip, deployment)
    if system is None:
        raise LookupError(f"{site.path}: no [systems.pexip.{deployment}] in the site file")
    return PexipClient(
        system.url,
        system.username,
        site.resolve(system.password),
        ca_bundle=site.file(system.ca_bundle),
        read_only=read_only,
    )


@dataclass
class Systems:
    """What the steps verify: read-only clients for the systems a site names."""

    site: Site
    target: str
    _pexip: dict[str, PexipClient] = field(default_factory=dict)

    def pexip(self, deployment: str = "primary") -> PexipClient:
        """The read-only client of the primary (or contingency) Management Node."""
        if deployment not in self._pexip:
            self._pexip[deployment] = pexip_client(self.site, deployment, read_only=True)
        return self._pexip[deployment]

    def has(self, deployment: str) -> bool:
        return getattr(self.site.systems.pexip, deployment) is not None

    def close(self) -> None:
        for client in self._pexip.values():
            client.close()
        self._pexip.clear()
