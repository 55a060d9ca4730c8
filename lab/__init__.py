"""The lab: every simulator started together, and the site file that reaches them.

`accord sim` (`lab.run`) starts the simulated Management Nodes (primary, contingency and a
scratch one for the guides' actions), vcsim with the Pexip VMs, the BeyondTrust appliances and
the lab's LDAP directory, writes a complete site file for them (`lab.site`: the lab's values
or a given site's, a lab CA, client certificates) and prints one line per system and a ready
line (`lab.process`, which also starts `accord sim` as a child process and reads those lines:
the one protocol between the two). The ``sim`` target of `pytest features/` (`lab.target`)
starts it, deploys the site's baseline and verifies.

The library (`accord`) never imports this package nor `simulator`: a real site needs neither.
Only the ``accord sim`` command and the ``sim`` target reach it, and both by name.
"""
