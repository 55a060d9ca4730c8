"""Fixtures for the BeyondTrust simulator's tests: one CA hierarchy per session (RSA 2048), one
appliance per module reset before each test, and the openssl command line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.pki import CA
from simulator.beyondtrust import Appliance

Openssl = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="session")
def root_ca() -> CA:
    return CA.new("Example Root CA", key_type="rsa")


@pytest.fixture(scope="session")
def issuing_ca(root_ca: CA) -> CA:
    return root_ca.issue_intermediate("Example Issuing CA", key_type="rsa")


@pytest.fixture(scope="session")
def other_root() -> CA:
    """Another certificate authority (replacement by a certificate from another CA)."""
    return CA.new("Other Root CA", key_type="rsa")


@pytest.fixture(scope="module")
def module_appliance() -> Appliance:
    return Appliance("primary", "pra1.example.com")


@pytest.fixture
def appliance(module_appliance: Appliance) -> Appliance:
    """The module's appliance, back in its factory state."""
    module_appliance.reset()
    return module_appliance


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
            shown = " ".join("pass:***" if a.startswith("pass:") else a for a in args)
            pytest.fail(f"openssl {shown} failed: {proc.stderr.decode(errors='replace')}")
        return proc

    return run
