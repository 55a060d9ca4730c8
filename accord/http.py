"""HTTPS sessions for the systems' APIs: `requests`, with the TLS name to verify when it differs.

A site may reach a Management Node by address (or through a tunnel) while its certificate names
the node's FQDN, as the guide's certificates do. `session(server_name=...)` sends that name as
SNI and checks the certificate against it, whatever host the URL names.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _ServerNameAdapter(HTTPAdapter):
    """Every connection presents and verifies ``server_name`` (urllib3's ``server_hostname``)."""

    def __init__(self, server_name: str) -> None:
        self._server_name = server_name
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._server_name
        super().init_poolmanager(*args, **kwargs)


def session(server_name: str | None = None) -> requests.Session:
    """A `requests.Session`; with ``server_name``, HTTPS certificates are checked against it.

    Callers pass ``verify=`` on every request: this machine's REQUESTS_CA_BUNDLE (and any
    user's) would otherwise override ``Session.verify``.
    """
    result = requests.Session()
    if server_name:
        result.mount("https://", _ServerNameAdapter(server_name))
    return result
