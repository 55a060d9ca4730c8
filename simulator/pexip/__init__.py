"""A simulated Pexip Infinity Management Node: the management API over HTTPS on loopback.

Module layout: ``fields`` (field specs and validation); ``resourcedef``, ``resources`` and
``status_resources`` (the resource definitions); ``state`` (stored state and snapshots);
``seed`` (factory-fresh state); ``rules`` (cross-field rules); ``status`` (derived status
resources); ``models`` (all behaviour); ``query`` (list queries); ``routes`` (``/api/``
routing); ``control`` (``/_sim/``); ``tls`` (listener certificates); ``server`` (the
simulator object).
"""

from simulator.pexip.models import PexipModel
from simulator.pexip.seed import Seed
from simulator.pexip.server import ManagementNodeSimulator

__all__ = ["ManagementNodeSimulator", "PexipModel", "Seed"]
