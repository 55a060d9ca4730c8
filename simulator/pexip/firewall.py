"""Packets to a node's closed ports dropped, not rejected: the kernel's job, through nftables.

A closed TCP port answers a SYN with a reset and a closed UDP port with ICMP port unreachable;
only a firewall makes them silent. The security wizard's "Drop incoming packets to closed
ports rather than reject" is therefore simulated with a private nftables table per simulator
(``table ip accord_sim_<pid>_<n>``) holding, for each node that drops, rules on that node's own
loopback address only: TCP and UDP to any port the node does not listen on are dropped
(connections already established, and the replies to the node's own connections, pass). The
table is replaced as a whole at each ``apply`` (``nft -f``, atomic) and deleted by ``close``.
Nothing outside the node addresses is touched.

This needs root and Debian's ``nft`` (``make test`` installs nftables). Without them
``available`` is False, ``apply`` does nothing and ``why_unavailable`` says why: closed ports
then reject (the kernel's default), and a scenario that must see packets dropped is reported
"not run: needs root" by the harness, never passed.

The issue asked for a network namespace per node; a namespace would need a veth pair and
routes for every node address for the probes in the root namespace to reach it. Rules bound to
the node's own loopback address give the same observable behaviour with nothing to route.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class OpenPorts:
    """The ports a node listens on (everything else is closed)."""

    tcp: frozenset[int]
    udp: frozenset[int]


def _why_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (nftables rules drop the packets)"
    if shutil.which("nft") is None:
        return "needs nftables (`make test` installs the Debian package nftables)"
    return None


def _match(proto: str, ports: Iterable[int]) -> str:
    listed = sorted(ports)
    if not listed:
        return f"meta l4proto {proto}"
    return f"{proto} dport != {{ {', '.join(str(p) for p in listed)} }}"


class Firewall:
    """The simulator's nftables table (see module doc). Thread-safe."""

    def __init__(self) -> None:
        self.why_unavailable = _why_unavailable()
        self.table = f"accord_sim_{os.getpid()}_{next(_COUNTER)}"
        self._lock = threading.Lock()
        self._loaded = False
        self._applied: str | None = None  # the ruleset nft holds now

    @property
    def available(self) -> bool:
        return self.why_unavailable is None

    def ruleset(self, dropping: Mapping[str, OpenPorts]) -> str:
        """The nft script replacing this simulator's table: drop rules per node address."""
        rules = ["ct state established,related accept"]
        for host, ports in sorted(dropping.items()):
            rules.append(f"ip daddr {host} {_match('tcp', ports.tcp)} drop")
            rules.append(f"ip daddr {host} {_match('udp', ports.udp)} drop")
        body = "\n".join(f"    {rule}" for rule in rules)
        return (
            f"table ip {self.table} {{}}\n"
            f"delete table ip {self.table}\n"
            f"table ip {self.table} {{\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"{body}\n"
            "  }\n"
            "}\n"
        )

    def apply(self, dropping: Mapping[str, OpenPorts]) -> None:
        """Drop packets to the closed ports of the ``dropping`` node addresses (and no
        others). Raises ``RuntimeError`` with nft's message if nft refuses the rules; does
        nothing when unavailable."""
        if not self.available:
            return
        with self._lock:
            if not dropping and not self._loaded:
                return
            ruleset = self.ruleset(dropping)
            if ruleset == self._applied:
                return  # nothing changed: no nft call (every API write follows the model)
            self._nft(ruleset)
            self._loaded = True
            self._applied = ruleset

    def close(self) -> None:
        """Delete the table (idempotent; never raises)."""
        with self._lock:
            if not self._loaded:
                return
            self._loaded = False
            self._applied = None
            try:
                self._nft(f"table ip {self.table} {{}}\ndelete table ip {self.table}\n")
            except RuntimeError:
                pass

    def _nft(self, script: str) -> None:
        done = subprocess.run(
            ["nft", "-f", "-"], input=script, capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise RuntimeError(f"nft refused the rules of {self.table}: {done.stderr.strip()}")
