"""Accord: executable, evidence-producing acceptance tests for vendor hardening guides."""

import importlib.metadata


def installed_version() -> str:
    """The installed Accord's version, as the reports and recordings name it ("unknown" when
    it runs uninstalled)."""
    try:
        return importlib.metadata.version("accord")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
