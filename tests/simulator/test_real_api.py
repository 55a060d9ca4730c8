"""The simulator speaks the whole real API, as a test double for Pexip's own clients.

Every served resource knows every field of the real resource (the real schema's field names,
below as data); a full object read can be sent back whole (PATCH and PUT) and changes nothing;
a create with every field works; ``schema/`` lists exactly the declared fields; fields the
real API does not know, and read-only ones, are ignored as tastypie ignores them (and named in
the request log). The bodies are built from the declarations themselves.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest

from simulator.pexip.fields import (
    BooleanField,
    DateTimeField,
    DictField,
    Field,
    IntegerField,
    IPAddressField,
    ListField,
    StringField,
)
from simulator.pexip.relations import CodecListField, ToManyField, ToOneField
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import RESOURCES
from tests.simulator.certs import CA
from tests.simulator.conftest import CONFIG, STATUS

# The real schema's fields (pexip-api-reference.md [SCHEMA]: generated from a real Management
# Node's schema page), by resource. ``ldap_role`` also has ``id`` here (the source omits it).
_NODE = (
    "address alternative_fqdn description domain enable_ssh gateway hostname id ipv6_address "
    "ipv6_gateway name netmask resource_uri snmp_authentication_password snmp_community "
    "snmp_mode snmp_privacy_password snmp_system_contact snmp_system_location snmp_username "
    "ssh_authorized_keys ssh_authorized_keys_use_cloud static_nat_address static_routes "
    "tls_certificate tls_client_certificate"
)
_CERT = (
    "certificate end_date id issuer_hash issuer_key_id issuer_name key_id raw_issuer "
    "raw_subject resource_uri serial_no start_date subject_hash subject_name text"
)
_SYNC = "configuration_id id last_attempted_contact last_updated name resource_uri sync_status "
_SYNC += "upgrade_status version"
REAL_FIELDS: dict[tuple[str, str], str] = {
    ("configuration", "global"): (
        "aws_access_key aws_secret_key azure_client_id azure_secret azure_subscription_id "
        "azure_tenant bdpm_max_pin_failures_per_window bdpm_max_scan_attempts_per_window "
        "bdpm_pin_checks_enabled bdpm_scan_quarantine_enabled bursting_enabled "
        "bursting_min_lifetime bursting_threshold cloud_provider contact_email_address "
        "content_security_policy_header content_security_policy_state crypto_mode default_theme "
        "default_to_new_webapp default_webapp default_webapp_alias deployment_uuid "
        "disabled_codecs eject_last_participant_backstop_timeout enable_analytics "
        "enable_application_api enable_breakout_rooms enable_chat enable_clock enable_denoise "
        "enable_dialout enable_directory enable_edge_non_mesh enable_fecc enable_h323 "
        "enable_legacy_dialout_api enable_lync_auto_escalate enable_lync_vbss enable_mlvad "
        "enable_multiscreen enable_push_notifications enable_rtmp enable_sip enable_sip_udp "
        "enable_softmute enable_ssh enable_turn_443 enable_webrtc error_reporting_enabled "
        "error_reporting_url es_connection_timeout es_initial_retry_backoff "
        "es_maximum_deferred_posts es_maximum_retry_backoff es_media_streams_wait "
        "es_metrics_update_interval es_short_term_memory_expiration "
        "external_participant_avatar_lookup gcp_client_email gcp_private_key gcp_project_id "
        "guests_only_timeout id legacy_api_http legacy_api_password legacy_api_username "
        "live_captions_api_gateway live_captions_app_id live_captions_enabled "
        "live_captions_public_jwt_key live_captions_vmr_default liveview_show_conferences "
        "local_mssip_domain logon_banner logs_max_age management_qos management_session_timeout "
        "management_start_page max_callrate_in max_callrate_out max_pixels_per_second "
        "max_presentation_bandwidth_ratio media_ports_end media_ports_start min_pin_length "
        "ocsp_responder_url ocsp_state pin_entry_timeout pss_customer_id pss_enabled "
        "pss_gateway pss_token resource_uri session_timeout_enabled signalling_ports_end "
        "signalling_ports_start sip_tls_cert_verify_mode site_banner site_banner_bg "
        "site_banner_fg teams_enable_powerpoint_render waiting_for_chair_timeout"
    ),
    ("configuration", "management_vm"): _NODE
    + " dns_servers event_sinks http_proxy initializing mtu ntp_servers primary"
    " secondary_config_passphrase snmp_network_management_system syslog_servers",
    ("configuration", "worker_vm"): _NODE
    + " cloud_bursting deployment_type enable_distributed_database maintenance_mode"
    " maintenance_mode_reason managed media_priority_weight node_type password"
    " secondary_address secondary_netmask service_manager service_policy signalling"
    " system_location transcoding vm_cpu_count vm_system_memory",
    ("configuration", "system_location"): (
        "bdpm_pin_checks_enabled bdpm_scan_quarantine_enabled client_stun_servers "
        "client_turn_servers description dns_servers event_sinks h323_gatekeeper http_proxy id "
        "live_captions_dial_out_1 live_captions_dial_out_2 live_captions_dial_out_3 "
        "local_mssip_domain media_qos mssip_proxy mtu name ntp_servers overflow_location1 "
        "overflow_location2 policy_server resource_uri signalling_qos sip_proxy "
        "snmp_network_management_system stun_server syslog_servers teams_proxy "
        "transcoding_location turn_server use_relay_candidates_only"
    ),
    ("configuration", "authentication"): (
        "api_oauth2_allow_all_perms api_oauth2_disable_basic api_oauth2_expiration "
        "client_certificate id ldap_base_dn ldap_bind_password ldap_bind_username "
        "ldap_group_filter ldap_group_membership_filter ldap_group_search_dn "
        "ldap_permit_no_tls ldap_server ldap_use_global_catalog ldap_user_filter "
        "ldap_user_group_attributes ldap_user_search_dn ldap_user_search_filter "
        "oidc_auth_method oidc_authorize_url oidc_client_id oidc_client_secret oidc_domain_hint "
        "oidc_groups_field oidc_login_button oidc_metadata oidc_metadata_url oidc_private_key "
        "oidc_required_key oidc_required_value oidc_scope oidc_token_endpoint_url "
        "oidc_username_field resource_uri source"
    ),
    ("configuration", "dns_server"): "address description id resource_uri",
    ("configuration", "ntp_server"): "address description id key key_id resource_uri",
    ("configuration", "syslog_server"): (
        "address audit_log description id port proto_format resource_uri support_log "
        "syslog_log transport web_log"
    ),
    ("configuration", "role"): "id name permissions resource_uri",
    ("configuration", "permission"): "codename id name resource_uri",
    ("configuration", "ldap_role"): "id ldap_group_dn name resource_uri roles",
    ("configuration", "licence"): (
        "activatable activatable_overdraft concurrent concurrent_overdraft entitlement_id "
        "expiration_date features fulfillment_id fulfillment_type hybrid hybrid_overdraft "
        "license_type offline_mode product_id repair resource_uri server_chain start_date "
        "status trust_flags vendor_dictionary"
    ),
    ("configuration", "tls_certificate"): _CERT
    + " client_auth_usage nodes parameters private_key private_key_passphrase"
    " server_auth_usage subject_alt_names",
    ("configuration", "certificate_signing_request"): (
        "ad_compatible additional_subject_alt_names certificate csr dn eku_client_auth "
        "eku_server_auth id private_key private_key_passphrase private_key_type resource_uri "
        "subject_name tls_certificate"
    ),
    ("configuration", "ca_certificate"): _CERT + " trusted_intermediate",
    ("status", "alarm"): (
        "acknowledged details id identifier instance level name node resource_uri time_raised"
    ),
    ("status", "management_vm"): _SYNC + " primary",
    ("status", "worker_vm"): _SYNC
    + " boot_time cpu_capabilities cpu_count cpu_model deploy_status hypervisor"
    " maintenance_mode maintenance_mode_reason max_audio_calls max_direct_participants"
    " max_full_hd_calls max_hd_calls max_media_tokens max_sd_calls media_load"
    " media_tokens_used node_type signaling_count system_location total_ram",
    ("status", "licensing"): (
        "audio_count audio_total customlayouts_active ghm_count ghm_total "
        "googletrustedjoin_active id otj_count otj_total port_count port_total resource_uri "
        "scheduling_count scheduling_total system_count system_total teams_count teams_total "
        "telehealth_count telehealth_total vmr_count vmr_total zoomtrustedjoin_active"
    ),
}

CONFIG_RDEFS = [r for r in RESOURCES.values() if r.api == "configuration"]
PATCHABLE = [r for r in CONFIG_RDEFS if "PATCH" in r.detail_methods]
CREATABLE = [r for r in CONFIG_RDEFS if "POST" in r.list_methods]
_ids = itertools.count(100)
_CA = CA("Full objects", intermediate=True)


def sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def _served(api, to: str) -> list[dict[str, Any]]:
    return api.objects(to) if ("configuration", to) in RESOURCES else []


def value_for(api, rdef: ResourceDef, name: str, spec: Field) -> Any:
    """A valid value of ``spec`` that differs from its default where it can, from the
    declarations alone (the resources' own rules are met by ``SPECIAL`` below)."""
    n = next(_ids)
    if isinstance(spec, CodecListField):
        return [{"value": "VP9"}, {"value": "H264_H_1"}]
    if isinstance(spec, ToManyField):
        return [o["resource_uri"] for o in _served(api, spec.to)[:2]]
    if isinstance(spec, ToOneField):
        objects = _served(api, spec.to)
        return objects[-1]["resource_uri"] if objects else None
    if isinstance(spec, BooleanField):
        return not spec.default
    if isinstance(spec, IntegerField):
        lo = spec.min_value if spec.min_value is not None else 0
        hi = spec.max_value if spec.max_value is not None else lo + 1000
        return next(v for v in (lo + 1, lo, hi) if lo <= v <= hi and v != spec.default)
    if isinstance(spec, IPAddressField):
        return "2001:db8::99" if spec.version == 6 else f"192.0.2.{n % 250}"
    assert isinstance(spec, StringField), (rdef.name, name)
    if spec.choices:
        return next(c for c in spec.choices if c != spec.default)
    text = f"v{n}-{name}"
    if spec.min_length:
        text = text.ljust(spec.min_length, "x")
    return text[: spec.max_length] if spec.max_length else text


def junk_for(spec: Field) -> Any:
    """A value for a read-only field, as another object's read might show it."""
    if isinstance(spec, BooleanField):
        return True
    if isinstance(spec, IntegerField):
        return 987
    if isinstance(spec, ListField):
        return ["elsewhere.example.com"]
    if isinstance(spec, DictField):
        return {"a": 1}
    if isinstance(spec, DateTimeField):
        return "2001-01-01T00:00:00.000000"
    return "/api/admin/configuration/v1/elsewhere/9/"


SPECIAL: dict[str, dict[str, Any]] = {
    "global": {
        "signalling_ports_start": 33001,
        "signalling_ports_end": 39998,
        "media_ports_start": 40001,
        "media_ports_end": 49998,
        "eject_last_participant_backstop_timeout": 60,
    },
    "authentication": {"source": "LDAP+LOCAL", "client_certificate": "CN"},
}


def _certificate_body(rdef: ResourceDef) -> dict[str, Any]:
    if rdef.name == "tls_certificate":
        leaf = _CA.leaf(f"full{next(_ids)}.example.com")
        return {
            "certificate": leaf.pem + _CA.intermediate.pem,
            "private_key": leaf.key_pem,
            "private_key_passphrase": "",
            "parameters": "",
        }
    if rdef.name == "ca_certificate":
        return {"certificate": CA(f"Full {next(_ids)}").root.pem, "trusted_intermediate": True}
    return {
        "subject_name": f"csr{next(_ids)}.example.com",
        "dn": "O=Example,C=NO",
        "additional_subject_alt_names": "alt.example.com",
        "private_key_type": "ECDSAP256",
        "private_key": "",
        "private_key_passphrase": "",
        "ad_compatible": True,
        "eku_server_auth": True,
        "eku_client_auth": False,
        "tls_certificate": None,
        "certificate": "",
    }


def full_body(api, rdef: ResourceDef) -> dict[str, Any]:
    """Every declared field: writable ones with valid values, read-only ones with values a
    read of some other object might show (the real API ignores them)."""
    body = {n: junk_for(s) for n, s in rdef.fields.items() if s.readonly}
    if rdef.name in ("tls_certificate", "ca_certificate", "certificate_signing_request"):
        return {**body, **_certificate_body(rdef)}
    for name, spec in rdef.fields.items():
        if not spec.readonly:
            body[name] = value_for(api, rdef, name, spec)
    return {**body, **SPECIAL.get(rdef.name, {})}


def expected_read(api, rdef: ResourceDef, body: dict[str, Any]) -> dict[str, Any]:
    """What a read of an object written with ``body`` shows of its writable, stored fields."""
    out: dict[str, Any] = {}
    for name, spec in rdef.fields.items():
        if spec.readonly or not spec.stored or spec.private:
            continue
        value = body[name]
        if spec.write_only:
            value = ""
        elif spec.secret and value is not None:
            value = sha1(value)
        elif isinstance(spec, ToManyField) and spec.embed:
            value = [api.ok(uri) for uri in value]
        out[name] = value
    return out


def path_of(api, response) -> str:
    assert response.status_code == 201, response.text
    return response.headers["Location"].removeprefix(api.sim.url.rstrip("/"))


def some_object(api, rdef: ResourceDef) -> str:
    """The URI of an object of ``rdef``: the first one, or one made with every field."""
    objects = api.objects(rdef.name)
    if objects:
        return objects[0]["resource_uri"]
    return path_of(api, api.post(rdef.list_uri, json=full_body(api, rdef)))


@pytest.mark.parametrize("rdef", RESOURCES.values(), ids=lambda r: f"{r.api}/{r.name}")
def test_every_field_of_the_real_resource_is_declared(rdef):
    assert sorted(rdef.fields) == sorted(REAL_FIELDS[(rdef.api, rdef.name)].split())


@pytest.mark.parametrize("rdef", RESOURCES.values(), ids=lambda r: f"{r.api}/{r.name}")
def test_schema_lists_exactly_the_declared_fields(api, rdef):
    schema = api.ok(rdef.schema_uri)
    assert schema == rdef.schema()
    assert sorted(schema["fields"]) == sorted(rdef.fields)
    assert schema["allowed_list_http_methods"] == [m.lower() for m in rdef.list_methods]
    assert schema["allowed_detail_http_methods"] == [m.lower() for m in rdef.detail_methods]
    for name, entry in schema["fields"].items():
        spec = rdef.fields[name]
        assert {"blank", "help_text", "nullable", "readonly", "type", "unique"} <= set(entry)
        assert entry["readonly"] is spec.readonly and entry["nullable"] is spec.nullable
        assert entry["help_text"], name
        if name != "resource_uri":
            assert "default" in entry, name
        if entry["type"] == "related":
            assert entry["related_type"] in ("to_one", "to_many")
        if isinstance(spec, BooleanField):
            assert entry["valid_choices"] == [True, False]
        if isinstance(spec, StringField) and spec.choices:
            assert entry["valid_choices"] == list(spec.choices)
        if spec.secret or spec.write_only or spec.private:
            assert entry["default"] in ("", None)


@pytest.mark.parametrize("rdef", CREATABLE, ids=lambda r: r.name)
def test_create_with_every_field(api, rdef):
    body = full_body(api, rdef)
    api.delete("/_sim/requests")
    response = api.post(rdef.list_uri, json=body)
    created = api.ok(path_of(api, response))
    assert sorted(created) == sorted(rdef.fields)
    if rdef.name not in ("tls_certificate", "ca_certificate", "certificate_signing_request"):
        for name, value in expected_read(api, rdef, body).items():
            assert created[name] == value, name
    # The read-only fields were ignored, and the request log says so.
    post = api.ok("/_sim/requests")["requests"][0]
    assert post["ignored"] == [n for n in body if rdef.fields[n].readonly]


@pytest.mark.parametrize("rdef", PATCHABLE, ids=lambda r: r.name)
def test_every_field_written_then_the_whole_object_sent_back_changes_nothing(api, rdef):
    uri = some_object(api, rdef)
    if rdef.name not in ("tls_certificate", "ca_certificate", "certificate_signing_request"):
        body = full_body(api, rdef)
        response = api.patch(uri, json=body)
        assert response.status_code == 202, response.text
        written = api.ok(uri)
        for name, value in expected_read(api, rdef, body).items():
            assert written[name] == value, name
    obj = api.ok(uri)
    before = api.state()
    api.delete("/_sim/requests")
    methods = ["PATCH", "PUT"] if "PUT" in rdef.detail_methods else ["PATCH"]
    for method in methods:
        response = api.request(method, uri, json=obj)
        assert response.status_code == 202, (method, response.text)
        assert api.state() == before, method
        assert api.ok(uri) == obj, method
    # Nothing was ignored: every field of the object read is known, the read-only ones as read.
    assert not [r for r in api.ok("/_sim/requests")["requests"] if "ignored" in r]


def test_secrets_and_write_only_fields_survive_a_round_trip(api):
    mgr = CONFIG + "management_vm/1/"
    worker = CONFIG + "worker_vm/1/"
    api.patch(mgr, json={"snmp_authentication_password": "auth-pass-1", "snmp_mode": "AUTHPRIV"})
    api.patch(worker, json={"password": "ssh-secret-1"})
    before = api.state()
    for uri in (mgr, worker):
        obj = api.ok(uri)
        assert api.patch(uri, json=obj).status_code == 202
    assert api.state() == before
    assert api.ok(mgr)["snmp_authentication_password"] == sha1("auth-pass-1")
    assert api.ok(worker)["password"] == ""
    stored = api.state()["tables"]["configuration/worker_vm"]["rows"][0]["password"]
    assert stored == sha1("ssh-secret-1")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", CONFIG + "global/1/", {"enable_telnet": True}),
        ("PATCH", CONFIG + "global/1/", {"deployment_uuid": "x", "id": 2}),
        ("PATCH", CONFIG + "global/1/", {"resource_uri": CONFIG + "global/2/"}),
        ("PATCH", CONFIG + "management_vm/1/", {"primary": False, "vlan": 12}),
        ("PUT", CONFIG + "dns_server/1/", {"address": "192.0.2.53", "ttl": 5, "id": 9}),
    ],
)
def test_unknown_and_read_only_fields_are_ignored_and_logged(api, method, path, body):
    before = api.state()
    response = api.request(method, path, json=body)
    assert response.status_code == 202, response.text
    assert api.state() == before
    known = RESOURCES[("configuration", path.removeprefix(CONFIG).split("/")[0])].fields
    ignored = [n for n in body if n not in known or known[n].readonly]
    assert api.ok("/_sim/requests")["requests"][-1]["ignored"] == ignored


