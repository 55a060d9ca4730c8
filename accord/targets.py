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

from accord.deployer import deploy
from accord.harness import SimProcess
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
        self._controls = [
            SimControl.for_site(site, d)
            for d in DEPLOYMENTS
            if getattr(site.systems.pexip, d) is not None
        ]
        for control in self._controls:
            control.clear_requests()
        scratch = SimControl.for_site(site, "scratch") if site.systems.pexip.scratch else None
        if scratch is not None:
            self._scratch = scratch
        return Systems(site, self.name, reset_scratch=scratch.reset if scratch else None)

    def finish(self) -> list[str]:
        problems = []
        for control in self._controls:
            log = control.requests()
            if log["writes"]:
                problems.append(
                    f"verification wrote to {control.base}: {log['writes']} write request(s)"
                )
        if self._site is not None and _beyondtrust_state(self._site) != self._appliances:
            problems.append("verification changed the BeyondTrust appliances' certificates")
        return problems

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
