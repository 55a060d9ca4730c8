"""The site's certificate authority on the `sim` target: a lab root and intermediate in a folder.

Real CAs are offline and the deployer cannot reach them (on live it exchanges CSRs and
certificates through a folder). On `sim`, `accord sim --write-site DIR` makes a lab CA in
``DIR/lab-ca/`` and names it in the site file; the deployer signs each node's CSR with it at once.
The two private keys are written readable by their owner only (0600) and never leave the folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from accord.pki import CA, load_certificate, load_private_key, to_pem

ROOT = "root.pem"
ROOT_KEY = "root-key.pem"
INTERMEDIATE = "intermediate.pem"
INTERMEDIATE_KEY = "intermediate-key.pem"
TRUSTED = "trusted-ca.pem"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file readable by its owner only (0600, also when it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class LabCA:
    """A lab root CA and the intermediate that signs the nodes' CSRs."""

    issuer: CA

    @classmethod
    def create(cls, directory: Path, name: str = "Accord Lab") -> LabCA:
        """A new root and intermediate (RSA 2048, SHA-256), written to ``directory``."""
        root = CA.new(f"{name} Root CA", key_type="rsa", days=3650)
        intermediate = root.issue_intermediate(f"{name} Issuing CA", key_type="rsa", days=1825)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ROOT).write_text(root.cert_pem)
        (directory / INTERMEDIATE).write_text(intermediate.cert_pem)
        (directory / TRUSTED).write_text(intermediate.path_pem)
        write_private(directory / ROOT_KEY, root.key_pem())
        write_private(directory / INTERMEDIATE_KEY, intermediate.key_pem())
        return cls(intermediate)

    @classmethod
    def load(cls, directory: Path) -> LabCA:
        """The lab CA kept in ``directory`` (`OSError` or `PkiError` when it is not there)."""
        root_cert = load_certificate((directory / ROOT).read_bytes())
        root = CA(root_cert, load_private_key((directory / ROOT_KEY).read_bytes()))  # type: ignore[arg-type]
        issuer = CA(
            load_certificate((directory / INTERMEDIATE).read_bytes()),
            load_private_key((directory / INTERMEDIATE_KEY).read_bytes()),  # type: ignore[arg-type]
            parent=root,
        )
        return cls(issuer)

    @property
    def trusted_bundle_pem(self) -> str:
        """The intermediate and the root: what the platform's trusted CA list must hold."""
        return self.issuer.path_pem

    @property
    def root_pem(self) -> str:
        return to_pem(self.issuer.root)

    def sign(self, csr_pem: str, days: int = 365) -> str:
        """The certificate for a CSR followed by the intermediate: what a CA hands back."""
        cert = self.issuer.sign_csr(csr_pem, days=days)
        return to_pem(cert, self.issuer.cert)
