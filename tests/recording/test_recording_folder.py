"""The recording folder: a copy of the site with no secrets, and the options that make one."""

from __future__ import annotations

import json
import stat
import textwrap
from pathlib import Path

import pytest

from accord.recording.recorder import (
    KEY_PLACEHOLDER,
    Recording,
    RecordingError,
    field_stand_in,
    scrubber_for,
)
from accord.site import load_site, stand_in
from tests.features_run import run_features
from tests.test_verification import CANARIES, CANARY_SITE, write_canary_site

CERTIFICATE_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nCANARY-key-material\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """The canary site, with a CA bundle outside its folder and an administrator's client
    certificate and key inside it."""
    home = tmp_path / "site"
    (home / "certs").mkdir(parents=True)
    (tmp_path / "shared-ca.pem").write_text(CERTIFICATE_PEM)
    (home / "certs" / "admin.pem").write_text(CERTIFICATE_PEM)
    key = home / "certs" / "admin-key.pem"
    key.write_text(KEY_PEM)
    key.chmod(0o600)
    named = (
        'ca_bundle = "../shared-ca.pem"\nclient_certificates.administrator = '
        '{ certificate_file = "certs/admin.pem", key_file = "certs/admin-key.pem" }'
    )
    text = (
        textwrap.dedent(CANARY_SITE)
        .replace('url = "https://127.0.0.1:1/"', f'url = "https://127.0.0.1:1/"\n{named}', 1)
        .replace('url = "https://127.0.0.1:2/"', f'url = "https://127.0.0.1:2/"\n{named}', 1)
    )
    assert "shared-ca.pem" in text, "the canary site's primary URL moved"
    return write_canary_site(home, text)


def test_the_copy_of_the_site_holds_no_secret_and_loads_with_stand_ins(site_file, tmp_path):
    site = load_site(site_file)
    recording = Recording.create(tmp_path / "recording", site)
    copied = recording.site_file.parent
    everything = "".join(p.read_text() for p in copied.rglob("*") if p.is_file())
    for secret in [*CANARIES.values(), "canary-comm", "CANARY-key-material"]:
        assert secret not in everything
    assert not (copied / "secrets.toml").exists()
    key = copied / "certs" / "admin-key.pem"
    assert key.read_text() == KEY_PLACEHOLDER
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (copied / "certs" / "admin.pem").read_text() == CERTIFICATE_PEM
    assert (copied / "files" / "shared-ca.pem").read_text() == CERTIFICATE_PEM
    # Named by both Management Nodes, each file is copied once.
    copies = [p.name for p in copied.rglob("*.pem")]
    assert sorted(copies) == sorted(set(copies)) and not [c for c in copies if c[0] == "_"]
    assert copies.count("admin.pem") == copies.count("shared-ca.pem") == 1

    replayed = load_site(recording.site_file, stand_ins=True)
    password = replayed.systems.pexip.primary.password
    assert replayed.resolve(password).reveal() == stand_in(password)
    assert replayed.pexip.snmp.community == field_stand_in("pexip.snmp.community")
    assert replayed.file(replayed.systems.pexip.primary.ca_bundle).read_text() == CERTIFICATE_PEM
    meta = json.loads((tmp_path / "recording" / "recording.json").read_text())
    assert meta["site"] == "canary" and Recording.open(tmp_path / "recording") == recording


def test_the_live_scrubber_and_the_replayed_sites_agree_on_every_stand_in(site_file, tmp_path):
    """What the recording writes for a secret is what the replayed site resolves it to."""
    site = load_site(site_file)
    recording = Recording.create(tmp_path / "recording", site)
    replayed = load_site(recording.site_file, stand_ins=True)
    live, replay = scrubber_for(site), scrubber_for(replayed)
    answer = {"ldap_bind_password": CANARIES["ldap_bind"], "snmp_community": "canary-comm"}
    written = live.json(answer)
    assert written == {
        "ldap_bind_password": replayed.resolve(replayed.pexip.ldap.bind_password).reveal(),
        "snmp_community": replayed.pexip.snmp.community,
    }
    assert replay.json(written) == written


def test_a_recording_goes_into_an_empty_folder_only(site_file, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    with pytest.raises(RecordingError, match="not an empty folder"):
        Recording.create(tmp_path / "used", load_site(site_file))
    with pytest.raises(RecordingError, match="no recording there"):
        Recording.open(tmp_path / "used")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--record", "REC"], "--record needs --target live and one --site"),
        (["--target", "live", "--record", "REC"], "--record needs --target live and one --site"),
        (
            ["--target", "live", "--site", "x.toml", "--record", "REC", "-n", "2"],
            "--record runs without -n",
        ),
        (["--cassettes", "REC"], "--cassettes needs --target replay"),
        (["--target", "replay"], "--target replay needs --cassettes DIR"),
        (["--target", "replay", "--cassettes", "REC"], "no recording there"),
        (["--target", "replay", "--cassettes", "REC", "--site", "x.toml"], "takes no --site"),
    ],
)
def test_options_that_do_not_go_together_are_refused_before_anything_runs(tmp_path, options, says):
    options = [str(tmp_path / "rec") if o == "REC" else o for o in options]
    run = run_features(tmp_path / "reports", *options)
    assert run.returncode == 4, run.output  # a usage error
    assert says in run.output
    assert not (tmp_path / "rec").exists()
