"""The lab's directory: a private slapd (`Slapd`) and the tree it is seeded with."""

from simulator.ldap.slapd import (
    NOT_INSTALLED,
    DirectoryGroup,
    DirectoryUser,
    ServiceAccount,
    Slapd,
    SlapdError,
    directory_entries,
    ssha,
)

__all__ = [
    "NOT_INSTALLED",
    "DirectoryGroup",
    "DirectoryUser",
    "ServiceAccount",
    "Slapd",
    "SlapdError",
    "directory_entries",
    "ssha",
]
