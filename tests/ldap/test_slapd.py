"""`simulator.ldap.Slapd`: a real slapd, started, seeded, read over StartTLS and LDAPS, stopped."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import time
from pathlib import Path

import pytest
from ldap3 import SUBTREE, Connection, Server, Tls

from simulator.ldap import (
    NOT_INSTALLED,
    DirectoryUser,
    ServiceAccount,
    Slapd,
    directory_entries,
)
from simulator.ldap import slapd as slapd_module
from tests.ldap.conftest import (
    BIND_PASSWORD,
    GROUPS,
    ROOT_PASSWORD,
    SECRETS,
    SERVER_NAME,
    SERVICE,
    SUFFIX,
    USERS,
    Issued,
    workdir_files,
)


def tls_for(ca: Issued) -> Tls:
    return Tls(
        validate=ssl.CERT_REQUIRED, ca_certs_data=ca.certificate_pem, valid_names=[SERVER_NAME]
    )


def service_connection(server: Server) -> Connection:
    return Connection(server, SERVICE.dn(SUFFIX), BIND_PASSWORD, raise_exceptions=True)


def test_slapd_is_installed():
    assert slapd_module.SLAPD_BINARY.exists(), NOT_INSTALLED


def test_start_and_stop_leave_no_process_and_no_files(tmp_path: Path, server_cert: Issued):
    server = Slapd(
        tmp_path, SUFFIX, ROOT_PASSWORD, server_cert.certificate_pem, server_cert.key_pem
    )
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started < 5
    pid = server.pid
    assert pid is not None and server.running
    assert server.url == f"ldap://127.0.0.1:{server.port}"
    assert server.ldaps_url == f"ldaps://127.0.0.1:{server.ldaps_port}"
    assert server.port != server.ldaps_port
    key = next(path for path in workdir_files(tmp_path) if path.name == "server.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pidfile = next(path for path in workdir_files(tmp_path) if path.name == "slapd.pid")
    assert int(pidfile.read_text().split()[0]) == pid
    for path in workdir_files(tmp_path):
        if path.suffix in (".conf", ".pem", ".key", ".stderr", ".pid", ".args"):
            text = path.read_text(errors="replace")
            assert ROOT_PASSWORD not in text, path.name
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not server.running
    assert workdir_files(tmp_path) == []


def test_context_manager_stops(tmp_path: Path, server_cert: Issued):
    with Slapd(
        tmp_path, SUFFIX, ROOT_PASSWORD, server_cert.certificate_pem, server_cert.key_pem
    ) as s:
        pid = s.pid
        assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_seeded_tree_over_starttls(slapd: Slapd, lab_ca: Issued):
    server = Server(slapd.host, slapd.port, tls=tls_for(lab_ca))
    conn = service_connection(server)
    conn.open()
    conn.start_tls()
    conn.bind()
    conn.search(
        f"ou=people,{SUFFIX}",
        "(objectClass=inetOrgPerson)",
        SUBTREE,
        attributes=["*", "userPassword"],
    )
    people = {entry["attributes"]["uid"][0]: entry["attributes"] for entry in conn.response}
    assert sorted(people) == ["alice", "bob", "carol"]
    assert people["alice"]["userPrincipalName"] in ("alice@lab.example", ["alice@lab.example"])
    assert not people["alice"].get("userPassword")  # unreadable, even by the bind account
    conn.search(f"ou=groups,{SUFFIX}", "(objectClass=groupOfNames)", attributes=["member"])
    groups = {entry["dn"]: entry["attributes"]["member"] for entry in conn.response}
    assert groups[f"cn=pexip-admins,ou=groups,{SUFFIX}"] == [f"uid=alice,ou=people,{SUFFIX}"]
    conn.unbind()


def test_seeded_tree_over_ldaps_with_memberof(slapd: Slapd, lab_ca: Issued):
    server = Server(slapd.host, slapd.ldaps_port, use_ssl=True, tls=tls_for(lab_ca))
    conn = service_connection(server)
    conn.bind()
    conn.search(SUFFIX, "(uid=bob)", attributes=["memberOf"])
    assert sorted(conn.response[0]["attributes"]["memberOf"]) == [
        f"cn=pexip-auditors,ou=groups,{SUFFIX}",
        f"cn=pexip-readers,ou=groups,{SUFFIX}",
    ]
    conn.unbind()


def test_upn_is_searchable_case_insensitively(slapd: Slapd, lab_ca: Issued):
    conn = service_connection(
        Server(slapd.host, slapd.ldaps_port, use_ssl=True, tls=tls_for(lab_ca))
    )
    conn.bind()
    conn.search(SUFFIX, "(userPrincipalName=ALICE@Lab.Example)")
    assert [entry["dn"] for entry in conn.response] == [f"uid=alice,ou=people,{SUFFIX}"]
    conn.unbind()


def test_users_bind_with_their_password_and_see_only_themselves(slapd: Slapd, lab_ca: Issued):
    server = Server(slapd.host, slapd.ldaps_port, use_ssl=True, tls=tls_for(lab_ca))
    alice = USERS[0]
    conn = Connection(server, alice.dn(SUFFIX), alice.password)
    assert conn.bind()
    conn.search(f"ou=people,{SUFFIX}", "(uid=bob)")
    assert conn.response == []
    conn.unbind()
    assert not Connection(server, alice.dn(SUFFIX), "wrong").bind()
    anonymous = Connection(server)
    anonymous.bind()
    anonymous.search(SUFFIX, "(objectClass=*)")
    assert anonymous.response == []


def test_passwords_are_stored_hashed():
    """As {SSHA} (that slapd accepts them: users and the service account bind above)."""
    entries = directory_entries(SUFFIX, USERS, GROUPS, SERVICE)
    hashes = [attrs["userPassword"] for _, attrs in entries if "userPassword" in attrs]
    assert len(hashes) == len(USERS) + 1
    assert all(value.startswith("{SSHA}") for value in hashes)
    assert not any(secret in value for value in hashes for secret in SECRETS)


def test_reprs_hold_no_password(slapd: Slapd):
    texts = [repr(slapd), repr(USERS[0]), repr(SERVICE), str(USERS[0])]
    assert not any(secret in text for text in texts for secret in SECRETS)


def test_unknown_group_is_refused():
    user = DirectoryUser("dave", "Dave", "pw", groups=["nope"])
    with pytest.raises(ValueError, match="nope"):
        directory_entries(SUFFIX, [user], [], ServiceAccount("svc", "pw"))


def test_missing_binary_says_how_to_install(
    tmp_path: Path, server_cert: Issued, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(slapd_module, "SLAPD_BINARY", tmp_path / "no-such-slapd")
    server = Slapd(
        tmp_path, SUFFIX, ROOT_PASSWORD, server_cert.certificate_pem, server_cert.key_pem
    )
    with pytest.raises(RuntimeError, match=r"slapd is not installed: `make test` installs it"):
        server.start()


def test_a_broken_configuration_reports_slapd_output(
    tmp_path: Path, server_cert: Issued, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(slapd_module, "MODULE_DIR", tmp_path / "no-modules")
    server = Slapd(
        tmp_path, SUFFIX, ROOT_PASSWORD, server_cert.certificate_pem, server_cert.key_pem
    )
    started = time.monotonic()
    with pytest.raises(slapd_module.SlapdError, match="exited") as raised:
        server.start()
    assert time.monotonic() - started < 5
    assert ROOT_PASSWORD not in str(raised.value)
    assert workdir_files(tmp_path) == []


def test_a_port_taken_in_between_is_retried(
    tmp_path: Path, server_cert: Issued, monkeypatch: pytest.MonkeyPatch
):
    real = slapd_module._free_ports
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        calls = []

        def first_one_taken(host: str, count: int) -> list[int]:
            calls.append(host)
            ports = real(host, count)
            return [taken, *ports[1:]] if len(calls) == 1 else ports

        monkeypatch.setattr(slapd_module, "_free_ports", first_one_taken)
        cert, key = server_cert.certificate_pem, server_cert.key_pem
        with Slapd(tmp_path, SUFFIX, ROOT_PASSWORD, cert, key) as server:
            assert len(calls) == 2 and server.port != taken
