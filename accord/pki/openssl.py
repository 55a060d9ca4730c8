"""What only the ``openssl`` command line makes: SHA-1 signed certificates and named DH groups.

``cryptography`` refuses to sign with SHA-1, and the guide's "Weak signature" status needs such a
certificate; a scenario makes one at run time instead of shipping a file with a private key.
The key passes through a private temporary folder that is removed at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from accord.pki.errors import PkiError


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise PkiError("the openssl command line is not installed")
    done = subprocess.run([exe, *args], cwd=cwd, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise PkiError(f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')[:300]}")


def sha1_self_signed(common_name: str, days: int = 365) -> tuple[str, str]:
    """A self-signed RSA 2048 certificate signed with SHA-1 (CN and SAN = ``common_name``):
    ``(certificate PEM, private key PEM)``."""
    with tempfile.TemporaryDirectory(prefix="accord-openssl-") as folder:
        cwd = Path(folder)
        _openssl(
            "req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes",
            "-keyout", "key.pem", "-out", "cert.pem", "-days", str(days),
            "-subj", f"/CN={common_name}", "-addext", f"subjectAltName=DNS:{common_name}",
            cwd=cwd,
        )  # fmt: skip
        return (cwd / "cert.pem").read_text(), (cwd / "key.pem").read_text()


def dh_parameters(group: str = "ffdhe2048") -> str:
    """PEM DH parameters of a named RFC 7919 group (instant: no prime is generated)."""
    with tempfile.TemporaryDirectory(prefix="accord-openssl-") as folder:
        cwd = Path(folder)
        _openssl(
            "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{group}",
            "-out", "dh.pem",
            cwd=cwd,
        )  # fmt: skip
        return (cwd / "dh.pem").read_text()
