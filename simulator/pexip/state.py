"""The simulator's stored state and its JSON snapshot form.

State is one ``Table`` per stored resource (every configuration resource, and status alarms),
keyed ``"<api>/<name>"``. A row holds the stored values of one object: secrets as their hash,
relations as keys of the related objects; the key itself is the row's dict key.

The state also holds the simulated clock's offset from real time (``/_sim/clock``), so a
reset restores real time and a snapshot restores the offset. It holds the security wizard's
answers too (``wizard``; console-only on a real node, so no API resource shows them), and
``cleartext``: the clear values of the secrets the simulated system itself must use (a node's
SNMPv3 passwords for its agent, the LDAP bind password for its directory lookups), keyed by the
hash the row stores (``fields.Field.clear_kept``). Neither the API nor a snapshot shows them:
the model carries them over resets and restores (a hash always stands for the same value), so a
snapshot restored in another process has its hashes but not their clear values.

``to_snapshot`` / ``from_snapshot`` convert to and from plain JSON (``GET``/``PUT
/_sim/state``). ``from_snapshot`` checks everything rendering and later writes rely on (shape,
field names, value types, relation targets), so a restored state can never cause a 5xx (the
model also checks certificate data: ``certificates.check_restored``). A snapshot holds KEY
MATERIAL: the private keys of TLS certificates and CSRs, unencrypted. It is a control-plane
thing only, for tests; never hand one out as evidence.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from simulator.pexip import wizard
from simulator.pexip.fields import Key
from simulator.pexip.relations import ToManyField, ToOneField
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import stored_resources

SNAPSHOT_FORMAT = "accord-pexip-simulator/4"
MAX_CLOCK_OFFSET = 1000 * 366 * 86400.0


def table_key(rdef: ResourceDef) -> str:
    """The state key of a resource's table: ``"configuration/dns_server"``."""
    return f"{rdef.api}/{rdef.name}"


def config_key(name: str) -> str:
    """The state key of the configuration resource ``name`` (relation targets)."""
    return f"configuration/{name}"


@dataclass
class Table:
    """The stored objects of one resource and the next integer id to hand out."""

    next_id: int = 1
    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)

    def add(self, row: dict[str, Any], key: Key | None = None) -> Key:
        """Store ``row`` under ``key`` (default: the next id) and return the key."""
        if key is None:
            key = self.next_id
        if isinstance(key, int):
            self.next_id = max(self.next_id, key + 1)
        self.rows[key] = row
        return key


@dataclass
class State:
    """All stored tables, and the simulated clock's offset from real time in seconds."""

    tables: dict[str, Table]
    clock_offset: float = 0.0
    # The console security wizard's answers (``wizard``): not in the management API.
    security_wizard: dict[str, Any] = field(default_factory=wizard.factory)
    # hash_secret(value) -> value, for secrets the simulated system uses (see module doc).
    cleartext: dict[str, str] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> State:
        """A state with an empty table for every stored resource."""
        return cls({table_key(r): Table() for r in stored_resources()})

    def keeping(self, previous: State) -> State:
        """This state, with ``previous``'s clear values of secrets carried over."""
        self.cleartext = previous.cleartext
        return self

    def clear(self, stored: str | None) -> str:
        """The clear value of a kept secret whose row holds ``stored`` ("" if unknown)."""
        return self.cleartext.get(stored or "", "")

    def table(self, rdef: ResourceDef) -> Table:
        """The table of ``rdef`` (must be a stored resource)."""
        return self.tables[table_key(rdef)]

    def copy(self) -> State:
        """A deep copy."""
        return copy.deepcopy(self)

    def to_snapshot(self) -> dict[str, Any]:
        """The JSON snapshot of this state."""
        out: dict[str, Any] = {}
        for rdef in stored_resources():
            table = self.table(rdef)
            out[table_key(rdef)] = {
                "next_id": table.next_id,
                "rows": [
                    {rdef.key_field: key, **copy.deepcopy(row)} for key, row in table.rows.items()
                ],
            }
        return {
            "format": SNAPSHOT_FORMAT,
            "clock": {"offset_seconds": self.clock_offset},
            "security_wizard": copy.deepcopy(self.security_wizard),
            "tables": out,
        }

    @classmethod
    def from_snapshot(cls, data: Any) -> State:
        """Rebuild a state from ``to_snapshot`` output; ``ValueError`` says what is wrong."""
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"expected an object with format {SNAPSHOT_FORMAT!r}")
        tables = data.get("tables")
        expected = {table_key(r) for r in stored_resources()}
        if not isinstance(tables, dict) or set(tables) != expected:
            raise ValueError(f"'tables' must have exactly the keys {sorted(expected)}")
        clock = data.get("clock")
        offset = clock.get("offset_seconds") if isinstance(clock, dict) else None
        if (
            not isinstance(clock, dict)
            or set(clock) != {"offset_seconds"}
            or isinstance(offset, bool)
            or not isinstance(offset, int | float)
            or not abs(offset) <= MAX_CLOCK_OFFSET
        ):
            raise ValueError("'clock' must be {\"offset_seconds\": <number>} within 1000 years")
        state = cls.empty()
        state.clock_offset = float(offset)
        state.security_wizard = wizard.check_snapshot(data.get("security_wizard"))
        for rdef in stored_resources():
            name = table_key(rdef)
            state.tables[name] = _load_table(rdef, tables[name], name)
        _check_relations(state)
        return state


def _load_table(rdef: ResourceDef, data: Any, name: str) -> Table:
    if not isinstance(data, dict) or set(data) != {"next_id", "rows"}:
        raise ValueError(f"{name}: expected an object with 'next_id' and 'rows'")
    next_id, rows = data["next_id"], data["rows"]
    if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 1:
        raise ValueError(f"{name}: 'next_id' must be a positive integer")
    if not isinstance(rows, list):
        raise ValueError(f"{name}: 'rows' must be a list")
    stored = rdef.stored_fields()
    table = Table(next_id=next_id)
    for row in rows:
        if not isinstance(row, dict) or set(row) != {rdef.key_field, *stored}:
            raise ValueError(f"{name}: each row needs exactly the fields {sorted(stored)}")
        key = row[rdef.key_field]
        valid_key = (
            isinstance(key, int) and not isinstance(key, bool) and 1 <= key < next_id
            if rdef.int_keyed
            else isinstance(key, str) and rdef.parse_key(key) == key
        )
        if not valid_key or key in table.rows:
            raise ValueError(f"{name}: invalid or duplicate key {key!r}")
        if rdef.singleton and key != 1:
            raise ValueError(f"{name}: a singleton has only the object with id 1")
        for fname, spec in stored.items():
            if not spec.is_valid_stored(row[fname]):
                raise ValueError(f"{name} {key!r}: invalid value for {fname!r}")
        table.rows[key] = {f: copy.deepcopy(row[f]) for f in stored}
    if rdef.singleton and 1 not in table.rows:
        raise ValueError(f"{name}: the singleton object with id 1 is missing")
    return table


def _check_relations(state: State) -> None:
    for rdef in stored_resources():
        for key, row in state.table(rdef).rows.items():
            for fname, spec in rdef.stored_fields().items():
                if not isinstance(spec, ToOneField | ToManyField):
                    continue
                target = state.tables.get(config_key(spec.to))
                value = row[fname]
                keys = value if isinstance(spec, ToManyField) else [value]
                for k in keys:
                    if k is not None and (target is None or k not in target.rows):
                        raise ValueError(
                            f"{table_key(rdef)} {key!r}: {fname!r} refers to a missing object"
                        )
