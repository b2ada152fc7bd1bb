"""Versioned, immutable model store on a local (or shared POSIX) file system.

Layout under ``root``::

    {name}/{version}/manifest.json     written last; lists the sha256 of every file
    {name}/{version}/signature.json    HMAC of manifest.json with a key held outside
                                       the store (models_store/signing.py)
    {name}/{version}/<artefacts>       e.g. model.txt (LightGBM text format)
    {name}/aliases.json                alias -> version, replaced atomically
    {name}/history.jsonl               one AliasEvent per alias move, append-only
    {name}/.lock                       flock serialising alias moves
    {name}/.tmp-<uuid>/                a registration in progress (never visible)

A version becomes visible only through one ``os.rename`` of a complete, fsynced
temporary directory, so readers never see half a version.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from models_store import _history, _versions, signing
from models_store._fs import locked, replace_file, write_new_file
from models_store.digests import sha256_bytes
from models_store.errors import AliasNotFound, IntegrityError, InvalidReference, StoreError, VersionNotFound
from models_store.manifest import (
    SIGNATURE_FILENAME,
    AliasAction,
    AliasEvent,
    FeatureRecord,
    Manifest,
    parse_ref,
    validate_alias,
    validate_filename,
    validate_model_name,
)

__all__ = ["ModelStore", "VersionData"]

_LOCK_FILENAME = ".lock"


class VersionData(NamedTuple):
    """A verified version as plain data: what a loader (``scoring.models.load_model``) or a child process takes."""

    manifest: dict[str, Any]  # the manifest as JSON data
    files: dict[str, bytes]  # every listed file's bytes, by name


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Move(NamedTuple):
    """Who moves an alias, why, whether the gates were overridden, and which kind of move."""

    actor: str
    reason: str
    forced: bool
    action: AliasAction


def _check_move(actor: str, reason: str, *, forced: bool) -> None:
    if not actor or not actor.strip():
        raise ValueError("actor must name who moves the alias")
    if forced and not reason.strip():
        raise ValueError("a forced alias move needs a non-empty reason")


class ModelStore:
    """Immutable model versions with movable ``champion`` / ``challenger`` aliases.

    Parameters
    ----------
    root
        Directory holding the store; created if missing.
    clock
        Returns the current time (timezone-aware) for manifests and alias events;
        tests inject a controllable clock.
    signing_key
        Key (bytes, at least 16) that signs every version registered and without
        whose valid signature :meth:`verify` refuses a version. ``None``: versions
        are registered unsigned and signatures are not checked.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        signing_key: bytes | None = None,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._key = None if signing_key is None else signing.check_key(signing_key)

    @property
    def has_signing_key(self) -> bool:
        """Whether this store signs new versions and checks signatures."""
        return self._key is not None

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    # -- registration ---------------------------------------------------------

    def register(
        self,
        name: str,
        files: Mapping[str, bytes],
        *,
        task: str,
        features: Iterable[FeatureRecord | Mapping[str, Any]],
        params: Mapping[str, Any],
        metrics: Mapping[str, Any],
        data_fingerprint: str,
        created_by: str,
        extra: Mapping[str, Any] | None = None,
        synthetic: bool = False,
    ) -> Manifest:
        """Store a new immutable version of model ``name`` and return its manifest.

        Parameters
        ----------
        name
            Model name, e.g. ``"pd"``.
        files
            Artefacts by plain file name, e.g. ``{"model.txt": booster_text}``.
        task, features, params, metrics, data_fingerprint, created_by, extra, synthetic
            Recorded in the manifest as given; see :class:`Manifest`.

        Returns
        -------
        Manifest
            With ``version`` = highest existing version + 1 and the sha256 of every file.

        Raises
        ------
        InvalidReference
            For an invalid model name or a file name that is a path.
        ValueError
            For no files, or manifest fields that fail validation.
        """
        model_dir = self._model_dir(name)
        blobs = {validate_filename(fname): bytes(data) for fname, data in files.items()}
        template = self._draft_manifest(
            name,
            files={fname: sha256_bytes(data) for fname, data in blobs.items()},
            task=task,
            features=features,
            params=params,
            metrics=metrics,
            data_fingerprint=data_fingerprint,
            created_by=created_by,
            extra=extra,
            synthetic=synthetic,
        )
        model_dir.mkdir(exist_ok=True)
        tmp = model_dir / f"{_versions.TMP_MARK}{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            for fname, data in blobs.items():
                write_new_file(tmp / fname, data)
            return _versions.publish(model_dir, tmp, template, self._signer(created_by))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _draft_manifest(
        self,
        name: str,
        *,
        features: Iterable[FeatureRecord | Mapping[str, Any]],
        params: Mapping[str, Any],
        metrics: Mapping[str, Any],
        extra: Mapping[str, Any] | None,
        **fields: Any,
    ) -> Manifest:
        """Validate every manifest field before anything touches the disk."""
        try:
            return Manifest.model_validate(
                {
                    "name": name,
                    "version": "1",  # placeholder: the number is allocated at publish time
                    "created_at": self._clock(),
                    "features": [
                        f if isinstance(f, FeatureRecord) else FeatureRecord.model_validate(f) for f in features
                    ],
                    "params": dict(params),
                    "metrics": dict(metrics),
                    "extra": dict(extra or {}),
                    "library_versions": _versions.library_versions(),
                    **fields,
                }
            )
        except ValidationError as exc:
            raise ValueError(f"invalid manifest for model {name!r}: {exc}") from exc

    def cleanup_temp(self, *, older_than: float = 3600.0) -> list[Path]:
        """Remove temporary leftovers of crashed writes.

        Parameters
        ----------
        older_than
            Minimum age in seconds (by modification time). Keep it well above the
            time a registration takes: a younger temp dir may belong to a live writer.

        Returns
        -------
        list of Path
            The paths removed.
        """
        removed: list[Path] = []
        for model_dir in self._model_dirs():
            removed.extend(_versions.remove_stale_temp(model_dir, older_than=older_than))
        return removed

    # -- reading --------------------------------------------------------------

    def names(self) -> list[str]:
        """Return the names of models with at least one version, sorted."""
        return [d.name for d in self._model_dirs() if _versions.version_numbers(d)]

    def versions(self, name: str) -> list[Manifest]:
        """Return the manifests of every version of ``name``, oldest first (empty if none)."""
        model_dir = self._model_dir(name)
        numbers = sorted(n for n in _versions.version_numbers(model_dir) if (model_dir / str(n)).is_dir())
        return [_versions.load_manifest(model_dir / str(n), name, str(n)) for n in numbers]

    def manifest(self, name: str, version: str) -> Manifest:
        """Return the manifest of ``name:version`` without hashing its files.

        Raises
        ------
        VersionNotFound
            If the version does not exist.
        IntegrityError
            If ``manifest.json`` is missing, unparsable or describes another version.
        """
        return _versions.load_manifest(self._version_dir(name, version), name, version)

    def verify(self, name: str, version: str) -> Manifest:
        """Check the signature and every file of ``name:version``; return the manifest.

        The signature is checked only when the store has a signing key.

        Raises
        ------
        VersionNotFound
            If the version does not exist.
        SignatureError
            If the store has a key and the version is unsigned or its signature does
            not verify with it (an ``IntegrityError``).
        IntegrityError
            If the manifest is unparsable, a listed file is missing or has another
            sha256, or an unlisted file is present. The message names the file.
        """
        vdir = self._version_dir(name, version)
        manifest, raw = _versions.load_manifest_bytes(vdir, name, version)
        if self._key is not None:
            signing.verify(manifest.ref, raw, _versions.read_signature(vdir), self._key)
        _versions.verify_files(vdir, manifest)
        return manifest

    def sign(self, name: str, version: str, *, actor: str) -> signing.Signature:
        """Sign ``name:version`` with the store's key after checking its files.

        Signs unsigned versions of an older store, or re-signs after a key rotation
        (the old signature is replaced atomically). Whoever signs vouches for the
        version: the files are checked against the manifest, not the manifest itself.

        Raises
        ------
        StoreError
            If the store has no signing key.
        VersionNotFound, IntegrityError
            If the version does not exist or its files do not match its manifest.
        """
        if self._key is None:
            raise StoreError("this store has no signing key: nothing can be signed")
        vdir = self._version_dir(name, version)
        manifest, raw = _versions.load_manifest_bytes(vdir, name, version)
        _versions.verify_files(vdir, manifest)
        data = signing.sign(raw, self._key, signed_by=actor, signed_at=self._clock())
        replace_file(vdir / SIGNATURE_FILENAME, data)
        return signing.Signature.model_validate_json(data)

    def path(self, name: str, version: str) -> Path:
        """Return the directory of ``name:version`` after verifying it.

        Raises
        ------
        VersionNotFound, IntegrityError
            As :meth:`verify`.
        """
        self.verify(name, version)
        return self.root / name / version

    def read_file(self, name: str, version: str, filename: str) -> bytes:
        """Return the bytes of one file of a verified version.

        The bytes returned are hashed again, so a change after verification is caught.

        Raises
        ------
        InvalidReference
            If ``filename`` is not listed in the manifest.
        VersionNotFound, IntegrityError
            As :meth:`verify`.
        """
        validate_filename(filename)
        manifest = self.verify(name, version)
        if filename not in manifest.files:
            listed = ", ".join(sorted(manifest.files))
            raise InvalidReference(f"{manifest.ref} has no file {filename!r}; files: {listed}")
        return self._read_verified_file(manifest, filename)

    def read_version(self, name: str, version: str) -> VersionData:
        """Return the manifest and every file of ``name:version``, verified once.

        The signature and files are checked once (:meth:`verify`); each file is then
        read and its bytes hashed again, so a change after verification is caught.

        Raises
        ------
        VersionNotFound, IntegrityError
            As :meth:`verify` and :meth:`read_file`.
        """
        manifest = self.verify(name, version)
        files = {filename: self._read_verified_file(manifest, filename) for filename in manifest.files}
        return VersionData(manifest.model_dump(mode="json"), files)

    def _read_verified_file(self, manifest: Manifest, filename: str) -> bytes:
        """The bytes of a file listed in a verified ``manifest``, checked against its sha256 again."""
        expected = manifest.files[filename]
        data = (self.root / manifest.name / manifest.version / filename).read_bytes()
        actual = sha256_bytes(data)
        if actual != expected:
            raise IntegrityError(
                f"{manifest.ref}: file {filename!r} changed while being read: "
                f"expected sha256 {expected}, actual {actual}",
                filename=filename,
                expected=expected,
                actual=actual,
            )
        return data

    def resolve(self, ref: str) -> tuple[str, str]:
        """Turn a reference into ``(name, version)``.

        ``"pd"`` means the champion, ``"pd@challenger"`` an alias, ``"pd:3"`` a version.

        Raises
        ------
        InvalidReference
            If ``ref`` does not follow the grammar or names an unknown alias.
        VersionNotFound
            If the model or the version does not exist.
        AliasNotFound
            If the alias is not set.
        """
        name, alias, version = parse_ref(ref)
        if version is not None:
            self._version_dir(name, version)
            return name, version
        if not _versions.version_numbers(self.root / name):
            raise VersionNotFound(f"no model named {name!r} in the store (reference {ref!r})")
        assert alias is not None  # parse_ref gives an alias whenever it gives no version
        target = _history.read_aliases(self.root / name).get(alias)
        if target is None:
            raise AliasNotFound(f"alias {name}@{alias} is not set (reference {ref!r})")
        return name, target

    def state_token(self) -> str:
        """Return a token that changes whenever any alias, or the signature of an aliased version, changes.

        It hashes the small ``aliases.json`` files and the ``signature.json`` of the
        versions they name, so it is equal for equal alias state: registering a
        version (which moves no alias) leaves it unchanged, signing a champion does
        not. Cheap enough to poll every second.
        """
        digest = hashlib.sha256()
        for model_dir in self._model_dirs():
            try:
                data = (model_dir / _history.ALIASES_FILENAME).read_bytes()
            except FileNotFoundError:
                continue
            try:
                aliased = sorted(set(_history.read_aliases(model_dir).values()))
            except IntegrityError:
                aliased = []  # a broken alias table still changes the token; readers report it
            for version in aliased:
                data += b"\0" + (_versions.read_signature(model_dir / version) or b"")
            digest.update(f"{model_dir.name}\0{len(data)}\0".encode() + data)
        return digest.hexdigest()

    # -- aliases --------------------------------------------------------------

    def alias(self, name: str, alias: str) -> str | None:
        """Return the version ``alias`` points to, or ``None`` if it is not set."""
        validate_alias(alias)
        return _history.read_aliases(self._model_dir(name)).get(alias)

    def aliases(self, name: str) -> dict[str, str]:
        """Return every set alias of ``name`` as ``{alias: version}``."""
        return _history.read_aliases(self._model_dir(name))

    def set_alias(
        self, name: str, alias: str, version: str, *, actor: str, reason: str, forced: bool = False
    ) -> AliasEvent:
        """Point ``alias`` of ``name`` at a verified ``version`` and record the move.

        Raises
        ------
        ValueError
            For an alias other than ``champion`` / ``challenger``, an empty actor, or
            ``forced=True`` without a reason.
        VersionNotFound, IntegrityError
            If the version does not exist or fails verification.
        StoreError
            If the alias already points at ``version``.
        """
        validate_alias(alias)
        return self._move(name, alias, version, _Move(actor, reason, forced, "set"))

    def promote(self, name: str, version: str, *, actor: str, reason: str, forced: bool = False) -> AliasEvent:
        """Make ``version`` the champion after verifying it; see :meth:`set_alias`.

        The gates deciding whether a promotion is allowed live outside the store;
        ``forced`` records that they were overridden (and then needs a reason).
        """
        return self._move(name, "champion", version, _Move(actor, reason, forced, "promote"))

    def rollback(self, name: str, *, actor: str, reason: str) -> AliasEvent:
        """Move the champion back to the version that was champion before the current one.

        Successive rollbacks walk further back (3 → 2 → 1), they do not bounce.

        Raises
        ------
        StoreError
            If there is no earlier champion, or history and aliases disagree.
        """
        _check_move(actor, reason, forced=False)
        model_dir = self._model_dir(name)
        with locked(self._lock_path(name)):
            stack = _history.champion_stack(_history.read_history(model_dir))
            current = _history.read_aliases(model_dir).get("champion")
            if current is None or not stack or stack[-1] != current:
                raise StoreError(f"cannot roll back {name!r}: champion {current!r} is not in its history")
            if len(stack) < 2:
                raise StoreError(f"cannot roll back {name!r}: no champion before version {current}")
            self.verify(name, stack[-2])
            return self._record(name, "champion", stack[-2], _Move(actor, reason, False, "rollback"))

    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Return the alias moves of ``name`` (optionally of one alias), oldest first."""
        if alias is not None:
            validate_alias(alias)
        events = _history.read_history(self._model_dir(name))
        return [e for e in events if alias is None or e.alias == alias]

    def previous_champions(self, name: str) -> list[str]:
        """Versions that were champion before the current one, most recent first.

        Follows the same stack as :meth:`rollback`: a version rolled back from is
        not in it. A server falls back along this list when the champion is refused.
        """
        seen = {self.alias(name, "champion")}
        earlier = []
        for version in reversed(_history.champion_stack(self.history(name, "champion"))):
            if version not in seen:
                seen.add(version)
                earlier.append(version)
        return earlier

    def champion_on(self, name: str, when: datetime) -> str | None:
        """Return the version that was champion at instant ``when`` (timezone-aware)."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("when must be timezone-aware")
        return _history.champion_at(self.history(name, "champion"), when)

    # -- internals ------------------------------------------------------------

    def _move(self, name: str, alias: str, version: str, move: _Move) -> AliasEvent:
        _check_move(move.actor, move.reason, forced=move.forced)
        self.verify(name, version)  # outside the lock: hashing may be slow, versions never change
        with locked(self._lock_path(name)):
            return self._record(name, alias, version, move)

    def _record(self, name: str, alias: str, version: str, move: _Move) -> AliasEvent:
        """Append the event, then replace the alias table. The caller holds the lock."""
        model_dir = self._model_dir(name)
        current = _history.read_aliases(model_dir)
        if current.get(alias) == version:
            raise StoreError(f"{name}@{alias} already points to version {version}")
        event = AliasEvent.model_validate(
            {
                "name": name,
                "alias": alias,
                "from_version": current.get(alias),
                "to_version": version,
                "actor": move.actor,
                "reason": move.reason,
                "forced": move.forced,
                "at": self._clock(),
                "action": move.action,
            }
        )
        # History first: a crash in between leaves a recorded move that did not take
        # effect, never a production change nobody recorded.
        _history.append_event(model_dir, event)
        _history.write_aliases(model_dir, {**current, alias: version})
        return event

    def _signer(self, actor: str) -> Callable[[bytes], bytes] | None:
        key = self._key
        if key is None:
            return None
        return lambda manifest_bytes: signing.sign(manifest_bytes, key, signed_by=actor, signed_at=self._clock())

    def _model_dir(self, name: str) -> Path:
        return self.root / validate_model_name(name)

    def _lock_path(self, name: str) -> Path:
        return self._model_dir(name) / _LOCK_FILENAME

    def _version_dir(self, name: str, version: str) -> Path:
        vdir = self._model_dir(name) / _versions.check_version(version)
        if not vdir.is_dir():
            raise VersionNotFound(f"model {name!r} has no version {version!r}")
        return vdir

    def _model_dirs(self) -> list[Path]:
        return sorted(d for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
