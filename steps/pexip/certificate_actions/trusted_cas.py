"""Certificate actions: importing certificate bundles, and the trusted CA certificates exported,
viewed, edited and deleted (CA-02, CA-03).
"""

from __future__ import annotations

from cryptography.x509.oid import NameOID
from pytest_bdd import then, when

from accord.pki import CA, fingerprint_sha256, load_pem_certificates, to_pem
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, Obj, web_file


@when(
    "a PEM bundle of a root, an intermediate and a server certificate with its key is imported",
    target_fixture="bundle",
)
def import_bundle(act: Act) -> str:
    act.leaf = act.new_leaf("imported")
    bundle = to_pem(act.ca.root) + act.ca.cert_pem + act.leaf.cert_pem + act.leaf.key_pem()
    act.record(act.scratch.import_bundle(bundle), "import")
    return bundle


def _fingerprints(objects: list[Obj]) -> list[str]:
    return [fingerprint_sha256(load_pem_certificates(o["certificate"])[0]) for o in objects]


@then("the root and intermediate are trusted CA certificates and the server certificate a TLS one")
def imported_where(act: Act, observe: Observe) -> None:
    cas = _fingerprints(act.scratch.ca_certificates())
    tls_list = _fingerprints(act.scratch.tls_certificates())
    assert act.leaf is not None
    observe("lists", {"trusted CA": len(cas), "TLS": len(tls_list)})
    assert fingerprint_sha256(act.ca.root) in cas and fingerprint_sha256(act.ca.cert) in cas
    assert (
        fingerprint_sha256(act.leaf.cert) in tls_list
        and fingerprint_sha256(act.leaf.cert) not in cas
    )


def _counts(act: Act) -> tuple[int, int]:
    """How many trusted CA certificates and TLS certificates are listed."""
    return len(act.scratch.ca_certificates()), len(act.scratch.tls_certificates())


@when("the same bundle is imported again", target_fixture="counts_before")
def import_again(act: Act, bundle: str) -> tuple[int, int]:  # the counts before it
    before = _counts(act)
    act.record(act.scratch.import_bundle(bundle), "import again")
    return before


@then("nothing is added")
def nothing_added(act: Act, counts_before: tuple[int, int], observe: Observe) -> None:
    counts = _counts(act)
    observe("counts before and after", [counts_before, counts])
    assert counts == counts_before, f"duplicates added: {counts_before} -> {counts}"


@when("a CA certificate with the same subject but another key is imported")
def import_same_subject(act: Act) -> None:
    twin = CA.new(act.ca.root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    act.record(act.scratch.import_bundle(twin.cert_pem), "import same subject")


@then("both CA certificates with that subject are listed")
def twins_listed(act: Act, observe: Observe) -> None:
    same = [
        o
        for o in act.scratch.ca_certificates()
        if load_pem_certificates(o["certificate"])[0].subject == act.ca.root.subject
    ]
    observe("same subject", [o["resource_uri"] for o in same])
    assert len(same) == 2, f"{len(same)} CA certificate(s) with that subject"


@when("the test CA's root and intermediate are uploaded as trusted CA certificates")
def upload_trusted(act: Act) -> None:
    act.trust()


@then('the export is "ca-certificates.pem" with every custom trusted CA certificate')
def export(act: Act, observe: Observe) -> None:
    name, data = web_file(act.scratch.export_ca)
    exported = load_pem_certificates(data) if data.strip() else []
    listed = [load_pem_certificates(o["certificate"])[0] for o in act.scratch.ca_certificates()]
    observe("export", {"file": name, "certificates": len(exported), "listed": len(listed)})
    assert name == "ca-certificates.pem", f"file name {name!r}"
    assert sorted(fingerprint_sha256(c) for c in exported) == sorted(
        fingerprint_sha256(c) for c in listed
    ), "the export does not hold exactly the trusted CA list"


@then("each shows its decoded subject, issuer and validity")
def decoded(act: Act, observe: Observe) -> None:
    for obj in act.scratch.ca_certificates():
        cert = load_pem_certificates(obj["certificate"])[0]
        assert obj.get("text") and cert.subject.rfc4514_string().split("=", 1)[1] in obj["text"], (
            f"{obj['resource_uri']} shows no decoded data"
        )
    observe("decoded", len(act.scratch.ca_certificates()))


@then("a trusted CA certificate's PEM can be replaced and a certificate deleted")
def edit_and_delete(act: Act, observe: Observe) -> None:
    objects = act.scratch.ca_certificates()
    mine = [
        o
        for o in objects
        if load_pem_certificates(o["certificate"])[0] in (act.ca.root, act.ca.cert)
    ]
    assert len(mine) == 2, "the test CA's certificates are not listed"
    replacement = CA.new(act.scratch.name("replacement"))
    edit = act.scratch.update(mine[1]["resource_uri"], {"certificate": replacement.cert_pem})
    act.scratch.track(mine[1]["resource_uri"])
    observe("edit PEM", edit.observation())
    assert edit.accepted, edit.error_text()
    shown = load_pem_certificates(act.scratch.get(mine[1]["resource_uri"])["certificate"])[0]
    assert shown == replacement.cert, "the edited PEM was not kept"
    removed = act.scratch.delete(mine[0]["resource_uri"])
    observe("delete", removed.observation())
    left = [o["resource_uri"] for o in act.scratch.ca_certificates()]
    assert removed.accepted and mine[0]["resource_uri"] not in left, "not deleted"
