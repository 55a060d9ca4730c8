"""pysnmp engines that load their MIB modules from Python's cached bytecode.

pysnmp compiles each MIB module's source every time it makes an engine (about 90 ms an
engine); pip already compiled them into ``__pycache__`` at install, and ``runpy`` runs such a
file as it is (about 16 ms an engine). Shared by Accord's SNMP probe and the simulator's agents.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
from functools import cache
from typing import Any


def _fresh_bytecode(source: str) -> bytes | None:
    """The marshalled code Python cached for ``source`` (``__pycache__``), if still fresh.

    ``None`` when there is no cached file, it is for another Python, hash-based, or older than
    the source. Never raises.
    """
    try:
        with open(importlib.util.cache_from_source(source), "rb") as cached:
            data = cached.read()
        stat = os.stat(source)
    except (OSError, NotImplementedError, ValueError):
        return None
    header = [int.from_bytes(data[i : i + 4], "little") for i in (4, 8, 12)]
    fresh = [0, int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size & 0xFFFFFFFF]
    if data[:4] != importlib.util.MAGIC_NUMBER or header != fresh:
        return None
    return data[16:]


@cache
def _compiled_mib_source() -> type:
    """A pysnmp MIB directory source that runs the MIB modules' cached bytecode when fresh.

    pysnmp compiles each MIB module's source twice per engine (about 0.1 s); pip already
    compiled them into ``__pycache__`` at install, and ``runpy`` runs such a file as it is.
    Without a fresh cached file, the module is read as pysnmp reads it.
    """
    from pysnmp.smi.builder import DirMibSource

    class CompiledMibSource(DirMibSource):
        def read(self, f: str) -> tuple[Any, str]:
            """Module ``f``'s code and suffix: its fresh cached bytecode, else pysnmp's read."""
            code = _fresh_bytecode(os.path.join(self._srcName, f + ".py"))
            if code is None:
                return super().read(f)
            return marshal.loads(code), ".pyc"

        def full_path(self, f: str = "", sfx: str = "") -> str:
            """The file pysnmp runs for module ``f``: the cached bytecode when `read` chose it."""
            if f and sfx == ".pyc":
                cached = importlib.util.cache_from_source(os.path.join(self._srcName, f + ".py"))
                if os.path.exists(cached):
                    return cached
            return super().full_path(f, sfx)

    return CompiledMibSource


def new_engine() -> Any:
    """A pysnmp SnmpEngine whose MIB modules load from their cached bytecode where possible."""
    from pysnmp.entity.engine import SnmpEngine
    from pysnmp.proto.rfc3412 import MsgAndPduDispatcher
    from pysnmp.smi.builder import DirMibSource, MibBuilder
    from pysnmp.smi.instrum import MibInstrumController

    builder = MibBuilder()
    source_type = _compiled_mib_source()
    builder.set_mib_sources(
        *(
            source_type(source.full_path()) if type(source) is DirMibSource else source
            for source in builder.get_mib_sources()
        )
    )
    return SnmpEngine(msgAndPduDsp=MsgAndPduDispatcher(MibInstrumController(builder)))
