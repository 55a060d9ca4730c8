"""What a certificate-action scenario on the scratch Management Node holds, and its Background.

Each scenario starts from the site's scratch Management Node (`steps.pexip.scratch`) and a
throwaway test CA (`accord.pki`), does what an administrator does in Platform > Certificates,
and checks the answer against the guide. `Act` is what it did and saw (`steps.scratch.ScratchAct`,
the shape the BeyondTrust scenarios share); what one step hands to a later one beyond that is
a fixture of its own (pytest-bdd's ``target_fixture``). Nothing here touches a verified system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from cryptography import x509
from pytest_bdd import given

from accord.pexip.certificates import node_fqdn
from accord.pexip.workbench import Outcome, WebInterfaceMissing, Workbench
from accord.pki import CA, LeafCert, load_csr, load_pem_certificates, to_pem
from steps.common import Observe
from steps.scratch import ScratchAct

T = TypeVar("T")
Obj = dict[str, Any]


@dataclass
class Act(ScratchAct[Workbench]):
    """What one scenario on the scratch Management Node did and saw: the last answer
    (``outcome``) and every one, the certificates it created (``uri``, ``uris``), the CSR it
    generated (``csr``), and the Conferencing Node it acted on (``node``, with its ``previous``
    certificate)."""

    outcome: Outcome | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    uri: str | None = None
    uris: list[str] = field(default_factory=list)
    csr: Obj | None = None
    node: Obj | None = None
    previous: str | None = None

    def record(self, outcome: Outcome, what: str) -> Outcome:
        """Keep the Management Node's answer to an action, observed as ``what``."""
        self.observe(what, outcome.observation())
        self.outcome = outcome
        self.outcomes.append(outcome)
        if outcome.accepted and outcome.uri and outcome.status == 201:
            self.uri = outcome.uri
            self.uris.append(outcome.uri)
        return outcome

    def new_leaf(self, label: str = "server", **kwargs: Any) -> LeafCert:
        """A server certificate from the test CA for ``<label>-<token>.accord.test``."""
        return self.ca.issue_cert(
            self.scratch.name(label), eku=("serverAuth", "clientAuth"), **kwargs
        )

    def trust(self) -> None:
        """The test CA's root and intermediate uploaded as trusted CA certificates."""
        for cert in self.ca.path:
            self.scratch.upload_ca(to_pem(cert))
        self.observe(
            "trusted CA certificates uploaded", [c.subject.rfc4514_string() for c in self.ca.path]
        )

    def a_conferencing_node(self) -> Obj:
        """The scratch node's first Conferencing Node, kept as ``node`` with its ``previous``
        certificate."""
        nodes = self.scratch.conferencing_nodes()
        assert nodes, "the scratch Management Node has no Conferencing Node"
        self.node = nodes[0]
        self.previous = nodes[0].get("tls_certificate")
        return nodes[0]

    def shipped(self) -> list[Obj]:
        """The certificates the nodes were shipped with: self-signed and named after a node."""
        nodes = self.scratch.management_nodes() + self.scratch.conferencing_nodes()
        fqdns = {node_fqdn(n) for n in nodes}
        found = []
        for obj in self.scratch.tls_certificates():
            cert = load_pem_certificates(obj["certificate"])[0]
            if cert.subject == cert.issuer and obj.get("subject_name") in fqdns:
                found.append(obj)
        return found

    def generate_csr(self, **fields: Any) -> Obj:
        """A certificate signing request generated with ``fields``, kept as ``csr``."""
        outcome = self.record(self.scratch.create_csr(**fields), "generate CSR")
        assert outcome.accepted and outcome.uri, outcome.error_text()
        self.csr = self.scratch.get(outcome.uri)
        return self.csr

    def signing_request(self) -> x509.CertificateSigningRequest:
        """The CSR generated last, as X.509."""
        assert self.csr is not None
        return load_csr(self.csr["csr"])

    def complete(self, csr: Obj) -> x509.Certificate:
        """``csr`` signed by the test CA and completed with the certificate and its issuer."""
        cert = self.ca.sign_csr(csr["csr"])
        done = self.scratch.update(csr["resource_uri"], {"certificate": to_pem(cert, self.ca.cert)})
        self.record(done, "complete CSR")
        assert done.accepted, done.error_text()
        return cert

    def holding(self, cert: x509.Certificate) -> Obj | None:
        """The TLS certificate listed with ``cert`` as its leaf, if any."""
        for obj in self.scratch.tls_certificates():
            chain = load_pem_certificates(obj["certificate"])
            if chain and chain[0] == cert:
                return obj
        return None


def web_file(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A web interface file action (download, export); "not run" where the Management Node
    offers it no API route (`accord.pexip.workbench.WebInterfaceMissing`)."""
    try:
        return call(*args, **kwargs)
    except WebInterfaceMissing as exc:
        pytest.skip(f"not run: {exc}")


@given("a test certificate authority", target_fixture="act")
def test_ca(workbench: Workbench, observe: Observe) -> Act:
    """A throwaway root and issuing CA, made for this scenario only."""
    root = CA.new(f"Accord Scenario Root {workbench.token}")
    issuing = root.issue_intermediate(f"Accord Scenario Issuing {workbench.token}")
    return Act(workbench, observe, issuing)
