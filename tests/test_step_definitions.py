"""Every step module is loaded into one pytest session (`conftest.py` `pytest_plugins`), where a
step text defined twice silently takes the last definition: another module's scenarios then run
the wrong step. Each step text must be defined once."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

STEPS = Path(__file__).resolve().parent.parent / "steps"


def _step_texts(path: Path) -> list[str]:
    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        if node.func.id not in ("given", "when", "then") or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Call) and first.args:  # parsers.parse("..."), parsers.re(...)
            first = first.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            texts.append(first.value)
    return texts


def test_no_step_text_is_defined_in_two_modules():
    defined: dict[str, set[str]] = defaultdict(set)
    for path in sorted(STEPS.rglob("*.py")):
        for text in _step_texts(path):
            defined[text].add(str(path.relative_to(STEPS)))
    assert len(defined) > 100  # the scan does find the steps
    twice = {text: sorted(files) for text, files in defined.items() if len(files) > 1}
    assert not twice, twice
