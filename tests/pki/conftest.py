"""Shared fixtures for accord.pki tests: a fixed clock, a CA hierarchy, and the openssl CLI.

SHA-1 certificates and other "made elsewhere" fixtures come from the ``openssl`` command line at
test time; no private key is checked in.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.pki import CA

NOW = dt.datetime(2030, 6, 1, 12, 0, 0, tzinfo=dt.UTC)

Openssl = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="session")
def root() -> CA:
    return CA.new("Accord Test Root CA", now=NOW)


@pytest.fixture(scope="session")
def intermediate(root: CA) -> CA:
    return root.issue_intermediate("Accord Test Intermediate CA", now=NOW)


@pytest.fixture
def openssl(tmp_path: Path) -> Openssl:
    """Run ``openssl ARGS...`` in ``tmp_path``; fail the test with openssl's stderr on error."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("the openssl command line is not installed")

    def run(*args: str, input: bytes | None = None, check: bool = True):
        proc = subprocess.run(
            [exe, *args], cwd=tmp_path, input=input, capture_output=True, timeout=60
        )
        if check and proc.returncode != 0:
            pytest.fail(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
        return proc

    return run
