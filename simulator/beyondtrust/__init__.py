"""A TEST DOUBLE of BeyondTrust Privileged Remote Access appliances' certificate stores.

This is not BeyondTrust software and not a model of its internals. A real appliance has NO
certificate API: certificates are managed only in its /appliance web interface, Security >
Certificates. The JSON API here is Accord's own, named after that page's actions and fields
(Create, Import, Export, Default, Delete, Friendly Name, Issued To, Issued By, Expiration,
Alternative Name(s), Private Key?), so that Accord's acceptance tests can perform the guide's
steps ("BeyondTrust PRA SSL Certificates") against something that behaves as the guide
describes. Where the guide is silent the behaviour is an assumption, marked INFERRED in the
docstring that makes it. Live appliances are verified through their TLS behaviour only, which
``listener`` reproduces: SNI auto-selection with a default.

Module layout: ``errors`` (typed errors, each naming its field); ``fields`` (the Create form);
``pki`` (the appliance's own certificate toolkit on ``cryptography``: never ``accord.pki``, see
``simulator``'s rule); ``material`` (making, reading and classifying certificates); ``exports``
(Export and the support bundle); ``store`` (the immutable store snapshot, table rows and
warnings, SNI selection); ``models`` (``Appliance`` and ``Site``: the operations); ``listener``
(each appliance's TLS listener); ``routes`` (the JSON API); ``faults`` (fault injection: one
guide behaviour broken on purpose, for tests); ``server`` (the WSGI app, the ``/_sim/``
control plane and ``BeyondTrustSimulator``). Serving, the API's TLS, the error base, the fault
registry and JSON responses are ``simulator.core``'s.
"""

from simulator.beyondtrust.faults import FAULTS, Faults
from simulator.beyondtrust.listener import ApplianceListener
from simulator.beyondtrust.models import Appliance, ApplianceSpec, ImportResult, Site
from simulator.beyondtrust.server import BeyondTrustSimulator

__all__ = [
    "FAULTS",
    "Appliance",
    "ApplianceListener",
    "ApplianceSpec",
    "BeyondTrustSimulator",
    "Faults",
    "ImportResult",
    "Site",
]
