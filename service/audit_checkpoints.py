"""Signed checkpoints of the audit chain, kept outside the database (docs/audit.md).

A checkpoint says "entry ``seq`` of the chain had hash ``hash`` at ``at``",
signed with HMAC-SHA256 under a key held in a file.  Checkpoints are appended,
one JSON object a line, to ``checkpoints.jsonl`` in the checkpoint directory,
where someone who can only write to the database cannot rewrite them.
:class:`AuditKeeper` seals and checkpoints in the background and answers the
regulator's verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.clock import Clock
from service.db.audit import Anchor, ChainCheck, seal, verify_chain
from service.periodic import Periodic
from service.secret_files import create_secret_file
from service.settings import Settings

log = logging.getLogger("iprisk.audit")
CHECKPOINT_FILE = "checkpoints.jsonl"
KEY_BYTES = 32


class AuditBroken(RuntimeError):
    """The chain does not verify from the last checkpoint: no new checkpoint is written over it."""


def load_key(path: Path) -> bytes:
    """The checkpoint key in ``path``; 32 random bytes written there (mode 0600) if it does not exist."""
    if not path.exists():
        create_secret_file(path, secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise ValueError(f"the audit checkpoint key {path} is shorter than {KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: entry ``seq`` had ``hash`` at ``at`` (ISO-8601, UTC)."""

    seq: int
    hash: str
    at: str
    sig: str

    def anchor(self) -> Anchor:
        """The checkpoint as a position the chain must still pass through."""
        return Anchor(self.seq, self.hash, f"the checkpoint of {self.at}")


def _signature(key: bytes, seq: int, digest: str, at: str) -> str:
    body = json.dumps({"seq": seq, "hash": digest, "at": at}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CheckpointRead:
    """The checkpoint file as read: the validly signed checkpoints, and what was wrong with the rest."""

    valid: list[Checkpoint]
    problems: list[str]

    @property
    def latest(self) -> Checkpoint | None:
        """The valid checkpoint furthest along the chain."""
        return max(self.valid, key=lambda c: c.seq, default=None)


class CheckpointLog:
    """The append-only JSON-lines file of signed checkpoints."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.path = directory / CHECKPOINT_FILE
        self._key = key

    def sign(self, seq: int, digest: str, at: datetime) -> Checkpoint:
        """A checkpoint of ``seq``/``digest`` signed with this log's key."""
        stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
        return Checkpoint(seq, digest, stamp, _signature(self._key, seq, digest, stamp))

    def append(self, checkpoint: Checkpoint) -> None:
        """Add one line (a single O_APPEND write, synced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(checkpoint.__dict__, sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> CheckpointRead:
        """Every line, checked; a line that is not a checkpoint or is badly signed is a problem."""
        valid: list[Checkpoint] = []
        problems: list[str] = []
        if not self.path.exists():
            return CheckpointRead(valid, problems)
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                cp = Checkpoint(int(raw["seq"]), str(raw["hash"]), str(raw["at"]), str(raw["sig"]))
            except (ValueError, KeyError, TypeError):
                problems.append(f"checkpoint line {n} is not a checkpoint")
                continue
            if not hmac.compare_digest(cp.sig, _signature(self._key, cp.seq, cp.hash, cp.at)):
                problems.append(f"checkpoint line {n} (entry {cp.seq}) has a bad signature: forged or altered")
                continue
            valid.append(cp)
        return CheckpointRead(valid, problems)


@dataclass(frozen=True)
class AuditVerdict:
    """The chain checked against the checkpoints (and an anchor the caller brought)."""

    chain: ChainCheck
    checkpoints: CheckpointRead

    @property
    def ok(self) -> bool:
        """Chain intact, consistent with every checkpoint, and every checkpoint genuine."""
        return self.chain.ok and not self.checkpoints.problems

    @property
    def problem(self) -> str | None:
        """The first problem found, named."""
        return self.chain.problem or next(iter(self.checkpoints.problems), None)


class AuditKeeper:
    """Seals the audit log and writes checkpoints in the background; verifies on demand."""

    def __init__(
        self,
        engine: Engine,
        checkpoints: CheckpointLog,
        *,
        seal_interval: float,
        checkpoint_interval: float,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.checkpoints = checkpoints
        self._clock = clock or Clock()
        self._sealer = Periodic(self.seal, seal_interval, "audit-sealer")
        self._checkpointer = Periodic(self.checkpoint, checkpoint_interval, "audit-checkpoint")

    def seal(self) -> int:
        """Chain the committed entries not chained yet (0 if another replica is sealing)."""
        return seal(self.engine)

    def checkpoint(self, *, force: bool = False) -> Checkpoint | None:
        """Seal, check the chain from the last checkpoint, and sign its head; ``None`` if nothing new.

        Raises :class:`AuditBroken` rather than anchor a chain that does not verify.
        """
        self.seal()
        latest = self.checkpoints.read().latest
        with Session(self.engine) as session:
            check = verify_chain(session, start=latest.anchor() if latest is not None else None)
        if not check.ok:
            raise AuditBroken(check.problem)
        if check.entries == 0 or (latest is not None and check.entries == latest.seq and not force):
            return None
        cp = self.checkpoints.sign(check.entries, check.head_hash, self._clock.now())
        self.checkpoints.append(cp)
        return cp

    def verify(self, session: Session, *, anchor: Anchor | None = None) -> AuditVerdict:
        """Seal, then recompute the chain against every valid checkpoint and ``anchor``."""
        self.seal()
        read = self.checkpoints.read()
        anchors = [cp.anchor() for cp in read.valid] + ([anchor] if anchor is not None else [])
        return AuditVerdict(verify_chain(session, anchors=anchors), read)

    def start(self) -> None:
        """Start sealing and checkpointing."""
        self._sealer.start()
        self._checkpointer.start()

    def stop(self) -> None:
        """Stop both threads, then seal and checkpoint once more so a clean stop leaves the head anchored."""
        self._sealer.stop()
        self._checkpointer.stop()
        try:
            self.checkpoint()
        except Exception:
            log.exception("final audit checkpoint failed")


def audit_keeper(engine: Engine, settings: Settings, *, clock: Clock | None = None) -> AuditKeeper:
    """The keeper the settings describe; the key is created on first use (home/keys/audit.key)."""
    key_file = settings.audit_key_file or settings.home / "keys" / "audit.key"
    directory = settings.audit_checkpoint_dir or settings.home / "audit-checkpoints"
    return AuditKeeper(
        engine,
        CheckpointLog(directory, load_key(key_file)),
        seal_interval=settings.audit_seal_interval_seconds,
        checkpoint_interval=settings.audit_checkpoint_interval_seconds,
        clock=clock,
    )
