"""`ports.tcp_connect` against real loopback listeners, a closed port, and (as root, with
nftables) a private firewall table that drops or rejects SYNs; testinfra as a cross-check."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import testinfra

from accord.network import Endpoint
from accord.probes import ports
from tests.probes.test_tls_negotiate import endpoint_at, free_port, loopback_address, stream_server

SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


@pytest.fixture
def address() -> str:
    return loopback_address()


def reachable_per_testinfra(endpoint: Endpoint) -> bool:
    """testinfra's view: ``nc -z`` (or bash's /dev/tcp), a yes or a no."""
    host = testinfra.get_host("local://")
    return host.addr(endpoint.host).port(endpoint.connect_port).is_reachable


@contextmanager
def nft_rule(address: str, port: int, verdict: str) -> Iterator[None]:
    """A private nftables table whose input hook applies ``verdict`` to TCP to address:port."""
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root and nftables")
    table = f"accord_probe_test_{os.getpid()}"
    ruleset = (
        f"table ip {table} {{\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        f"    ip daddr {address} tcp dport {port} {verdict}\n"
        "  }\n"
        "}\n"
    )
    made = subprocess.run(["nft", "-f", "-"], input=ruleset, text=True, capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"needs root and nftables: nft says {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "ip", table], check=True)


def test_an_ssh_like_port_is_accepted_and_its_banner_shown(address):
    def ssh(conn: socket.socket) -> None:
        conn.sendall(SSH_BANNER + b"more after the first line")
        conn.recv(1)

    with stream_server(address, handler=ssh) as endpoint:
        probe = ports.tcp_connect(endpoint)
        assert reachable_per_testinfra(endpoint)
    assert probe.accepted and probe.outcome == "accepted"
    assert probe.banner == SSH_BANNER.decode().rstrip("\r\n")
    assert not probe.closed_by_server and probe.elapsed < 1.0
    observed = probe.observation()
    assert observed["outcome"] == "accepted" and observed["banner"].startswith("SSH-2.0-")
    assert observed["connected_to"] == str(endpoint) and observed["protocol"] == "tcp"


def test_a_silent_port_is_accepted_without_a_banner(address):
    with stream_server(address, handler=lambda conn: conn.recv(1)) as endpoint:
        probe = ports.tcp_connect(endpoint, banner_wait=0.2)
    assert (probe.outcome, probe.banner, probe.closed_by_server) == ("accepted", None, False)


def test_a_port_that_hangs_up_is_accepted_and_closed(address):
    with stream_server(address) as endpoint:  # closes every connection at once
        probe = ports.tcp_connect(endpoint, banner_wait=1.0)
    assert (probe.outcome, probe.banner, probe.closed_by_server) == ("accepted", None, True)


def test_banners_are_cut_at_the_limit(address):
    with stream_server(address, handler=lambda conn: conn.sendall(b"x" * 500)) as endpoint:
        probe = ports.tcp_connect(endpoint)
    assert probe.banner == "x" * ports.BANNER_BYTES


def test_a_closed_port_is_reset(address):
    endpoint = endpoint_at(address, free_port(address))
    probe = ports.tcp_connect(endpoint)
    assert probe.outcome == "reset" and not probe.accepted
    assert "ConnectionRefusedError" in probe.error and probe.elapsed < 1.0
    assert not reachable_per_testinfra(endpoint)


def test_a_dropped_syn_times_out(address):
    listener = socket.create_server((address, 0))  # open, but the firewall drops the SYN
    port = listener.getsockname()[1]
    with listener, nft_rule(address, port, "drop"):
        endpoint = endpoint_at(address, port)
        probe = ports.tcp_connect(endpoint, timeout=0.5)
        reachable = reachable_per_testinfra(endpoint)
    assert probe.outcome == "timed out" and 0.45 < probe.elapsed < 2.0
    assert not reachable  # testinfra says "not reachable" for a timeout as for a reset


def test_an_icmp_host_unreachable_is_unreachable(address):
    listener = socket.create_server((address, 0))
    port = listener.getsockname()[1]
    with listener, nft_rule(address, port, "reject with icmp type host-unreachable"):
        probe = ports.tcp_connect(endpoint_at(address, port), timeout=2.0)
    assert probe.outcome == "unreachable", probe
    assert "No route to host" in probe.error and probe.elapsed < 1.0


def test_a_tcp_reset_from_a_firewall_is_reset(address):
    listener = socket.create_server((address, 0))
    port = listener.getsockname()[1]
    with listener, nft_rule(address, port, "reject with tcp reset"):
        probe = ports.tcp_connect(endpoint_at(address, port))
    assert probe.outcome == "reset"


def test_the_banner_wait_does_not_block_a_slow_talker_forever(address):
    started = threading.Event()

    def slow(conn: socket.socket) -> None:
        started.set()
        conn.recv(1)

    with stream_server(address, handler=slow) as endpoint:
        probe = ports.tcp_connect(endpoint, banner_wait=0.1)
    assert started.wait(1.0) and probe.banner is None
