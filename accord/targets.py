"""The registry of targets: where `pytest features/` gets the systems it verifies.

- ``sim`` (default): start `accord sim` (the simulated Management Nodes, factory-fresh), deploy
  the site's baseline with the deployer, then verify; afterwards the simulators' request logs
  must show that verification wrote nothing.
- ``live``: the systems the site file names, read-only (every client refuses writes); with
  ``--record DIR`` every scenario's API calls and probes are recorded there
  (`accord.recording`).
- ``replay``: a recording (``--cassettes DIR``) played back with no network at all; every
  requirement says it was replayed, and from which recording.

Scenarios of the guides' actions run on the site's scratch Management Node only
(``[systems.pexip.scratch]``; `accord sim` provides one); without one they are reported not run.
"""

from __future__ import annotations

import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.deployer import deploy
from accord.harness import SimProcess
from accord.recording import observations
from accord.recording.recorder import NOT_RECORDED, Recorder, Recording, RecordingError
from accord.simcontrol import SimControl
from accord.site import Site, SiteError, load_site
from accord.systems import DEPLOYMENTS, Systems, beyondtrust_client


@dataclass(frozen=True)
class TargetOptions:
    """What the command line says besides the target: ``--record DIR``, ``--cassettes DIR``."""

    record: Path | None = None
    cassettes: Path | None = None


class Target(ABC):
    name: str

    def __init__(self, options: TargetOptions) -> None:
        self.options = options

    @abstractmethod
    def start(self, site_file: Path | None) -> Systems:
        """Connect (and on `sim`, start and deploy) the systems to verify."""

    def finish(self) -> list[str]:
        """Problems found after verification (e.g. writes during a read-only run)."""
        return []

    def requests(self, systems: Systems) -> list[str]:
        """What verification sent the systems besides its reads, one line each, as the
        clients counted it (a real system's own log is not Accord's to read)."""
        lines = []
        for name, sent in sorted(systems.pexip_requests().items()):
            if name == "pexip-scratch":
                continue  # the guides' actions: its own line below
            reads = sent["GET"] + sent["HEAD"]
            refused = f", {sent['refused']} refused before it was sent" if sent["refused"] else ""
            lines.append(f"{name}: {reads} API reads, no configuration write{refused}")
        probes = observations.probes_sent()
        at_once = systems.site.verification.concurrency
        lines.append(
            f"{probes} probes on the wire, at most {at_once} at once (TLS handshakes, TCP "
            "connections, SIP OPTIONS, SNMP GETs, HTTPS requests: login attempts that must be "
            "refused, the configured administrator's login and logout)"
        )
        if "scratch" in systems.pexip_requests() or systems.reset_scratch is not None:
            lines.append("pexip-scratch: the guides' actions (a scratch system, never verified)")
        return lines

    def stop(self) -> None:  # noqa: B027 - nothing to release by default
        """Release what `start` started."""


class LiveTarget(Target):
    name = "live"

    def start(self, site_file: Path | None) -> Systems:
        if site_file is None:
            raise SiteError("--target live needs --site FILE naming the systems to verify")
        site = load_site(site_file)
        if self.options.record is not None:
            try:
                recording = Recording.create(self.options.record, site)
            except (RecordingError, OSError) as exc:
                raise SiteError(str(exc)) from None
            recorder = Recorder(recording, site, replay=False)
            return Systems(site, self.name, recorder=recorder, actions_refused=NOT_RECORDED)
        scratch = site.systems.pexip.scratch
        # A scratch node whose console is the simulator's stand-in is a simulator (`accord sim`):
        # it is made factory-fresh before each scenario of actions, as on `sim`.
        reset = None
        if scratch is not None and scratch.console == "simulator":
            reset = SimControl.for_site(site, "scratch").reset
        return Systems(site, self.name, reset_scratch=reset)


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


class ReplayTarget(Target):
    """A recording played back: its copy of the site, with every secret a stand-in."""

    name = "replay"

    def __init__(self, options: TargetOptions) -> None:
        super().__init__(options)
        if options.cassettes is None:
            raise RecordingError("--target replay needs --cassettes DIR (what --record wrote)")
        self.recording = Recording.open(options.cassettes)

    def start(self, site_file: Path | None) -> Systems:
        site = load_site(self.recording.site_file, stand_ins=True)
        recorder = Recorder(self.recording, site, replay=True)
        return Systems(site, self.name, recorder=recorder, actions_refused=NOT_RECORDED)


TARGETS: dict[str, type[Target]] = {"sim": SimTarget, "live": LiveTarget, "replay": ReplayTarget}
