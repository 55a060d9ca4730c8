"""The ``sim`` target of `pytest features/`: the lab started, the site's baseline deployed, then
verified; afterwards the simulators' own request logs must show that verification wrote nothing,
and the BeyondTrust appliances must hold what the deployer left them."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from accord.deployer import deploy
from accord.simcontrol import SimControl
from accord.site import Site, load_site
from accord.systems import DEPLOYMENTS, Systems, beyondtrust_client
from accord.targets import Target, TargetOptions
from lab.process import SimProcess


class SimTarget(Target):
    name = "sim"

    def __init__(self, options: TargetOptions) -> None:
        super().__init__(options)
        self._dir: Path | None = None
        self._process: SimProcess | None = None
        self._controls: list[SimControl] = []
        self._deployments: list[str] = []
        self._logs: dict[str, dict[str, Any]] = {}  # each deployment's request log at the end
        self._scratch: SimControl | None = None
        self._site: Site | None = None
        self._appliances: dict[str, list[tuple[str, bool]]] | None = None

    def start(self, site_file: Path | None) -> Systems:
        if site_file is not None:
            load_site(site_file)  # report a bad site file before starting anything
        self._dir = Path(tempfile.mkdtemp(prefix="accord-sim-"))
        self._process = SimProcess(self._dir, site_file).start()
        site = load_site(self._process.site_file)
        deploy(site, out=lambda _line: None)
        self._site = site
        self._appliances = _beyondtrust_state(site)
        self._deployments = [d for d in DEPLOYMENTS if getattr(site.systems.pexip, d) is not None]
        self._controls = [SimControl.for_site(site, d) for d in self._deployments]
        for control in self._controls:
            control.clear_requests()
        scratch = SimControl.for_site(site, "scratch") if site.systems.pexip.scratch else None
        if scratch is not None:
            self._scratch = scratch
        return Systems(site, self.name, reset_scratch=scratch.reset if scratch else None)

    def finish(self) -> list[str]:
        problems = []
        self._logs = {}
        for deployment, control in zip(self._deployments, self._controls, strict=True):
            log = control.requests()
            self._logs[deployment] = log
            if log["writes"]:
                problems.append(
                    f"verification wrote to {control.base}: {log['writes']} write request(s)"
                )
        if self._site is not None and _beyondtrust_state(self._site) != self._appliances:
            problems.append("verification changed the BeyondTrust appliances' certificates")
        return problems

    def requests(self, systems: Systems) -> list[str]:
        """As `Target.requests`, with each simulated Management Node's own count of what it
        received: every request, Administrator interface included."""
        lines = []
        for deployment, log in self._logs.items():
            reads = sum(1 for r in log["requests"] if r["path"].startswith("/api/"))
            web = ", ".join(f"{request} x{n}" for request, n in sorted(log["web"].items()))
            lines.append(
                f"pexip-{deployment} (its own log): {reads - log['writes']} API reads, "
                f"{log['writes']} configuration writes"
                + (f"; Administrator interface: {web}" if web else "")
            )
        return lines + super().requests(systems)

    def stop(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
        for control in self._controls:
            control.close()
        if self._process is not None:
            self._process.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)  # holds the lab's secrets file


def _beyondtrust_state(site: Site) -> dict[str, list[tuple[str, bool]]] | None:
    """Every simulated BeyondTrust appliance's certificates (fingerprint, default), read
    through the simulator's API (its control plane keeps no request log); ``None`` when the site
    names no simulated appliances."""
    system = site.systems.beyondtrust
    if system is None or system.api_url is None:
        return None
    with beyondtrust_client(site) as client:
        return {
            name: [(c.fingerprint, c.default) for c in client.certificates(name)]
            for name in system.appliances
        }
