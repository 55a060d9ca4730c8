"""Platform services: ``dns_server``, ``ntp_server``, ``syslog_server``, ``licence``.

Fields: the real schema ([SCHEMA] ``dns_server.md``, ``ntp_server.md``, ``syslog_server.md``,
``licence.md``); choices and defaults: the Terraform provider (pexip-api-reference.md §7).

INFERRED, in one place:
- ``syslog_server.proto_format``: the sources name no values (the Go SDK's tests use
  ``rfc5424``/``rfc3164``, not authoritative), so any string of at most 100 characters is
  stored, "" by default (the Go SDK sends "" when unset). ``syslog_log`` defaults to false.
- ``licence``: ``entitlement_id`` at most 100 characters; a POST activates at once (also with
  ``offline_mode``, which the simulator accepts and does not keep: it has no
  ``licence_request`` resource); the contents of an activated licence (``seed.new_licence``).
"""

from __future__ import annotations

from simulator.pexip.declare import choice, flag, number, required, secret, text
from simulator.pexip.fields import (
    BooleanField,
    DateTimeField,
    DictField,
    IntegerField,
    IPAddressField,
    StringField,
)
from simulator.pexip.resourcedef import configuration

DNS_SERVER = configuration(
    "dns_server",
    "DNS server",
    fields={
        "address": IPAddressField(
            version=None,
            required=True,
            blank=False,
            max_length=255,
            help_text="The IP address of the DNS server.",
        ),
        "description": text(250, help="A description of the DNS server."),
    },
)

NTP_SERVER = configuration(
    "ntp_server",
    "NTP server",
    fields={
        "address": required(255, "The IP address or FQDN of the NTP server."),
        "description": text(250, help="A description of the NTP server."),
        "key": secret(100, "SHA1 key for secure NTP; stored as a SHA1 hash."),
        "key_id": number(1, 65535, None, "Key ID for secure NTP.", nullable=True),
    },
)

SYSLOG_SERVER = configuration(
    "syslog_server",
    "Syslog server",
    fields={
        "address": required(255, "The IP address or FQDN of the syslog server."),
        "port": number(1, 65535, 514, "The port of the syslog server."),
        "transport": choice(("udp", "tcp", "tls"), "udp", "The IP transport."),
        "proto_format": text(100, help="The syslog protocol format."),
        "audit_log": flag(False, "Send audit log entries."),
        "support_log": flag(False, "Send support and administrator log entries."),
        "web_log": flag(False, "Send web server log entries."),
        "syslog_log": flag(False, "Send system log entries."),
        "description": text(250, help="A description of the syslog server."),
    },
)


def _count(help: str) -> IntegerField:
    return IntegerField(readonly=True, default=0, help_text=help)


def _info(help: str) -> StringField:
    return StringField(readonly=True, help_text=help)


LICENCE = configuration(
    "licence",
    "Licence",
    key_field="fulfillment_id",
    detail_methods=("GET", "DELETE"),
    fields={
        "fulfillment_id": StringField(
            readonly=True, unique=True, help_text="The identifier of this licence."
        ),
        "entitlement_id": required(100, "The entitlement key that activates this licence."),
        "offline_mode": BooleanField(
            default=False, transient=True, help_text="Store as a licence request for later."
        ),
        "fulfillment_type": _info("The type of this licence."),
        "product_id": _info("The product of this licence."),
        "license_type": _info("The kind of feature this licence provides."),
        "features": _info("The features this licence provides."),
        "concurrent": _count("Concurrent licences."),
        "concurrent_overdraft": _count("Concurrent licence overdraft."),
        "activatable": _count("Activatable licences."),
        "activatable_overdraft": _count("Activatable licence overdraft."),
        "hybrid": _count("Hybrid licences."),
        "hybrid_overdraft": _count("Hybrid licence overdraft."),
        "repair": _count("How often this licence was repaired."),
        "trust_flags": _count("The trust status of this licence."),
        "server_chain": _info("The licence server chain."),
        "vendor_dictionary": DictField(help_text="Vendor-specific information."),
        "status": _info("The status of this licence."),
        "start_date": DateTimeField(help_text="When this licence becomes valid."),
        "expiration_date": DateTimeField(help_text="When this licence expires."),
    },
)
