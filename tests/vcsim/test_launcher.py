"""The launcher and the binary: a free loopback port, TLS verified against the certificate file
with the host name checked, only the configured credentials log in, clean stops."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from simulator.vcsim.build import vcsim_binary
from simulator.vcsim.launcher import URL_LINE, VcsimError, VcsimProcess
from tests.vcsim.conftest import PASSWORD, USERNAME


def handshake(host: str, port: int, context: ssl.SSLContext, server_name: str) -> None:
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name),
    ):
        pass


def test_it_listens_on_loopback_and_its_url_carries_no_credentials(vcsim):
    assert vcsim.host == "127.0.0.1" and vcsim.port > 0
    assert vcsim.url == f"https://127.0.0.1:{vcsim.port}/sdk"
    assert PASSWORD not in vcsim.url and "@" not in vcsim.url


def test_the_certificate_file_is_the_served_one_for_127_0_0_1(vcsim):
    cert = x509.load_pem_x509_certificate(vcsim.ca_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    served = ssl.get_server_certificate((vcsim.host, vcsim.port))
    assert x509.load_pem_x509_certificate(served.encode()) == cert


def test_python_verifies_it_with_the_host_name_checked(vcsim):
    strict = vcsim.ssl_context()
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    handshake(vcsim.host, vcsim.port, strict, vcsim.host)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(vcsim.host, vcsim.port, vcsim.ssl_context(), "vcenter.example.com")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(vcsim.host, vcsim.port, ssl.create_default_context(), vcsim.host)


def test_the_right_password_logs_in(vcsim):
    si = vcsim.connect()
    try:
        assert si.content.sessionManager.currentSession.userName == USERNAME
        assert si.content.about.apiType == "VirtualCenter"
    finally:
        Disconnect(si)


def test_a_wrong_password_or_user_is_refused(vcsim):
    with pytest.raises(vim.fault.InvalidLogin):
        vcsim.connect(password="not-the-password")
    with pytest.raises(vim.fault.InvalidLogin):
        SmartConnect(
            host=vcsim.host,
            port=vcsim.port,
            user="root",
            pwd=PASSWORD,
            sslContext=vcsim.ssl_context(),
        )


def test_the_password_is_not_on_the_command_line(vcsim):
    cmdline = Path(f"/proc/{vcsim.pid}/cmdline").read_bytes().decode()
    assert PASSWORD not in cmdline
    assert "-exit-with-stdin" in cmdline


def test_start_and_stop(tmp_path):
    process = VcsimProcess(tmp_path, USERNAME, PASSWORD)
    with process:
        assert process.running
        port, pid = process.port, process.pid
        socket.create_connection((process.host, port), timeout=5).close()
        assert process.ca_file.is_file()
    assert not process.running and process.pid is None
    assert not process.ca_file.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not Path(f"/proc/{pid}").exists()
    assert list(tmp_path.iterdir()) == []  # the datastore's directory is gone too
    process.stop()  # stopping twice is harmless


def test_a_second_instance_gets_another_port(vcsim, tmp_path):
    with VcsimProcess(tmp_path, USERNAME, PASSWORD) as other:
        assert other.port != vcsim.port


def run_binary(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(vcsim_binary()), "-cert-file", str(tmp_path / "cert.pem"), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TMPDIR=str(tmp_path), VCSIM_PASSWORD=PASSWORD),
    )


def test_the_binary_prints_one_url_line_and_exits_cleanly_on_sigterm(tmp_path):
    proc = run_binary(tmp_path, "-username", "admin")
    assert proc.stdout is not None
    line = proc.stdout.readline().rstrip("\n")
    assert URL_LINE.match(line)
    assert re.fullmatch(r"https://admin:Lab%3Apass%40word%2F1@127\.0\.0\.1:\d+/sdk", line)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == ""
    assert [p.name for p in tmp_path.iterdir()] == ["cert.pem"]


def test_the_binary_exits_when_its_standard_input_ends(tmp_path):
    proc = run_binary(tmp_path, "-exit-with-stdin")
    assert proc.stdout is not None and proc.stdin is not None
    assert URL_LINE.match(proc.stdout.readline())
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("-listen", "0.0.0.0:0"), "not a loopback IP address"),
        (("-hosts", "0"), "-hosts must be at least 1"),
    ],
)
def test_the_binary_refuses_bad_flags(tmp_path, args, error):
    proc = run_binary(tmp_path, *args)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and out == ""
    assert error in err


def test_the_launcher_reports_a_binary_that_exits(tmp_path):
    process = VcsimProcess(tmp_path, USERNAME, PASSWORD, address="192.0.2.1")
    with pytest.raises(VcsimError, match=r"exited \(2\)"):
        process.start()
    assert not process.running


def test_the_launcher_wants_a_host():
    with pytest.raises(ValueError):
        VcsimProcess(Path("."), USERNAME, PASSWORD, hosts=0)
