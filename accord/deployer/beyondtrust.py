"""The guide's CA-signed certificate for one BeyondTrust site: primary, failover and Atlas.

"Create a Certificate Signed by a Certificate Authority" on the primary appliance, then "Copy
the SSL Certificate to Privileged Remote Access Failover and Atlas Appliances":

1. Create a certificate request on the primary: Common Name and first SAN the site hostname
   (the guide: an FQDN common name "must" also be the first SAN), then each appliance's own
   hostname (backups, traffic nodes), RSA 2048 by default. The key stays on the appliance.
2. Have it signed: ``sign(csr_pem)`` returns the certificate and chain (on ``sim`` the lab CA
   at once), or ``None`` while the CA has not answered (an exchange folder on live: the CSR
   was handed over, the answer comes later). Then ``apply`` stops there: the request stays
   pending on the primary, nothing else changes, and a later plan and apply reuse it.
3. Import the certificate, then the intermediate and root certificates ("upload the
   intermediate certificate files and root certificate file used by the CA"), so no chain
   warning remains: many CAs do not send the root, so ``apply`` takes the roots as ``roots``
   and imports the one(s) that issued the chain when the CA's answer lacks them.
4. Make it the default (served for no or unknown SNI).
5. Export it from the primary as PKCS#12 (certificate, private key and chain) protected by the
   passphrase, import it on every backup and traffic node, and make it their default.

``plan`` only reads; it is empty when the primary's default is a CA-signed certificate covering
the site hostname and every appliance hostname (not expiring within ``renew_within_days``, no
warning shown) and every other appliance has the identical certificate as its default. A plan
resumes what an interrupted ``apply`` left: a stored certificate that only needs to become the
default is just made the default, a pending request for the same names is reused.

This acts through ``BeyondTrustClient``, i.e. on the simulator only (a real appliance has no
certificate API): on live these steps are reported, not run. The passphrase is a ``Secret``,
given to ``apply`` only: no plan can show it and no error message carries it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.beyondtrust.client import (
    BeyondTrustClient,
    Certificate,
    CertificateForm,
    CertificateRequest,
    ReadOnlyError,
)
from accord.beyondtrust.probes import covers
from accord.pki import (
    PkiError,
    days_left,
    fingerprint_sha256,
    is_self_signed,
    load_csr,
    load_pem_certificates,
    signed_by,
    to_pem,
)
from accord.secrets import Secret

__all__ = [
    "Appliances",
    "BeyondTrustDeployError",
    "ChainIncompleteError",
    "FormDefaults",
    "Plan",
    "PlanInputError",
    "ReplicationError",
    "SigningError",
    "Step",
    "apply",
    "plan",
]


class BeyondTrustDeployError(Exception):
    """Base of the deployer's errors. Messages name appliances, hostnames and fingerprints,
    never a passphrase, a key or a certificate's text."""


class PlanInputError(BeyondTrustDeployError, ValueError):
    """The site's description is unusable: an appliance without a hostname, a name listed
    twice, a hostname or country that cannot go into the request."""


class SigningError(BeyondTrustDeployError):
    """What ``sign`` returned is not a certificate for the pending request's key and names."""


class ChainIncompleteError(BeyondTrustDeployError):
    """The appliance still shows a warning for the imported certificate: the intermediate
    and/or root certificates did not all arrive (pass the CA's root as ``roots``)."""


class ReplicationError(BeyondTrustDeployError):
    """A backup or traffic node does not hold or serve the primary's certificate afterwards."""


@dataclass(frozen=True)
class Appliances:
    """The site's appliances by name (as the simulator's API names them)."""

    primary: str
    backups: tuple[str, ...] = ()
    traffic_nodes: tuple[str, ...] = ()

    @property
    def others(self) -> tuple[str, ...]:
        return (*self.backups, *self.traffic_nodes)

    @property
    def all(self) -> tuple[str, ...]:
        return (self.primary, *self.others)


@dataclass(frozen=True)
class FormDefaults:
    """The Create form's organisation fields and key size (the site's choices)."""

    country: str
    state: str = ""
    city: str = ""
    organization: str = ""
    unit: str = ""
    key_size: int = 2048


Action = Literal["issue", "set_default", "replicate"]


