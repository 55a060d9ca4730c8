"""The VMware layer's features, bound to the shared steps."""

from pytest_bdd import scenarios

scenarios("vsphere")
