"""The simulators' house rules (``simulator/__init__.py``): no simulator builds on the
library's certificate code (``accord.pki``), ``simulator.core`` imports no vendor package, and
the vendor packages do not import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "simulator"
VENDORS = ("pexip", "beyondtrust")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_simulator_builds_on_the_library_pki(path: Path):
    used = {n for n in _imports(path) if n == "accord.pki" or n.startswith("accord.pki.")}
    assert not used, f"{path.relative_to(ROOT)} imports {sorted(used)}"


def test_core_is_the_lowest_floor():
    for path in _modules(ROOT / "core"):
        vendor = {n for n in _imports(path) for v in VENDORS if n.startswith(f"simulator.{v}")}
        assert not vendor, f"core/{path.name} imports {sorted(vendor)}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendors_do_not_import_each_other(vendor: str):
    others = [v for v in VENDORS if v != vendor]
    for path in _modules(ROOT / vendor):
        crossing = {n for n in _imports(path) for o in others if n.startswith(f"simulator.{o}")}
        assert not crossing, f"{vendor}/{path.relative_to(ROOT / vendor)} imports {crossing}"
