"""Randomised requests over every resource and field: never a 5xx, never a corrupted state.

Seeded, so a failure reproduces. One run goes over HTTPS; a longer one drives the same WSGI
application in-process (werkzeug's test client) to cover more cases quickly.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from werkzeug.test import Client

from simulator.pexip import keycache
from simulator.pexip.fields import (
    BooleanField,
    Field,
    IntegerField,
    IPAddressField,
    StringField,
)
from simulator.pexip.relations import ToManyField, ToOneField
from simulator.pexip.resources import RESOURCES
from tests.simulator.certs import CA
from tests.simulator.conftest import PASSWORD, USERNAME

OK_STATUSES = {200, 201, 202, 204, 400, 404, 405}
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]
RDEFS = list(RESOURCES.values())
WEIRD_STRINGS = [
    "",
    " ",
    "0",
    "1",
    "true",
    "null",
    "\x00",
    "\ud800",
    "é" * 40,
    "💥",
    "x" * 5000,
    "/api/admin/configuration/v1/",
    "../../etc/passwd",
    "%s%n",
    "192.0.2.1",
    "::1",
    "ON",
    "OFF",
    "LDAP",
]

_CA = CA(intermediate=True)
_LEAF = _CA.leaf("fuzz.example.com")
# Certificate-shaped values: good ones, mismatched ones, a chain, a lone key, junk PEM.
PEM_VALUES = [
    _LEAF.pem,
    _LEAF.key_pem,
    _LEAF.pem + _CA.intermediate.pem + _CA.root.pem,
    _CA.root.pem,
    _CA.intermediate.pem + _LEAF.key_pem + _LEAF.pem,
    _CA.leaf("other.example.com").key_pem,
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    "-----BEGIN DH PARAMETERS-----\nMAYCAQICAQI=\n-----END DH PARAMETERS-----\n",
    "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
]
PEM_FIELDS = {"certificate", "private_key", "parameters", "bundle", "csr"}
_OTHER = _CA.leaf("fuzz.example.com", days=20)  # same subject, soon expiring
GOOD_BODIES = {
    "tls_certificate": [
        {"certificate": _LEAF.pem + _CA.intermediate.pem, "private_key": _LEAF.key_pem},
        {"certificate": _OTHER.pem, "private_key": _OTHER.key_pem},
    ],
    "ca_certificate": [{"certificate": _CA.root.pem}, {"certificate": _CA.intermediate.pem}],
    "certificate_signing_request": [
        {"subject_name": "csr.example.com", "private_key_type": "ECDSAP256"},
        {"subject_name": "csr.example.com", "dn": "O=X,C=NO", "ad_compatible": True},
        {"tls_certificate": "/api/admin/configuration/v1/tls_certificate/5/"},
        {"certificate": _LEAF.pem},
    ],
}
COMMAND = "/api/admin/command/v1/platform/certificates_import/"

QUERY_VALUES = [s for s in WEIRD_STRINGS if s != "\ud800"] + ["5", "-5", "conf01", "-name"]


def uri(rng: random.Random) -> str:
    rdef = rng.choice(RDEFS)
    key = rng.choice(["1", "2", "3", "9", "0", "abc", "-1", ""])
    return rng.choice([rdef.uri(key), rdef.list_uri, "https://127.0.0.1" + rdef.uri(key)])


def junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 63, 64, 99, 511, 1500, 65536, 2**31, -(2**63), 10**30])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e300, 16.0])
    if kind == 4:
        return rng.choice(WEIRD_STRINGS)
    if kind == 5:
        return uri(rng)
    if kind == 6:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 7:
        return [uri(rng) for _ in range(rng.randrange(3))]
    return {rng.choice(["a", "id", "name"]): junk(rng, depth + 1)}


def plausible(rng: random.Random, spec: Field) -> Any:
    """A value of the right type, usually valid."""
    if isinstance(spec, BooleanField):
        return rng.choice([True, False])
    if isinstance(spec, IntegerField):
        lo = spec.min_value if spec.min_value is not None else 0
        hi = spec.max_value if spec.max_value is not None else 5000
        return rng.randint(lo, hi) if rng.random() < 0.8 else rng.choice([lo - 1, hi + 1])
    if isinstance(spec, IPAddressField):
        valid = f"192.0.2.{rng.randrange(256)}" if spec.version != 6 else "2001:db8::7"
        return valid if rng.random() < 0.8 else rng.choice(["not-an-ip", "", "2001:db8::9"])
    if isinstance(spec, StringField):
        if spec.choices:
            return rng.choice(list(spec.choices))
        if rng.random() < 0.8:
            return f"value{rng.randrange(10**6)}"
        return "x" * ((spec.max_length or 10) + rng.randrange(-1, 2))
    if isinstance(spec, ToOneField):
        return rng.choice([f"/api/admin/configuration/v1/{spec.to}/{rng.randrange(1, 4)}/", None])
    if isinstance(spec, ToManyField):
        return [f"/api/admin/configuration/v1/{spec.to}/{i}/" for i in range(1, rng.randrange(4))]
    return junk(rng)


def body(rng: random.Random, rdef: Any) -> Any:
    if rng.random() < 0.05:
        return junk(rng)
    if rdef.name in GOOD_BODIES and rdef.api == "configuration" and rng.random() < 0.4:
        return rng.choice(GOOD_BODIES[rdef.name])
    fields = list(rdef.fields.items())
    out: dict[str, Any] = {}
    if rng.random() < 0.5:  # a create-shaped body: every required field
        out = {n: plausible(rng, f) for n, f in fields if f.required}
    for name, spec in rng.sample(fields, rng.randrange(1, min(len(fields), 4) + 1)):
        out[name] = plausible(rng, spec) if rng.random() < 0.85 else junk(rng)
    for name in sorted(PEM_FIELDS & set(out)):
        if rng.random() < 0.7:
            out[name] = rng.choice(PEM_VALUES)
    if rng.random() < 0.05:
        out[rng.choice(["bogus", "", "名前", "id__in"])] = junk(rng)
    return out


def target(rng: random.Random, rdef: Any) -> tuple[str, str]:
    """(method, path): mostly well-formed and allowed, sometimes anything."""
    if rng.random() < 0.75:
        if rng.random() < 0.4:
            return rng.choice(rdef.list_methods), rdef.list_uri
        key = 1 if rdef.singleton or rng.random() < 0.5 else rng.randrange(2, 5)
        return rng.choice(rdef.detail_methods), rdef.uri(key)
    key = rng.choice(["1", "30", "abc", "0", "-1", "1.5", "%20", "schema"])
    choices = [rdef.list_uri, rdef.uri(key), rdef.schema_uri, rdef.list_uri[:-1], "/api/admin/x/"]
    return rng.choice(METHODS), rng.choice(choices)


def query(rng: random.Random, rdef: Any) -> str:
    params = []
    for _ in range(rng.randrange(3)):
        name = rng.choice([*rdef.fields, "limit", "offset", "order_by", "format", "zzz"])
        name += rng.choice(["", "", "__icontains", "__gte", "__"])
        params.append((name, rng.choice(QUERY_VALUES)))
    return urlencode(params)


def requests_for(seed: int, count: int) -> list[tuple[str, str, str, bytes | None]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        if rng.random() < 0.03:  # the certificates_import command
            bundle = "".join(rng.sample(PEM_VALUES, rng.randrange(0, 4)))
            data = {"bundle": bundle} if rng.random() < 0.8 else junk(rng)
            method = rng.choice(["POST", "POST", "GET", "PUT"])
            out.append((method, COMMAND, "", json.dumps(data).encode()))
            continue
        rdef = rng.choice(RDEFS)
        method, url_path = target(rng, rdef)
        data = None
        if method in ("POST", "PATCH", "PUT"):
            raw = body(rng, rdef)
            data = json.dumps(raw).encode() if rng.random() > 0.03 else b"{bad json"
        out.append((method, url_path, query(rng, rdef) if method == "GET" else "", data))
    return out


def check_everything_still_reads(get: Any) -> None:
    for rdef in RDEFS:
        status, listed = get(rdef.list_uri + "?limit=0")
        assert status == 200, (rdef.list_uri, listed)
        for obj in listed["objects"]:
            status, detail = get(obj["resource_uri"])
            assert status == 200 and detail == obj
        assert get(rdef.schema_uri)[0] == 200


@pytest.fixture(autouse=True)
def fast_csr_keys(sim, monkeypatch):
    """CSR keys from a fixed pool: thousands of requests must not each generate RSA keys."""
    pool = {
        "RSA2048": rsa.generate_private_key(65537, 2048),
        "RSA4096": keycache.shipped_key(0),
        "ECDSAP256": ec.generate_private_key(ec.SECP256R1()),
    }
    monkeypatch.setattr(sim.model, "make_key", pool.__getitem__)


def test_fuzz_over_https_never_5xx(api):
    for method, url_path, qs, data in requests_for(seed=1234, count=200):
        response = api.request(
            method,
            url_path + ("?" + qs if qs else ""),
            data=data,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code in OK_STATUSES, (method, url_path, qs, data, response.text)
        if response.content and method != "HEAD":
            response.json()

    def get(p: str) -> tuple[int, Any]:
        response = api.get(p)
        return response.status_code, response.json()

    check_everything_still_reads(get)
    snapshot = api.http_state()
    assert api.put("/_sim/state", json=snapshot).status_code == 204
    assert api.http_state() == snapshot


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_in_process_never_5xx(sim, seed):
    client = Client(sim.app)
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    assert client.post("/_sim/reset", headers=headers).status_code == 204
    for method, url_path, qs, data in requests_for(seed=seed, count=2000):
        response = client.open(url_path, method=method, query_string=qs, data=data, headers=headers)
        assert response.status_code in OK_STATUSES, (method, url_path, qs, data, response.text)
        if response.data and method != "HEAD":
            json.loads(response.data)

    def get(p: str) -> tuple[int, Any]:
        response = client.get(p, headers=headers)
        return response.status_code, json.loads(response.data)

    check_everything_still_reads(get)
    assert client.post("/_sim/reset", headers=headers).status_code == 204
