"""``global`` (``configuration/v1/global/1/``): every field of the real resource.

Fields and help: the real schema ([SCHEMA] ``configuration/global.md``); types and nullability:
Pexip's Go SDK ``GlobalConfiguration`` (a pointer type is nullable); defaults and choices: the
Terraform provider's ``resource_infinity_global_configuration.go`` where the schema's help text
gives none (pexip-api-reference.md §2). Cross-field rules (port ranges, the eject timeout) are
in ``rules``.

INFERRED, in one place:
- ``signalling_ports_start`` defaults to 33000 and ``management_session_timeout`` to 30 (the
  schema's help; the provider says 34000 and 0); ``max_callrate_out`` to 4128 (help).
- Limits the sources do not give: the ``es_*`` event-sink settings are at least 0; cloud
  credentials and banner colours at most 100 characters (``gcp_private_key`` 12288, help);
  ``management_start_page`` 255; ``min_pin_length`` defaults to 4.
- Cloud credentials are nullable (Go SDK pointers) and null by default; ``aws_secret_key``,
  ``azure_secret`` and ``gcp_private_key`` are secrets (stored hashed, read back hashed, as
  ``legacy_api_password``).
- ``default_theme`` (an ``ivr_theme``) and ``default_webapp_alias`` (a ``webapp_alias``; the
  real default names ``webapp_alias/3/``) are null: the simulator serves neither resource.
- ``disabled_codecs`` defaults to the provider's ``MP4A-LATM_128``, ``H264_H_0``, ``H264_H_1``.
- Deprecated fields ("deprecated and will be ignored") are validated, never stored, and read
  back as their defaults.
"""

from __future__ import annotations

from simulator.pexip.declare import (
    choice,
    deprecated_flag,
    deprecated_text,
    dscp,
    flag,
    number,
    one,
    optional,
    ports,
    secret,
    text,
)
from simulator.pexip.fields import IntegerField, StringField
from simulator.pexip.relations import CodecListField
from simulator.pexip.resourcedef import configuration

SECONDS_PER_DAY = 86400
START_PAGE = "/admin/conferencingstatus/deploymentgraph/deployment_graph/"
CODECS_DISABLED = ("MP4A-LATM_128", "H264_H_0", "H264_H_1")
_CLOUD = 100

