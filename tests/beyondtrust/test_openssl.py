"""Acceptance evidence from the real ``openssl`` command line against the BeyondTrust simulator
(its JSON certificate API and the appliances' SNI TLS listeners), not from Accord's own code:

- ``openssl s_client -servername NAME`` (and ``-noservername``) receives the certificate whose
  SANs match NAME, the default for no SNI or an unknown name (BT-08), as openssl itself prints
  its subject and SHA-256 fingerprint; ``-showcerts`` shows the leaf and its intermediate, and
  openssl verifies the chain and the hostname against the root alone (BT-09);
- files openssl writes import through the API: PEM and DER certificates, PKCS#7 (PEM and DER),
  PKCS#12 with a password (OpenSSL 3's default AES-256 and ``-legacy``), and a certificate
  ``openssl x509 -req`` issued from the appliance's own request data, which links to the
  pending request's key (Private Key? yes);
- the other way, the API's exports open with openssl: PKCS#12 (``openssl pkcs12 -nodes``,
  without ``-legacy``), DER (``openssl x509 -inform DER``), PKCS#7 (``openssl pkcs7
  -print_certs -inform DER``) and the encrypted PKCS#8 key (``openssl pkey -inform DER``).

The CA (root and intermediate) and every leaf key are made by openssl too. Passwords reach
openssl through an environment variable (``-passin env:...``), never its command line, and no
assertion message shows one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from accord.beyondtrust.client import BeyondTrustApiError, BeyondTrustClient, Certificate
from accord.pki import fingerprint_sha256, to_pem
from accord.secrets import Secret
from simulator.beyondtrust import ApplianceSpec, BeyondTrustSimulator
from tests.beyondtrust.helpers import create_form

API_PASSWORD = "openssl-Api-Passw0rd"
P12_PASSWORD = "openssl-P12-Passw0rd"
EXPORT_PASSPHRASE = "openssl-Export-Passphr4se"
SECRETS = (API_PASSWORD, P12_PASSWORD, EXPORT_PASSPHRASE)
PASS_ENV = "ACCORD_TEST_OPENSSL_PASSWORD"
PASS_ARG = f"env:{PASS_ENV}"

SITE = "access.example.com"
PRIMARY = "pra1.example.com"
OTHER = "remote.example.net"
KNOWN = (SITE, PRIMARY, OTHER)  # names a certificate covers; others get the default
LEAF_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
)

Run = subprocess.CompletedProcess[bytes]


def _leaked(text: str | bytes) -> bool:
    value = text.decode(errors="replace") if isinstance(text, bytes) else text
    return any(secret in value for secret in SECRETS)


def openssl(
    *args: str,
    cwd: Path,
    input: bytes | None = None,
    password: str | None = None,
    check: bool = True,
) -> Run:
    """Run ``openssl ARGS`` in ``cwd`` (60 s at most); ``password`` is handed over as the
    environment variable ``PASS_ENV`` (``-passin``/``-passout env:...``). Fails the test with
    openssl's stderr, redacted, when it exits non-zero and ``check``."""
    exe = shutil.which("openssl")
    assert exe is not None, "the openssl command line is required for this evidence"
    env = {k: v for k, v in os.environ.items() if k != PASS_ENV}
    if password is not None:
        env[PASS_ENV] = password
    done = subprocess.run(
        [exe, *args], cwd=cwd, input=input, capture_output=True, timeout=60, env=env, check=False
    )
    if check and done.returncode != 0:
        stderr = done.stderr.decode(errors="replace")
        for secret in SECRETS:
            stderr = stderr.replace(secret, "***")
        pytest.fail(f"openssl {' '.join(args)} exited {done.returncode}: {stderr}", pytrace=False)
    return done


def text(done: Run) -> str:
    return done.stdout.decode(errors="replace")


def field(output: str, prefix: str) -> str:
    """The value of the first ``prefix...=value`` line openssl printed (e.g. ``sha256
    Fingerprint=``, ``subject=``)."""
    for line in output.splitlines():
        if line.startswith(prefix):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"openssl printed no {prefix!r} line:\n{output}")


def fingerprint(cwd: Path, pem: bytes, *, inform: str = "PEM") -> str:
    """SHA-256 fingerprint of the (first) certificate in ``pem``, as openssl prints it."""
    shown = openssl(
        "x509", "-inform", inform, "-noout", "-fingerprint", "-sha256", cwd=cwd, input=pem
    )
    return field(text(shown), "sha256 Fingerprint=").upper()


