"""A pytest plugin for `test_plugin`: one more report writer, which fails
(``pytest features -p tests.evidence.broken_writer``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.evidence import formats
from accord.evidence.model import RunResult


def _broken(run: RunResult, folder: Path) -> list[Path]:
    raise RuntimeError("the disk is full\nand this second line is not shown")


def pytest_configure(config: pytest.Config) -> None:
    formats.WRITERS["broken"] = _broken
