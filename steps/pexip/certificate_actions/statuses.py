"""Certificate actions: the status each certificate shows (TLS-12) and the shipped temporary
certificates (TLS-15).
"""

from __future__ import annotations

import datetime as dt

from pytest_bdd import parsers, then, when

from accord.pexip.certificates import StoredCertificate
from accord.pki import dh_parameters_bits, load_pem_certificates, public_key_info, status
from accord.pki.openssl import sha1_self_signed
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, Obj


@when("certificates of each kind are uploaded", target_fixture="uploaded_kinds")
def upload_each_kind(act: Act) -> dict[str, str]:  # kind -> the URI of its upload
    now = dt.datetime.now(dt.UTC)
    made: dict[str, tuple[str, str]] = {}
    good = act.new_leaf("good")
    made["good"] = (good.cert_pem, good.key_pem())
    sha1_cert, sha1_key = sha1_self_signed(act.scratch.name("sha1"))
    made["SHA-1 signed"] = (sha1_cert, sha1_key)
    bare = act.ca.issue_cert(act.scratch.name("bare"), empty_subject=True)
    made["SAN only"] = (bare.cert_pem, bare.key_pem())
    soon = act.new_leaf(
        "soon",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=20, hours=12),
    )
    made["expiring in 20 days"] = (soon.cert_pem, soon.key_pem())
    old = act.new_leaf(
        "old", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=5)
    )
    made["expired"] = (old.cert_pem, old.key_pem())
    uploaded = {}
    for kind, (cert, key) in made.items():
        upload = act.record(act.scratch.upload_certificate(cert, key), f"upload {kind}")
        assert upload.accepted and upload.uri, f"{kind}: {upload.error_text()}"
        uploaded[kind] = upload.uri
    return uploaded


@then(parsers.parse("their statuses are {expected}"))
def statuses_are(act: Act, uploaded_kinds: dict[str, str], expected: str, observe: Observe) -> None:
    kinds = ["good", "SHA-1 signed", "SAN only", "expiring in 20 days", "expired"]
    wanted = [part.strip().strip('"') for part in expected.replace(" and ", ", ").split(",")]
    seen = {}
    for kind in kinds:
        stored = StoredCertificate.from_api(act.scratch.get(uploaded_kinds[kind]))
        seen[kind] = stored.status
    observe("statuses", seen)
    assert list(seen.values()) == wanted, f"statuses {seen}, expected {wanted}"


@then('the shipped certificates have the status "Temporary"')
def shipped_temporary(act: Act, observe: Observe) -> None:
    shipped = act.shipped()
    observe("shipped certificates", {o["resource_uri"]: _status(o) for o in shipped})
    assert shipped and all(_status(o) == "Temporary" for o in shipped)


def _status(obj: Obj) -> str:
    return status(load_pem_certificates(obj["certificate"])[0])


@then("the validity dates the API reports agree with each certificate")
def dates_agree(act: Act, observe: Observe) -> None:
    seen, bad = {}, []
    for uri in act.uris:
        obj = act.scratch.get(uri)
        cert = load_pem_certificates(obj["certificate"])[0]
        reported = {k: obj.get(k) for k in ("start_date", "end_date")}
        seen[uri] = reported
        for name, actual in (
            ("start_date", cert.not_valid_before_utc),
            ("end_date", cert.not_valid_after_utc),
        ):
            value = dt.datetime.fromisoformat(str(reported[name]))
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            if abs(value - actual) > dt.timedelta(seconds=1):
                bad.append(f"{uri} {name} {reported[name]} but the certificate says {actual}")
    observe("reported dates", seen)
    assert not bad, "; ".join(bad)


@then("every shipped temporary certificate has a 4096-bit key and 2048-bit DH parameters")
def shipped_sizes(act: Act, observe: Observe) -> None:
    seen, bad = {}, []
    for obj in act.shipped():
        kind, bits = public_key_info(load_pem_certificates(obj["certificate"])[0])
        try:
            dh = dh_parameters_bits(obj.get("parameters") or "")
        except ValueError:
            dh = None
        seen[obj["subject_name"]] = {"key": f"{kind} {bits}", "dh_parameters_bits": dh}
        if bits != 4096 or dh != 2048:
            bad.append(obj["subject_name"])
    observe("shipped certificates", seen)
    assert seen, "no shipped temporary certificate found"
    assert not bad, f"shipped certificates without a 4096-bit key and 2048-bit DH: {bad}"