def subject(cwd: Path, pem: bytes) -> str:
    shown = openssl("x509", "-noout", "-subject", "-nameopt", "RFC2253", cwd=cwd, input=pem)
    return field(text(shown), "subject=")


def public_key(
    cwd: Path, *args: str, input: bytes | None = None, password: str | None = None
) -> str:
    """The public key (PEM) openssl derives from a certificate, CSR or private key."""
    return text(openssl(*args, cwd=cwd, input=input, password=password))


def listed_subjects(cwd: Path, pkcs7: bytes, *, inform: str) -> list[str]:
    """The subjects ``openssl pkcs7 -print_certs`` lists, in order (openssl's own format:
    ``O = Example, CN = OpenSSL Root CA``)."""
    shown = openssl(
        "pkcs7", "-inform", inform, "-print_certs", "-noout",
        cwd=cwd, input=pkcs7,
    )  # fmt: skip
    return [
        line.split("=", 1)[1] for line in text(shown).splitlines() if line.startswith("subject=")
    ]


def chain_subjects(s_client_output: str) -> list[str]:
    """The ``N s:SUBJECT`` lines of ``s_client -showcerts``'s "Certificate chain", by depth."""
    found = re.findall(r"^\s*(\d+) s:(.*)$", s_client_output, flags=re.MULTILINE)
    return [name for _depth, name in sorted(found, key=lambda f: int(f[0]))]


def as_pkcs7(cwd: Path, certificates_pem: bytes) -> bytes:
    """Every certificate in a text (e.g. ``s_client -showcerts`` output) as one PKCS#7 (PEM),
    by openssl: it finds the PEM blocks, not us."""
    (cwd / "shown.txt").write_bytes(certificates_pem)
    return openssl("crl2pkcs7", "-nocrl", "-certfile", "shown.txt", cwd=cwd).stdout


@dataclass(frozen=True)
class OpensslCA:
    """A root and an intermediate made by openssl (``root.pem``, ``ca.pem``, their keys)."""

    folder: Path

    @property
    def root(self) -> Path:
        return self.folder / "root.pem"

    @property
    def intermediate(self) -> Path:
        return self.folder / "ca.pem"

    def sign(self, cwd: Path, csr: Path, out: str, *, san: str | None = None) -> Path:
        """``openssl x509 -req``: a leaf for ``csr`` signed by the intermediate; its SANs from
        the request (``-copy_extensions copy``) or ``san``."""
        ext = cwd / f"{out}.ext"
        ext.write_text(LEAF_EXTENSIONS + (f"subjectAltName={san}\n" if san else ""))
        openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.intermediate),
            "-CAkey", str(self.folder / "ca.key"), "-CAcreateserial", "-days", "90", "-sha256",
            "-copy_extensions", "copy", "-extfile", str(ext), "-out", f"{out}.pem",
            cwd=cwd,
        )  # fmt: skip
        return cwd / f"{out}.pem"

    def issue(self, cwd: Path, name: str, common_name: str, sans: list[str]) -> Leaf:
        """A new RSA key (``<name>.key``) and its certificate (``<name>.pem``), by openssl."""
        openssl(
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/O=Business Company/CN={common_name}",
            cwd=cwd,
        )  # fmt: skip
        san = ",".join(f"DNS:{n}" for n in sans)
        return Leaf(self.sign(cwd, cwd / f"{name}.csr", name, san=san), cwd / f"{name}.key")


@dataclass(frozen=True)
class Leaf:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> OpensslCA:
    folder = tmp_path_factory.mktemp("openssl-ca")
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key",
        "-out", "root.pem", "-days", "365", "-sha256", "-subj", "/O=Example/CN=OpenSSL Root CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    openssl(
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.csr",
        "-subj", "/O=Example/CN=OpenSSL Issuing CA",
        cwd=folder,
    )  # fmt: skip
    (folder / "ca.ext").write_text(
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
    )
    openssl(
        "x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-CAcreateserial", "-days", "365", "-sha256", "-extfile", "ca.ext", "-out", "ca.pem",
        cwd=folder,
    )  # fmt: skip
    return OpensslCA(folder)


