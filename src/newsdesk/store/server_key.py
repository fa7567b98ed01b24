"""The server key: a random secret kept in a file *outside* the database.

Everything that would let a copy of the database log in is keyed with it: the Fever API key is
stored only as an HMAC of it under this key, and Google Reader tokens are HMACs under it. A
backup of the database (``newsdesk backup``, ``export-all``) therefore holds no usable
credential; keep the key file out of backups you hand to others, and restore it (or turn Fever
back on and log in again) after moving to a new machine.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from hashlib import sha256
from pathlib import Path

from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings

KEY_BYTES = 32
_cache: dict[str, bytes] = {}
_lock = threading.Lock()


def key_path(settings: Settings) -> Path | None:
    """Where the key lives; None for an in-memory SQLite database (a key per process)."""
    if settings.secret_key_file:
        return Path(settings.secret_key_file).expanduser()
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///").split("?", 1)[0]
        if database and database != ":memory:":
            return Path(database).expanduser().with_name(Path(database).name + ".key")
        return None
    if url.startswith("sqlite:"):
        return None
    import platformdirs

    return Path(platformdirs.user_data_dir("newsdesk", appauthor=False)) / "newsdesk.key"


def server_key(settings: Settings) -> bytes:
    """The key, read from its file, or made and written there (0600) on first use."""
    path = key_path(settings)
    name = str(path) if path is not None else ":memory:"
    with _lock:
        found = _cache.get(name)
        if found is None:
            found = secrets.token_bytes(KEY_BYTES) if path is None else _read_or_make(path)
            _cache[name] = found
    return found


def _read_or_make(path: Path) -> bytes:
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        raw = b""
    except OSError as exc:
        raise NewsdeskError(f"cannot read the server key {path}: {exc.strerror}") from None
    if raw:
        try:
            key = bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise NewsdeskError(f"the server key {path} is not hexadecimal") from None
        if len(key) < 16:
            raise NewsdeskError(f"the server key {path} is too short (32 bytes expected)")
        return key
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a private temporary file, then linked into place: link() fails when the
    # key exists, so two processes starting together end up with the same (first) key, and no
    # reader ever sees a half-written file.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key.hex() + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read_or_make(path)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def keyed(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose`` (so one key serves several uses), hex."""
    message = f"{purpose}\x00{value}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, sha256).hexdigest()
