"""The shape every simulator object has: ``start()`` returns it once it listens, ``stop()``
closes everything it opened (idempotent), and a ``with`` block does both.

The Pexip Management Node simulator, the BeyondTrust simulator and each simulated appliance's
TLS listener are services; what they start is theirs, the shape is this one.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """A started-and-stopped simulator part (see module doc); subclasses define both."""

    def start(self) -> Self:
        """Bind and serve; return once listening (``RuntimeError`` if already started)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and close what ``start`` opened (idempotent)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
