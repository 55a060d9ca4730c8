"""vcrpy cassettes of the systems' APIs: the Pexip and appliance clients (`requests`) and
pyvmomi's SOAP.

pyvmomi keeps its own reference to ``HTTPSConnection`` (in ``pyVmomi.SoapAdapter`` and
``pyVim.connect``), which vcrpy's default patches do not reach: `custom_patches` replace them
with vcrpy's stub. Every SOAP call is ``POST /sdk``, so SOAP requests also match on their
SOAPAction header and their (scrubbed) body; every other request matches on method and URL.
A cassette is written only through the `Scrubber`, and a replayed request is scrubbed the same
way before it is matched (vcrpy applies ``before_record_request`` to both).
"""

from __future__ import annotations

from typing import Any

import pyVim.connect
import pyVmomi.SoapAdapter
import vcr
from vcr.request import Request
from vcr.stubs import VCRHTTPSConnection

from accord.recording.scrub import Scrubber

MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "soap")


def soap_matches(recorded: Request, replayed: Request) -> None:
    """SOAP calls (``POST .../sdk``) are told apart by SOAPAction and body; others always pass
    (vcrpy's matchers raise `AssertionError` to say "no match")."""
    if not (recorded.method == "POST" and recorded.path.endswith("/sdk")):
        return
    assert recorded.headers.get("SOAPAction") == replayed.headers.get("SOAPAction"), (
        "SOAPAction differs"
    )
    assert _text(recorded.body) == _text(replayed.body), "SOAP body differs"


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return "" if body is None else str(body)


def recorder(replay: bool, scrubber: Scrubber) -> vcr.VCR:
    """A VCR that records everything (each scenario's cassette written anew) or, replaying,
    plays back only: a request its cassette does not hold raises vcrpy's
    ``CannotOverwriteExistingCassetteException``, naming the request."""
    result = vcr.VCR(
        record_mode="none" if replay else "all",
        match_on=MATCH_ON,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
        custom_patches=(
            (pyVmomi.SoapAdapter, "HTTPSConnection", VCRHTTPSConnection),
            (pyVim.connect, "HTTPSConnection", VCRHTTPSConnection),
        ),
    )
    result.register_matcher("soap", soap_matches)
    return result
