"""Errors raised by the model store.

Exception tree::

    StoreError                  anything the store refuses to do
    ├── VersionNotFound         no such model, or no such version of it
    ├── AliasNotFound           the alias (champion / challenger) is not set
    ├── IntegrityError          files on disk do not match the manifest
    │   │                       (``filename``, ``expected``, ``actual`` sha256)
    │   └── SignatureError      the manifest is unsigned or its signature does not
    │                           verify with the store's key (``reason``)
    └── InvalidReference        malformed reference, model name or file name;
                                also a ``ValueError``

None of these know anything about HTTP; ``service/errors.py`` maps them to status
codes.
"""

from __future__ import annotations

__all__ = [
    "AliasNotFound",
    "IntegrityError",
    "InvalidReference",
    "SignatureError",
    "StoreError",
    "VersionNotFound",
]


class StoreError(Exception):
    """Base class of every error the model store raises on purpose."""


class VersionNotFound(StoreError):
    """The model, or the requested version of it, does not exist."""


class AliasNotFound(StoreError):
    """The alias is valid but currently points at no version."""


class IntegrityError(StoreError):
    """A stored version does not match its manifest and is refused.

    Parameters
    ----------
    message
        Human-readable explanation naming the model version and file.
    filename
        File that failed the check (``"manifest.json"`` for a broken manifest),
        or ``None`` when no single file is to blame.
    expected
        Expected sha256 hex digest, or ``None`` for an unlisted extra file.
    actual
        Actual sha256 hex digest, or ``None`` when the file is missing.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.filename = filename
        self.expected = expected
        self.actual = actual


class SignatureError(IntegrityError):
    """A version's manifest signature is missing or does not verify; the version is refused.

    ``reason`` is ``"unsigned"``, ``"invalid"``, ``"other_key"`` or ``"mismatch"``
    (see :func:`models_store.signing.verify`).
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, filename="signature.json")
        self.reason = reason


class InvalidReference(StoreError, ValueError):
    """A model reference, model name or file name is malformed.

    It is also a ``ValueError`` so callers validating arguments can catch either.
    """
