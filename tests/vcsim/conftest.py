"""One vcsim per session, seeded once through pyvmomi, for the read-back tests; tests that change
the inventory start their own (a start takes about 0.1 s once the binary is built)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyVim.connect import Disconnect
from pyVmomi import vim

from simulator.vcsim.launcher import VcsimProcess
from simulator.vcsim.seed import InventorySpec, PortGroupSpec, VmSpec, seed

USERNAME = "administrator@vsphere.local"
PASSWORD = "Lab:pass@word/1"  # characters a URL must escape

SPEC = InventorySpec(
    vms=(
        VmSpec("pexip-mgr01", "DC0_H0"),
        VmSpec("pexip-conf01", "DC0_H1", cpus=8, memory_mb=16384, disks_gb=(100, 50)),
        VmSpec("pexip-dr-conf01", "DC0_H1", portgroup="Pexip DR", powered_on=False, cdrom=False),
    ),
    portgroups=(
        PortGroupSpec("Pexip VMs", 100, "vSwitch1"),
        PortGroupSpec("Pexip DR", 200, "vSwitch1"),
    ),
)


@pytest.fixture(scope="session")
def vcsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VcsimProcess]:
    with VcsimProcess(tmp_path_factory.mktemp("vcsim"), USERNAME, PASSWORD, hosts=2) as process:
        yield process


@pytest.fixture(scope="session")
def seeded(vcsim: VcsimProcess) -> Iterator[Any]:
    """A logged-in ServiceInstance of the session's vcsim, seeded with `SPEC`."""
    si = vcsim.connect()
    seed(si, SPEC)
    yield si
    Disconnect(si)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A vcsim of its own (one host, seeded with one VM) that a module's tests may change."""
    with VcsimProcess(tmp_path_factory.mktemp("vcsim-scratch"), USERNAME, PASSWORD) as process:
        si = process.connect()
        seed(si, InventorySpec(vms=(VmSpec("scratch01", "DC0_H0", disks_gb=(100, 20)),)))
        yield si
        Disconnect(si)


def objects(si: Any, kind: type) -> dict[str, Any]:
    """Every object of ``kind``, by name."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return {o.name: o for o in view.view}
    finally:
        view.DestroyView()


def host(si: Any, name: str = "DC0_H0") -> Any:
    return objects(si, vim.HostSystem)[name]


def vm(si: Any, name: str) -> Any:
    return objects(si, vim.VirtualMachine)[name]
