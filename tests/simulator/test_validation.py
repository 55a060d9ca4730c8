"""Every kind of bad input: 4xx in the real error shape, naming the field, and no state change."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import CONFIG

LOC = CONFIG + "system_location/1/"
MGR = CONFIG + "management_vm/1/"
GLB = CONFIG + "global/1/"
AUTH = CONFIG + "authentication/1/"
WORKER = {
    "name": "conf09",
    "hostname": "pxconf09",
    "address": "192.0.2.29",
    "netmask": "255.255.255.0",
    "system_location": LOC,
}

REQUIRED = "This field is required."
NULL = "This field cannot be null."
BLANK = "This field cannot be blank."
NOT_STRING = "This field must be a string."
LDAP_REQUIRED = "This field is required when the authentication source includes LDAP."
RANGE_100 = "The media port range must contain at least 100 ports."


def le(n: int) -> str:
    return f"Ensure this value is less than or equal to {n}."


def ge(n: int) -> str:
    return f"Ensure this value is greater than or equal to {n}."


def not_int(shown: str) -> str:
    return f"“{shown}” value must be an integer."


def not_bool(shown: str) -> str:
    return f"“{shown}” value must be either True or False."


def choice(value: str) -> str:
    return f"Value '{value}' is not a valid choice."


def too_long(limit: int, has: int) -> str:
    return f"Ensure this value has at most {limit} characters (it has {has})."


def missing(uri: str) -> str:
    return f"Object does not exist: {uri}"


# (method, path, body, field, message or None for "any message")
CASES = [
    # integers: range, type strictness
    ("PATCH", GLB, {"management_qos": 64}, "management_qos", le(63)),
    ("PATCH", GLB, {"management_qos": -1}, "management_qos", ge(0)),
    ("PATCH", GLB, {"management_qos": True}, "management_qos", not_int("true")),
    ("PATCH", GLB, {"management_qos": "16"}, "management_qos", not_int("16")),
    ("PATCH", GLB, {"management_qos": 16.0}, "management_qos", not_int("16.0")),
    ("PATCH", GLB, {"management_qos": "abc"}, "management_qos", not_int("abc")),
    ("PATCH", GLB, {"management_session_timeout": 4}, "management_session_timeout", None),
    ("PATCH", GLB, {"management_session_timeout": 1441}, "management_session_timeout", None),
    ("PATCH", GLB, {"management_session_timeout": None}, "management_session_timeout", NULL),
    ("PATCH", GLB, {"signalling_ports_start": 9999}, "signalling_ports_start", ge(10000)),
    ("PATCH", GLB, {"media_ports_end": 50000}, "media_ports_end", le(49999)),
    ("PATCH", GLB, {"logs_max_age": 3651}, "logs_max_age", None),
    # booleans
    ("PATCH", GLB, {"enable_sip": "true"}, "enable_sip", not_bool("true")),
    ("PATCH", GLB, {"enable_sip": 1}, "enable_sip", not_bool("1")),
    ("PATCH", GLB, {"enable_sip": None}, "enable_sip", NULL),
    ("PATCH", GLB, {"legacy_api_http": "no"}, "legacy_api_http", None),
    # strings and choices
    ("PATCH", GLB, {"logon_banner": 5}, "logon_banner", NOT_STRING),
    ("PATCH", GLB, {"logon_banner": ["a"]}, "logon_banner", NOT_STRING),
    ("PATCH", GLB, {"logon_banner": "x" * 4097}, "logon_banner", too_long(4096, 4097)),
    ("PATCH", GLB, {"ocsp_responder_url": "u" * 300}, "ocsp_responder_url", too_long(255, 300)),
    ("PATCH", GLB, {"ocsp_state": "on"}, "ocsp_state", choice("on")),
    ("PATCH", GLB, {"crypto_mode": "ON"}, "crypto_mode", choice("ON")),
    ("PATCH", GLB, {"sip_tls_cert_verify_mode": "FOO"}, "sip_tls_cert_verify_mode", choice("FOO")),
    ("PATCH", GLB, {"max_pixels_per_second": "4k"}, "max_pixels_per_second", None),
    # (unknown and read-only fields are ignored, as tastypie does: test_real_api)
    # cross-field rules
    (
        "PATCH",
        GLB,
        {"media_ports_start": 40000, "media_ports_end": 40098},
        "media_ports_end",
        RANGE_100,
    ),
    ("PATCH", GLB, {"media_ports_start": 49950}, "media_ports_end", RANGE_100),
    ("PATCH", GLB, {"media_ports_start": 45000, "media_ports_end": 44000}, "media_ports_end", None),
    (
        "PATCH",
        GLB,
        {"signalling_ports_start": 39000, "signalling_ports_end": 38000},
        "signalling_ports_end",
        None,
    ),
    ("PATCH", AUTH, {"source": "LDAP+LOCAL", "ldap_base_dn": "dc=x"}, "ldap_server", LDAP_REQUIRED),
    (
        "PATCH",
        AUTH,
        {"source": "LDAP", "ldap_server": "ldap.example"},
        "ldap_base_dn",
        LDAP_REQUIRED,
    ),
    ("PATCH", AUTH, {"client_certificate": "CN"}, "client_certificate", None),
    ("PATCH", AUTH, {"source": "ldap"}, "source", choice("ldap")),
    ("PATCH", AUTH, {"client_certificate": "YES"}, "client_certificate", choice("YES")),
    ("PATCH", AUTH, {"api_oauth2_expiration": "3600"}, "api_oauth2_expiration", None),
    ("PATCH", AUTH, {"ldap_permit_no_tls": "false"}, "ldap_permit_no_tls", None),
    # locations: DSCP and MTU
    ("PATCH", LOC, {"media_qos": 64}, "media_qos", le(63)),
    ("PATCH", LOC, {"signalling_qos": -1}, "signalling_qos", ge(0)),
    ("PATCH", LOC, {"signalling_qos": False}, "signalling_qos", not_int("false")),
    ("PATCH", LOC, {"mtu": 511}, "mtu", ge(512)),
    ("PATCH", LOC, {"mtu": 1501}, "mtu", le(1500)),
    ("PATCH", LOC, {"mtu": "1400"}, "mtu", not_int("1400")),
    ("PATCH", LOC, {"name": ""}, "name", BLANK),
    (
        "PATCH",
        LOC,
        {"name": "Datacenter B"},
        "name",
        "System location with this Name already exists.",
    ),
    # relations
    ("PATCH", LOC, {"dns_servers": CONFIG + "dns_server/1/"}, "dns_servers", None),
    (
        "PATCH",
        LOC,
        {"dns_servers": [CONFIG + "dns_server/99/"]},
        "dns_servers",
        missing(CONFIG + "dns_server/99/"),
    ),
    ("PATCH", LOC, {"ntp_servers": [CONFIG + "dns_server/1/"]}, "ntp_servers", None),
    ("PATCH", LOC, {"ntp_servers": ["not a uri"]}, "ntp_servers", missing("not a uri")),
    ("PATCH", LOC, {"syslog_servers": [1]}, "syslog_servers", None),
    ("PATCH", LOC, {"dns_servers": [CONFIG + "dns_server/1"]}, "dns_servers", None),
    (
        "PATCH",
        LOC,
        {"dns_servers": ["https://127.0.0.1" + CONFIG + "dns_server/1/"]},
        "dns_servers",
        None,
    ),
    ("PATCH", LOC, {"dns_servers": [None]}, "dns_servers", None),
    ("PATCH", LOC, {"dns_servers": [{"id": 1}]}, "dns_servers", None),
    ("PATCH", MGR, {"tls_certificate": CONFIG + "tls_certificate/99/"}, "tls_certificate", None),
    ("PATCH", MGR, {"static_routes": [CONFIG + "static_route/1/"]}, "static_routes", None),
    (
        "PATCH",
        CONFIG + "worker_vm/1/",
        {"system_location": CONFIG + "system_location/9/"},
        "system_location",
        None,
    ),
    ("PATCH", CONFIG + "worker_vm/1/", {"system_location": None}, "system_location", NULL),
    ("PATCH", CONFIG + "worker_vm/1/", {"system_location": 1}, "system_location", None),
    (
        "PATCH",
        CONFIG + "role/1/",
        {"permissions": [CONFIG + "permission/99/"]},
        "permissions",
        None,
    ),
    ("PATCH", CONFIG + "role/1/", {"permissions": [CONFIG + "role/1/"]}, "permissions", None),
    # nodes
    ("PATCH", MGR, {"mtu": 1501}, "mtu", le(1500)),
    ("PATCH", MGR, {"enable_ssh": "off"}, "enable_ssh", choice("off")),
    ("PATCH", MGR, {"snmp_mode": "SNMPV3"}, "snmp_mode", choice("SNMPV3")),
    ("PATCH", MGR, {"snmp_community": "c" * 17}, "snmp_community", too_long(16, 17)),
    ("PATCH", MGR, {"name": "n" * 33}, "name", too_long(32, 33)),
    ("PATCH", MGR, {"hostname": None}, "hostname", NULL),
    ("PATCH", MGR, {"address": "999.1.1.1"}, "address", "Enter a valid IPv4 address."),
    ("PATCH", MGR, {"ipv6_address": "192.0.2.1"}, "ipv6_address", "Enter a valid IPv6 address."),
    ("PATCH", MGR, {"initializing": "no"}, "initializing", None),
    ("PATCH", CONFIG + "worker_vm/1/", {"node_type": "TRANSCODING"}, "node_type", None),
    ("PATCH", CONFIG + "worker_vm/1/", {"vm_cpu_count": 1}, "vm_cpu_count", None),
    ("PATCH", CONFIG + "worker_vm/1/", {"vm_system_memory": 64001}, "vm_system_memory", None),
    ("PATCH", CONFIG + "worker_vm/1/", {"deployment_type": "manual"}, "deployment_type", None),
    (
        "PATCH",
        CONFIG + "worker_vm/1/",
        {"name": "conf02"},
        "name",
        "Conferencing node with this Name already exists.",
    ),
    ("PATCH", CONFIG + "worker_vm/1/", {"address": "192.0.2.22"}, "address", None),
    (
        "POST",
        CONFIG + "worker_vm/",
        {k: v for k, v in WORKER.items() if k != "system_location"},
        "system_location",
        REQUIRED,
    ),
    ("POST", CONFIG + "worker_vm/", {**WORKER, "hostname": "pxconf01"}, "hostname", None),
    # servers
    ("POST", CONFIG + "dns_server/", {}, "address", REQUIRED),
    (
        "POST",
        CONFIG + "dns_server/",
        {"address": "dns.example.com"},
        "address",
        "Enter a valid IPv4 or IPv6 address.",
    ),
    ("POST", CONFIG + "dns_server/", {"address": ""}, "address", BLANK),
    ("POST", CONFIG + "ntp_server/", {"address": "ntp", "key_id": 0}, "key_id", None),
    ("POST", CONFIG + "ntp_server/", {"address": "ntp", "key_id": 65536}, "key_id", None),
    ("POST", CONFIG + "ntp_server/", {"address": "ntp", "key_id": "1"}, "key_id", None),
    ("POST", CONFIG + "syslog_server/", {"address": "log", "port": 0}, "port", None),
    ("POST", CONFIG + "syslog_server/", {"address": "log", "port": 65536}, "port", None),
    ("POST", CONFIG + "syslog_server/", {"address": "log", "transport": "TCP"}, "transport", None),
    ("POST", CONFIG + "syslog_server/", {"address": "log", "audit_log": 0}, "audit_log", None),
    ("POST", CONFIG + "role/", {"permissions": []}, "name", REQUIRED),
    ("POST", CONFIG + "ldap_role/", {"name": "x"}, "ldap_group_dn", REQUIRED),
    (
        "POST",
        CONFIG + "ldap_role/",
        {"name": "x", "ldap_group_dn": "cn=x", "roles": [CONFIG + "role/7/"]},
        "roles",
        None,
    ),
    ("POST", CONFIG + "licence/", {"entitlement_id": 5}, "entitlement_id", NOT_STRING),
    ("PUT", CONFIG + "dns_server/1/", {"description": "no address"}, "address", REQUIRED),
]


def _resource(path: str) -> str:
    return path.removeprefix(CONFIG).split("/")[0]


@pytest.mark.parametrize(("method", "path", "body", "field", "message"), CASES)
def test_bad_input_is_rejected_in_the_real_shape_and_changes_nothing(
    api, method, path, body, field, message
):
    before = api.state()
    response = api.request(method, path, json=body)
    assert response.status_code == 400, response.text
    errors = response.json()
    assert list(errors) == [_resource(path)]
    assert field in errors[_resource(path)]
    messages = errors[_resource(path)][field]
    assert messages and all(isinstance(m, str) and m for m in messages)
    if message is not None:
        assert messages == [message]
    assert api.state() == before


def test_all_field_errors_of_a_request_are_collected(api):
    response = api.patch(
        GLB, json={"management_qos": 99, "enable_sip": "yes", "bogus": 1, "ocsp_state": "x"}
    )
    # "bogus" is not a field of global: ignored, as the real (tastypie) API ignores it.
    assert set(response.json()["global"]) == {"management_qos", "enable_sip", "ocsp_state"}


def test_multi_field_patch_with_one_bad_field_changes_nothing(api):
    before = api.state()
    response = api.patch(
        LOC,
        json={
            "media_qos": 51,
            "signalling_qos": 40,
            "mtu": 1400,
            "name": "Renamed",
            "dns_servers": [CONFIG + "dns_server/1/", CONFIG + "dns_server/77/"],
        },
    )
    assert response.status_code == 400
    assert list(response.json()["system_location"]) == ["dns_servers"]
    assert api.state() == before
    location = api.ok(LOC)
    assert (location["media_qos"], location["mtu"], location["name"]) == (0, 1500, "Datacenter A")


def test_ldap_rules_evaluate_on_the_resulting_state(api):
    ldap = {"source": "LDAP+LOCAL", "ldap_server": "ldap.example", "ldap_base_dn": "dc=example"}
    assert api.patch(AUTH, json=ldap).status_code == 202
    assert api.patch(AUTH, json={"client_certificate": "CN"}).status_code == 202
    emptied = api.patch(AUTH, json={"ldap_server": ""})
    assert emptied.json() == {
        "authentication": {
            "ldap_server": ["This field is required when the authentication source includes LDAP."]
        }
    }
    local = api.patch(AUTH, json={"source": "LOCAL"})
    assert list(local.json()["authentication"]) == ["client_certificate"]
    assert api.patch(AUTH, json={"source": "LOCAL", "client_certificate": "NO"}).status_code == 202
    assert api.patch(AUTH, json={"ldap_server": ""}).status_code == 202
    assert api.patch(GLB, json={"media_ports_start": 49900}).status_code == 202  # 100 ports


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"",
        b"[1, 2]",
        b"null",
        b'"string"',
        b"42",
        b'{"management_qos": NaN}',
        b'{"management_qos": Infinity}',
        b'{"logon_banner": "\xff\xfe"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"management_qos": 1' + b"0" * 5000 + b"}",
    ],
)
def test_malformed_json_or_non_object_body_is_400(api, raw):
    before = api.state()
    for method, path in (("PATCH", GLB), ("POST", CONFIG + "dns_server/"), ("PUT", LOC)):
        response = api.request(method, path, data=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"error"}
        assert body["error"].startswith("Malformed JSON in request body: ")
    assert api.state() == before


def test_unknown_id_is_404_on_detail_but_400_as_a_relation(api):
    assert api.patch(CONFIG + "dns_server/42/", json={"description": "x"}).status_code == 404
    assert api.put(CONFIG + "dns_server/42/", json={"address": "192.0.2.1"}).status_code == 404
    assert api.delete(CONFIG + "dns_server/abc/").status_code == 404
    relation = api.patch(MGR, json={"dns_servers": [CONFIG + "dns_server/42/"]})
    assert relation.status_code == 400 and "dns_servers" in relation.json()["management_vm"]


def test_valid_values_at_the_edges_are_accepted(api):
    edges = {
        GLB: {"management_qos": 63, "media_ports_start": 10000, "media_ports_end": 10099},
        LOC: {"media_qos": 0, "signalling_qos": 63, "mtu": 512},
        MGR: {
            "mtu": 1500,
            "snmp_privacy_password": "x" * 8,
            "snmp_authentication_password": "y" * 100,
        },
        CONFIG + "ntp_server/1/": {"key_id": 65535, "key": "k"},
    }
    for path, body in edges.items():
        assert api.patch(path, json=body).status_code == 202, (
            path,
            api.patch(path, json=body).text,
        )
