"""The TLS listener over real handshakes: SNI auto-selection with wildcards, no SNI and unknown
SNI (BT-08), the chain sent and strict verification (BT-09), following store changes at the
next handshake, and the openssl command line's view (``s_client -servername``)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from accord.network import Endpoint
from accord.pki import CA, LeafCert, to_pem
from accord.probes.tls import verify
from simulator.beyondtrust import Appliance, ApplianceListener
from simulator.beyondtrust.store import Certificate
from tests.beyondtrust.conftest import Openssl
from tests.beyondtrust.helpers import create_form, handshake, subjects


@pytest.fixture(scope="module")
def listener(module_appliance: Appliance) -> Iterator[ApplianceListener]:
    with ApplianceListener(module_appliance) as started:
        yield started


@pytest.fixture(scope="module")
def wildcard(issuing_ca: CA) -> LeafCert:
    return issuing_ca.issue_cert("*.example.com", "example.com", key_type="rsa")


@pytest.fixture
def signed(appliance: Appliance, wildcard: LeafCert, issuing_ca: CA, root_ca: CA) -> Certificate:
    """The CA-signed wildcard certificate, its intermediate and root imported."""
    text = wildcard.cert_pem + wildcard.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)
    return appliance.import_file(text.encode()).added[0]


def test_factory_certificate_is_served_at_first(listener: ApplianceListener, appliance):
    for name in (None, "access.example.com"):
        done = handshake(listener.address, name)
        assert subjects(done) == ["BeyondTrust Appliance"]
        assert done.protocol in ("TLSv1.2", "TLSv1.3")


def test_sni_selects_by_san_with_wildcards(
    listener: ApplianceListener, appliance: Appliance, signed: Certificate
) -> None:
    own = appliance.create_self_signed(
        create_form(friendly_name="net", alternative_names=["remote.example.net"])
    )
    for name in ("access.example.com", "node1.example.com", "example.com"):
        assert handshake(listener.address, name).leaf == signed.certificate
    assert handshake(listener.address, "remote.example.net").leaf == own.certificate
    # No SNI, an unknown name, or two labels under the wildcard: the default (still factory).
    for name in (None, "unknown.example.org", "a.b.example.com"):
        assert subjects(handshake(listener.address, name)) == ["BeyondTrust Appliance"]


def test_the_chosen_default_serves_no_and_unknown_sni(
    listener: ApplianceListener, appliance: Appliance, signed: Certificate
) -> None:
    appliance.set_default(signed.id)  # takes effect at the next handshake
    for name in (None, "unknown.example.org"):
        assert handshake(listener.address, name).leaf == signed.certificate


def test_leaf_and_intermediates_are_served_not_the_root(
    listener: ApplianceListener, appliance: Appliance, signed: Certificate
) -> None:
    done = handshake(listener.address, "access.example.com")
    assert subjects(done) == ["*.example.com", "Example Issuing CA"]


def test_a_strict_client_trusting_only_the_root_verifies(
    listener: ApplianceListener,
    appliance: Appliance,
    signed: Certificate,
    root_ca: CA,
    tmp_path: Path,
) -> None:
    trust = tmp_path / "root.pem"
    trust.write_text(root_ca.cert_pem)
    host, port = listener.address
    endpoint = Endpoint(host, port, host, port)
    assert verify(endpoint, "access.example.com", trust).ok
    assert not verify(endpoint, "unknown.example.org", trust).ok  # the factory default


def test_missing_intermediate_is_not_served_until_imported(
    listener: ApplianceListener,
    appliance: Appliance,
    wildcard: LeafCert,
    issuing_ca: CA,
    root_ca: CA,
) -> None:
    appliance.import_file((wildcard.cert_pem + wildcard.key_pem()).encode())
    assert subjects(handshake(listener.address, "access.example.com")) == ["*.example.com"]
    appliance.import_file(to_pem(issuing_ca.cert, root_ca.cert).encode())
    served = subjects(handshake(listener.address, "access.example.com"))
    assert served == ["*.example.com", "Example Issuing CA"]


def test_deleting_a_certificate_is_followed_at_the_next_handshake(
    listener: ApplianceListener, appliance: Appliance, signed: Certificate
) -> None:
    assert handshake(listener.address, "access.example.com").leaf == signed.certificate
    appliance.delete(signed.id)
    assert subjects(handshake(listener.address, "access.example.com")) == ["BeyondTrust Appliance"]


def test_the_page_is_served_over_https(listener: ApplianceListener, appliance, signed, root_ca):
    host, port = listener.address
    context = ssl.create_default_context(cadata=root_ca.cert_pem)
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="access.example.com") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: access.example.com\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"simulated appliance primary" in reply


def test_openssl_s_client_sees_the_selected_certificate(
    listener: ApplianceListener,
    appliance: Appliance,
    signed: Certificate,
    openssl: Openssl,
    tmp_path: Path,
    root_ca: CA,
) -> None:
    host, port = listener.address
    (tmp_path / "root.pem").write_text(root_ca.cert_pem)

    def s_client(*extra: str) -> str:
        done = openssl(
            "s_client", "-connect", f"{host}:{port}", "-showcerts", "-CAfile", "root.pem",
            *extra, input=b"", check=False,
        )  # fmt: skip
        return done.stdout.decode(errors="replace")

    shown = s_client("-servername", "access.example.com")
    assert "subject=CN = *.example.com" in shown
    assert "Verify return code: 0 (ok)" in shown
    served = x509.load_pem_x509_certificates(shown.encode())
    assert [c.subject.rfc4514_string() for c in served] == [
        "CN=*.example.com",
        "CN=Example Issuing CA",
    ]
    assert "subject=CN = BeyondTrust Appliance" in s_client("-noservername")
    assert "subject=CN = BeyondTrust Appliance" in s_client("-servername", "nope.example.org")


def test_a_listener_cannot_start_twice(module_appliance: Appliance) -> None:
    with ApplianceListener(module_appliance) as started:
        with pytest.raises(RuntimeError):
            started.start()
        with pytest.raises(OSError, match="cannot listen"):
            ApplianceListener(module_appliance, port=started.address[1]).start()


def test_a_listener_binds_loopback_only(module_appliance: Appliance) -> None:
    with pytest.raises(ValueError, match="loopback"):
        ApplianceListener(module_appliance, host="0.0.0.0")
