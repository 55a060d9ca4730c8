"""The scratch appliance: where the guide's certificate actions are performed.

The BeyondTrust guide's actions (create a self-signed certificate, create a request, import,
export, prepare the support bundle, renew, replace) change an appliance. A real appliance has no
certificate API, so they are performed on a simulated appliance of no site, named in the site
file as ``[systems.beyondtrust.scratch]`` (`accord sim` provides one); the verified appliances
are never acted on. ``ScratchAppliance`` bundles a writable client for it, its listener's
endpoint (for TLS probes) and the simulator's control plane (back to the factory state, or to a
cloud site's).
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.beyondtrust.client import BeyondTrustClient
from accord.network import Endpoint
from accord.simcontrol import BeyondTrustSimControl
from accord.site import Site
from accord.systems import beyondtrust_client


class NoScratchAppliance(LookupError):
    """The site names no scratch appliance (or no simulator to hold it)."""


@dataclass
class ScratchAppliance:
    """The site's scratch appliance: ``client`` (writable; every call names ``name``),
    ``hostname`` and ``endpoint`` of its TLS listener."""

    name: str
    hostname: str
    endpoint: Endpoint
    client: BeyondTrustClient
    _control: BeyondTrustSimControl

    @classmethod
    def for_site(cls, site: Site) -> ScratchAppliance:
        """The scratch appliance the site names; `NoScratchAppliance` when there is none."""
        system = site.systems.beyondtrust
        if system is None or system.scratch is None:
            raise NoScratchAppliance(
                f"{site.path}: no scratch appliance ([systems.beyondtrust.scratch]; only the "
                "simulator has one: a real appliance has no certificate API)"
            )
        scratch = system.scratch
        return cls(
            scratch.name,
            scratch.hostname,
            Endpoint(scratch.hostname, 443, scratch.address or scratch.hostname, scratch.port),
            beyondtrust_client(site, read_only=False),
            BeyondTrustSimControl.for_site(site),
        )

    def factory_reset(self, *, cloud: bool = False) -> None:
        """Back to the factory state (only the "BeyondTrust Appliance" certificate, no pending
        request); with ``cloud``, as an appliance of a cloud site."""
        self._control.reset(self.name, cloud=cloud)

    def close(self) -> None:
        self.client.close()
        self._control.close()