GLOBAL = configuration(
    "global",
    "Global configuration",
    singleton=True,
    fields={
        # Call protocols and services
        "enable_sip": flag(True, "Enable SIP (TCP and TLS) on all Conferencing Nodes."),
        "enable_sip_udp": flag(False, "Enable incoming SIP over UDP."),
        "enable_h323": flag(True, "Enable H.323 on all Conferencing Nodes."),
        "enable_webrtc": flag(True, "Enable WebRTC calls."),
        "enable_rtmp": flag(True, "Enable RTMP calls."),
        "enable_chat": flag(True, "Relay chat messages between participants."),
        "enable_dialout": flag(
            True, "Enable outbound calls (Distributed Gateway, add participant)."
        ),
        "enable_legacy_dialout_api": flag(False, "Outbound calls through the legacy dial-out API."),
        "enable_application_api": flag(True, "Support for the client API (Pexip apps, Teams)."),
        "enable_directory": flag(True, "Show the directory to registered Pexip apps."),
        "enable_fecc": flag(True, "Far-end camera control."),
        "enable_turn_443": flag(False, "Media relay on TCP 443 for WebRTC clients."),
        "enable_breakout_rooms": flag(False, "Breakout rooms on VMRs."),
        "enable_clock": flag(False, "In-conference timer or countdown clock."),
        "enable_denoise": flag(True, "Server-side denoising."),
        "enable_softmute": flag(True, "Softmute speech-aware audio gating."),
        "enable_mlvad": flag(False, "Voice Focus voice activity detection."),
        "enable_edge_non_mesh": flag(True, "Restricted IPsec routing for Proxying Edge Nodes."),
        "enable_lync_auto_escalate": flag(False, "Escalate Skype for Business audio calls."),
        "enable_lync_vbss": flag(False, "Video-based screen sharing for Skype for Business."),
        "external_participant_avatar_lookup": flag(True, "Look up external participants' avatars."),
        "live_captions_vmr_default": flag(False, "Live captions on by default."),
        "liveview_show_conferences": flag(True, "Show conferences and backplanes in Live View."),
        "teams_enable_powerpoint_render": flag(False, "PowerPoint Live content in Teams calls."),
        "local_mssip_domain": text(255, help="SIP domain routed from Skype for Business."),
        "crypto_mode": choice(("besteffort", "on", "off"), "besteffort", "Media encryption."),
        "max_pixels_per_second": choice(("sd", "hd", "fullhd"), "hd", "Maximum call quality."),
        "max_callrate_in": number(128, 8192, None, "Inbound bandwidth limit.", nullable=True),
        "max_callrate_out": number(128, 8192, 4128, "Outbound bandwidth limit.", nullable=True),
        "max_presentation_bandwidth_ratio": number(25, 75, 75, "Percent for presentation."),
        "min_pin_length": number(4, 20, 4, "Minimum PIN length."),
        "disabled_codecs": CodecListField(
            default=list(CODECS_DISABLED), help_text="Codecs to disable."
        ),
        "default_theme": one("ivr_theme", "Theme of services without one of their own."),
        "default_webapp_alias": one("webapp_alias", "Web app path used by default."),
        # Timeouts
        "guests_only_timeout": number(0, SECONDS_PER_DAY, 60, "Seconds with only Guests."),
        "waiting_for_chair_timeout": number(0, SECONDS_PER_DAY, 900, "Seconds waiting for a Host."),
        "pin_entry_timeout": number(30, SECONDS_PER_DAY, 120, "Seconds at the PIN entry screen."),
        "eject_last_participant_backstop_timeout": number(
            0, SECONDS_PER_DAY, 0, "Seconds with one participant left: 0 (never) or 60–86400."
        ),
        # Network
        "management_qos": dscp("DSCP value for management traffic."),
        "signalling_ports_start": ports(33000, "Start of the signalling port range."),
        "signalling_ports_end": ports(39999, "End of the signalling port range."),
        "media_ports_start": ports(40000, "Start of the media port range (at least 100 ports)."),
        "media_ports_end": ports(49999, "End of the media port range (at least 100 ports)."),
        # Security
        "enable_ssh": flag(True, "SSH to the nodes (can be overridden per node)."),
        "ocsp_state": choice(("OFF", "ON", "OVERRIDE"), "OFF", "Use OCSP for certificates."),
        "ocsp_responder_url": text(255, help="OCSP responder URL (OVERRIDE, or ON without one)."),
        "sip_tls_cert_verify_mode": choice(("OFF", "ON"), "OFF", "Verify SIP TLS peers."),
        "bdpm_pin_checks_enabled": flag(True, "Block a VMR after many wrong PINs."),
        "bdpm_scan_quarantine_enabled": flag(True, "Block addresses that scan for aliases."),
        "bdpm_max_pin_failures_per_window": number(5, 200, 20, "PIN failures per 10 minutes."),
        "bdpm_max_scan_attempts_per_window": number(5, 200, 20, "Wrong aliases per 10 minutes."),
        # External systems
        "legacy_api_username": text(100, help="Username external systems present."),
        "legacy_api_password": secret(100, "Password external systems present."),
        # Management web interface
        "logon_banner": text(4096, help="Message on the administrator login page."),
        "site_banner": text(255, help="Banner on every administrator page."),
        "site_banner_bg": text(_CLOUD, "#c0c0c0", "Background colour of the site banner."),
        "site_banner_fg": text(_CLOUD, "#000000", "Text colour of the site banner."),
        "management_session_timeout": number(5, 1440, 30, "Idle minutes before logout."),
        "session_timeout_enabled": flag(True, "Log out idle administrators."),
        "management_start_page": text(255, START_PAGE, "First page after login."),
        "content_security_policy_state": flag(True, "Content-Security-Policy on the nodes."),
        "content_security_policy_header": text(4096, help="Content-Security-Policy header."),
        # Reporting
        "error_reporting_enabled": flag(False, "Submit incident reports."),
        "error_reporting_url": text(255, "https://acr.pexip.com", "Where incident reports go."),
        "contact_email_address": text(100, help="Contact address in incident reports."),
        "enable_analytics": flag(False, "Send deployment and usage statistics to Pexip."),
        "logs_max_age": number(0, 3650, 0, "Days of logs kept; 0 disables."),
        # Event sinks
        "es_connection_timeout": number(0, None, 7, "Seconds to connect, send and wait."),
        "es_initial_retry_backoff": number(0, None, 1, "Seconds before the first retry."),
        "es_maximum_retry_backoff": number(0, None, 1800, "Longest retry backoff, seconds."),
        "es_media_streams_wait": number(0, None, 1, "Seconds to wait for media statistics."),
        "es_metrics_update_interval": number(0, None, 60, "Seconds between metrics; 0 off."),
        "es_short_term_memory_expiration": number(0, None, 2, "Cache expiry, seconds."),
        # Cloud bursting
        "bursting_enabled": flag(False, "Start and stop cloud overflow nodes."),
        "bursting_threshold": number(
            1, None, 5, "Spare HD calls that start a node.", nullable=True
        ),
        "bursting_min_lifetime": number(5, None, 50, "Minutes a node stays on.", nullable=True),
        "cloud_provider": choice(("AWS", "AZURE", "GCP"), "AWS", "Cloud for bursting."),
        "aws_access_key": optional(40, "AWS access key ID."),
        "aws_secret_key": secret(_CLOUD, "AWS secret access key.", nullable=True, default=None),
        "azure_client_id": optional(_CLOUD, "Azure client (application) ID."),
        "azure_secret": secret(_CLOUD, "Azure secret key.", nullable=True, default=None),
        "azure_subscription_id": optional(_CLOUD, "Azure subscription ID."),
        "azure_tenant": optional(_CLOUD, "Azure tenant ID."),
        "gcp_client_email": optional(_CLOUD, "GCP service account ID."),
        "gcp_private_key": secret(12288, "GCP service account key.", nullable=True, default=None),
        "gcp_project_id": optional(_CLOUD, "GCP project ID."),
        # Read-only
        "deployment_uuid": StringField(readonly=True, help_text="The ID of the deployment."),
        # Deprecated: accepted and ignored
        "legacy_api_http": deprecated_flag(False),
        "default_to_new_webapp": deprecated_flag(True, "Deprecated: use default_webapp."),
        "default_webapp": deprecated_text("latest", "Deprecated: use default_webapp_alias."),
        "enable_multiscreen": deprecated_flag(True),
        "enable_push_notifications": deprecated_flag(False),
        "es_maximum_deferred_posts": IntegerField(
            min_value=0, default=1000, deprecated=True, help_text="Deprecated; ignored."
        ),
        "live_captions_enabled": deprecated_flag(True, "Deprecated: see media_processing_server."),
        "live_captions_api_gateway": deprecated_text(
            help="Deprecated: see media_processing_server."
        ),
        "live_captions_app_id": deprecated_text(help="Deprecated: see media_processing_server."),
        "live_captions_public_jwt_key": deprecated_text(
            help="Deprecated: see media_processing_server."
        ),
        "pss_enabled": deprecated_flag(False),
        "pss_customer_id": deprecated_text(),
        "pss_gateway": deprecated_text(),
        "pss_token": deprecated_text(),
    },
)
