"""The shipped temporary (self-signed) certificates, and the TLS-15 faults that weaken them.

Every node ships with a temporary certificate for its name, valid for ``TEMPORARY_DAYS``
(INFERRED) with a 4096-bit RSA key and 2048-bit DH parameters from ``keycache``. They are built
once per process and name (fast resets; a trust anchor that stays valid across resets and clock
moves, e.g. the simulator's ``ca_file``).

Faults: TLS-15. They change the factory state, so they take effect at the next reset:
``weaken_shipped`` rebuilds the fresh state's temporary certificates with a 2048-bit RSA key
(generated once per process) and/or 1024-bit DH parameters (RFC 2409 group 2, a constant), so
resets stay fast.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from simulator.pexip import certdata, keycache
from simulator.pexip import faults as f
from simulator.pexip.certificate_resources import (
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates.common import (
    metadata_of,
)
from simulator.pexip.state import State

TEMPORARY_DAYS = 3650  # INFERRED validity of the shipped self-signed certificates


def temporary_row(common_name: str, index: int, now: dt.datetime) -> dict[str, Any]:
    """The stored row of a shipped self-signed certificate.

    Built once per process and name (fast resets; a trust anchor that stays valid across
    resets and clock moves, e.g. the simulator's ``ca_file``), valid from the day before the
    first build of any of them (``now``'s date then).
    """
    return dict(_temporary_row(common_name, index, now.date()))


_temporary_cache: dict[tuple[str, int], dict[str, Any]] = {}
_temporary_days: list[dt.date] = []  # the day of the first build
_temporary_lock = threading.Lock()


def _temporary_row(common_name: str, index: int, day: dt.date) -> dict[str, Any]:
    cache_key = (common_name, index)
    with _temporary_lock:
        if cache_key not in _temporary_cache:
            if not _temporary_days:
                _temporary_days.append(day)
            key = keycache.shipped_key(index)
            first = _temporary_days[0]
            start = dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(days=1)
            cert = certdata.self_signed_certificate(key, common_name, start, TEMPORARY_DAYS)
            row = TLS_CERTIFICATE.default_row()
            row.update(
                certificate=certdata.to_pem(cert),
                private_key=certdata.key_pem(key),
                parameters=keycache.shipped_dh_parameters(),
                **metadata_of(cert, with_sans=True),
            )
            _temporary_cache[cache_key] = row
        return _temporary_cache[cache_key]


# RFC 2409 (IKE) group 2: the 1024-bit MODP prime, generator 2, as PKCS#3 DH PARAMETERS.
DH1024_PARAMETERS = (
    "-----BEGIN DH PARAMETERS-----\n"
    "MIGHAoGBAP//////////yQ/aoiFowjTExmKLgNwc0SkCTgiKZ8x0Agu+pjsTmyJR\n"
    "Sgh5jjQE3e+VGbPNOkMbMCsKbfJfFDdP4TVtbVHCReSFtXZiXn7G9ExC6aY37WsL\n"
    "/1y29Aa37e44a/taiZ+lrp8kEXxLH+ZJKGZR7OZTgf//////////AgEC\n"
    "-----END DH PARAMETERS-----\n"
)
_weak_lock = threading.Lock()
_weak_key: list[rsa.RSAPrivateKey] = []
_weak_rows: dict[tuple[str, dt.datetime, int], dict[str, Any]] = {}


def _rsa2048() -> rsa.RSAPrivateKey:
    if not _weak_key:
        _weak_key.append(rsa.generate_private_key(65537, 2048))
    return _weak_key[0]


def _weak_certificate(common_name: str, start: dt.datetime, days: int) -> dict[str, Any]:
    """The certificate fields of a temporary certificate with the 2048-bit key (cached)."""
    cache_key = (common_name, start, days)
    if cache_key not in _weak_rows:
        key = _rsa2048()
        cert = certdata.self_signed_certificate(key, common_name, start, days)
        _weak_rows[cache_key] = {
            "certificate": certdata.to_pem(cert),
            "private_key": certdata.key_pem(key),
            **certdata.describe(cert),
            "subject_alt_names": ", ".join(certdata.san_values(cert)),
        }
    return _weak_rows[cache_key]


def weaken_shipped(state: State, active: frozenset[str]) -> None:
    """Apply the TLS-15 faults to a factory-fresh ``state`` (every TLS certificate in it is a
    shipped temporary one): same Common Name and validity, weaker key and/or parameters."""
    if not active & {f.TLS15_SHIPPED_RSA2048, f.TLS15_SHIPPED_DH1024}:
        return
    with _weak_lock:
        for key, row in state.table(TLS_CERTIFICATE).rows.items():
            # The Management Node's own (tls_certificate/1/) is left alone: clients that trust
            # it as their anchor must still reach the API (OpenSSL refuses 1024-bit DH).
            if key == 1:
                continue
            if f.TLS15_SHIPPED_RSA2048 in active:
                cert = certdata.load_certificate(certdata.pem_blocks(row["certificate"])[0].text)
                start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
                days = (end - start).days
                row.update(_weak_certificate(row["subject_name"], start, days))
            if f.TLS15_SHIPPED_DH1024 in active:
                row["parameters"] = DH1024_PARAMETERS
