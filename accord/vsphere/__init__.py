"""The VMware layer: pyvmomi reads of the Pexip VMs and their hosts, and their connection."""
