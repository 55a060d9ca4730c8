"""Where ``accord.harness`` still finds the ready-line helpers: they live in
``simulator.core.lines``. This name stays until ``accord/harness.py`` imports them from there
(``accord/`` is another change's); nothing in ``simulator/`` uses it."""

from simulator.core.lines import LinesEnded, ProcessLines

__all__ = ["LinesEnded", "ProcessLines"]
