"""`simulator.pexip.directory.Directory` against a real slapd: lookups, binds, TLS, failures."""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Callable

import pytest

from simulator.ldap import Slapd
from simulator.pexip.directory import Directory, DirectoryUnavailable, DirectoryUser
from tests.ldap.conftest import (
    ALICE_PASSWORD,
    BIND_PASSWORD,
    BOB_PASSWORD,
    SECRETS,
    SERVER_NAME,
    SUFFIX,
    Issued,
    settings,
)

ALICE = f"uid=alice,ou=people,{SUFFIX}"
ADMINS = f"cn=pexip-admins,ou=groups,{SUFFIX}"
READERS = f"cn=pexip-readers,ou=groups,{SUFFIX}"
AUDITORS = f"cn=pexip-auditors,ou=groups,{SUFFIX}"


def resolver(slapd: Slapd, names: tuple[str, ...] = (SERVER_NAME,)) -> Callable:
    def resolve(name: str) -> tuple[str, int, int]:
        if name not in names:
            raise LookupError(name)
        return slapd.host, slapd.port, slapd.ldaps_port

    return resolve


@pytest.fixture
def directory(slapd: Slapd, lab_ca: Issued) -> Directory:
    return Directory(resolver(slapd), lambda: [lab_ca.certificate_pem])


@pytest.fixture
def untrusting(slapd: Slapd, other_ca: Issued) -> Directory:
    """A Management Node whose trusted CA list lacks the directory's CA."""
    return Directory(resolver(slapd), lambda: [other_ca.certificate_pem])


def assert_no_secret(error: BaseException) -> None:
    text = "".join(traceback.format_exception_only(type(error), error)) + repr(error)
    assert not any(secret in text for secret in SECRETS), text


def test_find_by_uid_with_groups(directory: Directory):
    user = directory.find(settings(), "alice")
    assert user == DirectoryUser(dn=ALICE, uid="alice", groups=(ADMINS,))


def test_groups_come_from_memberof_and_from_the_group_search(directory: Directory):
    by_attribute = directory.find(settings(ldap_group_membership_filter=""), "bob")
    by_search = directory.find(settings(ldap_user_group_attributes=""), "bob")
    both = directory.find(settings(), "bob")
    assert by_attribute and by_search and both
    assert set(by_attribute.groups) == set(by_search.groups) == {READERS, AUDITORS}
    assert set(both.groups) == {READERS, AUDITORS}  # no repeats
    assert len(both.groups) == 2


def test_find_by_upn_through_the_user_search_filter(directory: Directory):
    upn = settings(ldap_user_search_filter="(userPrincipalName={username})")
    user = directory.find(upn, "Alice@Lab.Example")
    assert user is not None and user.dn == ALICE and user.uid == "alice"
    assert directory.find(upn, "alice") is None


def test_search_dns_are_relative_to_the_base_dn(directory: Directory):
    scoped = settings(ldap_user_search_dn="ou=people", ldap_group_search_dn="ou=groups")
    assert directory.find(scoped, "alice") == directory.find(settings(), "alice")
    full = settings(ldap_user_search_dn=f"ou=people,{SUFFIX}")
    assert directory.find(full, "alice") is not None
    elsewhere = settings(ldap_user_search_dn="ou=groups")
    assert directory.find(elsewhere, "alice") is None
    missing = settings(ldap_user_search_dn="ou=nowhere")
    assert directory.find(missing, "alice") is None


def test_user_without_groups_and_unknown_user(directory: Directory):
    carol = directory.find(settings(), "carol")
    assert carol is not None and carol.groups == ()
    assert directory.find(settings(), "mallory") is None
    assert directory.find(settings(), "") is None


def test_service_accounts_are_not_users(directory: Directory):
    assert directory.find(settings(), "pexip-bind") is None
    wide = settings(ldap_user_search_filter="(cn={username})")
    assert directory.find(wide, "pexip-bind") is None  # not a person


@pytest.mark.parametrize("identity", ["*)(uid=*", "*", "alice)(|(uid=*", "al*", "\\2a"])
def test_filter_injection_finds_nothing(directory: Directory, identity: str):
    assert directory.find(settings(), identity) is None
    assert directory.authenticate(settings(), identity, ALICE_PASSWORD) is None


def test_authenticate(directory: Directory):
    assert directory.authenticate(settings(), "alice", ALICE_PASSWORD) == directory.find(
        settings(), "alice"
    )
    assert directory.authenticate(settings(), "alice", BOB_PASSWORD) is None
    assert directory.authenticate(settings(), "alice", "") is None
    assert directory.authenticate(settings(), "mallory", ALICE_PASSWORD) is None
    bob = directory.authenticate(settings(), "bob", BOB_PASSWORD)
    assert bob is not None and set(bob.groups) == {READERS, AUDITORS}


