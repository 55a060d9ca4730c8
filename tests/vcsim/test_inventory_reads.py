"""Accord's vSphere reads cost a fixed number of SOAP calls, however many VMs there are.

Counted on the wire side of pyvmomi (every SOAP request goes through the stub's
``InvokeMethod``), against vcsim seeded with 3 and then 100 Pexip VMs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyVim.connect import Disconnect

from accord.vsphere.inventory import Inventory
from simulator.vcsim.launcher import VcsimProcess
from simulator.vcsim.seed import InventorySpec, VmSpec, seed
from tests.vcsim.conftest import PASSWORD, USERNAME


def count_calls(si: Any) -> tuple[Inventory, list[str]]:
    stub = si._stub
    calls: list[str] = []
    original = stub.InvokeMethod

    def invoke(mo: Any, info: Any, args: Any, *rest: Any, **kw: Any) -> Any:
        calls.append(info.wsdlName)
        return original(mo, info, args, *rest, **kw)

    stub.InvokeMethod = invoke
    try:
        return Inventory.read(si), calls
    finally:
        stub.InvokeMethod = original


@pytest.fixture
def fresh(tmp_path) -> Iterator[Any]:
    with VcsimProcess(tmp_path, USERNAME, PASSWORD, hosts=2) as process:
        si = process.connect()
        yield si
        Disconnect(si)


def test_reading_100_vms_costs_as_many_soap_calls_as_reading_3(fresh):
    seed(fresh, InventorySpec(vms=tuple(VmSpec(f"pexip-{i:03d}", "DC0_H0") for i in range(3))))
    small, few = count_calls(fresh)
    assert len(small.vms) == 3
    more = tuple(VmSpec(f"pexip-{i:03d}", f"DC0_H{i % 2}") for i in range(3, 100))
    seed(fresh, InventorySpec(vms=more))
    large, many = count_calls(fresh)
    assert len(large.vms) == 100 and len(large.hosts) == 2
    assert many == few, (few, many)
    print(f"SOAP calls to read the inventory: {len(few)} for 3 VMs, {len(many)} for 100: {many}")
