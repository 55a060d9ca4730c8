"""The site file: validation messages with key paths, secrets never in plain text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accord.secrets import Secret
from accord.site import SiteError, load_site, parse_site
from lab.site import (
    LabSite,
    SimBeyondTrust,
    SimSystem,
    beyondtrust_appliances,
    beyondtrust_login,
    site_document,
    write_site,
)

MINIMAL = """
[site]
name = "t"
secrets_file = "secrets.toml"

[systems.pexip.primary]
url = "https://127.0.0.1:4443/"
password = { env = "T_PEXIP_PASSWORD" }

[pexip.global]
ocsp_responder_url = "http://ocsp.example.com/"
login_banner = "Authorised use only."

[pexip.network]
dns_servers = ["192.0.2.1", "192.0.2.2"]
ntp_servers = [
  { address = "ntp1", key_id = 1, key = { secret = "ntp1" } },
  { address = "ntp2", key_id = 2, key = { secret = "ntp2" } },
]
syslog_servers = [{ address = "syslog.example.com" }]

[pexip.snmp]
username = "nms"
authentication_password = { secret = "a" }
privacy_password = { secret = "b" }
community = "private1"

[pexip.ldap]
server = "ldap.example.com"
base_dn = "dc=example,dc=com"
bind_username = "svc"
bind_password = { secret = "c" }
role_mappings = [{ name = "x", group_dn = "cn=x", roles = ["Auditor"] }]
"""


def _errors(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(SiteError) as info:
        parse_site(text, tmp_path / "site.toml")
    return str(info.value).splitlines()


def test_minimal_site_loads_with_guide_defaults(tmp_path):
    site = parse_site(MINIMAL, tmp_path / "site.toml")
    assert site.pexip.global_.management_dscp == 16
    assert site.pexip.global_.session_timeout_minutes == 10
    assert (site.pexip.locations.media_dscp, site.pexip.locations.signalling_dscp) == (51, 40)
    assert site.pexip.locations.mtu == 1400
    assert site.pexip.global_.signalling_ports.start == 33000
    assert site.systems.pexip.contingency is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("management_dscp", "management_dscp = 64"),
            "pexip.global.management_dscp: Input should be less than or equal to 63",
        ),
        (
            ("management_dscp", 'management_dscp = "16"'),
            "pexip.global.management_dscp: Input should be a valid integer",
        ),
        (("management_dscp", "managment_dscp = 16"), "pexip.global.managment_dscp: unknown key"),
        (("management_dscp", 'protocols = ["sip", "skype"]'), "pexip.global.protocols.1:"),
        (
            ("management_dscp", "media_ports = { start = 49000, end = 40000 }"),
            "pexip.global.media_ports: Value error, start must not be greater than end".replace(
                "Value error, ", ""
            ),
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path, change, expected):
    _, line = change
    text = MINIMAL.replace(
        'login_banner = "Authorised use only."', f'login_banner = "Authorised use only."\n{line}'
    )
    errors = _errors(text, tmp_path)
    assert any(expected in error for error in errors), errors
    assert all(error.startswith(str(tmp_path / "site.toml")) for error in errors)


def test_missing_systems_is_one_clear_message(tmp_path):
    text = MINIMAL.replace(
        '[systems.pexip.primary]\nurl = "https://127.0.0.1:4443/"\n'
        'password = { env = "T_PEXIP_PASSWORD" }\n',
        "",
    )
    errors = _errors(text, tmp_path)
    assert errors == [
        f"{tmp_path / 'site.toml'}: systems: missing (the systems to verify: "
        "at least [systems.pexip.primary])"
    ]


def test_community_public_is_refused(tmp_path):
    errors = _errors(MINIMAL.replace('"private1"', '"public"'), tmp_path)
    assert any(
        'pexip.snmp.community: the guide requires a community other than "public"' in e
        for e in errors
    )


def test_plain_password_is_refused_and_not_echoed(tmp_path):
    text = MINIMAL.replace('password = { env = "T_PEXIP_PASSWORD" }', 'password = "hunter2-xyz"')
    errors = _errors(text, tmp_path)
    assert any("systems.pexip.primary.password: plain secrets are not allowed" in e for e in errors)
    assert not any("hunter2-xyz" in e for e in errors)


def test_reference_needs_exactly_one_source(tmp_path):
    text = MINIMAL.replace('{ env = "T_PEXIP_PASSWORD" }', '{ env = "A", secret = "b" }')
    assert any(
        "systems.pexip.primary.password: give exactly one of" in e for e in _errors(text, tmp_path)
    )


def test_not_toml(tmp_path):
    assert "not valid TOML" in _errors("[site\n", tmp_path)[0]


def test_secrets_come_from_env_and_from_a_0600_file(tmp_path, monkeypatch):
    site_path = tmp_path / "site.toml"
    site_path.write_text(MINIMAL)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('ntp1 = "k1"\n')
    secrets.chmod(0o600)
    monkeypatch.setenv("T_PEXIP_PASSWORD", "pw-from-env")
    site = load_site(site_path)
    password = site.resolve(site.systems.pexip.primary.password)
    assert isinstance(password, Secret) and password.reveal() == "pw-from-env"
    assert "pw-from-env" not in repr(password) + str(password)
    assert site.resolve(site.pexip.network.ntp_servers[0].key).reveal() == "k1"
    with pytest.raises(SiteError, match="secret 'ntp2' is not in the secrets file"):
        site.resolve(site.pexip.network.ntp_servers[1].key)
    monkeypatch.delenv("T_PEXIP_PASSWORD")
    with pytest.raises(SiteError, match="environment variable T_PEXIP_PASSWORD is not set"):
        site.resolve(site.systems.pexip.primary.password)


def test_secrets_file_readable_by_others_is_refused(tmp_path):
    (tmp_path / "site.toml").write_text(MINIMAL)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('ntp1 = "k1"\n')
    secrets.chmod(0o644)
    site = load_site(tmp_path / "site.toml")
    with pytest.raises(SiteError, match="mode 0600"):
        site.resolve(site.pexip.network.ntp_servers[0].key)


def test_a_site_or_secrets_file_that_is_not_utf8_is_one_line(tmp_path):
    site_path = tmp_path / "site.toml"
    site_path.write_bytes(b'[site]\nname = "caf\xe9"\n')
    with pytest.raises(SiteError) as info:
        load_site(site_path)
    assert str(info.value) == (
        f"{site_path}: the site file is not UTF-8 text (byte 0xe9 at offset 18)"
    )
    site_path.write_text(MINIMAL)
    secrets = tmp_path / "secrets.toml"
    secrets.write_bytes(b'ntp1 = "\xff\xfe"\n')
    secrets.chmod(0o600)
    site = load_site(site_path)
    with pytest.raises(SiteError, match=r"the secrets file is not UTF-8 text \(byte 0xff"):
        site.resolve(site.pexip.network.ntp_servers[0].key)


def test_unreadable_site_file(tmp_path):
    with pytest.raises(SiteError, match="cannot read the site file"):
        load_site(tmp_path / "absent.toml")


def test_lab_site_written_by_accord_sim_is_valid_and_0600(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    path = write_site(
        LabSite.prepare(tmp_path, None),
        {"primary": SimSystem("https://127.0.0.1:1/", "admin", "pw1", ca)},
    )
    site = load_site(path)
    # The bundle trusts the shipped Management Node certificate and the lab CA's root.
    assert site.systems.pexip.primary.ca_bundle == "pexip-primary-trust.pem"
    assert site.pexip.certificates.lab_ca == "lab-ca"
    assert oct(os.stat(tmp_path / "lab-ca" / "intermediate-key.pem").st_mode & 0o777) == "0o600"
    assert os.stat(tmp_path / "secrets.toml").st_mode & 0o077 == 0
    assert site.resolve(site.systems.pexip.primary.password).reveal() == "pw1"
    assert "pw1" not in path.read_text()


def test_site_values_and_secrets_are_kept_when_simulating_a_site(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.toml").write_text(MINIMAL)
    secrets = source / "secrets.toml"
    secrets.write_text('ntp1 = "k1"\nntp2 = "k2"\na = "auth-pass"\nb = "priv-pass"\nc = "bind"\n')
    secrets.chmod(0o600)
    monkeypatch.setenv("T_PEXIP_PASSWORD", "pw")
    original = load_site(source / "site.toml")
    out = tmp_path / "out"
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    written = load_site(
        write_site(
            LabSite.prepare(out, original),
            {"primary": SimSystem("https://127.0.0.1:2/", "admin", "pw", ca)},
        )
    )
    assert written.pexip.global_ == original.pexip.global_
    assert written.resolve(written.pexip.snmp.privacy_password).reveal() == "priv-pass"
    assert written.name == "t"


def test_the_readme_site_example_is_a_valid_site_file(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    site = parse_site(example, tmp_path / "site.toml")
    assert site.systems.pexip.scratch is not None
    assert site.pexip.certificates.sip_tls_fqdns == {"conf01": "sip1.example.com"}
    assert site.model.vsphere is not None and site.model.vsphere.disk_iops_limit == 1000
    assert [a.id for a in site.model.attestations] == ["BIOS-03"]
    assert [w.id for w in site.model.waivers] == ["GLB-03"]
    assert site.systems.beyondtrust is not None and site.systems.beyondtrust.primary == "pra1"
    assert site.systems.beyondtrust.appliances["atlas1"].port == 8443
    assert site.model.beyondtrust is not None


CERTIFICATES = """
[systems.pexip.primary.client_certificates.administrator]
certificate_file = "admin.pem"
key_file = "admin-key.pem"
"""


def test_client_certificates_resolve_to_files_and_the_key_must_be_private(tmp_path, monkeypatch):
    path = tmp_path / "site.toml"
    path.write_text(MINIMAL.replace("[pexip.global]", CERTIFICATES + "\n[pexip.global]"))
    site = load_site(path)
    assert site.client_certificate("primary", "not_in_directory") is None
    with pytest.raises(SiteError, match="admin.pem does not exist"):
        site.client_certificate("primary")
    (tmp_path / "admin.pem").write_text("certificate")
    key = tmp_path / "admin-key.pem"
    key.write_text("key")
    key.chmod(0o644)
    with pytest.raises(SiteError, match=r"key_file must be readable by its owner only.*0644"):
        site.client_certificate("primary")
    key.chmod(0o600)
    assert site.client_certificate("primary") == (tmp_path / "admin.pem", key)


def test_a_plain_key_in_a_client_certificate_entry_is_refused(tmp_path):
    text = MINIMAL.replace(
        "[pexip.global]",
        "[systems.pexip.primary.client_certificates.administrator]\n"
        'certificate_file = "a.pem"\nkey = "-----BEGIN PRIVATE KEY-----"\n\n[pexip.global]',
    )
    with pytest.raises(SiteError, match="client_certificates.administrator.key"):
        parse_site(text, tmp_path / "site.toml")


BEYONDTRUST = """
[systems.beyondtrust.appliances]
pra1 = { hostname = "pra1.example.com", role = "primary" }
pra2 = { hostname = "pra2.example.com", role = "backup", address = "10.0.0.2", port = 8443 }
atlas1 = { hostname = "atlas1.example.com", role = "traffic_node" }