def test_wrong_bind_password_is_unavailable_without_the_password(directory: Directory):
    with pytest.raises(DirectoryUnavailable, match="bind account was refused") as raised:
        directory.find(settings(ldap_bind_password="not-" + BIND_PASSWORD), "alice")
    assert_no_secret(raised.value)
    assert "not-" + BIND_PASSWORD not in str(raised.value)


def test_untrusted_ca_is_unavailable_even_if_plain_would_work(untrusting: Directory):
    with pytest.raises(DirectoryUnavailable) as raised:
        untrusting.authenticate(settings(), "alice", ALICE_PASSWORD)
    message = str(raised.value)
    assert SERVER_NAME in message and "StartTLS" in message and "LDAPS" in message
    assert "plain" not in message
    assert "certificate verify failed" in message.lower()
    assert_no_secret(raised.value)


def test_plain_ldap_only_with_permit_no_tls(untrusting: Directory):
    insecure = settings(ldap_permit_no_tls=True)
    assert untrusting.authenticate(insecure, "alice", ALICE_PASSWORD) is not None
    assert untrusting.authenticate(insecure, "alice", BOB_PASSWORD) is None


def test_the_certificate_must_name_the_configured_server(slapd: Slapd, lab_ca: Issued):
    other_name = "directory.lab.example"  # resolves to the same slapd, not in its certificate
    directory = Directory(resolver(slapd, (other_name,)), lambda: [lab_ca.certificate_pem])
    with pytest.raises(DirectoryUnavailable, match="directory.lab.example"):
        directory.find(settings(ldap_server=other_name), "alice")
    # The certificate's IP address is no substitute for the name.
    by_address = Directory(resolver(slapd, ("127.0.0.1",)), lambda: [lab_ca.certificate_pem])
    assert by_address.find(settings(ldap_server="127.0.0.1"), "alice") is not None


def test_no_trusted_cas_is_unavailable(slapd: Slapd):
    directory = Directory(resolver(slapd), lambda: ["not a certificate"])
    with pytest.raises(DirectoryUnavailable):
        directory.find(settings(), "alice")


def test_server_down_is_unavailable_quickly(lab_ca: Issued):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens on it once closed
    directory = Directory(
        lambda name: ("127.0.0.1", closed, closed), lambda: [lab_ca.certificate_pem]
    )
    started = time.monotonic()
    for call in (
        lambda: directory.find(settings(), "alice"),
        lambda: directory.authenticate(settings(ldap_permit_no_tls=True), "alice", ALICE_PASSWORD),
    ):
        with pytest.raises(DirectoryUnavailable) as raised:
            call()
        assert SERVER_NAME in str(raised.value)
        assert_no_secret(raised.value)
    assert time.monotonic() - started < 3


def test_unresolvable_and_unconfigured_servers(directory: Directory):
    with pytest.raises(DirectoryUnavailable, match="does not resolve"):
        directory.find(settings(ldap_server="nowhere.example"), "alice")
    with pytest.raises(DirectoryUnavailable, match="no LDAP server"):
        directory.find(settings(ldap_server=""), "alice")
    with pytest.raises(DirectoryUnavailable, match="no base DN"):
        directory.find(settings(ldap_base_dn=""), "alice")


def test_an_invalid_filter_is_unavailable(directory: Directory):
    with pytest.raises(DirectoryUnavailable, match="search failed") as raised:
        directory.find(settings(ldap_user_filter="(objectclass=person"), "alice")
    assert_no_secret(raised.value)


def test_defaults_apply_to_missing_settings(directory: Directory):
    minimal = {
        "ldap_server": SERVER_NAME,
        "ldap_base_dn": SUFFIX,
        "ldap_bind_username": f"cn=pexip-bind,ou=services,{SUFFIX}",
        "ldap_bind_password": BIND_PASSWORD,
    }
    user = directory.find(minimal, "alice")
    assert user is not None and user.groups == (ADMINS,)


def test_no_password_in_reprs(directory: Directory):
    user = directory.authenticate(settings(), "alice", ALICE_PASSWORD)
    texts = [repr(directory), repr(user), str(user)]
    assert not any(secret in text for text in texts for secret in SECRETS)


@pytest.mark.parametrize("password", ["\x00", "bad\x07bell", " ", "é" * 40])
def test_odd_passwords_are_wrong_not_unavailable(directory: Directory, password: str):
    assert directory.authenticate(settings(), "alice", password) is None


def test_bind_account_credentials(directory: Directory):
    # A blank bind username binds anonymously: this directory lets anonymous users read nothing.
    assert directory.find(settings(ldap_bind_username="", ldap_bind_password=""), "alice") is None
    with pytest.raises(DirectoryUnavailable, match="bind account was refused"):
        directory.find(settings(ldap_bind_password=""), "alice")
