"""HTTPS to the systems' APIs: one origin, one deadline, one budget, and one-line errors.

Every API client (the Management Node's, the appliance simulator's) talks through an
`ApiSession`, which cannot be led astray:

- Only the configured origin (``https``, host, port) is ever asked. A redirect is followed only
  when it stays there (GET and HEAD, at most `MAX_REDIRECTS`); one to another host, port or to
  plain HTTP is an `UnexpectedAnswer`. A link from an answer (``meta.next``, a resource URI)
  is resolved with `ApiSession.resolve`, which refuses another origin the same way.
- Credentials go only to that origin: the Basic authorization is added per request, and only
  to a request for the configured origin.
- Certificates are always verified (the site's CA bundle, or the system's trust store), with
  ``verify=`` on every request: this machine's REQUESTS_CA_BUNDLE would otherwise override
  ``Session.verify``. ``server_name`` checks the certificate against a name other than the URL's
  host (a node reached by address or through a tunnel).
- One deadline for the whole request (`Limits.deadline`: connecting, the handshake, the headers
  and the whole body). requests has only per-socket-operation timeouts, so a watchdog thread
  shuts the request's socket down when its deadline passes: a server that answers a byte at
  a time is cut off there, wherever it is. One budget per run (`RunBudget`): once spent, every
  request fails at once. An answer larger than `Limits.max_bytes` is refused as it arrives.
- Whatever goes wrong is a `ClientError`: one line naming the system, the method and the URL
  and what went wrong (``pexip-primary: GET https://…/system_location/: not JSON (text/html)``),
  scrubbed of every secret by value (`accord.secrets`), raised ``from None`` so that
  no traceback of the HTTP stack (whose frames hold the request's headers) comes with it.
"""

from accord.http.deadline import Limits, RunBudget, deadline, watch_connection
from accord.http.errors import (
    BudgetSpent,
    ClientError,
    DeadlineExceeded,
    TransportError,
    UnexpectedAnswer,
    describe,
    json_type,
    late,
    spent,
)
from accord.http.session import (
    MAX_REDIRECTS,
    Answer,
    ApiClient,
    ApiSession,
    ClientOptions,
    Origin,
    origin_of,
    session,
    shown,
)

__all__ = [
    "MAX_REDIRECTS",
    "Answer",
    "ApiClient",
    "ApiSession",
    "BudgetSpent",
    "ClientError",
    "ClientOptions",
    "DeadlineExceeded",
    "Limits",
    "Origin",
    "RunBudget",
    "TransportError",
    "UnexpectedAnswer",
    "deadline",
    "describe",
    "json_type",
    "late",
    "origin_of",
    "session",
    "shown",
    "spent",
    "watch_connection",
]
