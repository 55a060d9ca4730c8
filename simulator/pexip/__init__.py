"""A simulated Pexip Infinity Management Node: the management API over HTTPS on loopback.

Module layout: ``fields`` (field specs and validation); ``resourcedef``, ``resources``,
``certificate_resources`` and ``status_resources`` (the resource definitions); ``state``
(stored state and snapshots); ``seed`` (factory-fresh state); ``rules`` (cross-field rules);
``status`` (derived status resources); ``models`` (all behaviour); ``certificates/`` (the
certificate resources' behaviour, one module per resource: uploads, CSRs, import, downloads,
alarms, the shipped certificates) over ``certdata`` (parsing and making certificate data,
independent of Accord's own ``accord/pki`` on purpose: ``simulator``'s rule) and ``keycache``
(the per-machine cache of slow RSA-4096 keys and DH-2048 parameters); ``query`` (list
queries); ``routes`` (``/api/``, including the ``certificates_import`` command); ``control``
(``/_sim/``: reset, state, request log, clock, the UI's certificate download and export);
``errors`` and ``faults`` (the API's errors and the fault catalogue, on ``simulator.core``'s
bases); ``listeners`` (``node_listeners=True``: every node's HTTPS and SIP TLS listeners on a
loopback /24 that mirrors the seed's) over ``nodetls`` (the certificate and chain each listener
serves, chosen per handshake; sync delay); ``server`` (the simulator object). HTTPS serving,
HSTS and the API's per-start certificate (when there are no node listeners) are
``simulator.core``'s.
"""

from simulator.pexip.models import PexipModel
from simulator.pexip.seed import Seed
from simulator.pexip.server import ManagementNodeSimulator

__all__ = ["ManagementNodeSimulator", "PexipModel", "Seed"]
