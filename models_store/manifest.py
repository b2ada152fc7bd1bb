"""Frozen pydantic types stored by the model store: manifests and alias events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models_store.errors import InvalidReference

__all__ = [
    "ALIASES",
    "MANIFEST_FILENAME",
    "SIGNATURE_FILENAME",
    "AliasAction",
    "AliasEvent",
    "AliasName",
    "FeatureKind",
    "FeatureRecord",
    "Manifest",
    "parse_ref",
    "validate_alias",
    "validate_filename",
    "validate_model_name",
]

MANIFEST_FILENAME = "manifest.json"
SIGNATURE_FILENAME = "signature.json"  # beside the manifest; see models_store/signing.py
RESERVED_FILENAMES = (MANIFEST_FILENAME, SIGNATURE_FILENAME)
ALIASES: tuple[str, ...] = ("champion", "challenger")

# Model names appear in references ("pd@champion", "pd:3") and as directory names,
# so they exclude "@", ":", path separators and a leading dot (hidden = temporary).
_MODEL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Artefact files are plain names inside the version directory: no sub-directories,
# no "..", nothing hidden.
_FILENAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_VERSION_RE = re.compile(r"[1-9][0-9]*")
_REF_RE = re.compile(r"(?P<name>[^@:]*)(?:@(?P<alias>[^@:]*)|:(?P<version>[^@:]*))?")

FeatureKind = Literal["numeric", "categorical", "bool"]
AliasName = Literal["champion", "challenger"]
AliasAction = Literal["promote", "rollback", "set"]


def validate_model_name(name: str) -> str:
    """Return ``name`` if it is a valid model name.

    Raises
    ------
    InvalidReference
        If the name is empty, too long, or contains anything but letters, digits,
        ``_`` and ``-`` (and does not start with a letter or digit).
    """
    if not isinstance(name, str) or not _MODEL_NAME_RE.fullmatch(name):
        raise InvalidReference(
            f"invalid model name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return name


def validate_filename(filename: str) -> str:
    """Return ``filename`` if it is a plain file name allowed inside a version.

    Raises
    ------
    InvalidReference
        For paths (``"a/b"``, ``"../x"``, ``"/etc/x"``), hidden names, ``".."`` or
        the reserved names ``manifest.json`` and ``signature.json``.
    """
    if (
        not isinstance(filename, str)
        or not _FILENAME_RE.fullmatch(filename)
        or ".." in filename
        or filename in RESERVED_FILENAMES
    ):
        raise InvalidReference(
            f"invalid file name {filename!r}: must be a plain relative name "
            f"(letters, digits, '_', '-', '.'), not a path, and not one of {', '.join(RESERVED_FILENAMES)}"
        )
    return filename


def validate_alias(alias: str) -> str:
    """Return ``alias`` if it is one of :data:`ALIASES`.

    Raises
    ------
    InvalidReference
        If the alias is not allowed (also a ``ValueError``).
    """
    if alias not in ALIASES:
        raise InvalidReference(f"unknown alias {alias!r}: allowed aliases are {', '.join(ALIASES)}")
    return alias


def parse_ref(ref: str) -> tuple[str, str | None, str | None]:
    """Split a model reference into ``(name, alias, version)``; one of the last two is None.

    ``"pd"`` gives ``("pd", "champion", None)``, ``"pd@challenger"`` gives
    ``("pd", "challenger", None)`` and ``"pd:3"`` gives ``("pd", None, "3")``.

    Raises
    ------
    InvalidReference
        If ``ref`` does not follow the grammar, or names an unknown alias.
    """
    match = _REF_RE.fullmatch(ref) if isinstance(ref, str) else None
    try:
        if match is None:
            raise InvalidReference("more than one '@' or ':'")
        name = validate_model_name(match["name"])
        version = match["version"]
        if version is not None and not _VERSION_RE.fullmatch(version):
            raise InvalidReference(f"version {version!r} is not a positive integer")
        if version is not None:
            return name, None, version
        alias = match["alias"]
        return name, validate_alias("champion" if alias is None else alias), None
    except InvalidReference as exc:
        raise InvalidReference(
            f"invalid model reference {ref!r}: {exc}; expected 'name', 'name@alias' or 'name:version'"
        ) from exc


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
VersionStr = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
FileName = Annotated[str, AfterValidator(validate_filename)]
ModelName = Annotated[str, AfterValidator(validate_model_name)]


class FeatureRecord(BaseModel):
    """A model input as the manifest records it (the trained form of ``scoring.features.FeatureSpec``).

    ``categories`` lists the levels of a categorical feature in the order the model
    encodes them; it must be ``None`` for numeric and bool features.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: NonEmptyStr
    kind: FeatureKind
    categories: list[str] | None = None
    monotone: Literal[-1, 0, 1] = 0

    @model_validator(mode="after")
    def _check_categories(self) -> FeatureRecord:
        if self.categories is not None:
            if self.kind != "categorical":
                raise ValueError(f"feature {self.name!r}: categories are only allowed for categorical")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError(f"feature {self.name!r}: categories must be unique")
        return self


class Manifest(BaseModel):
    """Description of one immutable model version, stored as ``manifest.json``.

    ``files`` maps every artefact file name in the version directory to its sha256
    hex digest; a version whose files differ from this map is refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ModelName
    version: VersionStr
    created_at: UtcDatetime
    created_by: NonEmptyStr
    task: NonEmptyStr
    features: list[FeatureRecord]
    params: dict[str, Any]
    metrics: dict[str, Any]
    data_fingerprint: NonEmptyStr
    library_versions: dict[str, str]
    files: dict[FileName, Sha256Hex] = Field(min_length=1)
    extra: dict[str, Any] = Field(default_factory=dict)
    synthetic: bool = False

    @model_validator(mode="after")
    def _check_unique_features(self) -> Manifest:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names must be unique")
        return self

    @property
    def ref(self) -> str:
        """Reference string of this version, e.g. ``"pd:3"``."""
        return f"{self.name}:{self.version}"


class AliasEvent(BaseModel):
    """One alias move, stored as a line of ``history.jsonl``.

    ``from_version`` is ``None`` when the alias was not set before the move.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ModelName
    alias: AliasName
    from_version: VersionStr | None
    to_version: VersionStr
    actor: NonEmptyStr
    reason: str
    forced: bool
    at: UtcDatetime
    action: AliasAction
