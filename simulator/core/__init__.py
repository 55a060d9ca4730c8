"""What every simulator shares; a vendor's package holds only its API and its models.

- ``serving``: HTTPS servers on bound sockets, the one acceptor thread that serves them all,
  the quiet request handler, HSTS, `listen_https` and `https_url`.
- ``tls``: the per-start CA and leaf an API listener serves when nothing else is assigned.
- ``service``: the start/stop/``with`` shape of every simulator object and listener.
- ``errors``: the base of the typed errors an API answers with, and the twins of every API
  (401 with a Basic challenge, 404, 405 with ``Allow``, 413).
- ``faults``: the fault switchboard behind ``/_sim/faults`` (set, replace, clear, describe);
  each vendor keeps its own catalogue and the places its faults break.
- ``web``: JSON responses, error responses and bounded JSON bodies for the routes.
- ``lines``: the lines a child process prints, waited for with a deadline (ready lines).

Nothing here imports a vendor package: ``core`` is the simulators' lowest floor.
"""
