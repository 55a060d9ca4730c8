"""The registry of targets: where `pytest features/` gets the systems it verifies.

- ``sim`` (default): the lab (`lab.target.SimTarget`): start `accord sim` (the simulated
  Management Nodes, factory-fresh), deploy the site's baseline with the deployer, then verify;
  afterwards the simulators' request logs must show that verification wrote nothing. Found by
  name (`target`): the library never imports the lab.
- ``live``: the systems the site file names, read-only (every client refuses writes); with
  ``--record DIR`` every scenario's API calls and probes are recorded there
  (`accord.recording`).
- ``replay``: a recording (``--cassettes DIR``) played back with no network at all; every
  requirement says it was replayed, and from which recording.

Scenarios of the guides' actions run on the site's scratch Management Node only
(``[systems.pexip.scratch]``; `accord sim` provides one); without one they are reported not run.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from accord.recording import observations
from accord.recording.recorder import NOT_RECORDED, Recorder, Recording, RecordingError
from accord.simcontrol import SimControl
from accord.site import SiteError, load_site
from accord.systems import Systems


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


# Each target by name; the lab's by its module's name, imported only when asked for.
TARGETS: dict[str, type[Target] | str] = {
    "sim": "lab.target:SimTarget",
    "live": LiveTarget,
    "replay": ReplayTarget,
}


def target(name: str) -> type[Target]:
    """The target class called ``name`` (a key of `TARGETS`)."""
    found = TARGETS[name]
    if isinstance(found, str):
        module, _, attribute = found.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        assert isinstance(found, type) and issubclass(found, Target)
    return found
