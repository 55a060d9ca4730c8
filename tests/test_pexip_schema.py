"""The client's promises (`accord.pexip.schema`) and the simulator's declarations agree.

The client checks every object it reads against the fields Accord reads; the simulator declares
every field of the real resources (its docstrings give the sources). A field the client
declares must exist in the simulator's resource, of the same JSON type, nullable exactly when
the simulator's is: so a real Management Node's honest answer (which the simulator mirrors) is
never refused, and what the client refuses is what the API never gives.
"""

from __future__ import annotations

from typing import Any

from accord.pexip import schema
from simulator.pexip.fields import (
    BooleanField,
    DateTimeField,
    Field,
    IntegerField,
    ListField,
    StringField,
)
from simulator.pexip.relations import ToManyField, ToOneField
from simulator.pexip.resources import RESOURCES

KINDS: dict[str, tuple[type[Field], ...]] = {
    schema.BOOL.name: (BooleanField,),
    schema.INT.name: (IntegerField,),
    schema.STR.name: (StringField, DateTimeField),  # an address or a time is a string too
    schema.URI.name: (StringField, ToOneField),  # resource_uri; a to-one as its URI
    schema.REF.name: (ToOneField,),
    schema.STRINGS.name: (ListField,),
}


def test_every_field_the_client_checks_is_the_simulators_of_the_same_type():
    problems: list[str] = []
    for (api, name), fields in schema.FIELDS.items():
        declared = RESOURCES[(api, name)].fields
        for field, spec in fields.items():
            where = f"{api}/{name}.{field}"
            simulated: Any = declared.get(field)
            if simulated is None:
                problems.append(f"{where}: not a field of the resource")
                continue
            if spec.related is not None:
                if not isinstance(simulated, ToManyField):
                    problems.append(f"{where}: a to-many relation, not {type(simulated).__name__}")
                continue
            if not isinstance(simulated, KINDS[spec.kind.name]):
                problems.append(f"{where}: {spec.kind.name}, not {type(simulated).__name__}")
            if spec.nullable != simulated.nullable:
                problems.append(f"{where}: nullable {spec.nullable}, not {simulated.nullable}")
    assert not problems, "\n".join(problems)


def test_every_resource_the_client_reads_is_checked():
    assert schema.resource_of("/api/admin/configuration/v1/dns_server/3/") == (
        "configuration",
        "dns_server",
    )
    assert schema.resource_of("/api/admin/status/v1/alarm/?limit=5") == ("status", "alarm")
    assert schema.resource_of("/api/admin/command/v1/platform/x/") is None
