"""Fixtures for tests that need running simulators: `accord sim` as a child process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accord.beyondtrust.client import BeyondTrustClient
from accord.deployer import deploy, deploy_beyondtrust
from accord.pexip.client import PexipClient
from accord.simcontrol import BeyondTrustSimControl, SimControl
from accord.site import Site, load_site
from accord.systems import beyondtrust_client, pexip_client
from lab.process import SimProcess


@dataclass
class Lab:
    """A running `accord sim`, its site file, and administrator access to each system."""

    site_file: Path
    site: Site
    admin: dict[str, PexipClient]  # writable clients: "as an administrator would"
    control: dict[str, SimControl]
    beyondtrust: BeyondTrustClient  # writable: the simulated appliances' certificate API
    beyondtrust_control: BeyondTrustSimControl
    beyondtrust_deployed: object = None  # what the appliances held after the last deploy

    def beyondtrust_state(self) -> object:
        """Every appliance's certificates (fingerprint, default) and pending requests."""
        return {
            appliance.name: (
                [(c.fingerprint, c.default) for c in self.beyondtrust.certificates(appliance.name)],
                len(self.beyondtrust.requests(appliance.name)),
            )
            for appliance in self.beyondtrust.appliances()
        }

    def redeploy_beyondtrust(self) -> None:
        """The appliances back to their factory state, then the site's certificate deployed
        (the simulator keeps no snapshot: each deploy makes a new key and certificate)."""
        self.beyondtrust_control.reset()
        deploy_beyondtrust(self.site, out=lambda _line: None)
        self.beyondtrust_deployed = self.beyondtrust_state()

    def ensure_beyondtrust_deployed(self) -> None:
        """Redeploy the appliances unless they hold exactly what the last deploy left."""
        if (
            self.beyondtrust_deployed is None
            or self.beyondtrust_state() != self.beyondtrust_deployed
        ):
            self.redeploy_beyondtrust()

    def snapshot(self) -> dict[str, Any]:
        return {name: control.state() for name, control in self.control.items()}

    def assert_no_server_errors(self) -> None:
        """No request of any test may have been answered with a 5xx (checked before clearing)."""
        for name, control in self.control.items():
            errors = [r for r in control.requests()["requests"] if r["status"] >= 500]
            assert not errors, f"{name} answered with a server error: {errors}"

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.assert_no_server_errors()
        for name, state in snapshot.items():
            self.control[name].restore(state)
            self.control[name].clear_requests()
        self.ensure_beyondtrust_deployed()

    def factory_reset(self) -> None:
        self.assert_no_server_errors()
        for control in self.control.values():
            control.reset()
        self.beyondtrust_control.reset()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    directory = tmp_path_factory.mktemp("lab")
    with SimProcess(directory) as process:
        site = load_site(process.site_file)
        systems = ("primary", "contingency", "scratch")
        found = Lab(
            process.site_file,
            site,
            {d: pexip_client(site, d, read_only=False) for d in systems},
            {d: SimControl.for_site(site, d) for d in systems},
            beyondtrust_client(site, read_only=False),
            BeyondTrustSimControl.for_site(site),
        )
        yield found
        found.assert_no_server_errors()
        for client in found.admin.values():
            client.close()
        found.beyondtrust.close()
        found.beyondtrust_control.close()


@pytest.fixture(scope="session")
def deployed_snapshot(lab: Lab) -> dict[str, Any]:
    """The state of both simulators right after one deploy of the lab site's baseline."""
    lab.factory_reset()
    deploy(lab.site, out=lambda _line: None)
    lab.beyondtrust_deployed = lab.beyondtrust_state()
    return lab.snapshot()


@pytest.fixture
def deployed(lab: Lab, deployed_snapshot: dict[str, Any]) -> Lab:
    """The lab, freshly restored to the deployed baseline (request logs cleared)."""
    lab.restore(deployed_snapshot)
    return lab


@pytest.fixture
def faults_cleared(deployed: Lab) -> Iterator[Lab]:
    """The deployed lab; faults are not state (a restore keeps them), so they are cleared
    after the test."""
    yield deployed
    for control in deployed.control.values():
        control.set_faults([])
