"""A site is checked before any system is touched, by `accord deploy` and `pytest features/`
alike (`accord.site.check_site`); a failed check writes no reports folder, and two runs never
share one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accord.cli import main
from accord.site import SiteError, check_site, load_site
from tests.features_run import run_features
from tests.test_verification import write_canary_site

SYSTEM = """
[systems.pexip.primary]
url = "https://127.0.0.1:9/"
password = { secret = "pexip_admin" }
"""


def _site(folder: Path, extra: str = "") -> Path:
    """The canary site reaching nothing (port 9), with ``extra`` appended."""
    site = write_canary_site(folder)
    site.write_text(site.read_text() + extra)
    (folder / "canary-roots.pem").write_text("roots")  # [beyondtrust] trusted_ca_bundle
    return site


def _problems(site: Path) -> list[str]:
    with pytest.raises(SiteError) as raised:
        check_site(load_site(site))
    return str(raised.value).splitlines()


def test_the_canary_site_is_complete(tmp_path: Path) -> None:
    check_site(load_site(_site(tmp_path)))


def test_a_site_the_simulators_stand_in_for_needs_its_secrets_only(tmp_path: Path) -> None:
    site = write_canary_site(tmp_path)  # names a roots file it does not have
    with pytest.raises(SiteError, match="canary-roots.pem does not exist"):
        check_site(load_site(site))
    check_site(load_site(site), files=False)


def test_a_secret_missing_from_the_secrets_file(tmp_path: Path) -> None:
    site = _site(tmp_path)
    secrets = site.with_name("secrets.toml")
    secrets.write_text(
        "".join(line + "\n" for line in secrets.read_text().splitlines() if "ldap_bind" not in line)
    )
    assert _problems(site) == [f"{site.resolve()}: secret 'ldap_bind' is not in the secrets file"]


def test_an_unset_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    site.write_text(
        site.read_text().replace(
            'bind_password = { secret = "ldap_bind" }',
            'bind_password = { env = "ACCORD_TEST_UNSET" }',
        )
    )
    monkeypatch.delenv("ACCORD_TEST_UNSET", raising=False)
    assert _problems(site) == [
        f"{site.resolve()}: environment variable ACCORD_TEST_UNSET is not set"
    ]


def test_a_missing_ca_bundle_and_a_key_others_can_read(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (tmp_path / "admin.pem").write_text("certificate")
    key = tmp_path / "admin.key"
    key.write_text("key")
    key.chmod(0o644)
    text = site.read_text().replace(
        "[systems.pexip.primary]\n",
        '[systems.pexip.primary]\nca_bundle = "missing-ca.pem"\n'
        'client_certificates.administrator = { certificate_file = "admin.pem", '
        'key_file = "admin.key" }\n',
        1,
    )
    site.write_text(text)
    problems = _problems(site)
    assert problems[0].endswith(
        f"systems.pexip.primary.ca_bundle: {tmp_path.resolve()}/missing-ca.pem does not exist"
    )
    assert "key_file must be readable by its owner only (mode 0600), it is 0644" in problems[1]


def test_accord_deploy_refuses_before_it_connects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path)
    site.with_name("secrets.toml").write_text("")
    assert main(["deploy", "--dry-run", "--site", str(site)]) == 2
    err = capsys.readouterr().err
    assert "is not in the secrets file" in err and "Traceback" not in err


def test_a_features_run_with_a_broken_site_is_one_line_and_writes_no_reports(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path / "site")
    site.with_name("secrets.toml").write_text("")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "earlier").mkdir()
    os.symlink("earlier", reports / "latest")
    run = run_features(reports, "--target", "live", "--site", str(site), evidence="minimal")
    assert run.returncode == 4, run.output
    errors = [line for line in run.output.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: accord: "), run.output
    assert "is not in the secrets file (and " in errors[0]
    assert sorted(p.name for p in reports.iterdir()) == ["earlier", "latest"]
    assert os.readlink(reports / "latest") == "earlier"


def test_two_runs_in_the_same_second_never_share_a_reports_folder(tmp_path: Path) -> None:
    from accord.pytest.run import _new_folder

    first = _new_folder(tmp_path, "20261207T000000Z-sim-lab")
    second = _new_folder(tmp_path, "20261207T000000Z-sim-lab")
    third = _new_folder(tmp_path, "20261207T000000Z-sim-lab")
    assert [p.name for p in (first, second, third)] == [
        "20261207T000000Z-sim-lab",
        "20261207T000000Z-sim-lab-2",
        "20261207T000000Z-sim-lab-3",
    ]
