"""A small test CA (cryptography), a seeded slapd per module, and the Management Node's settings.

If slapd is not installed the fixture raises `Slapd`'s message (``make test`` installs it), so
every test here fails rather than skips.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulator.ldap import DirectoryGroup, DirectoryUser, ServiceAccount, Slapd, directory_entries

SUFFIX = "dc=lab,dc=example"
SERVER_NAME = "ldap.lab.example"
ROOT_PASSWORD = "root-Secret-7f3a"
BIND_PASSWORD = "bind-Secret-91c2"
ALICE_PASSWORD = "alice-Secret-2b8e"
BOB_PASSWORD = "bob-Secret-c4d0"
CAROL_PASSWORD = "carol-Secret-e61f"
SECRETS = (ROOT_PASSWORD, BIND_PASSWORD, ALICE_PASSWORD, BOB_PASSWORD, CAROL_PASSWORD)

SERVICE = ServiceAccount("pexip-bind", BIND_PASSWORD)
USERS = [
    DirectoryUser("alice", "Alice Admin", ALICE_PASSWORD, "alice@lab.example", ["pexip-admins"]),
    DirectoryUser(
        "bob", "Bob Reader", BOB_PASSWORD, "bob@lab.example", ["pexip-readers", "pexip-auditors"]
    ),
    DirectoryUser("carol", "Carol Nobody", CAROL_PASSWORD),
]
GROUPS = [
    DirectoryGroup("pexip-admins"),
    DirectoryGroup("pexip-readers"),
    DirectoryGroup("pexip-auditors"),
    DirectoryGroup("empty"),
]


@dataclass
class Issued:
    """A certificate and its key, as PEM."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str) -> Issued:
    """A self-signed CA: basicConstraints CA (critical), keyCertSign, SKI."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def issue_server(ca: Issued, dns_name: str = SERVER_NAME) -> Issued:
    """A server leaf from ``ca``: SAN DNS ``dns_name`` and IP 127.0.0.1, serverAuth, SKI/AKI."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(dns_name), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(certificate, key)


@pytest.fixture(scope="session")
def lab_ca() -> Issued:
    return make_ca("Accord Test LDAP CA")


@pytest.fixture(scope="session")
def other_ca() -> Issued:
    """A CA the Management Node does not trust (it issued nothing slapd serves)."""
    return make_ca("Somebody Else's CA")


@pytest.fixture(scope="session")
def server_cert(lab_ca: Issued) -> Issued:
    return issue_server(lab_ca)


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory, server_cert: Issued) -> Iterator[Slapd]:
    """A started slapd seeded with `USERS`, `GROUPS` and `SERVICE` (one per test module)."""
    server = Slapd(
        tmp_path_factory.mktemp("ldap"),
        SUFFIX,
        ROOT_PASSWORD,
        server_cert.certificate_pem,
        server_cert.key_pem,
    )
    with server:
        server.add(directory_entries(SUFFIX, USERS, GROUPS, SERVICE))
        yield server


def settings(**overrides: Any) -> dict[str, Any]:
    """The authentication settings a Management Node would hold for the test directory."""
    values: dict[str, Any] = {
        "source": "LDAP",
        "ldap_server": SERVER_NAME,
        "ldap_base_dn": SUFFIX,
        "ldap_bind_username": SERVICE.dn(SUFFIX),
        "ldap_bind_password": BIND_PASSWORD,
        "ldap_permit_no_tls": False,
        "ldap_user_search_dn": "",
        "ldap_user_filter": "(&(objectclass=person)(!(objectclass=computer)))",
        "ldap_user_search_filter": "(|(uid={username})(sAMAccountName={username}))",
        "ldap_user_group_attributes": "memberOf",
        "ldap_group_search_dn": "",
        "ldap_group_filter": "(|(objectclass=group)(objectclass=groupOfNames)"
        "(objectclass=groupOfUniqueNames)(objectclass=posixGroup))",
        "ldap_group_membership_filter": "(|(member={userdn})(uniquemember={userdn})"
        "(memberuid={useruid}))",
        "ldap_use_global_catalog": False,
    }
    values.update(overrides)
    return values


def workdir_files(path: Path) -> list[Path]:
    """Every file left under ``path``."""
    return [item for item in path.rglob("*") if item.is_file()]