@pytest.fixture(scope="module")
def leaves(ca: OpensslCA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Leaf]:
    """Two openssl-made leaves: the site's (site hostname and the primary's) and another's."""
    folder = tmp_path_factory.mktemp("openssl-leaves")
    return {
        "site": ca.issue(folder, "site", SITE, [SITE, PRIMARY]),
        "other": ca.issue(folder, "other", OTHER, [OTHER]),
    }


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeyondTrustSimulator]:
    specs = [ApplianceSpec("primary", PRIMARY)]
    workdir = tmp_path_factory.mktemp("bt-openssl-sim")
    with BeyondTrustSimulator(specs, password=API_PASSWORD, workdir=workdir) as started:
        yield started


@pytest.fixture
def client(sim: BeyondTrustSimulator) -> Iterator[BeyondTrustClient]:
    """The API, the appliance back in its factory state."""
    sim.site.reset()
    with BeyondTrustClient(
        sim.url, "admin", Secret(API_PASSWORD), ca_bundle=sim.ca_file, read_only=False
    ) as made:
        yield made


def pem_with_key_and_chain(leaf: Leaf, ca: OpensslCA) -> bytes:
    return b"".join(p.read_bytes() for p in (leaf.cert, leaf.key, ca.intermediate, ca.root))


def import_with_key(client: BeyondTrustClient, leaf: Leaf, ca: OpensslCA) -> Certificate:
    added = client.import_file("primary", pem_with_key_and_chain(leaf, ca)).added
    server = next(r for r in added if r.private_key)
    assert server.warnings == ()
    return server


# --- s_client against the appliance's listener -------------------------------------------------


def s_client(
    sim: BeyondTrustSimulator, cwd: Path, ca: OpensslCA, server_name: str | None, *extra: str
) -> str:
    host, port = sim.listeners["primary"]
    sni = ["-servername", server_name] if server_name else ["-noservername"]
    done = openssl(
        "s_client", "-connect", f"{host}:{port}", *sni, "-CAfile", str(ca.root), *extra,
        cwd=cwd, input=b"",
    )  # fmt: skip
    return text(done)


def test_s_client_receives_the_certificate_each_server_name_selects(
    sim: BeyondTrustSimulator,
    client: BeyondTrustClient,
    ca: OpensslCA,
    leaves: dict[str, Leaf],
    tmp_path: Path,
) -> None:
    site = import_with_key(client, leaves["site"], ca)
    other = import_with_key(client, leaves["other"], ca)
    factory = client.default("primary")
    assert factory.factory
    # What each certificate is, as openssl reads it from the files (the factory one from the
    # API's public PEM): (SHA-256 fingerprint, subject).
    files = {
        "site": leaves["site"].cert.read_bytes(),
        "other": leaves["other"].cert.read_bytes(),
        "factory": to_pem(factory.certificate).encode("ascii"),
    }
    expected = {k: (fingerprint(tmp_path, v), subject(tmp_path, v)) for k, v in files.items()}
    assert expected["site"] == (site.fingerprint, f"CN={SITE},O=Business Company")
    assert expected["other"] == (other.fingerprint, f"CN={OTHER},O=Business Company")
    assert expected["factory"][0] == factory.fingerprint

    def check(cases: dict[str | None, str]) -> None:
        for server_name, which in cases.items():
            shown = s_client(sim, tmp_path, ca, server_name).encode()
            seen = (fingerprint(tmp_path, shown), subject(tmp_path, shown))
            assert seen == expected[which], (server_name, which)
            if which != "factory":  # openssl verifies the chain and the name itself
                verified = s_client(
                    sim, tmp_path, ca, server_name, "-verify_return_error",
                    "-verify_hostname", server_name if server_name in KNOWN else SITE,
                )  # fmt: skip
                assert "Verify return code: 0 (ok)" in verified, (server_name, which)

    # The factory certificate is still the default: it answers no and unknown SNI.
    check(
        {
            SITE: "site",
            PRIMARY: "site",
            OTHER: "other",
            None: "factory",
            "unknown.example.org": "factory",
        }
    )
    assert "BeyondTrust Appliance" in expected["factory"][1]
    client.set_default("primary", site.id)  # served from the next handshake on
    check({None: "site", "unknown.example.org": "site", OTHER: "other", SITE: "site"})


