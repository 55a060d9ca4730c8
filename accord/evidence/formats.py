"""The registry of report writers a features run calls with its `RunResult`.

Each writer takes the run and the run's reports folder and returns the files it wrote there:
``write(run: RunResult, folder: Path) -> list[Path]``. ``results.json`` (the run itself),
``cucumber.json`` and ``junit.xml`` are written before any writer runs; the manifest
(`accord.evidence.manifest.write`) after all of them.

Writers are named here by module and function and imported only when called, so a writer's
dependencies cost nothing to a run that does not reach it; a writer whose module is not there is
left out of ``WRITERS`` (a module that is there but fails to import is an error, not a skip).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

from accord.evidence.model import RunResult

Writer = Callable[[RunResult, Path], list[Path]]

# name -> (module, function): the formats a run writes, in this order.
KNOWN: dict[str, tuple[str, str]] = {
    "hdf": ("accord.evidence.hdf", "write_hdf"),
    "oscal": ("accord.evidence.oscal", "write_oscal"),
    "html": ("accord.evidence.html", "write_html"),
}


class LazyWriter:
    """A writer imported on its first call."""

    def __init__(self, module: str, function: str) -> None:
        self.module = module
        self.function = function

    def __call__(self, run: RunResult, folder: Path) -> list[Path]:
        write: Writer = getattr(importlib.import_module(self.module), self.function)
        return write(run, folder)

    def __repr__(self) -> str:
        return f"LazyWriter({self.module}:{self.function})"


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is missing
        return False


WRITERS: dict[str, Writer] = {
    name: LazyWriter(module, function)
    for name, (module, function) in KNOWN.items()
    if _present(module)
}
