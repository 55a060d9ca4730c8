"""Accord's simulators: test doubles of the systems Accord verifies, one package per vendor.

Layout: ``core`` (what every simulator shares: HTTPS serving and its acceptor thread, the
per-start listener TLS, the start/stop shape, the API error base, the fault registry behind
``/_sim/faults``, JSON responses, ready lines) is the lowest floor and imports no vendor
package; ``pexip`` (the Management Node: its API, models and node listeners) and
``beyondtrust`` (PRA appliances' certificate stores, their API and TLS listeners) hold only
their API and models, on ``core``, and never import each other; ``ldap`` (the lab's slapd) and
``vcsim`` (the simulated vCenter) stand apart.

THE RULE FOR ``accord.pki``: no simulator builds on it (nor on any of the library's
certificate code). Each vendor package has its own certificate code on ``cryptography`` alone
(``pexip.certdata``, ``beyondtrust.pki``), and what both serve with is in ``core.tls``.
Why: a simulator stands in for the system Accord checks, so its answers are the evidence the
checks are tested on. If the double and the verifier shared a helper (a pairing check, the
chain order of a PKCS#7 bundle, a hostname match, a fingerprint), a bug in it would be in both
the answer and its check, and the acceptance tests would pass on a wrong answer. Two
independent readings of the guide meet only in the tests, which compare them
(``tests/beyondtrust/test_pki.py``, ``tests/simulator/certs.py`` with openssl). Library code
that judges nothing may be used (``accord.snmpengine`` only drives pysnmp's engine; the SNMP
agents are cross-checked with net-snmp); ``tests/simulator/test_layout.py`` holds the code to
this rule.
"""
