"""Binds the Pexip feature files in this folder; the steps live in `steps/`."""

from pytest_bdd import scenarios

scenarios("pexip")