def test_showcerts_shows_the_leaf_and_its_intermediate(
    sim: BeyondTrustSimulator,
    client: BeyondTrustClient,
    ca: OpensslCA,
    leaves: dict[str, Leaf],
    tmp_path: Path,
) -> None:
    import_with_key(client, leaves["site"], ca)
    for server_name in (SITE, PRIMARY):
        shown = s_client(
            sim, tmp_path, ca, server_name, "-showcerts", "-verify_return_error",
            "-verify_hostname", server_name,
        )  # fmt: skip
        assert "Verify return code: 0 (ok)" in shown
        # s_client's "Certificate chain" section, in the order the server sent it.
        assert chain_subjects(shown) == [
            f"O = Business Company, CN = {SITE}",
            "O = Example, CN = OpenSSL Issuing CA",
        ]  # the root is not sent: the client has it
        sent = as_pkcs7(tmp_path, shown.encode())  # the PEM blocks -showcerts printed
        served = x509.load_pem_x509_certificates(
            text(openssl("pkcs7", "-print_certs", cwd=tmp_path, input=sent)).encode()
        )
        assert sorted(fingerprint_sha256(c) for c in served) == sorted(
            [
                fingerprint(tmp_path, leaves["site"].cert.read_bytes()),
                fingerprint(tmp_path, ca.intermediate.read_bytes()),
            ]
        )


# --- files made by openssl, imported through the API -------------------------------------------


def _certificate_files(tmp_path: Path, leaf: Leaf, ca: OpensslCA) -> dict[str, bytes]:
    def made(*args: str) -> bytes:
        return openssl(*args, cwd=tmp_path).stdout

    chain = [
        "-certfile",
        str(leaf.cert),
        "-certfile",
        str(ca.intermediate),
        "-certfile",
        str(ca.root),
    ]
    return {
        "pem": made("x509", "-in", str(leaf.cert), "-outform", "PEM"),
        "der": made("x509", "-in", str(leaf.cert), "-outform", "DER"),
        "pkcs7-pem": made("crl2pkcs7", "-nocrl", *chain),
        "pkcs7-der": made("crl2pkcs7", "-nocrl", *chain, "-outform", "DER"),
    }


@pytest.mark.parametrize("form", ["pem", "der", "pkcs7-pem", "pkcs7-der"])
def test_openssl_certificate_files_import(
    client: BeyondTrustClient, ca: OpensslCA, leaves: dict[str, Leaf], tmp_path: Path, form: str
) -> None:
    leaf = leaves["site"]
    data = _certificate_files(tmp_path, leaf, ca)[form]
    result = client.import_file("primary", data, filename=f"openssl.{form}")
    want = [fingerprint(tmp_path, leaf.cert.read_bytes())]
    if form.startswith("pkcs7"):
        want += [
            fingerprint(tmp_path, ca.intermediate.read_bytes()),
            fingerprint(tmp_path, ca.root.read_bytes()),
        ]
    assert [r.fingerprint for r in result.added] == want
    server = result.added[0]
    assert server.alternative_names == (SITE, PRIMARY)
    assert server.issued_to == SITE and server.issued_by == "OpenSSL Issuing CA"
    assert not server.private_key  # openssl kept the key: only the certificate was imported
    if form.startswith("pkcs7"):
        assert [r.kind for r in result.added[1:]] == ["intermediate", "root"]
        assert server.warnings == ()  # the whole chain came in the bundle
    again = client.import_file("primary", data)
    assert again.added == () and len(again.unchanged) == len(want)  # no duplicate