def test_ignored_fields_are_logged_even_when_the_write_is_refused(api):
    response = api.post(CONFIG + "dns_server/", json={"address": "nope", "colour": "red"})
    assert response.status_code == 400
    assert list(response.json()["dns_server"]) == ["address"]
    assert api.ok("/_sim/requests")["requests"][-1]["ignored"] == ["colour"]


def test_a_csr_on_create_is_ignored(api):
    response = api.post(
        CONFIG + "certificate_signing_request/",
        json={"subject_name": "x.example.com", "private_key_type": "ECDSAP256", "csr": "x"},
    )
    assert api.ok(path_of(api, response))["csr"].startswith("-----BEGIN CERTIFICATE REQUEST")


def test_relations_take_what_a_read_gives_and_null_empties_a_list(api):
    loc = CONFIG + "system_location/1/"
    dns = api.ok(CONFIG + "dns_server/1/")
    assert api.patch(loc, json={"dns_servers": [dns, CONFIG + "dns_server/1/"]}).status_code == 202
    assert api.ok(loc)["dns_servers"] == [dns]
    assert api.patch(loc, json={"overflow_location1": api.ok(CONFIG + "system_location/2/")})
    assert api.ok(loc)["overflow_location1"] == CONFIG + "system_location/2/"
    assert api.patch(loc, json={"dns_servers": None, "ntp_servers": None}).status_code == 202
    assert (api.ok(loc)["dns_servers"], api.ok(loc)["ntp_servers"]) == ([], [])
    gone = {**dns, "resource_uri": CONFIG + "dns_server/77/"}
    refused = api.patch(loc, json={"dns_servers": [gone]})
    assert refused.json() == {
        "system_location": {"dns_servers": [f"Object does not exist: {CONFIG}dns_server/77/"]}
    }
    unserved = api.patch(loc, json={"sip_proxy": CONFIG + "sip_proxy/1/"})
    assert list(unserved.json()["system_location"]) == ["sip_proxy"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CONFIG + "global/1/", {"bdpm_max_pin_failures_per_window": 4}),
        (CONFIG + "global/1/", {"cloud_provider": "aws"}),
        (CONFIG + "global/1/", {"aws_access_key": "k" * 41}),
        (CONFIG + "global/1/", {"eject_last_participant_backstop_timeout": 30}),
        (CONFIG + "global/1/", {"disabled_codecs": ["H264_H_0"]}),
        (CONFIG + "global/1/", {"disabled_codecs": [{"value": "no codec"}]}),
        (CONFIG + "global/1/", {"default_theme": CONFIG + "ivr_theme/1/"}),
        (CONFIG + "system_location/1/", {"bdpm_pin_checks_enabled": True}),
        (CONFIG + "system_location/1/", {"overflow_location1": CONFIG + "system_location/9/"}),
        (CONFIG + "worker_vm/1/", {"secondary_address": "2001:db8::1"}),
        (CONFIG + "authentication/1/", {"oidc_auth_method": "private_key_jwt"}),
        (CONFIG + "authentication/1/", {"oidc_login_button": "b" * 129}),
        (CONFIG + "authentication/1/", {"api_oauth2_expiration": 59}),
    ],
)
def test_new_fields_are_validated_as_the_real_api_does(api, path, body):
    before = api.state()
    response = api.patch(path, json=body)
    assert response.status_code == 400, response.text
    resource = path.removeprefix(CONFIG).split("/")[0]
    assert list(response.json()[resource]) == list(body)
    assert api.state() == before