[beyondtrust]
site_hostname = "access.example.com"
trusted_ca_bundle = "roots.pem"
country = "US"
state = "Mississippi"
"""


def _with_beyondtrust(text: str = BEYONDTRUST) -> str:
    return MINIMAL.replace("[pexip.global]", text + "\n[pexip.global]")


def test_beyondtrust_appliances_and_site_values_load_with_defaults(tmp_path):
    site = parse_site(_with_beyondtrust(), tmp_path / "site.toml")
    system = site.systems.beyondtrust
    assert system is not None and system.primary == "pra1"
    assert system.named("traffic_node") == ["atlas1"]
    assert (system.appliances["pra1"].address, system.appliances["pra1"].port) == (None, 443)
    assert (system.appliances["pra2"].address, system.appliances["pra2"].port) == ("10.0.0.2", 8443)
    assert system.api_url is None and system.password is None  # a real site has no API
    assert site.model.beyondtrust is not None
    assert site.model.beyondtrust.site_hostname == "access.example.com"
    assert site.model.beyondtrust.unit == ""
    assert parse_site(MINIMAL, tmp_path / "site.toml").systems.beyondtrust is None


@pytest.mark.parametrize(
    ("scratch", "expected"),
    [
        (
            'name = "scratch"\nhostname = "scratch.example.com"',
            "systems.beyondtrust: scratch: only a simulated appliance can be acted on",
        ),
        (
            'name = "pra1"\nhostname = "scratch.example.com"',
            "systems.beyondtrust: scratch: pra1 is a verified appliance",
        ),
        (
            'name = "scratch"\nhostname = "pra2.example.com"',
            "systems.beyondtrust: scratch: pra2.example.com is a verified appliance's",
        ),
    ],
)
def test_a_scratch_appliance_must_be_simulated_and_apart(tmp_path, scratch, expected):
    simulated = "only a simulated" not in expected
    api = '[systems.beyondtrust]\napi_url = "https://127.0.0.1:1/"\npassword = { secret = "bt" }\n'
    text = _with_beyondtrust(
        (api if simulated else "")
        + BEYONDTRUST.replace(
            "[beyondtrust]", f"[systems.beyondtrust.scratch]\n{scratch}\n\n[beyondtrust]"
        )
    )
    errors = _errors(text, tmp_path)
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            'role = "backup"',
            'role = "primary"',
            'systems.beyondtrust: exactly one appliance must have role = "primary", not 2',
        ),
        ('role = "backup"', 'role = "failover"', "systems.beyondtrust.appliances.pra2.role:"),
        (
            '"atlas1.example.com"',
            '"*.example.com"',
            "systems.beyondtrust.appliances.atlas1.hostname: String should match pattern",
        ),
        ('"atlas1.example.com"', '"atlas1"', "systems.beyondtrust.appliances.atlas1.hostname:"),
        ("port = 8443", "port = 70000", "systems.beyondtrust.appliances.pra2.port:"),
        ('country = "US"', 'country = "USA"', "beyondtrust.country: String should match"),
        ('site_hostname = "access.example.com"', "", "beyondtrust.site_hostname: missing"),
        ('trusted_ca_bundle = "roots.pem"', "", "beyondtrust.trusted_ca_bundle: missing"),
        ('state = "Mississippi"', "surprise = 1", "beyondtrust.surprise: unknown key"),
        (
            "[systems.beyondtrust.appliances]",
            '[systems.beyondtrust]\napi_url = "https://127.0.0.1:1/"\n'
            "[systems.beyondtrust.appliances]",
            "systems.beyondtrust: api_url (the simulator's certificate API) needs a password",
        ),
    ],
)
def test_bad_beyondtrust_values_name_the_key(tmp_path, before, after, expected):
    errors = _errors(_with_beyondtrust(BEYONDTRUST.replace(before, after, 1)), tmp_path)
    assert any(expected in error for error in errors), errors
    assert all(error.startswith(str(tmp_path / "site.toml")) for error in errors)


def test_beyondtrust_appliances_and_site_values_go_together(tmp_path):
    appliances, values = BEYONDTRUST.split("[beyondtrust]")
    errors = _errors(_with_beyondtrust(appliances), tmp_path)
    assert len(errors) == 1 and errors[0].startswith(
        f"{tmp_path / 'site.toml'}: beyondtrust: missing"
    )
    errors = _errors(_with_beyondtrust("[beyondtrust]" + values), tmp_path)
    assert any("systems.beyondtrust: missing" in e for e in errors), errors


def test_a_plain_beyondtrust_api_password_is_refused_and_not_echoed(tmp_path):
    text = BEYONDTRUST.replace(
        "[systems.beyondtrust.appliances]",
        '[systems.beyondtrust]\napi_url = "https://127.0.0.1:1/"\npassword = "bt-plain-Secret"\n'
        "[systems.beyondtrust.appliances]",
    )
    errors = _errors(_with_beyondtrust(text), tmp_path)
    assert any("systems.beyondtrust.password: plain secrets are not allowed" in e for e in errors)
    assert not any("bt-plain-Secret" in e for e in errors)


def test_simulating_a_site_keeps_its_beyondtrust_values_and_appliances(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    text = _with_beyondtrust(
        BEYONDTRUST.replace(
            "[systems.beyondtrust.appliances]",
            '[systems.beyondtrust]\napi_url = "https://127.0.0.1:1/"\n'
            'password = { env = "T_BT_PASSWORD" }\n[systems.beyondtrust.appliances]',
        )
    )
    (source / "site.toml").write_text(text)
    secrets = source / "secrets.toml"
    secrets.write_text('ntp1 = "k1"\nntp2 = "k2"\na = "a"\nb = "b"\nc = "c"\n')
    secrets.chmod(0o600)
    monkeypatch.setenv("T_PEXIP_PASSWORD", "pw")
    monkeypatch.setenv("T_BT_PASSWORD", "bt-site-Password")
    original = load_site(source / "site.toml")
    assert beyondtrust_login(original) == ("admin", "bt-site-Password")
    wanted = beyondtrust_appliances(original)
    assert wanted["pra2"] == ("pra2.example.com", "backup")
    out = tmp_path / "out"
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    reached = {n: (h, r, "127.0.0.1", 40000 + i) for i, (n, (h, r)) in enumerate(wanted.items())}
    path = write_site(
        LabSite.prepare(out, original),
        {"primary": SimSystem("https://127.0.0.1:2/", "admin", "pw", ca)},
        beyondtrust=SimBeyondTrust(
            "https://127.0.0.1:3/", "admin", "bt-site-Password", ca, reached
        ),
    )
    written = load_site(path)
    assert written.model.beyondtrust is not None and original.model.beyondtrust is not None
    assert written.model.beyondtrust.site_hostname == "access.example.com"
    assert written.model.beyondtrust.state == "Mississippi"
    # The lab CA signs the simulated appliances' certificate: its root is what clients trust.
    assert written.model.beyondtrust.trusted_ca_bundle == "lab-ca/root.pem"
    system = written.systems.beyondtrust
    assert system is not None and system.api_url == "https://127.0.0.1:3/"
    assert written.resolve(system.password).reveal() == "bt-site-Password"
    assert (system.appliances["pra2"].address, system.appliances["pra2"].port) == (
        "127.0.0.1",
        40001,
    )
    assert "bt-site-Password" not in path.read_text()


def test_the_lab_site_without_appliances_has_no_beyondtrust_values(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    lab = LabSite.prepare(tmp_path, None)
    assert lab.document["beyondtrust"]["site_hostname"] == "access.lab.example"
    site = load_site(write_site(lab, {"primary": SimSystem("https://127.0.0.1:1/", "a", "p", ca)}))
    assert site.model.beyondtrust is None and site.systems.beyondtrust is None


WAIVER = """
[[waivers]]
id = "GLB-02"
reason = "Chat stays on until the helpdesk moves off it."
approver = "CISO"
date = 2026-01-01
expires = 2026-12-31
"""


def test_waivers_load_with_utc_days(tmp_path):
    site = parse_site(MINIMAL + WAIVER, tmp_path / "site.toml")
    [waiver] = site.model.waivers
    assert (waiver.id, waiver.approver) == ("GLB-02", "CISO")
    assert (waiver.date.isoformat(), waiver.expires.isoformat()) == ("2026-01-01", "2026-12-31")
    assert parse_site(MINIMAL, tmp_path / "site.toml").model.waivers == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ('id = "GLB-02"', 'id = "glb-02"', "waivers.0.id: String should match pattern"),
        ('id = "GLB-02"', 'id = "GLB-99"', "waivers.0.id: GLB-99 is not a requirement of the"),
        ("expires = 2026-12-31", "expires = 2026-01-01", "waivers.0.expires: must be after date"),
        ("expires = 2026-12-31", 'expires = "2026-12-31"', "waivers.0.expires: Input should be"),
        ('approver = "CISO"\n', "", "waivers.0.approver: missing"),
        ('approver = "CISO"', 'approver = ""', "waivers.0.approver: String should have at least"),
        ('reason = "Chat', 'why = "Chat', "waivers.0.why: unknown key"),
        ("date = 2026-01-01", "date = 2026-01-01T10:00:00Z", "waivers.0.date:"),
    ],
)
def test_bad_waivers_name_the_key(tmp_path, before, after, expected):
    assert before in WAIVER
    errors = _errors(MINIMAL + WAIVER.replace(before, after), tmp_path)
    assert any(expected in error for error in errors), errors


def test_one_waiver_per_requirement(tmp_path):
    errors = _errors(MINIMAL + WAIVER + WAIVER, tmp_path)
    assert errors == [
        f"{tmp_path / 'site.toml'}: waivers: one waiver per requirement: GLB-02 given twice"
    ]


def test_simulating_a_site_keeps_its_waivers(tmp_path, monkeypatch):
    source = tmp_path / "site.toml"
    source.write_text(MINIMAL + WAIVER)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('ntp1 = "k1"\nntp2 = "k2"\na = "x"\nb = "y"\nc = "z"\n')
    secrets.chmod(0o600)
    monkeypatch.setenv("T_PEXIP_PASSWORD", "pw")
    document, _ = site_document(load_site(source))
    assert document["waivers"] == [load_site(source).model.waivers[0].model_dump()]
    assert "waivers" not in site_document(None)[0]


def test_pytest_features_with_a_site_file_that_is_not_utf8_is_one_line(tmp_path):
    from tests.features_run import run_features

    bad = tmp_path / "site.toml"
    bad.write_bytes(b'[site]\nname = "\xff"\n')
    run = run_features(tmp_path / "reports", "--target", "live", "--site", str(bad))
    assert run.returncode != 0
    said = [line for line in run.output.splitlines() if line.strip()]
    assert said == [
        f"ERROR: accord: {bad}: the site file is not UTF-8 text (byte 0xff at offset 15)"
    ]
