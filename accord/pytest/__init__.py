"""Accord's pytest plugin: what `pytest features/` is made of besides the steps.

- `options`: the command line (``--target``, ``--site``, ``--record``, ``--cassettes``,
  ``--evidence``, ``--reports``);
- `run`: the run itself: its sites loaded and checked before any system is touched, its
  reports folder, the requirement tags as markers, what the targets found afterwards;
- `sites`: the run's sites (``--site`` repeated) and xdist's scheduling of them;
- `systems`: the ``accord_site`` and ``systems`` fixtures (a site's target started, stopped,
  and what it sent its systems);
- `evidence`: every scenario's steps, observations and status collected into the run's
  results (`accord.evidence.model`), and the requirements rolled up;
- `progress`: a line per requirement as its last scenario ends, and the totals;
- `transport`: pytest-xdist's workers sending what they collected to the controller;
- `writers`: results.json, every report format and the manifest, at the end;
- `state`: the run's state, one object in pytest's stash;
- `bddlookup`: pytest-bdd's step lookup, remembered for the run;
- `accord.recording.plugin`: ``--record`` and ``--target replay``, a cassette per scenario.

The run's state is one object in pytest's stash (`accord.pytest.state.RUN`).
"""

pytest_plugins = [
    "accord.pytest.options",
    "accord.pytest.run",
    "accord.pytest.systems",
    "accord.pytest.progress",
    "accord.pytest.evidence",  # before the steps: they record observations through it
    "accord.pytest.transport",
    "accord.pytest.writers",
    "accord.recording.plugin",  # --record and --target replay: a cassette per scenario
    "accord.pytest.bddlookup",
]