def test_the_writes_pexips_go_sdk_sends(api):
    """Shaped as the Go SDK's update and create requests marshal: every field, nil pointers
    and nil slices as null, unset strings as "" (issue #20's five refused writes)."""
    glb = api.patch(
        CONFIG + "global/1/",
        json={
            "aws_access_key": None,
            "aws_secret_key": None,
            "azure_client_id": None,
            "bdpm_max_pin_failures_per_window": 20,
            "bursting_min_lifetime": None,
            "cloud_provider": "AWS",
            "default_theme": None,
            "default_to_new_webapp": None,
            "default_webapp": "",
            "disabled_codecs": [{"value": "H264_H_1"}, {"value": "VP9"}],
            "enable_chat": False,
            "management_qos": None,
            "pss_token": "",
        },
    )
    assert glb.status_code == 202, glb.text
    assert api.ok(CONFIG + "global/1/")["disabled_codecs"] == [
        {"value": "H264_H_1"},
        {"value": "VP9"},
    ]
    location = {
        "name": "Edge",
        "mtu": 1400,
        "media_qos": 46,
        "local_mssip_domain": "sfb.example.com",
        "dns_servers": [CONFIG + "dns_server/1/"],
        "h323_gatekeeper": None,
        "sip_proxy": None,
        "mssip_proxy": None,
        "teams_proxy": None,
        "overflow_location1": CONFIG + "system_location/1/",
        "transcoding_location": CONFIG + "system_location/2/",
        "bdpm_pin_checks_enabled": "ON",
        "bdpm_scan_quarantine_enabled": "OFF",
        "snmp_network_management_system": None,
    }
    uri = path_of(api, api.post(CONFIG + "system_location/", json=location))
    assert api.put(uri, json={**location, "name": "Edge 2"}).status_code == 202
    syslog = {"address": "log.example.com", "port": 6514, "transport": "tls"}
    syslog |= {"audit_log": True, "support_log": False, "web_log": False, "proto_format": ""}
    assert api.post(CONFIG + "syslog_server/", json=syslog).status_code == 201
    auth = api.ok(CONFIG + "authentication/1/")
    auth |= {"oidc_client_id": "accord", "oidc_scope": "openid email"}
    assert api.patch(CONFIG + "authentication/1/", json=auth).status_code == 202
    assert api.ok(CONFIG + "authentication/1/")["oidc_client_id"] == "accord"
    mgr = {"dns_servers": None, "static_routes": None, "event_sinks": None, "http_proxy": None}
    mgr |= {"ssh_authorized_keys": None, "secondary_config_passphrase": "", "snmp_username": ""}
    assert api.patch(CONFIG + "management_vm/1/", json=mgr).status_code == 202
    assert api.ok(CONFIG + "management_vm/1/")["dns_servers"] == []
    assert not [r for r in api.ok("/_sim/requests")["requests"] if "ignored" in r]


def test_status_objects_carry_every_field(api):
    for name in ("management_vm", "worker_vm", "licensing", "alarm"):
        rdef = RESOURCES[("status", name)]
        for obj in api.objects(name, STATUS):
            assert sorted(obj) == sorted(rdef.fields), name
    worker = api.ok(STATUS + "worker_vm/1/")
    assert (worker["cpu_count"], worker["total_ram"]) == (4, 4096 * 1024)
