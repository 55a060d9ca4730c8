"""One redaction rule for everything written."""

from accord.evidence.redact import REDACTED, is_secret_field, redact
from accord.site import Secret


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
