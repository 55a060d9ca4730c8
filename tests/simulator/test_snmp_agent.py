"""The simulated nodes' SNMP agents, seen through Accord's SNMP probe and Debian's net-snmp."""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accord.network import Endpoint
from accord.probes.snmp import SnmpObservation, SnmpV3User, get
from simulator.pexip.snmp import AgentConfig, SnmpAgents

RNG = random.Random()
USER, AUTH, PRIV, COMMUNITY = "monitor", "auth-Secret-1", "priv-Secret-2", "c0mmunity-S3"
SECRETS = (AUTH, PRIV, COMMUNITY)
SHA_AES = SnmpV3User(USER, AUTH, PRIV)
MD5_DES = SnmpV3User(USER, AUTH, PRIV, "MD5", "DES")
FAST = 0.3  # seconds to wait where no answer is expected
SYS_NAME, SYS_CONTACT, SYS_LOCATION = "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.4.0", "1.3.6.1.2.1.1.6.0"
ENGINE_ID = "1.3.6.1.6.3.10.2.1.1.0"

AUTHPRIV = AgentConfig(
    mode="AUTHPRIV",
    community=COMMUNITY,
    username=USER,
    authentication_password=AUTH,
    privacy_password=PRIV,
    system_description="Pexip Infinity Conferencing Node",
    system_name="conf01.example.com",
    contact="noc@example.com",
    location="Rack 7",
)
STANDARD = dataclasses.replace(AUTHPRIV, mode="STANDARD")


def free_udp() -> tuple[str, int]:
    """A random loopback address and a UDP port free on it (just now)."""
    while True:
        host = f"127.{RNG.randint(1, 254)}.{RNG.randint(0, 255)}.{RNG.randint(1, 254)}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, 0))
            except OSError:
                continue
            return host, probe.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing is bound on UDP ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def endpoint(host: str, port: int) -> Endpoint:
    return Endpoint(host, port, host, port)


def probe(where: tuple[str, int], credentials: SnmpV3User | str, **options) -> SnmpObservation:
    """One GET; a short timeout only where the test expects no answer (``expect_silence``)."""
    silent = options.pop("expect_silence", False)
    found = get(endpoint(*where), credentials, timeout=FAST if silent else 3.0, **options)
    assert_no_secret(found)
    return found


def probe_together(*calls: tuple) -> list[SnmpObservation]:
    """Several `probe` calls ``(where, credentials, options)`` at once (no answer costs time)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: probe(call[0], call[1], **call[2]), calls))


def assert_no_secret(*things: object) -> None:
    for thing in things:
        text = repr(thing) + (repr(thing.observation()) if hasattr(thing, "observation") else "")
        for secret in SECRETS:
            assert secret not in text, f"a secret in {type(thing).__name__}"


@pytest.fixture
def agents() -> Iterator[SnmpAgents]:
    running = SnmpAgents()
    yield running
    running.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[dict[str, tuple[str, int]]]:
    """An AUTHPRIV and a STANDARD agent for the tests that only read (started once)."""
    running = SnmpAgents()
    where = {"AUTHPRIV": free_udp(), "STANDARD": free_udp()}
    config = {"AUTHPRIV": AUTHPRIV, "STANDARD": STANDARD}
    assert running.apply({mode: (*at, config[mode]) for mode, at in where.items()}) == {}
    yield where
    running.close()


@pytest.fixture
def authpriv(shared: dict[str, tuple[str, int]]) -> tuple[str, int]:
    return shared["AUTHPRIV"]


@pytest.fixture
def standard(shared: dict[str, tuple[str, int]]) -> tuple[str, int]:
    return shared["STANDARD"]


# --- Debian net-snmp as an independent client


def net_snmp(
    tool: str, where: tuple[str, int], *args: str, tmp: Path, wait: float = 1.0
) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp ``tool`` (no retry, ``wait`` s) against ``where``; fail if not installed."""
    command = shutil.which(tool)
    if command is None:
        pytest.fail(f"{tool} is missing: `make test` installs net-snmp (Debian package `snmp`)")
    env = {**os.environ, "SNMPCONFPATH": str(tmp), "SNMP_PERSISTENT_DIR": str(tmp), "MIBS": ""}
    return subprocess.run(
        [command, *args, "-r", "0", "-t", str(wait), f"{where[0]}:{where[1]}"]
        + (["1.3.6.1.2.1.1.1.0"] if tool == "snmpget" else ["1.3.6.1"]),
        capture_output=True,
        text=True,
        env=env,
        timeout=20,
        check=False,
    )


