"""Where the model signing key comes from: ``IPRISK_MODEL_SIGNING_KEY`` or a key file outside the store.

The key is the text of the variable or of the file (surrounding whitespace
stripped), so the same key can be given either way. The first time something must
sign (bootstrap, ``iprisk train``, ``iprisk models sign``) and no key is configured,
a random one is written to ``home/keys/model-signing.key`` with mode 0600. The server
never creates a key: with none it serves nothing unsigned and says why in ``/readyz``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from models_store import ModelStore
from models_store.signing import MIN_KEY_BYTES
from service.secret_files import create_secret_file
from service.settings import Settings

NO_KEY = (
    "no model signing key is configured (IPRISK_MODEL_SIGNING_KEY, or a key file at {path}): "
    "unsigned models are not served; sign versions with `iprisk models sign NAME:VERSION`"
)


def signing_key_path(settings: Settings) -> Path:
    """The key file in force (it may not exist)."""
    return (settings.model_signing_key_file or settings.home / "keys" / "model-signing.key").expanduser()


def load_signing_key(settings: Settings) -> bytes | None:
    """The configured key, or ``None`` when neither the variable nor the key file exists.

    Raises
    ------
    ValueError
        If the key file cannot be read, or the key is shorter than 16 bytes.
    """
    secret = settings.model_signing_key
    if secret is not None:
        text, origin = secret.get_secret_value(), "IPRISK_MODEL_SIGNING_KEY"
    else:
        path = signing_key_path(settings)
        try:
            text, origin = path.read_text(), str(path)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the model signing key file {path}: {exc}") from exc
    key = text.strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the model signing key in {origin} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def ensure_signing_key(settings: Settings, *, echo: Callable[[str], None] = print) -> bytes:
    """The configured key; if there is none, create the key file (0600) and return its key."""
    key = load_signing_key(settings)
    if key is not None:
        return key
    path = signing_key_path(settings)
    if create_secret_file(path, (secrets.token_bytes(32).hex() + "\n").encode()):  # else another process did
        echo(
            f"created the model signing key {path} (mode 0600): keep it out of the model store and back it up; "
            "the service serves only versions signed with it"
        )
    key = load_signing_key(settings)
    if key is None:  # removed between writing and reading
        raise ValueError(f"the model signing key file {path} disappeared just after it was created")
    return key


def signing_store(settings: Settings, *, create_key: bool = False, echo: Callable[[str], None] = print) -> ModelStore:
    """The model store opened with the configured key (created first if ``create_key``).

    Raises
    ------
    ValueError
        As :func:`load_signing_key`.
    """
    key = ensure_signing_key(settings, echo=echo) if create_key else load_signing_key(settings)
    return ModelStore(settings.store_path, signing_key=key)


def served_store(settings: Settings) -> tuple[ModelStore, str | None]:
    """The store a server reads, and why it has no key (``None`` when it has one); never raises for the key."""
    try:
        key = load_signing_key(settings)
    except ValueError as exc:
        return ModelStore(settings.store_path), f"{exc}: unsigned or unverifiable models are not served"
    if key is None:
        return ModelStore(settings.store_path), NO_KEY.format(path=signing_key_path(settings))
    return ModelStore(settings.store_path, signing_key=key), None
