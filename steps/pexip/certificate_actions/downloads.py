"""Certificate actions: downloading TLS certificates, as PEM or PKCS#12 and with the private key
only under a passphrase (TLS-14).
"""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from accord.pexip.workbench import Outcome
from accord.pki import from_pkcs12, load_pem_certificates
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, web_file


@when("a CA-signed certificate is uploaded")
def upload_signed(act: Act) -> None:
    act.leaf = act.new_leaf("download")
    upload = act.scratch.upload_certificate(act.leaf.chain_pem, act.leaf.key_pem())
    act.record(upload, "upload")
    assert upload.accepted, upload.error_text()


@then(parsers.parse('it downloads as PEM named "{suffix}"'))
def downloads_pem(act: Act, suffix: str, observe: Observe) -> None:
    assert act.uri is not None and act.leaf is not None
    name, data = web_file(act.scratch.download, [act.uri])
    observe("download", {"file": name, "bytes": len(data)})
    assert name == f"{act.scratch.name('download')}{suffix}", f"file name {name!r}"
    assert b"PRIVATE KEY" not in data, "the private key was included without being asked"
    assert load_pem_certificates(data)[0] == act.leaf.cert


@then("its private key is included only with a passphrase")
def key_needs_passphrase(act: Act, observe: Observe) -> None:
    assert act.uri is not None
    without = web_file(act.scratch.download, [act.uri], include_private_key=True)
    refused_ = isinstance(without, Outcome) and not without.accepted
    observe("download with key, no passphrase", {"refused": refused_})
    assert refused_, "the private key was given out without a passphrase"
    secret = act.scratch.token + "-download"
    name, data = web_file(
        act.scratch.download, [act.uri], include_private_key=True, passphrase=secret
    )
    observe("download with key and passphrase", {"file": name})
    assert name.endswith("_keycert.pem"), f"file name {name!r}"
    assert b"ENCRYPTED PRIVATE KEY" in data, "the private key is not encrypted"


@then("it downloads as PKCS#12 with a passphrase")
def downloads_pkcs12(act: Act, observe: Observe) -> None:
    assert act.uri is not None and act.leaf is not None
    secret = act.scratch.token + "-p12"
    name, data = web_file(
        act.scratch.download, [act.uri], "pkcs12", include_private_key=True, passphrase=secret
    )
    observe("PKCS#12 download", {"file": name})
    assert from_pkcs12(data, secret).cert == act.leaf.cert


@then(parsers.parse('several certificates download together as "{name}"'))
def downloads_several(act: Act, name: str, observe: Observe) -> None:
    other = act.new_leaf("second")
    upload = act.record(act.scratch.upload_certificate(other.cert_pem, other.key_pem()), "upload")
    assert act.uri is not None and upload.uri is not None
    got, data = web_file(act.scratch.download, [act.uris[0], upload.uri])
    observe("download of two", {"file": got})
    assert got == name, f"file name {got!r}"
    assert len(load_pem_certificates(data)) >= 2


@then("a temporary certificate cannot be downloaded")
def temporary_not_downloadable(act: Act, observe: Observe) -> None:
    shipped = act.shipped()[0]["resource_uri"]
    answer = web_file(act.scratch.download, [shipped])
    shown = answer.observation() if isinstance(answer, Outcome) else {"file": answer[0]}
    observe("download of a temporary certificate", shown)
    assert isinstance(answer, Outcome) and not answer.accepted, "a temporary certificate downloaded"
