"""Wire observations: a probe's result recorded as JSON and replayed, by its type hints."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from accord.network import Endpoint
from accord.pki import CA
from accord.probes import ports, snmp, tls
from accord.recording import observations
from accord.recording.codec import DecodeError, decode, encode
from accord.recording.observations import Journal, NotRecorded, observed
from accord.recording.recorder import no_network
from accord.recording.scrub import Scrubber

CANARY = "CANARY-snmp-auth-5d1e"
ENDPOINT = Endpoint("192.0.2.10", 443, "127.0.0.1", 8443)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "observations" / "scenario.json"


def _journal(mode: str, path: Path) -> Journal:
    return Journal(mode, path, Scrubber.for_secrets([(CANARY, "stand-in-auth")]))  # type: ignore[arg-type]


@pytest.fixture
def recording(journal_path: Path):
    """Probes recorded into a journal while inside; then it is saved."""
    journal = _journal("record", journal_path)
    observations.activate(journal)
    yield journal
    observations.activate(None)
    journal.save()


def _replaying(path: Path) -> Journal:
    journal = _journal("replay", path)
    observations.activate(journal)
    return journal


@pytest.fixture(autouse=True)
def _inactive():
    yield
    observations.activate(None)


def test_a_handshake_with_its_certificate_chain_round_trips():
    ca = CA.new()
    leaf = ca.issue_cert("node.example.com").cert
    handshake = tls.Handshake(ENDPOINT, "node.example.com", "TLSv1.3", "TLS_AES", (leaf, ca.cert))
    data = json.loads(json.dumps(encode(handshake)))
    assert "BEGIN CERTIFICATE" in data["chain"][0]
    assert decode(data, tls.Handshake) == handshake


def test_a_value_that_does_not_fit_the_type_says_where():
    data = encode(ports.PortProbe(ENDPOINT, "accepted", 0.1))
    data["outcome"] = "exploded"
    with pytest.raises(DecodeError, match=r"outcome: 'exploded' is not one of"):
        decode(data, ports.PortProbe)
    with pytest.raises(DecodeError, match="has no field colour"):
        decode({**encode(ports.PortProbe(ENDPOINT, "accepted", 0.1)), "colour": 1}, ports.PortProbe)


def test_a_probe_is_recorded_then_replayed_with_no_network(recording, journal_path):
    """A port probe on loopback: recorded with its outcome; replayed with sockets refused."""
    server = socket.create_server(("127.0.0.1", 0))
    endpoint = Endpoint("192.0.2.10", 22, "127.0.0.1", server.getsockname()[1])
    try:
        live = ports.tcp_connect(endpoint, timeout=1.0, banner_wait=0.0)
    finally:
        server.close()
    observations.activate(None)
    recording.save()
    assert live.outcome == "accepted"
    _replaying(journal_path)
    with no_network():
        replayed = ports.tcp_connect(endpoint, timeout=5.0)  # a timeout is not what was seen
        with pytest.raises(OSError, match="replay: no network"):
            socket.create_connection(("127.0.0.1", 9))
    assert replayed == live


def test_a_call_the_recording_does_not_hold_names_it(journal_path):
    _replaying(journal_path)
    with pytest.raises(NotRecorded) as info:
        tls.handshake(ENDPOINT, "other.example.com")
    message = str(info.value)
    assert "not in the recording (scenario.json): accord.probes.tls.handshake(" in message
    assert "server_name='other.example.com'" in message


def test_identical_calls_replay_in_the_order_they_were_recorded(journal_path):
    seen = iter(["first", "second"])

    @observed
    def probe(endpoint: Endpoint) -> str:
        return next(seen)

    journal = _journal("record", journal_path)
    observations.activate(journal)
    assert [probe(ENDPOINT), probe(ENDPOINT)] == ["first", "second"]
    observations.activate(None)
    journal.save()
    _replaying(journal_path)
    assert [probe(ENDPOINT), probe(ENDPOINT)] == ["first", "second"]
    with pytest.raises(NotRecorded):
        probe(ENDPOINT)


def test_a_probe_that_raised_raises_again_on_replay(recording, journal_path):
    @observed
    def probe(endpoint: Endpoint) -> str:
        raise snmp.SnmpProbeError("no SNMP engine answered")

    with pytest.raises(snmp.SnmpProbeError):
        probe(ENDPOINT)
    observations.activate(None)
    recording.save()
    _replaying(journal_path)
    with pytest.raises(RuntimeError, match="no SNMP engine answered"):
        probe(ENDPOINT)


def test_a_probe_inside_a_probe_is_part_of_it(recording, journal_path):
    @observed
    def inner(endpoint: Endpoint) -> str:
        return "inner"

    @observed
    def outer(endpoint: Endpoint) -> str:
        return inner(endpoint) + " and outer"

    assert outer(ENDPOINT) == "inner and outer"
    observations.activate(None)
    recording.save()
    written = json.loads(journal_path.read_text())["observations"]
    assert [o["probe"].rsplit(".", 1)[-1] for o in written] == ["outer"]


def test_secrets_in_a_probes_arguments_and_results_are_never_written(recording, journal_path):
    user = snmp.SnmpV3User("accord-nms", CANARY, "CANARY-snmp-priv-c0b4")

    @observed
    def probe(endpoint: Endpoint, credentials: snmp.SnmpV3User, headers: dict[str, str]) -> dict:
        return {"cookies": {"sessionid": "CANARY-cookie"}}

    probe(ENDPOINT, user, {"Cookie": "sessionid=CANARY-cookie", "Accept": "*/*"})
    observations.activate(None)
    recording.save()
    text = journal_path.read_text()
    assert "CANARY" not in text
    written = json.loads(text)["observations"][0]
    assert written["call"]["credentials"]["authentication_password"] == "stand-in-auth"
    assert written["call"]["credentials"]["privacy_password"] == "REDACTED"
    assert written["call"]["headers"] == {"Cookie": "REDACTED", "Accept": "*/*"}
    assert written["result"]["cookies"] == {"sessionid": "REDACTED"}


def test_a_damaged_observations_file_says_which_and_why(journal_path):
    journal_path.parent.mkdir(parents=True)
    journal_path.write_text('{"observations": [{"probe": "x"}]}')
    with pytest.raises(ValueError, match=r"scenario.json: not an observations file \(KeyError"):
        _replaying(journal_path)
