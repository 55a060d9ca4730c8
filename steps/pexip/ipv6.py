"""Steps for IPv6 (optional): every node's IPv6 address and gateway, as the site gives them."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, then

from accord.site import Site
from steps.common import Observe

Obj = dict[str, Any]


@given("the site uses IPv6")
def site_uses_ipv6(site: Site) -> None:
    if not site.pexip.ipv6.enabled:
        pytest.skip("the site does not use IPv6 (pexip.ipv6.enabled = false)")


@then("every node has the IPv6 address and IPv6 gateway that the site gives it")
def ipv6_everywhere(nodes: list[Obj], site: Site, observe: Observe) -> None:
    declared = site.pexip.ipv6.nodes
    problems = []
    for node in nodes:
        actual = (node.get("ipv6_address"), node.get("ipv6_gateway"))
        observe(f"node {node['name']}: IPv6 address and gateway", actual)
        if not actual[0] or not actual[1]:
            problems.append(f"{node['name']} has IPv6 address {actual[0]!r}, gateway {actual[1]!r}")
        elif node["name"] in declared:
            want = (declared[node["name"]].address, declared[node["name"]].gateway)
            if actual != want:
                problems.append(f"{node['name']} has {actual}, the site gives {want}")
    assert not problems, "; ".join(problems)
