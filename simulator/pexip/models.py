"""The simulated Management Node's state and behaviour.

``PexipModel`` holds the state (one ``Table`` per stored resource) behind one lock and
implements every API operation on it: reads render stored rows (secrets hashed, to-many
relations embedded or as URIs, to-one relations as URIs), writes validate the whole request
(``hydrate``: each declared field, then cross-field rules and uniqueness on the object that
would result; unknown and read-only fields ignored, as-read values kept) before changing
anything. Operations raise the typed errors of ``errors``; nothing else escapes.
The certificate resources add behaviour of their own (``certificates``), called after the
generic validation; their alarms are derived from the state whenever alarms are read.

Time: ``now()`` is the simulated clock, real time plus an offset kept in the state
(``set_clock``; a reset restores real time). Alarms' ``time_raised``, licence dates and
certificate expiry use it.

Faults (``faults``): ``self.faults`` holds the active fault injections (``/_sim/faults``); they
are not state (reset and restore keep them) and each operation reads them once (``_faults``)
and hands them to the behaviour that checks them.

The model does not yet enforce the ``authentication`` settings (source, client certificates,
OAuth2) on the simulator's own login; HTTP Basic with the configured credentials always works.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from simulator.pexip import certdata, certificates, faults, wizard
from simulator.pexip.certificate_resources import CERTIFICATE_SIGNING_REQUEST, TLS_CERTIFICATE
from simulator.pexip.errors import BadRequest, MethodNotAllowed, NotFound
from simulator.pexip.fields import Key, format_time
from simulator.pexip.hydrate import Hydrated, hydrate
from simulator.pexip.relations import ToManyField, ToOneField
from simulator.pexip.resourcedef import API_PREFIX, ResourceDef
from simulator.pexip.resources import (
    LICENCE,
    MANAGEMENT_VM,
    RESOURCES,
    WORKER_VM,
    stored_resources,
)
from simulator.pexip.seed import Seed, build_state, new_licence
from simulator.pexip.state import MAX_CLOCK_OFFSET, State, config_key
from simulator.pexip.status import derived_objects
from simulator.pexip.status_resources import ALARM

_URI = re.compile(rf"{API_PREFIX}configuration/v1/([a-z0-9_]+)/([^/]+)/")
Clock = Callable[[], dt.datetime]
T = TypeVar("T")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PexipModel:
    """State and behaviour of one simulated deployment. Thread-safe (one re-entrant lock)."""

    def __init__(self, seed: Seed | None = None, clock: Clock | None = None) -> None:
        self.seed = seed or Seed()
        self.clock: Clock = clock or _utcnow
        # How CSRs get fresh keys (tests may swap it for a faster one).
        self.make_key: Callable[[str], certdata.PrivateKey] = certdata.new_key
        self.lock = threading.RLock()
        self.faults = faults.Faults()
        self._epoch = self.clock()
        self._state = build_state(self.seed, self._epoch)

    def fault(self, name: str) -> bool:
        """Whether the fault ``name`` (``faults.FAULTS``) is active."""
        return name in self.faults

    def _faults(self) -> frozenset[str]:
        return self.faults.current()

    def now(self) -> dt.datetime:
        """The simulated time: real time plus the clock offset of the state."""
        with self.lock:
            return self.clock() + dt.timedelta(seconds=self._state.clock_offset)

    # -- lookups -------------------------------------------------------------------------

    def read_state(self, reader: Callable[[State], T]) -> T:
        """``reader(state)`` under the lock, for in-process observers (the node listeners).

        The reader must neither change the state nor keep references into it.
        """
        with self.lock:
            return reader(self._state)

    def resource(self, api: str, name: str) -> ResourceDef:
        """The resource ``name`` of ``api`` ("configuration" or "status").

        Raises ``NotFound`` for an unknown api or resource; nothing else.
        """
        rdef = RESOURCES.get((api, name))
        if rdef is None:
            raise NotFound(f"Unknown resource: {api}/v1/{name}/")
        return rdef

    def check_method(self, rdef: ResourceDef, method: str, detail: bool) -> None:
        """Raise ``MethodNotAllowed`` (405 + Allow) unless ``method`` is allowed.

        PATCH and DELETE on a list answer 405 (the real API's bulk forms are not simulated).
        """
        allowed = rdef.detail_methods if detail else rdef.list_methods
        if method not in allowed:
            what = f"{rdef.list_uri}{'<id>/' if detail else ''}"
            raise MethodNotAllowed(method, allowed, what)

    def resolve(self, target: str, uri: str) -> Key | None:
        """The key of the ``target`` configuration object named by ``uri``, or None.

        Only the path form ``/api/admin/configuration/v1/<target>/<key>/`` is accepted (as
        tastypie resolves URIs); a malformed URI, another resource or a missing id gives None.
        """
        match = _URI.fullmatch(uri)
        rdef = RESOURCES.get(("configuration", target))
        if match is None or rdef is None or match.group(1) != target:
            return None
        key = rdef.parse_key(match.group(2))
        table = self._state.tables.get(config_key(target))
        return key if key is not None and table is not None and key in table.rows else None

    # -- reads ---------------------------------------------------------------------------

    def list_objects(self, rdef: ResourceDef) -> list[dict[str, Any]]:
        """All objects of ``rdef`` as the API returns them, ordered by id (licences: by
        activation). Raises ``MethodNotAllowed`` if the list cannot be read (never: every list
        allows GET)."""
        with self.lock:
            self.check_method(rdef, "GET", detail=False)
            return list(self._objects(rdef).values())

    def get_object(self, rdef: ResourceDef, key_text: str) -> dict[str, Any]:
        """One object. Raises ``NotFound`` for a key that is malformed (e.g. ``abc`` for an
        integer id) or unknown; never a 400."""
        with self.lock:
            self.check_method(rdef, "GET", detail=True)
            key = rdef.parse_key(key_text)
            if rdef.computed or rdef is ALARM:
                objects = self._objects(rdef)
                if key is None or key not in objects:
                    raise NotFound(f"No {rdef.name} object with key '{key_text}'.")
                return objects[key]
            rows = self._state.table(rdef).rows
            if key is None or key not in rows:
                raise NotFound(f"No {rdef.name} object with key '{key_text}'.")
            return self._render(rdef, key, rows[key])  # this one, not every object

    def _objects(self, rdef: ResourceDef) -> dict[Key, dict[str, Any]]:
        if rdef.computed:
            return derived_objects(rdef, self._state, self._epoch)
        if rdef is ALARM:
            self._sync_certificate_alarms()
        rows = self._state.table(rdef).rows
        keys = sorted(rows) if rdef.int_keyed else list(rows)
        users = certificates.users_by_certificate(self._state) if rdef is TLS_CERTIFICATE else None
        return {key: self._render(rdef, key, rows[key], users) for key in keys}

    def _render(
        self,
        rdef: ResourceDef,
        key: Key,
        row: dict[str, Any],
        users: dict[Key, list[str]] | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in rdef.fields.items():
            if name == rdef.key_field:
                out[name] = key
            elif name == "resource_uri":
                out[name] = rdef.uri(key)
            elif spec.transient and isinstance(spec.default, str):
                out[name] = ""  # never echo a write-only input, nor pretend a default was used
            elif not spec.stored:
                out[name] = spec.initial()
            elif spec.write_only or spec.private:
                out[name] = ""
            elif isinstance(spec, ToManyField):
                out[name] = [self._related(spec, k) for k in row[name]]
            elif isinstance(spec, ToOneField):
                target = RESOURCES.get(("configuration", spec.to))
                value = row[name]
                out[name] = None if value is None or target is None else target.uri(value)
            else:
                out[name] = spec.render(row[name])
        if rdef.name in certificates.HANDLED and rdef.api == "configuration":
            certificates.render(rdef, self._state, key, out, self._faults(), users)
        return out

    def _related(self, spec: ToManyField, key: Key) -> Any:
        target = RESOURCES[("configuration", spec.to)]
        if not spec.embed:
            return target.uri(key)
        return self._render(target, key, self._state.table(target).rows[key])

    # -- writes --------------------------------------------------------------------------

    def create(self, rdef: ResourceDef, body: Any, ignored: list[str] | None = None) -> str:
        """Create an object (POST to the list); return its ``resource_uri``.

        Raises ``MethodNotAllowed`` where POST is not allowed, ``BadRequest`` if ``body`` is
        not a JSON object, ``ValidationError`` with every field error (wrong type, out of
        range, bad choice, missing required field, relation URI that does not resolve,
        duplicate unique value, cross-field rule). Never ``NotFound``. Fields the resource does
        not know, and read-only ones, are ignored (``hydrate``) and added to ``ignored``.
        A licence POST activates ``entitlement_id`` offline (INFERRED contents, see seed).
        """
        with self.lock:
            self.check_method(rdef, "POST", detail=False)
            hydrated = self._hydrate(rdef, body, None, partial=False, ignored=ignored)
            row = hydrated.row
            table = self._state.table(rdef)
            if self._certificate(rdef):
                key: Key = certificates.create(
                    rdef, self._state, row, hydrated.extras, self.make_key, self._faults()
                )
            elif rdef is LICENCE:
                row.update(new_licence(row["entitlement_id"], self.now()))
                key = table.add(row, key=str(uuid.uuid4()))
            else:
                key = table.add(row)
            return rdef.uri(key)

    def update(
        self,
        rdef: ResourceDef,
        key_text: str,
        body: Any,
        *,
        partial: bool,
        ignored: list[str] | None = None,
    ) -> str | None:
        """PATCH (``partial``) or PUT an object; returns the URI of another object the write
        produced (a CSR completion's TLS certificate), else None.

        PUT is a full update: writable fields not given revert to their defaults and required
        ones must be present; read-only fields keep their values. A field sent as a read shows
        it changes nothing, so the whole object read can be sent back (``hydrate``). Raises
        ``MethodNotAllowed``, ``NotFound`` (malformed or unknown key), ``BadRequest`` (body not
        an object), ``ValidationError`` (as for ``create``); ignored fields go to ``ignored``.
        """
        with self.lock:
            self.check_method(rdef, "PATCH" if partial else "PUT", detail=True)
            key = self._existing_key(rdef, key_text)
            table = self._state.table(rdef)
            hydrated = self._hydrate(rdef, body, key, partial=partial, ignored=ignored)
            row, changes = hydrated.row, hydrated.changes
            if self._certificate(rdef):
                return certificates.update(rdef, self._state, key, row, changes, self._faults())
            assigning = rdef in (MANAGEMENT_VM, WORKER_VM) and changes.get("tls_certificate")
            if assigning and self.fault(faults.TLS11_ASSIGNMENT_IGNORED):
                row["tls_certificate"] = table.rows[key]["tls_certificate"]
            table.rows[key] = row
            return None

    def _certificate(self, rdef: ResourceDef) -> bool:
        return rdef.api == "configuration" and rdef.name in certificates.HANDLED

    def delete(self, rdef: ResourceDef, key_text: str) -> None:
        """Delete an object; to-many references to it are removed from other objects.

        Raises ``MethodNotAllowed``, ``NotFound`` (malformed or unknown key), and
        ``BadRequest`` when the object is the primary Management Node or is the required
        to-one target of another object (a system location with Conferencing Nodes) —
        both refusals INFERRED (Django PROTECT); nothing is changed then.
        """
        with self.lock:
            self.check_method(rdef, "DELETE", detail=True)
            key = self._existing_key(rdef, key_text)
            row = self._state.table(rdef).rows[key]
            if rdef is MANAGEMENT_VM and row["primary"]:
                raise BadRequest("The primary Management Node cannot be deleted.")
            if self._certificate(rdef):
                certificates.check_delete(rdef, self._state, key)
            users = self._protected_by(rdef, key)
            if users:
                raise BadRequest(
                    f"Cannot delete {rdef.name} {key}: it is still used by {', '.join(users)}."
                )
            for other in stored_resources():
                for fname, spec in other.stored_fields().items():
                    related = isinstance(spec, ToManyField | ToOneField)
                    if related and spec.to == rdef.name and rdef.api == "configuration":
                        for other_row in self._state.table(other).rows.values():
                            if isinstance(spec, ToManyField):
                                other_row[fname] = [k for k in other_row[fname] if k != key]
                            elif other_row[fname] == key:
                                other_row[fname] = None
            del self._state.table(rdef).rows[key]

    def _protected_by(self, rdef: ResourceDef, key: Key) -> list[str]:
        users = []
        for other in stored_resources():
            for fname, spec in other.stored_fields().items():
                required = isinstance(spec, ToOneField) and not spec.nullable
                if required and spec.to == rdef.name and rdef.api == "configuration":
                    rows = self._state.table(other).rows
                    users += [f"{other.name} {k}" for k, r in rows.items() if r[fname] == key]
        return users

    def _existing_key(self, rdef: ResourceDef, key_text: str) -> Key:
        key = rdef.parse_key(key_text)
        if key is None or key not in self._state.table(rdef).rows:
            raise NotFound(f"No {rdef.name} object with key '{key_text}'.")
        return key

    def _hydrate(
        self,
        rdef: ResourceDef,
        body: Any,
        key: Key | None,
        *,
        partial: bool,
        ignored: list[str] | None,
    ) -> Hydrated:
        """``hydrate`` against the current state; keeps the clear values of ``clear_kept``
        secrets once the write is valid. Changes nothing else."""
        rows = self._state.table(rdef).rows
        shown = self._render(rdef, key, rows[key]) if key is not None else {}
        hydrated = hydrate(
            rdef, body, self, rows, key=key, shown=shown, partial=partial, ignored=ignored
        )
        self._state.cleartext.update(hydrated.clear)
        return hydrated

    # -- alarms --------------------------------------------------------------------------

    def raise_alarm(
        self,
        name: str,
        *,
        details: str = "",
        instance: str = "",
        node: str = "",
        level: str = "error",
        identifier: int = 0,
    ) -> int:
        """Raise an alarm (idempotent per name+instance+node: details/level are updated).

        Returns the alarm's id. Alarm names and ``level`` values are INFERRED (see
        pexip-api-reference.md §8); callers keep their names as constants.
        """
        with self.lock:
            table = self._state.table(ALARM)
            for key, row in table.rows.items():
                if (row["name"], row["instance"], row["node"]) == (name, instance, node):
                    row.update(details=details, level=level, identifier=identifier)
                    return int(key)
            row = ALARM.default_row()
            row.update(
                name=name,
                details=details,
                instance=instance,
                node=node,
                level=level,
                identifier=identifier,
                acknowledged=False,
                time_raised=format_time(self.now()),
            )
            return int(table.add(row))

    def clear_alarm(
        self, name: str, *, instance: str | None = None, node: str | None = None
    ) -> int:
        """Clear alarms called ``name`` (optionally only for one instance/node); return how
        many were cleared. Real alarms clear themselves when their condition is resolved."""
        with self.lock:
            rows = self._state.table(ALARM).rows
            gone = [
                k
                for k, r in rows.items()
                if r["name"] == name
                and (instance is None or r["instance"] == instance)
                and (node is None or r["node"] == node)
            ]
            for key in gone:
                del rows[key]
            return len(gone)

    def _sync_certificate_alarms(self) -> None:
        """Make the stored certificate alarms match the state (raise new, clear resolved).

        The alarm names in ``certificates.ALARM_NAMES`` belong to this derivation: an alarm of
        one of those names raised by other code is cleared at the next read unless the state
        calls for it.
        """
        wanted = certificates.certificate_alarms(self._state, self.now(), self._faults())
        keep = set()
        for alarm in wanted:
            keep.add(
                self.raise_alarm(
                    alarm.name,
                    details=alarm.details,
                    instance=alarm.instance,
                    node=alarm.node,
                    level=alarm.level,
                )
            )
        rows = self._state.table(ALARM).rows
        for key in [k for k, r in rows.items() if r["name"] in certificates.ALARM_NAMES]:
            if key not in keep:
                del rows[key]

    # -- commands and certificate files --------------------------------------------------

    def command(self, group: str, name: str, body: Any) -> dict[str, Any]:
        """``POST /api/admin/command/v1/<group>/<name>/``; only
        ``platform/certificates_import`` is simulated (``NotFound`` for any other)."""
        with self.lock:
            if (group, name) != ("platform", certificates.IMPORT):
                raise NotFound(f"Unknown command: {group}/{name}/")
            return certificates.import_bundle(self._state, body, self._faults())

    def export_ca_certificates(self) -> certificates.Download:
        """Every custom trusted CA certificate as one PEM file (the UI's Export)."""
        with self.lock:
            return certificates.export_ca(self._state, self._faults())

    def download_certificates(self, body: Any) -> certificates.Download:
        """The UI's TLS certificate download (see ``certificates.download``)."""
        with self.lock:
            return certificates.download(self._state, body, self.resolve, self._faults())

    def download_csr(self, key_text: str) -> certificates.Download:
        """The UI's CSR download (``<subject_name>.csr``); ``NotFound`` for an unknown or
        malformed id."""
        with self.lock:
            key = self._existing_key(CERTIFICATE_SIGNING_REQUEST, key_text)
            row = self._state.table(CERTIFICATE_SIGNING_REQUEST).rows[key]
            return certificates.csr_download(row, self._faults())

    # -- control plane -------------------------------------------------------------------

    def clock_state(self) -> dict[str, Any]:
        """``{"now": "<time>", "offset_seconds": N}`` of the simulated clock."""
        with self.lock:
            return {"now": format_time(self.now()), "offset_seconds": self._state.clock_offset}

    def set_clock(self, body: Any) -> dict[str, Any]:
        """Move the simulated clock: ``{"advance_days": N}`` (from the simulated now) or
        ``{"now": "<ISO 8601 time>"}``; ``BadRequest`` for anything else."""
        usage = 'Send {"advance_days": <number>} or {"now": "<ISO 8601 time>"}.'
        if not isinstance(body, dict) or len(body) != 1:
            raise BadRequest(usage)
        with self.lock:
            offset = self._state.clock_offset
            if "advance_days" in body:
                days = body["advance_days"]
                if isinstance(days, bool) or not isinstance(days, int | float):
                    raise BadRequest(usage)
                offset += days * 86400.0
            elif isinstance(body.get("now"), str):
                try:
                    moment = dt.datetime.fromisoformat(body["now"])
                except ValueError:
                    raise BadRequest(usage) from None
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
                offset = (moment - self.clock()).total_seconds()
            else:
                raise BadRequest(usage)
            if not abs(offset) <= MAX_CLOCK_OFFSET:
                raise BadRequest("The simulated clock stays within 1000 years of real time.")
            self._state.clock_offset = offset
            return self.clock_state()

    # -- the console security wizard (``wizard``; ``/_sim/security_wizard``) ---------------

    def _node_uris(self) -> list[str]:
        return [
            rdef.uri(key)
            for rdef in (MANAGEMENT_VM, WORKER_VM)
            for key in sorted(self._state.table(rdef).rows)
        ]

    def security_wizard(self) -> dict[str, Any]:
        """Whether the wizard was completed, the platform's answers and every node's (the
        CONF-01 fault reports it completed, whatever it is)."""
        with self.lock:
            described = wizard.describe(self._state.security_wizard, self._node_uris())
            if self.fault(faults.CONF01_BOOTSTRAP_REPORTED_COMPLETE):
                described["completed"] = True
            return described

    def run_security_wizard(self, body: Any) -> dict[str, Any]:
        """Run the wizard with ``{"answers": {...}}`` (``wizard.run``); ``ValidationError``."""
        with self.lock:
            self._state.security_wizard = wizard.run(self._state.security_wizard, body)
            return self.security_wizard()

    def diverge_security_wizard(self, body: Any) -> dict[str, Any]:
        """Make single nodes' answers differ (``wizard.diverge``); ``ValidationError``."""
        with self.lock:
            self._state.security_wizard = wizard.diverge(
                self._state.security_wizard, body, set(self._node_uris())
            )
            return self.security_wizard()

    def node_answers(self, node_uri: str) -> dict[str, Any]:
        """The wizard answers a node follows (its listeners read them)."""
        with self.lock:
            return wizard.effective(self._state.security_wizard, node_uri)

    def reset(self) -> None:
        """Back to the factory-fresh state of ``self.seed`` (never raises). The TLS-15 faults,
        if active, weaken the shipped certificates of the new state."""
        with self.lock:
            self._epoch = self.clock()
            self._state = build_state(self.seed, self._epoch).keeping(self._state)
            certificates.weaken_shipped(self._state, self._faults())

    def snapshot(self) -> dict[str, Any]:
        """A JSON snapshot of the whole state (secrets only as their stored hashes; private
        keys in clear: a snapshot is key material) with the certificate alarms up to date."""
        with self.lock:
            self._sync_certificate_alarms()
            return self._state.to_snapshot()

    def restore(self, data: Any) -> None:
        """Replace the state with a ``snapshot()``; ``BadRequest`` (state unchanged) if it is
        malformed in any way."""
        try:
            state = State.from_snapshot(data)
            certificates.check_restored(state, self._faults())
        except ValueError as error:
            raise BadRequest(f"Malformed state snapshot: {error}") from None
        with self.lock:
            self._epoch = self.clock()
            self._state = state.keeping(self._state)