@dataclass(frozen=True)
class Step:
    """One step: ``issue`` (request, sign, import with chain, default) on the primary;
    ``set_default`` of a certificate already held; ``replicate`` (PKCS#12 export from the
    primary, import, default) to a backup or traffic node."""

    action: Action
    appliance: str
    hostname: str
    reason: str
    certificate_id: int | None = None

    def describe(self, plan: Plan) -> str:
        where = f"{self.appliance} ({self.hostname})"
        if self.action == "issue":
            what = (
                f"request CN={plan.site_hostname}, SANs {', '.join(plan.names)}, "
                f"RSA {plan.form.key_size}; have it signed; import it with its intermediate "
                "and root; make it the default"
            )
        elif self.action == "set_default":
            what = f"make certificate {self.certificate_id} (already held) the default"
        else:
            what = (
                f"export from {plan.primary} as PKCS#12 (certificate, private key, chain; "
                "protected by the passphrase), import, make it the default"
            )
        return f"  ~ {self.action} on {where}: {self.reason}\n      {what}"


@dataclass(frozen=True)
class Plan:
    """What ``apply`` would do for one site; ``source``: the fingerprint of the primary's
    certificate to replicate when the primary needs no new one."""

    system: str
    site_hostname: str
    primary: str
    names: tuple[str, ...]
    form: CertificateForm
    steps: tuple[Step, ...] = ()
    source: str | None = None

    @property
    def empty(self) -> bool:
        return not self.steps

    def render(self) -> str:
        if self.empty:
            return (
                f"{self.system}: no changes (every appliance serves the CA-signed certificate "
                f"for {', '.join(self.names)})"
            )
        lines = [f"{self.system}: {len(self.steps)} change(s)"]
        lines += [step.describe(self) for step in self.steps]
        return "\n".join(lines)


def _hostname(value: str, what: str) -> str:
    name = value.strip().rstrip(".").lower() if isinstance(value, str) else ""
    labels = name.split(".")
    if len(labels) < 2 or not all(labels) or "*" in name or any(c.isspace() for c in name):
        raise PlanInputError(f"{what} must be a fully qualified host name, not {value!r}")
    return name


def _names(
    appliances: Appliances, site_hostname: str, hostnames: Mapping[str, str]
) -> tuple[str, ...]:
    """The SANs: the site hostname first, then each appliance's hostname (duplicates once)."""
    listed = appliances.all
    twice = sorted({n for n in listed if listed.count(n) > 1})
    if twice:
        raise PlanInputError(f"appliance(s) listed more than once: {', '.join(twice)}")
    missing = [n for n in listed if n not in hostnames]
    if missing:
        raise PlanInputError(f"no hostname given for appliance(s): {', '.join(missing)}")
    names = [_hostname(site_hostname, "the site hostname")]
    for name in listed:
        host = _hostname(hostnames[name], f"the hostname of {name}")
        if host not in names:
            names.append(host)
    return tuple(names)


def _form(names: tuple[str, ...], defaults: FormDefaults) -> CertificateForm:
    country = defaults.country.strip()
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise PlanInputError("the country must be a two-letter ISO 3166 code, e.g. US")
    return CertificateForm(
        friendly_name=names[0],
        key_size=defaults.key_size,
        country=country.upper(),
        common_name=names[0],
        alternative_names=names,
        state=defaults.state,
        city=defaults.city,
        organization=defaults.organization,
        unit=defaults.unit,
    )


def _problem(
    row: Certificate, names: Sequence[str], now: dt.datetime, renew_within_days: int
) -> str | None:
    """Why ``row`` is not the certificate the guide asks for, or ``None``."""
    if row.factory:
        return 'the factory "BeyondTrust Appliance" certificate (self-signed)'
    if is_self_signed(row.certificate):
        return f"the self-signed certificate {row.friendly_name!r}"
    if not row.private_key:
        return f"{row.friendly_name!r} has no private key on the appliance"
    missing = [n for n in names if not covers(row.certificate, n)]
    if missing:
        return f"{row.friendly_name!r} does not cover {', '.join(missing)}"
    left = days_left(row.certificate, now)
    if left < 0:
        return f"{row.friendly_name!r} has expired"
    if left <= renew_within_days:
        return f"{row.friendly_name!r} expires in {left} day(s)"
    if row.warnings:
        return f"{row.friendly_name!r} shows a warning: {'; '.join(row.warnings)}"
    return None


def _default(rows: Sequence[Certificate]) -> Certificate:
    return next(r for r in rows if r.default)


