"""Slow key material for the shipped certificates, generated once per machine and cached.

The real nodes ship self-signed certificates with 4096-bit RSA keys and 2048-bit DH parameters
(the TLS guide; TLS-15). Generating those takes seconds (an RSA-4096 key ~0.5–3 s, DH-2048
safe-prime parameters ~2–60 s), far too slow for every simulator start or ``/_sim/reset``. So a
small pool of RSA-4096 keys and one set of DH-2048 parameters are generated on first use and
kept OUTSIDE the repository, in ``$ACCORD_SIM_CACHE`` if set, else
``${XDG_CACHE_HOME:-~/.cache}/accord/simulator/`` (directory 0700, files 0600), written
atomically under an exclusive file lock so concurrent first uses (two test processes) generate
once. If that directory cannot be written, ``$TMPDIR/accord-simulator-cache-<uid>/`` is used.
Per-node certificates are then signed from these keys at seed time, which is fast.

DH parameters are the RFC 7919 ``ffdhe2048`` group (``openssl genpkey -genparam -algorithm DH
-pkeyopt group:ffdhe2048``): a real, standard 2048-bit group that costs nothing to produce,
where generating a new safe prime (``openssl dhparam 2048``, the guide's own command) took from
5 to 83 s on this kind of machine. Without the ``openssl`` CLI they come from ``cryptography``
(slow). Keys come from ``cryptography``.
These are test keys of a simulator; a corrupt or unreadable cache entry is regenerated.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh, rsa

from simulator.pexip import certdata

POOL_SIZE = 4
RSA_BITS = 4096
DH_BITS = 2048
_lock = threading.Lock()
_loaded: dict[str, object] = {}


def cache_dir() -> Path:
    """Where the cache lives (not created here)."""
    explicit = os.environ.get("ACCORD_SIM_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accord" / "simulator"


def _write_private(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rsa_key() -> bytes:
    key = rsa.generate_private_key(65537, RSA_BITS)
    return certdata.key_pem(key).encode("ascii")


def _dh_params() -> bytes:
    openssl = shutil.which("openssl")
    if openssl:
        result = subprocess.run(
            [
                openssl,
                "genpkey",
                "-genparam",
                "-algorithm",
                "DH",
                "-pkeyopt",
                f"group:ffdhe{DH_BITS}",
            ],
            capture_output=True,
            timeout=600,
            check=False,
        )
        if result.returncode == 0 and b"BEGIN DH PARAMETERS" in result.stdout:
            return result.stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = dh.generate_parameters(generator=2, key_size=DH_BITS)
        return params.parameter_bytes(
            serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3
        )


def _valid_key(data: bytes) -> bool:
    try:
        key = certdata.parse_private_key(data.decode("ascii"), validate=False)
    except (certdata.CertError, UnicodeDecodeError):
        return False
    return isinstance(key, rsa.RSAPrivateKey) and key.key_size == RSA_BITS


def _valid_dh(data: bytes) -> bool:
    try:
        return certdata.dh_bits(data.decode("ascii")) == DH_BITS
    except (certdata.CertError, UnicodeDecodeError):
        return False


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _ensure(directory: Path) -> dict[str, bytes]:
    """Read the cache, generating (under the lock) whatever is missing or corrupt. The DH
    parameters (an ``openssl`` child process) are made while the RSA keys are."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    dh_name = f"dh{DH_BITS}.pem"
    keys = [f"rsa{RSA_BITS}-{i}.pem" for i in range(POOL_SIZE)]
    out: dict[str, bytes] = {}
    lock_fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "r+") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            made: list[bytes] = []
            dh_thread = None
            out[dh_name] = _read(directory / dh_name)
            if not _valid_dh(out[dh_name]):
                dh_thread = threading.Thread(target=lambda: made.append(_dh_params()))
                dh_thread.start()
            for name in keys:
                out[name] = _read(directory / name)
                if not _valid_key(out[name]):
                    out[name] = _rsa_key()
                    _write_private(directory / name, out[name])
            if dh_thread is not None:
                dh_thread.join()
                if not made:
                    raise OSError("could not generate DH parameters")
                out[dh_name] = made[0]
                _write_private(directory / dh_name, out[dh_name])
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
    return out


def _fallback_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"accord-simulator-cache-{os.getuid()}"


def _material() -> dict[str, object]:
    with _lock:
        if not _loaded:
            try:
                files = _ensure(cache_dir())
            except OSError:  # an unwritable home: a private directory under the temp dir
                files = _ensure(_fallback_dir())
            keys = [
                certdata.load_stored_key(files[f"rsa{RSA_BITS}-{i}.pem"].decode("ascii"))
                for i in range(POOL_SIZE)
            ]
            _loaded["keys"] = keys
            _loaded["dh"] = files[f"dh{DH_BITS}.pem"].decode("ascii")
        return _loaded


def shipped_key(index: int) -> certdata.PrivateKey:
    """RSA-4096 key number ``index`` of the pool (wrapping round)."""
    keys = _material()["keys"]
    assert isinstance(keys, list)
    return keys[index % len(keys)]


def shipped_dh_parameters() -> str:
    """The cached DH-2048 parameters (PEM)."""
    text = _material()["dh"]
    assert isinstance(text, str)
    return text
