"""The one exception type of :mod:`accord.pki`."""

from __future__ import annotations


class PkiError(ValueError):
    """Input that is not what was expected: wrong PEM type, wrong passphrase, broken data.

    Messages name what was given and what was expected. They never contain key material or
    passphrases, and the underlying library error is not chained (``raise ... from None``) where it
    could describe key data.
    """
