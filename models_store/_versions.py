"""Version directories: allocation, publication, manifest loading, verification (private).

A version is published by writing the manifest last into a complete, fsynced
temporary directory and renaming that directory to its number, so a half-written
version is never visible.
"""

from __future__ import annotations

import errno
import os
import platform
import re
import shutil
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from pydantic import ValidationError

from models_store._fs import fsync_dir, replace_file
from models_store.digests import sha256_file
from models_store.errors import IntegrityError, InvalidReference, StoreError
from models_store.manifest import MANIFEST_FILENAME, SIGNATURE_FILENAME, Manifest

TMP_MARK = ".tmp-"
_MAX_PUBLISH_ATTEMPTS = 100
_VERSION_RE = re.compile(r"[1-9][0-9]*")
_TRACKED_LIBRARIES = ("lightgbm", "numpy")


def check_version(version: str) -> str:
    """Return ``version`` if it is a positive integer string, else raise InvalidReference."""
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        raise InvalidReference(f"invalid version {version!r}: expected a positive integer such as '3'")
    return version


def version_numbers(model_dir: Path) -> list[int]:
    """Return the version numbers present in ``model_dir``, unsorted.

    Plain files with numeric names count too, so allocation never collides forever.
    """
    try:
        entries = os.listdir(model_dir)
    except FileNotFoundError:
        return []
    return [int(e) for e in entries if _VERSION_RE.fullmatch(e)]


def library_versions() -> dict[str, str]:
    """Return the versions of python and of the installed modelling libraries."""
    versions = {"python": platform.python_version()}
    for package in _TRACKED_LIBRARIES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_manifest(directory: Path, manifest: Manifest) -> bytes:
    """Write (or atomically rewrite) ``manifest.json`` in ``directory``; return its bytes."""
    data = manifest.model_dump_json(indent=2).encode()
    replace_file(directory / MANIFEST_FILENAME, data)
    return data


def publish(model_dir: Path, tmp: Path, template: Manifest, sign: Callable[[bytes], bytes] | None = None) -> Manifest:
    """Write the manifest (and its signature) last and rename ``tmp`` to the next free number.

    Two writers may pick the same number; ``os.rename`` onto a non-empty directory
    fails for the loser, which rewrites its manifest with the next number and retries.
    ``sign`` turns the manifest bytes into ``signature.json`` bytes, so the version is
    signed the moment it becomes visible.
    """
    for _ in range(_MAX_PUBLISH_ATTEMPTS):
        version = str(max(version_numbers(model_dir), default=0) + 1)
        manifest = template.model_copy(update={"version": version})
        manifest_bytes = write_manifest(tmp, manifest)
        if sign is not None:
            replace_file(tmp / SIGNATURE_FILENAME, sign(manifest_bytes))
        fsync_dir(tmp)
        try:
            os.rename(tmp, model_dir / version)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        fsync_dir(model_dir)
        return manifest
    raise StoreError(f"could not allocate a version of {model_dir.name!r}: too much contention")


def remove_stale_temp(model_dir: Path, *, older_than: float) -> list[Path]:
    """Remove hidden ``*.tmp-*`` leftovers in ``model_dir`` older than ``older_than`` s."""
    cutoff = time.time() - older_than
    removed = []
    for entry in model_dir.iterdir():
        if not (entry.name.startswith(".") and TMP_MARK in entry.name):
            continue
        if entry.lstat().st_mtime > cutoff:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def load_manifest(vdir: Path, name: str, version: str) -> Manifest:
    """Parse ``vdir/manifest.json`` and check it describes ``name:version``.

    Raises
    ------
    IntegrityError
        If the manifest is missing, unparsable, or describes another version.
    """
    return load_manifest_bytes(vdir, name, version)[0]


def read_signature(vdir: Path) -> bytes | None:
    """Return the bytes of ``vdir/signature.json``, or ``None`` if the version is unsigned."""
    try:
        return (vdir / SIGNATURE_FILENAME).read_bytes()
    except FileNotFoundError:
        return None


def load_manifest_bytes(vdir: Path, name: str, version: str) -> tuple[Manifest, bytes]:
    """As :func:`load_manifest`, also returning the exact bytes parsed (what a signature covers)."""
    ref = f"{name}:{version}"
    try:
        raw = (vdir / MANIFEST_FILENAME).read_bytes()
        manifest = Manifest.model_validate_json(raw)
    except FileNotFoundError as exc:
        raise IntegrityError(f"{ref}: {MANIFEST_FILENAME} is missing", filename=MANIFEST_FILENAME) from exc
    except ValidationError as exc:
        raise IntegrityError(
            f"{ref}: {MANIFEST_FILENAME} is not a valid manifest: {exc.errors()[0]['msg']}",
            filename=MANIFEST_FILENAME,
        ) from exc
    if manifest.ref != ref:
        raise IntegrityError(f"{ref}: {MANIFEST_FILENAME} describes {manifest.ref} instead", filename=MANIFEST_FILENAME)
    return manifest, raw


def verify_files(vdir: Path, manifest: Manifest) -> None:
    """Check the files in ``vdir`` are exactly those of ``manifest``, byte for byte.

    Raises
    ------
    IntegrityError
        Naming the first unlisted, missing or altered file.
    """
    ref = manifest.ref
    listed = {*manifest.files, MANIFEST_FILENAME, SIGNATURE_FILENAME}
    extras = sorted(p.name for p in vdir.iterdir() if p.name not in listed)
    if extras:
        raise IntegrityError(f"{ref}: file {extras[0]!r} is not listed in the manifest", filename=extras[0])
    for fname, expected in manifest.files.items():
        path = vdir / fname
        if path.is_symlink() or not path.is_file():
            raise IntegrityError(
                f"{ref}: file {fname!r} is missing (expected sha256 {expected}, actual: missing)",
                filename=fname,
                expected=expected,
            )
        actual = sha256_file(path)
        if actual != expected:
            raise IntegrityError(
                f"{ref}: file {fname!r} does not match the manifest: expected sha256 {expected}, actual {actual}",
                filename=fname,
                expected=expected,
                actual=actual,
            )