def snmpget(
    where: tuple[str, int], *args: str, tmp: Path, wait: float = 1.0
) -> subprocess.CompletedProcess[str]:
    """net-snmp's ``snmpget`` of sysDescr, value only."""
    return net_snmp("snmpget", where, "-Oqv", *args, tmp=tmp, wait=wait)


V3_SHA_AES = ("-v3", "-l", "authPriv", "-u", USER, "-a", "SHA", "-A", AUTH, "-x", "AES", "-X", PRIV)
V3_MD5_DES = ("-v3", "-l", "authPriv", "-u", USER, "-a", "MD5", "-A", AUTH, "-x", "DES", "-X", PRIV)


def test_net_snmp_authpriv(authpriv: tuple[str, int], tmp_path: Path) -> None:
    answer = snmpget(authpriv, *V3_SHA_AES, tmp=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == '"Pexip Infinity Conferencing Node"'

    md5 = snmpget(authpriv, *V3_MD5_DES, tmp=tmp_path)
    assert md5.returncode != 0 and "Authentication failure" in md5.stderr
    assert "Pexip" not in md5.stdout

    for community in ("public", COMMUNITY):
        v2c = snmpget(authpriv, "-v2c", "-c", community, tmp=tmp_path, wait=FAST)
        assert v2c.returncode != 0 and "Timeout" in v2c.stdout + v2c.stderr
        assert "Pexip" not in v2c.stdout

    no_auth = snmpget(authpriv, "-v3", "-l", "noAuthNoPriv", "-u", USER, tmp=tmp_path)
    assert no_auth.returncode != 0 and "Pexip" not in no_auth.stdout


def test_net_snmp_standard(standard: tuple[str, int], tmp_path: Path) -> None:
    for version in ("-v2c", "-v1"):
        answer = snmpget(standard, version, "-c", COMMUNITY, tmp=tmp_path)
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.strip() == '"Pexip Infinity Conferencing Node"'
    other = snmpget(standard, "-v2c", "-c", "public", tmp=tmp_path, wait=FAST)
    assert other.returncode != 0 and "Timeout" in other.stdout + other.stderr
    v3 = snmpget(standard, *V3_SHA_AES, tmp=tmp_path)
    assert v3.returncode != 0 and "Pexip" not in v3.stdout


def test_net_snmp_walk_shows_the_system_group_but_no_secret(
    agents: SnmpAgents, tmp_path: Path
) -> None:
    where = free_udp()
    agents.apply({"n": (*where, dataclasses.replace(AUTHPRIV, also_v2c=True))})
    for credentials in (V3_SHA_AES, ("-v2c", "-c", COMMUNITY)):
        walk = net_snmp("snmpwalk", where, "-On", *credentials, tmp=tmp_path, wait=2.0)
        assert walk.returncode == 0, walk.stderr
        assert '.1.3.6.1.2.1.1.5.0 = STRING: "conf01.example.com"' in walk.stdout
        assert '.1.3.6.1.2.1.1.6.0 = STRING: "Rack 7"' in walk.stdout
        assert ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.8072.3.2.10" in walk.stdout
        assert ".1.3.6.1.6.3.15." not in walk.stdout and ".1.3.6.1.4.1.20408." not in walk.stdout
        assert ".1.3.6.1.6.3.18." not in walk.stdout
        for secret in SECRETS:
            assert secret not in walk.stdout


# --- AUTHPRIV


def test_authpriv_answers_sha_aes_with_the_config_values(authpriv: tuple[str, int]) -> None:
    found = probe(authpriv, SHA_AES)
    assert found.answered and found.value == "Pexip Infinity Conferencing Node"
    assert probe(authpriv, SHA_AES, oid=SYS_NAME).value == "conf01.example.com"
    assert probe(authpriv, SHA_AES, oid=SYS_CONTACT).value == "noc@example.com"


def test_authpriv_ignores_v1_and_v2c_whatever_the_community(authpriv: tuple[str, int]) -> None:
    calls = [
        (authpriv, community, {"version": version, "expect_silence": True})
        for community in ("public", COMMUNITY)
        for version in ("v2c", "v1")
    ]
    assert [found.outcome for found in probe_together(*calls)] == ["no answer"] * 4


@pytest.mark.parametrize(
    "change",
    [
        {"-a": "MD5", "-x": "DES"},
        {"-a": "MD5"},
        {"-x": "DES"},
        {"-A": "wrong-auth-key"},
        {"-X": "wrong-priv-key"},
        {"-u": "intruder"},
        {"-l": "authNoPriv"},
    ],
    ids=["md5-des", "md5-aes", "sha-des", "wrong-auth", "wrong-priv", "unknown-user", "no-priv"],
)
def test_authpriv_gives_no_data_to_anything_else(
    authpriv: tuple[str, int], change: dict[str, str], tmp_path: Path
) -> None:
    options = dict(zip(V3_SHA_AES[1::2], V3_SHA_AES[2::2], strict=True)) | change
    if options["-l"] == "authNoPriv":
        del options["-x"], options["-X"]
    args = ["-v3", *(word for pair in options.items() for word in pair)]
    answer = snmpget(authpriv, *args, tmp=tmp_path, wait=FAST)
    assert answer.returncode != 0 and "Pexip" not in answer.stdout, answer.stderr


def test_authpriv_refuses_the_probe_and_says_why(authpriv: tuple[str, int]) -> None:
    for credentials, why in (
        (MD5_DES, "digest"),
        (SnmpV3User(USER, AUTH, "wrong-priv-key"), "ciphertext"),
        (SnmpV3User("intruder", AUTH, PRIV), "Unknown USM user"),
    ):
        found = probe(authpriv, credentials)
        assert found.outcome == "refused" and found.value is None
        assert why in (found.detail or "")


# --- STANDARD and DISABLED


def test_standard_answers_its_community_only(standard: tuple[str, int]) -> None:
    for version in ("v2c", "v1"):
        found = probe(standard, COMMUNITY, version=version)
        assert found.answered and found.value == "Pexip Infinity Conferencing Node"
    assert probe(standard, COMMUNITY, oid=SYS_LOCATION).value == "Rack 7"
    assert probe(standard, "public", expect_silence=True).outcome == "no answer"
    assert not probe(standard, SHA_AES, expect_silence=True).answered


def test_disabled_binds_nothing(agents: SnmpAgents) -> None:
    where = free_udp()
    disabled = dataclasses.replace(AUTHPRIV, mode="DISABLED")
    assert agents.apply({"n": (*where, disabled)}) == {}
    assert agents.bound() == {}
    assert port_is_free(*where)
    assert probe(where, SHA_AES, expect_silence=True).outcome == "no answer"


# --- the wire faults


def test_also_v2c_answers_the_community_in_authpriv_mode(agents: SnmpAgents) -> None:
    where = free_udp()
    agents.apply({"n": (*where, dataclasses.replace(AUTHPRIV, also_v2c=True))})
    assert probe(where, COMMUNITY).answered
    assert probe(where, COMMUNITY, version="v1").answered
    assert probe(where, SHA_AES).answered
    assert probe(where, "public", expect_silence=True).outcome == "no answer"


def test_also_md5_des_accepts_the_same_user_with_md5_and_des(
    agents: SnmpAgents, tmp_path: Path
) -> None:
    where = free_udp()
    agents.apply({"n": (*where, dataclasses.replace(AUTHPRIV, also_md5_des=True))})
    assert probe(where, MD5_DES).value == "Pexip Infinity Conferencing Node"
    assert probe(where, SHA_AES).answered
    assert not probe(where, SnmpV3User(USER, "wrong-auth-key", PRIV, "MD5", "DES")).answered
    assert not probe(where, SnmpV3User(USER, AUTH, "wrong-priv-key", "MD5", "DES")).answered
    assert probe(where, COMMUNITY, expect_silence=True).outcome == "no answer"
    answer = snmpget(where, *V3_MD5_DES, tmp=tmp_path)
    assert answer.returncode == 0 and "Pexip" in answer.stdout, answer.stderr


# --- apply and close


def test_apply_reconfigures(agents: SnmpAgents) -> None:
    where = free_udp()
    agents.apply({"n": (*where, AUTHPRIV)})
    first_id = probe(where, SHA_AES, oid=ENGINE_ID).value
    agents.apply({"n": (*where, AUTHPRIV)})
    assert probe(where, SHA_AES, oid=ENGINE_ID).value == first_id, "unchanged: not restarted"

    new_keys = dataclasses.replace(AUTHPRIV, authentication_password=AUTH + "x")
    agents.apply({"n": (*where, new_keys)})
    assert not probe(where, SHA_AES).answered
    assert probe(where, SnmpV3User(USER, AUTH + "x", PRIV)).answered
    assert probe(where, SnmpV3User(USER, AUTH + "x", PRIV), oid=ENGINE_ID).value != first_id

    agents.apply({"n": (*where, STANDARD)})
    assert probe(where, COMMUNITY).answered
    assert not probe(where, SHA_AES, expect_silence=True).answered

    moved = (where[0], free_udp()[1])
    agents.apply({"n": (*moved, STANDARD)})
    assert agents.bound() == {"n": moved}
    assert port_is_free(*where)
    assert probe(moved, COMMUNITY).answered

    agents.apply({"n": None})
    assert agents.bound() == {} and port_is_free(*moved)


def test_apply_stops_keys_it_no_longer_names(agents: SnmpAgents) -> None:
    first, second = free_udp(), free_udp()
    agents.apply({"a": (*first, AUTHPRIV), "b": (*second, STANDARD)})
    assert set(agents.bound()) == {"a", "b"}
    agents.apply({"b": (*second, STANDARD)})
    assert agents.bound() == {"b": second}
    assert port_is_free(*first) and not port_is_free(*second)
    assert probe(second, COMMUNITY).answered


def test_a_busy_port_is_skipped_and_retried(
    agents: SnmpAgents, caplog: pytest.LogCaptureFixture
) -> None:
    where, other = free_udp(), free_udp()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(where)
    with caplog.at_level(logging.WARNING):
        problems = agents.apply({"busy": (*where, AUTHPRIV), "fine": (*other, AUTHPRIV)})
    assert set(problems) == {"busy"} and f"{where[0]}:{where[1]}" in problems["busy"]
    assert agents.bound() == {"fine": other}
    assert_no_secret(problems, caplog.text, agents)
    blocker.close()
    assert agents.apply({"busy": (*where, AUTHPRIV), "fine": (*other, AUTHPRIV)}) == {}
    assert probe(where, SHA_AES).answered


def test_an_unusable_user_is_a_problem_and_answers_no_one(agents: SnmpAgents) -> None:
    where = free_udp()
    short = dataclasses.replace(AUTHPRIV, privacy_password="short")
    problems = agents.apply({"n": (*where, short)})
    assert "without its SNMPv3 user" in problems["n"]
    assert agents.bound() == {"n": where}
    assert probe(where, SHA_AES).outcome == "refused"


def test_close_stops_everything_and_is_idempotent(agents: SnmpAgents) -> None:
    wanted = {n: (*free_udp(), AUTHPRIV) for n in range(3)}
    agents.apply(wanted)
    agents.close()
    agents.close()
    assert agents.bound() == {}
    assert all(port_is_free(host, port) for host, port, _ in wanted.values())
    assert agents.apply(wanted) == {}, "usable again after close"
    assert probe(wanted[0][:2], SHA_AES).answered


def test_apply_is_thread_safe(agents: SnmpAgents) -> None:
    wanted = {n: (*free_udp(), STANDARD) for n in range(4)}
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            agents.apply(wanted)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert agents.bound() == {n: item[:2] for n, item in wanted.items()}


def test_ipv6_loopback(agents: SnmpAgents) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as finder:
        try:
            finder.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
        port = finder.getsockname()[1]
    assert agents.apply({"n": ("::1", port, AUTHPRIV)}) == {}
    assert get(Endpoint("::1", port, "::1", port), SHA_AES, timeout=3.0).answered


def test_eight_agents_start_quickly(agents: SnmpAgents) -> None:
    wanted = {
        n: (*free_udp(), dataclasses.replace(AUTHPRIV, system_name=f"conf{n:02}.example.com"))
        for n in range(8)
    }
    started = time.perf_counter()
    assert agents.apply(wanted) == {}
    elapsed = time.perf_counter() - started
    print(f"apply with 8 AUTHPRIV agents: {elapsed:.3f} s")
    assert elapsed < 2.0, f"apply with 8 agents took {elapsed:.2f} s"
    assert probe(wanted[7][:2], SHA_AES, oid=SYS_NAME).value == "conf07.example.com"


def test_no_secret_in_reprs() -> None:
    assert_no_secret(AUTHPRIV, STANDARD, SHA_AES, MD5_DES, SnmpAgents())


def test_only_snmpv1_and_v2c_headers_are_read_as_a_communitys() -> None:
    from pyasn1.codec.ber import encoder
    from pysnmp.hlapi.v3arch.asyncio import CommunityData  # noqa: F401 - pysnmp is there
    from pysnmp.proto import api

    from simulator.pexip.snmp import _community_version

    for version, expected in ((api.SNMP_VERSION_1, True), (api.SNMP_VERSION_2C, True)):
        module = api.PROTOCOL_MODULES[version]
        message = module.Message()
        module.apiMessage.set_defaults(message)
        module.apiMessage.set_community(message, "public")
        pdu = module.GetRequestPDU()
        module.apiPDU.set_defaults(pdu)
        module.apiMessage.set_pdu(message, pdu)
        assert _community_version(encoder.encode(message)) is expected
    assert not _community_version(b"\x30\x81\x90\x02\x01\x03" + bytes(140))  # SNMPv3
    assert not _community_version(b"")
    assert not _community_version(b"\x04\x05hello")