def plan(
    client: BeyondTrustClient,
    appliances: Appliances,
    site_hostname: str,
    appliance_hostnames: Mapping[str, str],
    defaults: FormDefaults,
    *,
    renew_within_days: int = 30,
    now: dt.datetime | None = None,
) -> Plan:
    """The steps the site still needs (reads only; see module doc).

    Raises ``PlanInputError`` for unusable input and the client's ``BeyondTrustApiError`` (an
    unknown appliance is a 404 naming field ``appliance``) or `accord.http.ClientError`
    (unreachable, too slow, an answer that is not the API's).
    """
    names = _names(appliances, site_hostname, appliance_hostnames)
    form = _form(names, defaults)
    moment = now or dt.datetime.now(dt.UTC)
    host = {name: appliance_hostnames[name] for name in appliances.all}
    rows = client.certificates(appliances.primary)
    current = _default(rows)
    steps: list[Step] = []
    reason = _problem(current, names, moment, renew_within_days)
    source: str | None = None
    if reason is None:
        source = current.fingerprint
    else:
        usable = [r for r in rows if _problem(r, names, moment, renew_within_days) is None]
        if usable:
            best = max(usable, key=lambda r: (r.not_after, r.id))
            source = best.fingerprint
            steps.append(
                Step(
                    "set_default",
                    appliances.primary,
                    host[appliances.primary],
                    f"default certificate: {reason}; a certificate covering every name is held",
                    best.id,
                )
            )
        else:
            primary_host = host[appliances.primary]
            steps.append(
                Step("issue", appliances.primary, primary_host, f"default certificate: {reason}")
            )
    for name in appliances.others:
        steps.extend(_other_step(client, name, host[name], source))
    return Plan(
        f"beyondtrust {names[0]}", names[0], appliances.primary, names, form, tuple(steps), source
    )


def _other_step(
    client: BeyondTrustClient, name: str, hostname: str, source: str | None
) -> list[Step]:
    """What a backup or traffic node needs to serve the primary's certificate (``source``:
    its fingerprint; ``None`` when the primary gets a new one)."""
    rows = client.certificates(name)
    current = _default(rows)
    if source is None:
        return [Step("replicate", name, hostname, "the primary gets a new certificate")]
    if current.fingerprint == source and not current.warnings:
        return []
    held = next(
        (r for r in rows if r.fingerprint == source and r.private_key and not r.warnings), None
    )
    if held is not None:
        reason = "holds the primary's certificate, but another one is the default"
        return [Step("set_default", name, hostname, reason, held.id)]
    reason = (
        "its default shows a warning"
        if current.fingerprint == source
        else f"its default is {current.friendly_name!r}, not the primary's certificate"
    )
    return [Step("replicate", name, hostname, reason)]


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _pending(client: BeyondTrustClient, plan: Plan) -> CertificateRequest | None:
    """A request left by an interrupted run: same friendly name and the same names."""
    wanted = [n.lower() for n in plan.names]
    found = [
        r
        for r in client.requests(plan.primary)
        if r.friendly_name == plan.form.friendly_name
        and [n.lower() for n in r.alternative_names] == wanted
    ]
    return found[-1] if found else None


def _signed(pem: str, request: CertificateRequest, names: Sequence[str]) -> list[x509.Certificate]:
    """The certificate for ``request`` first, then the rest of what the CA returned."""
    try:
        certs = load_pem_certificates(pem)
    except (PkiError, ValueError, TypeError):
        raise SigningError("the CA's answer is not PEM certificates") from None
    key = _spki(load_csr(request.request_data).public_key())
    leaf = next((c for c in certs if _spki(c.public_key()) == key), None)
    if leaf is None:
        raise SigningError(
            f"none of the {len(certs)} certificate(s) the CA returned is for the request "
            f"{request.friendly_name!r} (its public key)"
        )
    missing = [n for n in names if not covers(leaf, n)]
    if missing:
        raise SigningError(f"the signed certificate does not cover {', '.join(missing)}")
    if is_self_signed(leaf):
        raise SigningError("the CA returned a self-signed certificate")
    return [leaf, *(c for c in certs if c != leaf)]


def _row(client: BeyondTrustClient, appliance: str, fingerprint: str) -> Certificate:
    for row in client.certificates(appliance):
        if row.fingerprint == fingerprint:
            return row
    raise ReplicationError(f"{appliance} does not list the certificate {fingerprint}")


def _missing_roots(certs: Sequence[x509.Certificate], roots: str) -> list[x509.Certificate]:
    """The roots in ``roots`` that issued a certificate of ``certs`` and are not among them
    (none when the CA's answer ends with its root; unrelated roots of a bundle are left out)."""
    try:
        candidates = load_pem_certificates(roots)
    except (PkiError, ValueError):
        raise SigningError("the roots given are not PEM certificates") from None
    if any(is_self_signed(c) for c in certs):
        return []
    return [
        root
        for root in dict.fromkeys(candidates)
        if root not in certs and any(c.issuer == root.subject and signed_by(c, root) for c in certs)
    ]