@pytest.mark.parametrize("legacy", [False, True], ids=["default-aes", "legacy"])
def test_an_openssl_pkcs12_with_password_imports(
    client: BeyondTrustClient,
    ca: OpensslCA,
    leaves: dict[str, Leaf],
    tmp_path: Path,
    legacy: bool,
) -> None:
    leaf = leaves["site"]
    (tmp_path / "chain.pem").write_bytes(ca.intermediate.read_bytes() + ca.root.read_bytes())
    openssl(
        "pkcs12", "-export", *(["-legacy"] if legacy else []), "-inkey", str(leaf.key),
        "-in", str(leaf.cert), "-certfile", "chain.pem", "-name", "from openssl",
        "-passout", PASS_ARG, "-out", "site.p12",
        cwd=tmp_path, password=P12_PASSWORD,
    )  # fmt: skip
    info = openssl(
        "pkcs12", "-in", "site.p12", "-info", "-noout", "-passin", PASS_ARG,
        *(["-legacy"] if legacy else []),
        cwd=tmp_path, password=P12_PASSWORD,
    )  # fmt: skip
    described = info.stdout.decode() + info.stderr.decode()
    if legacy:
        assert "RC2" in described or "3DES" in described or "TripleDES" in described, described
    else:
        assert "PBES2, PBKDF2, AES-256-CBC" in described, described  # OpenSSL 3's default
    p12 = (tmp_path / "site.p12").read_bytes()
    with pytest.raises(BeyondTrustApiError) as wrong:
        client.import_file("primary", p12, Secret("not-the-password"))
    leaked = _leaked(str(wrong.value))
    assert wrong.value.field == "password" and not leaked
    assert len(client.certificates("primary")) == 1  # nothing was imported
    result = client.import_file("primary", p12, Secret(P12_PASSWORD), filename="site.p12")
    server = next(r for r in result.added if r.private_key)
    assert server.fingerprint == fingerprint(tmp_path, leaf.cert.read_bytes())
    assert server.friendly_name == "from openssl" and server.kind == "server"
    assert server.warnings == ()  # the intermediate and root came with it
    assert sorted(r.kind for r in result.added) == ["intermediate", "root", "server"]
    assert client.set_default("primary", server.id).default


def test_openssl_signs_the_appliances_request_and_the_key_is_linked(
    sim: BeyondTrustSimulator, client: BeyondTrustClient, ca: OpensslCA, tmp_path: Path
) -> None:
    """The appliance's request data, signed by ``openssl x509 -req``: the import links the
    certificate to the pending request's key (Private Key? yes) and the listener serves it."""
    request = client.create_request(
        "primary",
        create_form(
            friendly_name="signed by openssl",
            common_name=SITE,
            alternative_names=[SITE, PRIMARY],
        ),
    )
    csr = tmp_path / "request.csr"
    csr.write_text(request.request_data)
    checked = openssl(
        "req", "-in", "request.csr", "-noout", "-verify", "-subject", "-nameopt", "RFC2253",
        cwd=tmp_path,
    )  # fmt: skip
    assert "verify OK" in checked.stdout.decode() + checked.stderr.decode()
    assert field(text(checked), "subject=").startswith(f"CN={SITE},")
    signed = ca.sign(tmp_path, csr, "signed")
    shown = text(
        openssl("x509", "-in", "signed.pem", "-noout", "-ext", "subjectAltName", cwd=tmp_path)
    )
    assert f"DNS:{SITE}, DNS:{PRIMARY}" in shown  # the request's SANs, copied by openssl
    assert public_key(tmp_path, "x509", "-in", "signed.pem", "-noout", "-pubkey") == public_key(
        tmp_path, "req", "-in", "request.csr", "-noout", "-pubkey"
    )
    result = client.import_file("primary", signed.read_bytes(), filename="signed.pem")
    assert result.linked_requests == (request.id,)
    (row,) = result.added
    assert row.private_key and row.friendly_name == "signed by openssl"
    assert row.fingerprint == fingerprint(tmp_path, signed.read_bytes())
    assert client.requests("primary") == []
    assert row.warnings != ()  # no chain yet
    chain = openssl(
        "crl2pkcs7", "-nocrl", "-certfile", str(ca.intermediate), "-certfile", str(ca.root),
        "-outform", "DER",
        cwd=tmp_path,
    ).stdout  # fmt: skip
    client.import_file("primary", chain, filename="chain.p7b")
    (now,) = [r for r in client.certificates("primary") if r.id == row.id]
    assert now.warnings == () and now.private_key
    client.set_default("primary", row.id)
    served = s_client(sim, tmp_path, ca, None, "-verify_return_error", "-verify_hostname", SITE)
    assert "Verify return code: 0 (ok)" in served
    assert fingerprint(tmp_path, served.encode()) == row.fingerprint


# --- the API's exports, opened by openssl ------------------------------------------------------


