"""Versioned, immutable model store with audited champion / challenger aliases.

Typical use::

    store = ModelStore("/srv/iprisk/models", signing_key=key)   # key held outside the store
    m = store.register("pd", {"model.txt": text}, task="binary", features=[...], ...)
    store.promote("pd", m.version, actor="alice", reason="beats champion on OOT AUC")
    name, version = store.resolve("pd")          # the champion
    model_text = store.read_file(name, version, "model.txt")   # verified bytes
"""

from __future__ import annotations

from models_store.errors import (
    AliasNotFound,
    IntegrityError,
    InvalidReference,
    SignatureError,
    StoreError,
    VersionNotFound,
)
from models_store.manifest import (
    ALIASES,
    MANIFEST_FILENAME,
    SIGNATURE_FILENAME,
    AliasEvent,
    FeatureKind,
    FeatureRecord,
    Manifest,
    parse_ref,
)
from models_store.signing import Signature
from models_store.store import ModelStore, VersionData

__all__ = [
    "ALIASES",
    "MANIFEST_FILENAME",
    "SIGNATURE_FILENAME",
    "AliasEvent",
    "AliasNotFound",
    "FeatureKind",
    "FeatureRecord",
    "IntegrityError",
    "InvalidReference",
    "Manifest",
    "ModelStore",
    "Signature",
    "SignatureError",
    "StoreError",
    "VersionData",
    "VersionNotFound",
    "parse_ref",
]
