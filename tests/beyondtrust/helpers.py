"""Helpers shared by the BeyondTrust simulator's tests (fixtures are in conftest)."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from accord.network import Endpoint
from accord.probes.tls import Handshake
from accord.probes.tls import handshake as probe_handshake
from simulator.beyondtrust.material import name_label


def create_form(**changes: Any) -> dict[str, Any]:
    """A valid Create form (the guide's example organisation), with ``changes`` applied."""
    form: dict[str, Any] = {
        "friendly_name": "access.example.com 2030",
        "key_size": 2048,
        "country": "US",
        "state": "Mississippi",
        "city": "Ridgeland",
        "organization": "Business Company",
        "unit": "Support",
        "common_name": "Example PRA certificate",
        "alternative_names": ["access.example.com", "*.example.com"],
    }
    form.update(changes)
    return form


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def handshake(address: tuple[str, int], server_name: str | None) -> Handshake:
    """One real TLS handshake with Accord's TLS probe (no verification), sending
    ``server_name`` as SNI (None: no SNI); fails the test if the handshake failed."""
    host, port = address
    done = probe_handshake(Endpoint(host, port, host, port), server_name)
    assert done.error is None, done.error
    return done


def subjects(done: Handshake) -> list[str]:
    """The Common Names (Issued To) of the served chain, leaf first."""
    return [name_label(c.subject) for c in done.chain]
