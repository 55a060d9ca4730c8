"""Binds the BeyondTrust feature files in this folder; the steps live in `steps/`."""

from pytest_bdd import scenarios

scenarios("beyondtrust")
