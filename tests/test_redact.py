"""One redaction rule for everything written: by field name, then by value."""

import base64
import hashlib
import logging
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import requests

import accord.http  # noqa: F401 - its filter on urllib3's loggers
from accord import secrets
from accord.evidence import failures
from accord.http import TransportError
from accord.secrets import REDACTED, Secret, is_secret_field, redact


def test_secret_fields_are_redacted_everywhere_in_a_structure():
    observed = {
        "snmp_authentication_password": "abc",
        "snmp_community": "private1",
        "ntp": [{"key": "deadbeef", "key_id": 3, "address": "ntp1"}],
        "ldap_bind_password": "",
        "value": Secret("s3cret"),
    }
    assert redact(observed) == {
        "snmp_authentication_password": REDACTED,
        "snmp_community": REDACTED,
        "ntp": [{"key": REDACTED, "key_id": 3, "address": "ntp1"}],
        "ldap_bind_password": "",
        "value": REDACTED,
    }


def test_key_id_and_ordinary_fields_are_not_secret():
    assert not is_secret_field("key_id")
    assert not is_secret_field("address")
    assert is_secret_field("private_key_passphrase")


# -- by value ------------------------------------------------------------------------------

CANARY = "CANARY-by-value-3f9a1c"


def test_every_form_of_a_secret_is_scrubbed_by_value():
    Secret(CANARY + "/+ &")  # every Secret is remembered as it is made
    value = CANARY + "/+ &"
    secrets.remember_credentials("admin", value)
    forms = [
        value,
        quote(value, safe=""),
        hashlib.sha1(value.encode()).hexdigest(),
        hashlib.sha1(value.encode()).hexdigest().upper(),
        base64.b64encode(value.encode()).decode(),
        "Basic " + base64.b64encode(f"admin:{value}".encode()).decode(),
        "CANARY-by-value-3f9a1c/+ &amp;",
    ]
    for form in forms:
        assert secrets.scrub(f"<p>{form}</p>") == "<p>***</p>", form
    assert redact({"note": f"echoed {value}", "n": 1}) == {"note": "echoed ***", "n": 1}
    assert secrets.scrub("public private") == "public private"


def test_short_values_and_placeholders_are_not_remembered():
    secrets.remember("ab12")
    secrets.remember("REDACTED")
    assert secrets.scrub("ab12 REDACTED") == "ab12 REDACTED"


def test_a_client_failure_is_cut_to_its_line_and_everything_else_scrubbed():
    Secret(CANARY)
    error = TransportError("pexip-primary", "GET", "https://mgr/x/", f"TLS: {CANARY} refused")
    report = SimpleNamespace(
        failed=True,
        longrepr="Traceback ...\nheaders = {'Authorization': '...'}\n",
        sections=[("Captured log call", f"WARNING {CANARY}")],
    )
    call = SimpleNamespace(excinfo=SimpleNamespace(value=error))
    failures.clean(report, call)  # type: ignore[arg-type]
    assert report.longrepr == "pexip-primary: GET https://mgr/x/: TLS: *** refused"
    assert report.sections == [("Captured log call", "WARNING ***")]
    raw = requests.exceptions.ConnectionError("HTTPSConnectionPool(host=...): Max retries")
    assert failures.one_line(raw) == "ConnectionError: the request failed (ConnectionError)"
    skipped = SimpleNamespace(failed=False, longrepr=("f", 1, f"Skipped: {CANARY}"), sections=[])
    failures.clean(skipped, SimpleNamespace(excinfo=None))  # type: ignore[arg-type]
    assert skipped.longrepr == ("f", 1, "Skipped: ***")
    with pytest.raises(TransportError, match=r"\*\*\*"):
        raise error


def test_urllib3_logs_one_scrubbed_line_without_a_traceback(caplog):
    Secret(CANARY)
    logger = logging.getLogger("urllib3.connection")
    try:
        raise ValueError(f"headers {CANARY}")
    except ValueError:
        logger.warning("Failed to parse headers %s", CANARY, exc_info=True)
    (record,) = [r for r in caplog.records if r.name == "urllib3.connection"]
    assert record.getMessage() == "Failed to parse headers *** (ValueError)"
    assert record.exc_info is None and "Traceback" not in caplog.text and CANARY not in caplog.text