def test_the_pkcs12_export_opens_with_openssl(
    client: BeyondTrustClient, ca: OpensslCA, leaves: dict[str, Leaf], tmp_path: Path
) -> None:
    leaf = leaves["site"]
    server = import_with_key(client, leaf, ca)
    filename, data = client.export(
        "primary",
        [server.id],
        include_private_key=True,
        include_chain=True,
        passphrase=Secret(EXPORT_PASSPHRASE),
    )
    assert filename.endswith(".p12")
    (tmp_path / "export.p12").write_bytes(data)

    def read(*options: str, password: str = EXPORT_PASSPHRASE, check: bool = True) -> Run:
        return openssl(
            "pkcs12", "-in", "export.p12", "-passin", PASS_ARG, *options,
            cwd=tmp_path, password=password, check=check,
        )  # fmt: skip

    everything = text(read("-nodes"))  # no -legacy: OpenSSL 3's defaults open it
    assert "PRIVATE KEY" in everything and f"friendlyName: {server.friendly_name}" in everything
    assert "ENCRYPTED" not in everything  # -nodes: the key came out decrypted
    info = read("-info", "-noout")
    assert "AES-256-CBC" in info.stdout.decode() + info.stderr.decode()
    own = read("-clcerts", "-nokeys").stdout
    assert fingerprint(tmp_path, own) == server.fingerprint
    authorities = as_pkcs7(tmp_path, read("-cacerts", "-nokeys").stdout)
    assert sorted(listed_subjects(tmp_path, authorities, inform="PEM")) == [
        "O = Example, CN = OpenSSL Issuing CA",
        "O = Example, CN = OpenSSL Root CA",
    ]
    key = read("-nocerts", "-nodes").stdout
    assert public_key(tmp_path, "pkey", "-pubout", input=key) == public_key(
        tmp_path, "x509", "-noout", "-pubkey", input=own
    )
    assert public_key(tmp_path, "pkey", "-pubout", input=key) == public_key(
        tmp_path, "pkey", "-in", str(leaf.key), "-pubout"
    )
    wrong = read("-nodes", password="not-the-passphrase", check=False)
    assert wrong.returncode != 0 and b"PRIVATE KEY" not in wrong.stdout


def test_der_pkcs7_and_key_exports_parse_with_openssl(
    client: BeyondTrustClient, ca: OpensslCA, leaves: dict[str, Leaf], tmp_path: Path
) -> None:
    leaf = leaves["site"]
    server = import_with_key(client, leaf, ca)
    name, der = client.export(
        "primary", [server.id], include_private_key=False, include_chain=False, passphrase=None
    )
    assert name.endswith(".cer")
    assert fingerprint(tmp_path, der, inform="DER") == server.fingerprint
    name, p7b = client.export(
        "primary", [server.id], include_private_key=False, include_chain=True, passphrase=None
    )
    assert name.endswith(".p7b")
    # A PKCS#7 holds a SET OF certificates: DER orders them by encoding, not leaf first.
    assert sorted(listed_subjects(tmp_path, p7b, inform="DER")) == [
        f"O = Business Company, CN = {SITE}",
        "O = Example, CN = OpenSSL Issuing CA",
        "O = Example, CN = OpenSSL Root CA",
    ]
    printed = text(openssl("pkcs7", "-inform", "DER", "-print_certs", cwd=tmp_path, input=p7b))
    listed = x509.load_pem_x509_certificates(printed.encode())
    assert sorted(fingerprint_sha256(c) for c in listed) == sorted(
        [
            server.fingerprint,
            fingerprint(tmp_path, ca.intermediate.read_bytes()),
            fingerprint(tmp_path, ca.root.read_bytes()),
        ]
    )
    name, key = client.export(
        "primary",
        [server.id],
        include_certificate=False,
        include_private_key=True,
        include_chain=False,
        passphrase=Secret(EXPORT_PASSPHRASE),
    )
    assert name.endswith(".key")
    wrong = openssl(
        "pkey", "-inform", "DER", "-passin", PASS_ARG, "-pubout",
        cwd=tmp_path, input=key, password="not-the-passphrase", check=False,
    )  # fmt: skip
    assert wrong.returncode != 0  # encrypted: no key without the passphrase
    opened = public_key(
        tmp_path, "pkey", "-inform", "DER", "-passin", PASS_ARG, "-pubout",
        input=key, password=EXPORT_PASSPHRASE,
    )  # fmt: skip
    assert opened == public_key(tmp_path, "pkey", "-in", str(leaf.key), "-pubout")
