"""The rules of the house, held against the code: the library used against real systems never
imports the simulators or the lab; only the `accord sim` command reaches the lab, by name, when
it runs; nothing the simulators are made of imports the lab or the steps."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The one place the library starts the lab: the `accord sim` command, inside its function.
ALLOWED = {("accord/cli.py", "lab.run")}


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Every module ``path`` imports, and whether the import is at the module's top level."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, id(node) in top


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for module, at_top in imports(path):
            if module.split(".")[0] not in forbidden:
                continue
            if (relative, module) in ALLOWED and not at_top:
                continue
            found.append(f"{relative} imports {module}")
    return found


def test_the_library_never_imports_the_simulators_or_the_lab() -> None:
    assert offending("accord", ("simulator", "lab", "steps", "tests")) == []


def test_the_simulators_never_import_the_lab_the_steps_or_the_tests() -> None:
    assert offending("simulator", ("lab", "steps", "tests")) == []


def test_the_steps_use_the_library_never_the_simulators_or_the_lab() -> None:
    assert offending("steps", ("simulator", "lab", "tests")) == []


def test_the_rule_is_enforced(tmp_path: Path) -> None:
    """A top-level import of the simulators is found (the test can fail)."""
    module = tmp_path / "m.py"
    module.write_text("from simulator.pexip import Seed\n\ndef f():\n    import lab.run\n")
    assert list(imports(module)) == [("simulator.pexip", True), ("lab.run", False)]
