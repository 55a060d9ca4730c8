"""Nodes and locations: ``management_vm``, ``worker_vm``, ``system_location``.

Fields: the real schema ([SCHEMA] ``management_vm.md``, ``worker_vm.md``,
``system_location.md``); types and nullability: Pexip's Go SDK models; choices and defaults:
the Terraform provider (pexip-api-reference.md §3, §4).

INFERRED, in one place:
- Required beyond the documented ones: ``address`` and ``netmask`` of nodes.
- ``worker_vm.password`` at most 100 characters; ``deployment_type`` values other than
  MANUAL-PROVISION-ONLY and VMWARE; ``media_priority_weight`` at least 0, nullable (a pointer
  in the Go SDK).
- ``worker_vm``'s ``managed``, ``service_manager``, ``service_policy``, ``signalling`` (no help
  text in the schema) are plain booleans with the provider's defaults (false, true, true,
  true); ``transcoding`` is deprecated ("use node_type") and ignored.
- ``secondary_config_passphrase`` is write-only (stored hashed, read back as "").
- ``static_routes`` only take [] (there is no ``static_route`` resource), and likewise the
  relations to resources the simulator does not serve (``event_sinks``, ``http_proxy``,
  ``ssh_authorized_keys``, ``snmp_network_management_system``, the proxies, STUN/TURN
  servers, ``policy_server``): null or empty only.
- A node's ``tls_certificate`` takes a ``tls_certificate`` URI (or null); assigning one
  replaces the node's previous certificate (``certificate_resources``). ``tls_client_certificate``
  is stored and read back; nothing in the simulator presents it.
- ``system_location``'s ``live_captions_dial_out_1..3`` are named as in the real schema and the
  Terraform provider; the Go SDK's model spells them ``live_captions_dial_out1..3`` (those
  names are not the real API's, so the simulator ignores them, as the real API would).
"""

from __future__ import annotations

from simulator.pexip.declare import (
    address,
    choice,
    deprecated_flag,
    dscp,
    flag,
    many,
    mtu,
    number,
    one,
    required,
    text,
)
from simulator.pexip.fields import BooleanField, Field, IPAddressField, StringField
from simulator.pexip.relations import ToOneField
from simulator.pexip.resourcedef import configuration

ENABLE_SSH = ("GLOBAL", "OFF", "ON")
SNMP_MODES = ("DISABLED", "STANDARD", "AUTHPRIV")
DEPLOYMENT_TYPES = (
    "MANUAL-PROVISION-ONLY",
    "MANUAL-ESXI6",
    "MANUAL-ESXI7",
    "MANUAL-HYPERV",
    "MANUAL-KVM",
    "MANUAL-XEN",
    "VMWARE",
)


def _snmp_password(help: str) -> StringField:
    return StringField(max_length=100, min_length=8, secret=True, clear_kept=True, help_text=help)


def _node_common(worker: bool) -> dict[str, Field]:
    """Fields shared by ``management_vm`` and ``worker_vm``; on ``worker_vm`` the hostname and
    address are unique too."""
    return {
        "name": required(32, "The name of this node.", unique=True),
        "description": text(250, help="A description of this node."),
        "address": IPAddressField(
            required=True, blank=False, max_length=255, unique=worker, help_text="IPv4 address."
        ),
        "netmask": IPAddressField(
            required=True, blank=False, max_length=255, help_text="IPv4 network mask."
        ),
        "gateway": address(4, "IPv4 default gateway."),
        "hostname": required(63, "The hostname of this node.", unique=worker),
        "domain": text(192, help="The domain name of this node."),
        "alternative_fqdn": text(255, help="An identity for this node (SIP TLS FQDN)."),
        "ipv6_address": address(6, "IPv6 address.", nullable=True),
        "ipv6_gateway": address(
            6, "IPv6 default gateway (else router advertisements).", nullable=True
        ),
        "static_nat_address": address(4, "Public IPv4 address behind NAT.", nullable=True),
        "static_routes": many("static_route", "Routes beyond the default gateway.", embed=True),
        "tls_certificate": one("tls_certificate", "The TLS certificate of this node."),
        "tls_client_certificate": one(
            "tls_certificate", "The certificate answering client certificate challenges."
        ),
        "enable_ssh": choice(ENABLE_SSH, "GLOBAL", "SSH to this node."),
        "ssh_authorized_keys": many("ssh_authorized_key", "The selected authorized keys."),
        "ssh_authorized_keys_use_cloud": flag(True, "Use SSH keys of the cloud service."),
        "snmp_mode": choice(SNMP_MODES, "DISABLED", "The SNMP mode."),
        "snmp_community": text(16, "public", "The SNMP community."),
        "snmp_username": text(100, help="The SNMPv3 username."),
        "snmp_authentication_password": _snmp_password("The SNMPv3 authentication password."),
        "snmp_privacy_password": _snmp_password("The SNMPv3 privacy password."),
        "snmp_system_contact": text(70, "admin@domain.com", "The SNMP contact."),
        "snmp_system_location": text(70, "Virtual machine", "The SNMP location."),
    }