def _issue(
    client: BeyondTrustClient,
    plan: Plan,
    sign: Callable[[str], str | None],
    roots: str | None,
) -> Certificate | CertificateRequest:
    """The new default of the primary, or the request still waiting for the CA's answer."""
    request = _pending(client, plan) or client.create_request(plan.primary, plan.form)
    answer = sign(request.request_data)
    if answer is None:
        return request
    certs = _signed(answer, request, plan.names)
    if roots:
        certs += _missing_roots(certs, roots)
    for index, cert in enumerate(certs):
        filename = "server.crt" if index == 0 else f"ca-{index}.crt"
        client.import_file(plan.primary, to_pem(cert).encode("ascii"), None, filename=filename)
    row = _row(client, plan.primary, fingerprint_sha256(certs[0]))
    if not row.private_key:
        raise SigningError(
            f"{plan.primary} did not link the signed certificate to the request's private key"
        )
    if row.warnings:
        raise ChainIncompleteError(
            f"{plan.primary} shows a warning for {row.friendly_name!r} after the import: "
            f"{'; '.join(row.warnings)} (give the CA's root certificate as roots)"
        )
    return client.set_default(plan.primary, row.id)


def apply(
    client: BeyondTrustClient,
    plan: Plan,
    sign: Callable[[str], str | None],
    passphrase: Secret,
    *,
    roots: str | None = None,
    awaiting: str = "the CA's answer",
) -> list[str]:
    """Perform ``plan`` in order (primary first) and return one line per step done.

    ``sign(csr_pem)`` returns the signed certificate and its chain (PEM), or ``None`` while
    the CA has not answered, and may raise what it likes. On ``None`` apply stops: the request
    stays pending on the primary, no default changes, nothing is replicated, and the last line
    returned says the request waits for ``awaiting`` (what and where: the caller knows); the
    next ``plan`` still has the issue step and the next ``apply`` reuses the request. ``roots``:
    PEM root certificate(s), e.g. the site's trusted bundle; the one(s) that issued the chain
    are imported as well when ``sign``'s answer leaves the root out. ``passphrase`` protects
    the PKCS#12 export (never shown).

    Raises ``ReadOnlyError`` (a read-only client; nothing sent), ``PlanInputError`` (an empty
    passphrase where a private key must travel), ``SigningError``, ``ChainIncompleteError``,
    ``ReplicationError`` (see each), the client's ``BeyondTrustApiError`` and
    `accord.http.ClientError` (unreachable, too slow, an answer that is not the API's).
    """
    if plan.empty:
        return []
    if client.read_only:
        raise ReadOnlyError(f"{plan.system}: a read-only client cannot apply a plan")
    replicating = [s for s in plan.steps if s.action == "replicate"]
    if replicating and not passphrase.reveal():
        raise PlanInputError("a passphrase is required to export the certificate's private key")
    done: list[str] = []
    source = plan.source
    for step in plan.steps:
        if step.action == "issue":
            issued = _issue(client, plan, sign, roots)
            if isinstance(issued, CertificateRequest):
                return [
                    *done,
                    f"request {issued.friendly_name!r} pending on {step.appliance}: "
                    f"waiting for {awaiting}",
                ]
            source = issued.fingerprint
            done.append(f"issued and made default on {step.appliance}")
        elif step.action == "set_default":
            assert step.certificate_id is not None
            client.set_default(step.appliance, step.certificate_id)
            done.append(f"made certificate {step.certificate_id} the default on {step.appliance}")
    if replicating:
        assert source is not None
        done += _replicate(client, plan, source, [s.appliance for s in replicating], passphrase)
    _check(client, plan, source)
    return done


def _replicate(
    client: BeyondTrustClient,
    plan: Plan,
    source: str,
    targets: Sequence[str],
    passphrase: Secret,
) -> list[str]:
    row = _row(client, plan.primary, source)
    filename, data = client.export(
        plan.primary, [row.id], include_private_key=True, include_chain=True, passphrase=passphrase
    )
    done = []
    for name in targets:
        client.import_file(name, data, passphrase, filename=filename)
        held = _row(client, name, source)
        if not held.private_key or held.warnings:
            state = "without its private key" if not held.private_key else "with a warning"
            raise ReplicationError(f"{name} holds the primary's certificate {state}")
        client.set_default(name, held.id)
        done.append(f"replicated {row.friendly_name!r} to {name} and made it the default")
    return done


def _check(client: BeyondTrustClient, plan: Plan, source: str | None) -> None:
    """Every appliance of the plan has the primary's certificate as its default."""
    wrong = [
        name
        for name in dict.fromkeys([plan.primary, *(s.appliance for s in plan.steps)])
        if client.default(name).fingerprint != source
    ]
    if wrong:
        raise ReplicationError(
            f"after apply, {', '.join(wrong)} do(es) not have the certificate {source} as default"
        )
