"""Accord's clients send only fields of the real schema, and never a read-only one.

The real Management Node (tastypie) silently ignores a field it does not know, and so does the
simulator: a misspelt or invented field would pass unnoticed against either. This is Accord's
own, stricter check. The real schema is the simulator's declarations
(``tests/simulator/test_real_api.py`` holds them to the real schema's field names).

- Every write the deployer makes, from a factory-fresh deployment to the site's baseline: the
  simulators' request logs name any field a write ignored (``/_sim/requests``).
- Every field named where Accord's code writes a literal body (``accord/`` and ``steps/``):
  ``client.create("<resource>", {...})``, ``update(<uri>, {...})``, a CSR's keyword fields and
  the Conferencing Node the deployer adds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from accord.deployer import deploy
from simulator.pexip.resources import RESOURCES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "accord").rglob("*.py"), *(ROOT / "steps").rglob("*.py")])
# Calls whose keyword arguments, or whose last argument, are the fields of one resource.
KEYWORD_FIELDS = {
    "create_csr": "certificate_signing_request",
    "_csr": "certificate_signing_request",
}
LAST_ARGUMENT_FIELDS = {"deploy_conferencing_node": "worker_vm"}


def writable(resource: str) -> set[str]:
    rdef = RESOURCES[("configuration", resource)]
    return {name for name, spec in rdef.fields.items() if not spec.readonly}


ANY_RESOURCE = set().union(*(writable(n) for api, n in RESOURCES if api == "configuration"))


@dataclass(frozen=True)
class Written:
    """One field name a write names: where, and of which resource (None: not known here)."""

    where: str
    resource: str | None
    field: str


def _keys(node: ast.AST | None, bound: dict[str, ast.Dict]) -> list[str] | None:
    if isinstance(node, ast.Name):
        node = bound.get(node.id)
    if not isinstance(node, ast.Dict):
        return None
    keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
    return [k for k in keys if isinstance(k, str)]


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def written_fields(path: Path, root: Path = ROOT) -> list[Written]:
    """The field names literal write bodies in ``path`` name (``where``: relative to
    ``root``)."""
    out: list[Written] = []
    tree = ast.parse(path.read_text(), str(path))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        bound = {
            target.id: node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            name, args = _called(call), call.args
            where = f"{path.relative_to(root)}:{call.lineno}"
            found: list[tuple[str | None, list[str] | None]] = []
            if name == "create" and len(args) == 2 and isinstance(args[0], ast.Constant):
                resource = args[0].value
                if isinstance(resource, str) and ("configuration", resource) in RESOURCES:
                    found.append((resource, _keys(args[1], bound)))
            elif name == "update" and len(args) == 2:
                found.append((None, _keys(args[1], bound)))
            elif name in KEYWORD_FIELDS:
                keywords = [k.arg for k in call.keywords if k.arg is not None]
                found.append((KEYWORD_FIELDS[name], keywords))
            elif name in LAST_ARGUMENT_FIELDS and args:
                found.append((LAST_ARGUMENT_FIELDS[name], _keys(args[-1], bound)))
            for resource, keys in found:
                out += [Written(where, resource, key) for key in keys or []]
    return out


def test_literal_write_bodies_name_only_writable_fields_of_the_real_schema():
    written = [w for path in SOURCES for w in written_fields(path)]
    resources = {w.resource for w in written}
    # The scan sees the writes it should (else it would pass by seeing nothing).
    assert {"ca_certificate", "certificate_signing_request", "worker_vm", None} <= resources
    wrong = [
        w for w in written if w.field not in (writable(w.resource) if w.resource else ANY_RESOURCE)
    ]
    assert not wrong, wrong


def test_the_scan_catches_a_field_the_real_schema_lacks(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(client, uri):\n"
        "    client.create('dns_server', {'address': '192.0.2.1', 'ttl': 5})\n"
        "    body = {'enable_telnet': False}\n"
        "    client.update(uri, body)\n"
        "    bench.create_csr(subject_name='x', include_cn_in_san=True)\n"
    )
    found = {(w.resource, w.field) for w in written_fields(bad, tmp_path)}
    assert {("dns_server", "ttl"), (None, "enable_telnet")} <= found
    assert ("certificate_signing_request", "include_cn_in_san") in found


def test_the_deployer_writes_only_fields_of_the_real_schema(lab, deployed_snapshot):
    lab.factory_reset()
    try:
        deploy(lab.site, out=lambda _line: None)
        logs = {name: control.requests()["requests"] for name, control in lab.control.items()}
    finally:
        lab.restore(deployed_snapshot)
    writes = [r for log in logs.values() for r in log if r["method"] in ("POST", "PATCH", "PUT")]
    assert len(writes) > 20  # the whole baseline, on every deployment
    ignored = {
        name: [(r["method"], r["path"], r["ignored"]) for r in log if "ignored" in r]
        for name, log in logs.items()
    }
    assert not any(ignored.values()), ignored