MANAGEMENT_VM = configuration(
    "management_vm",
    "Management node",
    detail_methods=("GET", "PATCH", "DELETE"),
    fields={
        **_node_common(worker=False),
        "mtu": mtu(),
        "dns_servers": many("dns_server", "DNS servers of this node.", embed=True),
        "ntp_servers": many("ntp_server", "NTP servers of this node.", embed=True),
        "syslog_servers": many("syslog_server", "Syslog servers of this node.", embed=True),
        "event_sinks": many("event_sink", "Event sinks of this node.", embed=True),
        "http_proxy": one("http_proxy", "Web proxy for outbound requests."),
        "snmp_network_management_system": one(
            "snmp_network_management_system", "Where SNMP traps go."
        ),
        "secondary_config_passphrase": StringField(
            max_length=100, write_only=True, help_text="Encrypts a new node's configuration."
        ),
        "primary": BooleanField(default=False, readonly=True, help_text="The primary node."),
        "initializing": flag(False, "Initializing the configuration file."),
    },
)

WORKER_VM = configuration(
    "worker_vm",
    "Conferencing node",
    fields={
        **_node_common(worker=True),
        "secondary_address": address(4, "Secondary interface IPv4 address.", nullable=True),
        "secondary_netmask": address(4, "Secondary interface network mask.", nullable=True),
        "system_location": ToOneField(
            to="system_location", required=True, help_text="The node's system location."
        ),
        "node_type": choice(("CONFERENCING", "PROXYING"), "CONFERENCING", "The node's role."),
        "transcoding": deprecated_flag(True, "Deprecated: use node_type."),
        "deployment_type": choice(DEPLOYMENT_TYPES, "MANUAL-PROVISION-ONLY", "How it is deployed."),
        "vm_cpu_count": number(2, 128, 4, "Virtual CPUs."),
        "vm_system_memory": number(2000, 64000, 4096, "RAM in megabytes."),
        "password": StringField(
            max_length=100, write_only=True, help_text="SSH password of admin (write-only)."
        ),
        "maintenance_mode": flag(False, "Accept no new conferences."),
        "maintenance_mode_reason": text(250, help="Why maintenance mode is on."),
        "media_priority_weight": number(0, None, 0, "Media priority.", nullable=True),
        "enable_distributed_database": flag(True, "False for nodes that are not always on."),
        "cloud_bursting": flag(False, "A cloud bursting node."),
        "managed": flag(False),
        "service_manager": flag(True),
        "service_policy": flag(True),
        "signalling": flag(True),
    },
)

_TRISTATE = ("GLOBAL", "OFF", "ON")

SYSTEM_LOCATION = configuration(
    "system_location",
    "System location",
    fields={
        "name": required(250, "The name of this location.", unique=True),
        "description": text(250, help="A description of this location."),
        "mtu": mtu(),
        "media_qos": dscp("DSCP value for media traffic."),
        "signalling_qos": dscp("DSCP value for signalling traffic."),
        "local_mssip_domain": text(255, help="SIP domain routed from Skype for Business."),
        "bdpm_pin_checks_enabled": choice(_TRISTATE, "GLOBAL", "Block a VMR after wrong PINs."),
        "bdpm_scan_quarantine_enabled": choice(_TRISTATE, "GLOBAL", "Block alias scanners."),
        "use_relay_candidates_only": flag(False, "WebRTC media only through client TURN."),
        "dns_servers": many("dns_server", "DNS servers of the location's nodes.", embed=True),
        "ntp_servers": many("ntp_server", "NTP servers of the location's nodes.", embed=True),
        "syslog_servers": many("syslog_server", "Syslog servers of its nodes.", embed=True),
        "event_sinks": many("event_sink", "Event sinks of the location's nodes.", embed=True),
        "client_stun_servers": many("stun_server", "STUN servers for WebRTC apps.", embed=True),
        "client_turn_servers": many("turn_server", "TURN servers for WebRTC apps.", embed=True),
        "h323_gatekeeper": one("h323_gatekeeper", "Gatekeeper for outbound calls."),
        "sip_proxy": one("sip_proxy", "SIP proxy for outbound calls."),
        "mssip_proxy": one("mssip_proxy", "Skype for Business server for outbound calls."),
        "teams_proxy": one("teams_proxy", "Teams Connector for outbound Teams calls."),
        "http_proxy": one("http_proxy", "Web proxy of the location's nodes."),
        "policy_server": one("policy_server", "Policy profile of the location's nodes."),
        "snmp_network_management_system": one(
            "snmp_network_management_system", "Where the nodes' SNMP traps go."
        ),
        "stun_server": one("stun_server", "STUN server of the location's nodes."),
        "turn_server": one("turn_server", "TURN server for clients outside the firewall."),
        "transcoding_location": one("system_location", "Location that transcodes for this one."),
        "overflow_location1": one("system_location", "Primary overflow location."),
        "overflow_location2": one("system_location", "Secondary overflow location."),
        "live_captions_dial_out_1": one("system_location", "Dial-out route to live captions."),
        "live_captions_dial_out_2": one("system_location", "Dial-out route to live captions."),
        "live_captions_dial_out_3": one("system_location", "Dial-out route to live captions."),
    },
)
