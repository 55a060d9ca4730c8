"""The fault switchboard behind ``/_sim/faults``: which faults of a catalogue are on.

A simulator proves that an "act" scenario really fails when the product misbehaves by breaking
one guide behaviour on purpose: a test switches a fault on and runs the scenario. Each vendor
keeps its own catalogue (the names are a stable interface: never rename one) and checks each
fault at the one place where the behaviour it breaks lives; the switchboard is this one.

Faults are NOT state: resets and snapshots leave them alone; only ``PUT /_sim/faults``
(`FaultRegistry.set`) or an in-process `replace` / `clear` changes them. ``GET /_sim/faults``
answers `FaultRegistry.describe`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

USAGE = 'Send {"active": [<fault names>]} (GET /_sim/faults lists the available ones).'


class FaultRegistry:
    """The active faults of one simulator (thread-safe; empty at start).

    A vendor's subclass names its ``catalogue`` (fault name → what ``GET /_sim/faults`` says it
    breaks) and reads a ``PUT`` body in its API's terms: `requested` (the names asked for, or
    the vendor's error for a malformed body) and `unknown` (the error for names not in the
    catalogue). A refused body changes nothing.
    """

    catalogue: ClassVar[Mapping[str, str]] = {}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(active={sorted(self.current())!r})"

    def current(self) -> frozenset[str]:
        """The active fault names now (an immutable snapshot for one operation)."""
        with self._lock:
            return self._active

    def __contains__(self, name: object) -> bool:
        return name in self.current()

    def describe(self) -> dict[str, Any]:
        """``{"active": [names, sorted], "available": {name: description}}``."""
        return {"active": sorted(self.current()), "available": dict(self.catalogue)}

    def set(self, body: Any) -> dict[str, Any]:
        """Replace the active faults with ``body["active"]``; the vendor's error (nothing
        changed) for a malformed body or an unknown fault name. Returns ``describe()``."""
        names = self.requested(body)
        unknown = sorted({n for n in names if n not in self.catalogue})
        if unknown:
            raise self.unknown(unknown)
        self.replace(names)
        return self.describe()

    def requested(self, body: Any) -> list[str]:
        """The fault names a ``PUT /_sim/faults`` body asks for; raises the vendor's error for
        a body of another shape (a JSON object with ``active``, a list of strings)."""
        raise NotImplementedError

    def unknown(self, names: list[str]) -> Exception:
        """The vendor's error for fault names (sorted) that are not in the catalogue."""
        raise NotImplementedError

    def replace(self, names: Iterable[str]) -> None:
        """Set the active faults (names must be in the catalogue; ``ValueError`` otherwise)."""
        chosen = frozenset(names)
        if not chosen <= self.catalogue.keys():
            raise ValueError(f"unknown faults: {sorted(chosen - self.catalogue.keys())}")
        with self._lock:
            self._active = chosen

    def clear(self) -> None:
        """No fault active."""
        self.replace(())
