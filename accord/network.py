"""Where this machine reaches a node: the deployment's address and port, translated if needed.

A site file may say that the nodes' addresses and ports are reached elsewhere (a tunnel, a NAT,
the simulator's loopback addresses): ``address_map`` maps each host of one network to the same
host of another, ``port_map`` maps ports. With neither, a node is reached where it says it is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A node's ``address:port`` as the deployment names it, and where it is reached."""

    address: str
    port: int
    host: str
    connect_port: int

    def __str__(self) -> str:
        named = f"{self.address}:{self.port}"
        reached = f"{self.host}:{self.connect_port}"
        return named if named == reached else f"{named} (reached at {reached})"


class AddressMap:
    """Translate node addresses and ports as a site's ``address_map`` and ``port_map`` say."""

    def __init__(
        self,
        address_map: Mapping[str, str] | None = None,
        port_map: Mapping[str, int] | None = None,
    ) -> None:
        self._networks = [
            (ipaddress.ip_network(a), ipaddress.ip_network(b))
            for a, b in (address_map or {}).items()
        ]
        self._ports = {int(k): v for k, v in (port_map or {}).items()}
        self._known: dict[tuple[str, int], Endpoint] = {}

    def endpoint(self, address: str, port: int) -> Endpoint:
        """Where ``address:port`` is reached from here (worked out once per address and port)."""
        known = self._known.get((address, port))
        if known is None:
            known = self._known[(address, port)] = self._translate(address, port)
        return known

    def _translate(self, address: str, port: int) -> Endpoint:
        host = address
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        for source, destination in self._networks:
            if ip is not None and ip.version == source.version and ip in source:
                offset = int(ip) - int(source.network_address)
                host = str(destination.network_address + offset)
                break
        return Endpoint(address, port, host, self._ports.get(port, port))
