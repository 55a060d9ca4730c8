"""Accord's SNMP probe against the simulator's SNMP agents: outcomes, evidence, no secrets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import socket
import threading
from collections.abc import Iterator

import pytest

from accord.network import AddressMap, Endpoint
from accord.probes.snmp import (
    _LOOP,
    REDACTED_COMMUNITY,
    SnmpObservation,
    SnmpProbeError,
    SnmpV3User,
    _scrub,
    get,
    shared_engines,
)
from simulator.pexip.snmp import AgentConfig, SnmpAgents

RNG = random.Random()
USER, AUTH, PRIV, COMMUNITY = "reader", "Auth-Pass-5150", "Priv-Pass-6260", "Comm-Str-7370"
SECRETS = (AUTH, PRIV, COMMUNITY)
USER_SHA_AES = SnmpV3User(USER, AUTH, PRIV)
CONFIG = AgentConfig(
    mode="AUTHPRIV",
    community=COMMUNITY,
    username=USER,
    authentication_password=AUTH,
    privacy_password=PRIV,
    system_description="Pexip Infinity Management Node",
    system_name="mgr.example.com",
    contact="noc@example.com",
    location="Room 1",
)


def free_udp() -> tuple[str, int]:
    """A random loopback address and a UDP port free on it (just now)."""
    while True:
        host = f"127.{RNG.randint(1, 254)}.{RNG.randint(0, 255)}.{RNG.randint(1, 254)}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as finder:
            try:
                finder.bind((host, 0))
            except OSError:
                continue
            return host, finder.getsockname()[1]


def no_secret(found: SnmpObservation) -> SnmpObservation:
    text = repr(found) + json.dumps(found.observation())
    for secret in SECRETS:
        assert secret not in text
    return found


@pytest.fixture(scope="module")
def nodes() -> Iterator[dict[str, Endpoint]]:
    """An AUTHPRIV node that also answers v2c (to probe both ways) and a STANDARD one."""
    agents = SnmpAgents()
    authpriv, standard = free_udp(), free_udp()
    agents.apply(
        {
            "authpriv": (*authpriv, dataclasses.replace(CONFIG, also_v2c=True)),
            "standard": (*standard, dataclasses.replace(CONFIG, mode="STANDARD")),
        }
    )
    yield {
        "authpriv": Endpoint(*authpriv, *authpriv),
        "standard": Endpoint(*standard, *standard),
    }
    agents.close()


def test_answered_v3(nodes: dict[str, Endpoint]) -> None:
    found = no_secret(get(nodes["authpriv"], USER_SHA_AES, timeout=3.0))
    assert found.answered and found.outcome == "answered"
    assert found.value == "Pexip Infinity Management Node" and found.detail is None
    assert found.sent == {
        "version": "v3",
        "security_level": "authPriv",
        "user": USER,
        "authentication": "HMAC-SHA-96 (SHA1)",
        "privacy": "CFB128-AES-128",
        "oid": "1.3.6.1.2.1.1.1.0",
    }
    evidence = found.observation()
    assert evidence["endpoint"] == str(nodes["authpriv"]) and evidence["outcome"] == "answered"
    json.dumps(evidence)


def test_answered_community_is_redacted(nodes: dict[str, Endpoint]) -> None:
    for version in ("v2c", "v1"):
        found = no_secret(get(nodes["standard"], COMMUNITY, version=version, timeout=3.0))
        assert found.answered and found.value == "Pexip Infinity Management Node"
        assert found.sent["version"] == version and found.sent["user"] == REDACTED_COMMUNITY


def test_refused_says_why(nodes: dict[str, Endpoint]) -> None:
    md5 = SnmpV3User(USER, AUTH, PRIV, "MD5", "DES")
    found = no_secret(get(nodes["authpriv"], md5, timeout=3.0))
    assert found.outcome == "refused" and not found.answered and found.value is None
    assert found.detail and "digest" in found.detail
    assert found.sent["authentication"] == "HMAC-MD5-96" and found.sent["privacy"] == "CBC-DES"
    unknown = no_secret(get(nodes["standard"], USER_SHA_AES, timeout=3.0))
    assert unknown.outcome == "refused" and "Unknown USM user" in (unknown.detail or "")


def test_refused_when_the_oid_has_no_value(nodes: dict[str, Endpoint]) -> None:
    found = no_secret(get(nodes["standard"], COMMUNITY, oid="1.3.6.1.2.1.1.99.0", timeout=3.0))
    assert found.outcome == "refused" and found.detail == "noSuchObject"
    hidden = "1.3.6.1.6.3.18.1.1.1.2.1"  # the community table is outside the view
    assert not no_secret(get(nodes["standard"], COMMUNITY, oid=hidden, timeout=3.0)).answered


def test_no_answer(nodes: dict[str, Endpoint]) -> None:
    found = no_secret(get(nodes["standard"], "public", timeout=0.3))
    assert found.outcome == "no answer" and not found.answered
    assert found.detail == "no response within 0.3 s (1 attempt)"
    closed = Endpoint(*free_udp(), *free_udp())
    assert get(closed, USER_SHA_AES, timeout=0.3, retries=1).detail == (
        "no response within 0.3 s (2 attempts)"
    )


def test_sends_where_the_endpoint_is_reached(nodes: dict[str, Endpoint]) -> None:
    reached = nodes["standard"]
    mapped = AddressMap({"10.0.0.0/8": f"{reached.host}/32"}, {161: reached.connect_port})
    endpoint = mapped.endpoint("10.0.0.0", 161)
    found = no_secret(get(endpoint, COMMUNITY, timeout=3.0))
    assert found.answered and found.observation()["endpoint"] == str(endpoint)
    assert "10.0.0.0:161" in str(endpoint) and reached.host in str(endpoint)


def test_works_from_a_thread_and_from_a_running_loop(nodes: dict[str, Endpoint]) -> None:
    results: list[SnmpObservation] = []
    worker = threading.Thread(target=lambda: results.append(get(nodes["authpriv"], USER_SHA_AES)))
    worker.start()
    worker.join()

    async def inside_a_loop() -> SnmpObservation:
        return get(nodes["authpriv"], COMMUNITY)

    results.append(asyncio.run(inside_a_loop()))
    assert [found.answered for found in results] == [True, True]


def test_refuses_bad_arguments_without_echoing_secrets(nodes: dict[str, Endpoint]) -> None:
    with pytest.raises(ValueError, match="version"):
        get(nodes["standard"], COMMUNITY, version="v3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="OID"):
        get(nodes["standard"], COMMUNITY, oid="sysDescr.0")
    with pytest.raises(ValueError, match="8 characters") as short:
        get(nodes["authpriv"], SnmpV3User(USER, "short", PRIV))
    assert PRIV not in str(short.value) and "short" not in str(short.value)
    with pytest.raises(ValueError, match="protocol"):
        get(nodes["authpriv"], SnmpV3User(USER, AUTH, PRIV, "SHA256", "AES"))  # type: ignore[arg-type]


def test_a_local_failure_is_an_error_without_secrets() -> None:
    nowhere = Endpoint("node.invalid", 161, "node.invalid", 161)
    with pytest.raises(SnmpProbeError, match="node.invalid") as failed:
        get(nowhere, COMMUNITY, timeout=0.3)
    assert COMMUNITY not in str(failed.value) and failed.value.__cause__ is None


def test_no_secret_in_reprs_or_details() -> None:
    user = repr(SnmpV3User(USER, AUTH, PRIV))
    assert USER in user and AUTH not in user and PRIV not in user
    assert _scrub(f"bad key {AUTH} or {PRIV}", (AUTH, PRIV)) == "bad key *** or ***"


def test_an_agent_restarted_with_a_new_engine_id_still_answers() -> None:
    """Outside a run's `shared_engines`, each probe has its own engine: after the agent
    restarts with a new engine ID, the next probe is still answered."""
    agents = SnmpAgents()
    host, port = free_udp()
    endpoint = Endpoint(host, port, host, port)
    try:
        agents.apply({"node": (host, port, CONFIG)})
        assert get(endpoint, USER_SHA_AES, timeout=3.0).outcome == "answered"
        agents.apply({"node": None})
        agents.apply({"node": (host, port, dataclasses.replace(CONFIG, location="Room 2"))})
        assert get(endpoint, USER_SHA_AES, timeout=3.0).outcome == "answered"
    finally:
        agents.close()


def test_shared_engines_answer_every_node_of_a_run(nodes: dict[str, Endpoint]) -> None:
    """Within `shared_engines` the same credentials reuse one engine across probes and nodes."""
    with shared_engines():
        for _ in range(3):
            assert get(nodes["authpriv"], USER_SHA_AES, timeout=3.0).outcome == "answered"
            assert get(nodes["standard"], COMMUNITY, version="v2c").outcome == "answered"
        assert len(_LOOP.engines or {}) == 2
    assert _LOOP.engines is None
