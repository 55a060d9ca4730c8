"""A Management Node's console: where the security wizard runs (it has no management API).

The deployer needs two things of it: whether the bootstrap (the security wizard) is complete,
and running the wizard with the site's answers. A real console is a person's job
(``ManualConsole``: the deployer prints the answers and cannot tell whether it was done); the
simulator has a stand-in under ``/_sim/`` (``SimulatorConsole``, for sites `accord sim` writes,
whose systems say ``console = "simulator"``).
"""

from __future__ import annotations

from typing import Any, Protocol

from accord.pexip import baseline
from accord.simcontrol import SimControl
from accord.site import Site


class Console(Protocol):
    """What the deployer can do on a Management Node's console."""

    def bootstrap_complete(self) -> bool | None:
        """Whether the security wizard has been completed (None: cannot tell from here)."""

    def wizard_answers(self) -> dict[str, Any] | None:
        """The answers the wizard recorded (None: cannot tell from here)."""

    def run_security_wizard(self, answers: dict[str, Any]) -> None:
        """Run the wizard with ``answers``; ``ManualStep`` when a person must do it."""

    def close(self) -> None:
        """Release the connection."""


class ManualStep(Exception):
    """A step only a person at the console can perform; the message says what to do."""


def instructions(answers: dict[str, Any]) -> str:
    """The wizard's questions in the guide's words, with the answers to give."""

    def shown(value: Any) -> str:
        return ("YES" if value else "NO") if isinstance(value, bool) else str(value)

    lines = [
        f"  {baseline.SECURITY_WIZARD_QUESTIONS[name]}: {shown(value)}"
        for name, value in answers.items()
    ]
    return "\n".join(
        ["log in to the Management Node console as admin, run `securitywizard` and answer:"] + lines
    )


class ManualConsole:
    """A real console: nothing can be read or done from here."""

    def bootstrap_complete(self) -> bool | None:
        return None

    def wizard_answers(self) -> dict[str, Any] | None:
        return None

    def run_security_wizard(self, answers: dict[str, Any]) -> None:
        raise ManualStep(instructions(answers))

    def close(self) -> None:
        pass


class SimulatorConsole:
    """The simulator's console stand-in (``/_sim/security_wizard``)."""

    def __init__(self, control: SimControl) -> None:
        self.control = control

    def bootstrap_complete(self) -> bool | None:
        return bool(self.control.security_wizard()["completed"])

    def wizard_answers(self) -> dict[str, Any] | None:
        return dict(self.control.security_wizard()["answers"])

    def run_security_wizard(self, answers: dict[str, Any]) -> None:
        self.control.run_security_wizard(answers)

    def close(self) -> None:
        self.control.close()


def console_for(site: Site, deployment: str) -> Console:
    """The console of the site's ``deployment`` Management Node, as its system says."""
    system = getattr(site.systems.pexip, deployment)
    if system is not None and system.console == "simulator":
        return SimulatorConsole(SimControl.for_site(site, deployment))
    return ManualConsole()
