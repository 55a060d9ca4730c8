"""What every scenario acting on a scratch system shares, whatever the vendor.

Requirements proven by an action (an upload is refused, a CSR asks for both EKUs, an import
changes nothing...) are never tried on a verified system: each vendor's scenarios act on the
site's scratch system (a Pexip scratch Management Node, `accord.pexip.workbench`; a BeyondTrust
scratch appliance, `accord.beyondtrust.scratch`). `scratch_only` is the one guard both go
through before they touch it, and `ScratchAct` the one shape of what such a scenario holds: the
scratch system, the throwaway test CA, the certificate it made, and how it records what it saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from accord.pki import CA, LeafCert
from accord.systems import Systems
from steps.common import Observe

System = TypeVar("System")


@contextmanager
def scratch_only(
    systems: Systems, missing: type[LookupError] = LookupError, why: str | None = None
) -> Iterator[None]:
    """Around finding the site's scratch system: a scenario of actions is reported "not run"
    (skipped, never passed) on a target that refuses actions (recording and replay,
    `Systems.actions_refused`), and when the site names no scratch system (``missing`` raised
    inside; ``why`` says so, else the error's own words)."""
    if systems.actions_refused is not None:
        pytest.skip(f"not run: {systems.actions_refused}")
    try:
        yield
    except missing as exc:
        pytest.skip(f"not run: {why or exc}")


@dataclass
class ScratchAct(Generic[System]):
    """What one scenario on a scratch system did and saw: the system (``scratch``), what it
    records observations with (``observe``), its test CA (``ca``: the Background makes it) and
    the certificate it holds the key of (``leaf``). Each vendor adds what its answers are."""

    scratch: System
    observe: Observe
    ca_: CA | None = None
    leaf: LeafCert | None = None

    @property
    def ca(self) -> CA:
        """The scenario's issuing CA (the Background makes it)."""
        assert self.ca_ is not None, "the scenario has no test certificate authority"
        return self.ca_
