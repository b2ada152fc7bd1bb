"""Load candidate models in a child process first, because a malformed model can abort ours.

LightGBM's text parser ends the process with a C++ ``terminate`` on some malformed
files (a truncated tree, a non-number where a number belongs): no ``except`` catches
that, so a signed-but-broken model would kill a replica at every start. The server
first loads the exact verified bytes in a throwaway child; only what loaded there is
loaded here. One child checks every candidate of a reload (about 1.5 s, mostly
importing LightGBM); after a child dies, the candidates it had not reached get a new one.

Protocol (stdin): one JSON line ``[{"ref", "manifest", "files": {name: size}}, ...]``
then the file bytes in that order. The child prints ``start REF``, then ``ok REF`` or
``fail REF REASON`` for each.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

Candidate = tuple[dict[str, Any], dict[str, bytes]]  # (manifest as JSON data, files by name)
_TAIL = 300


def _payload(items: Mapping[str, Candidate]) -> bytes:
    header = [{"ref": ref, "manifest": m, "files": {f: len(b) for f, b in files.items()}}
              for ref, (m, files) in items.items()]
    return json.dumps(header).encode() + b"\n" + b"".join(b for _, files in items.values() for b in files.values())


def _why_died(proc: subprocess.CompletedProcess[bytes]) -> str:
    code = proc.returncode
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
    detail = lines[-1][-_TAIL:] if lines else ""
    return f"loading it ended the process ({how}){': ' + detail if detail else ''}"


def _run_child(items: Mapping[str, Candidate], timeout: float) -> tuple[dict[str, str], str | None, str]:
    """Run one child; return (failures it reported, the ref it died on or None, why it died)."""
    cmd = [sys.executable, "-c", "from service.model_probe import main; main()"]
    try:
        proc = subprocess.run(cmd, input=_payload(items), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        started = [ln.split(" ", 2)[1] for ln in (exc.stdout or b"").decode().splitlines() if ln.startswith("start ")]
        return {}, started[-1] if started else next(iter(items)), f"loading it took longer than {timeout:.0f} s"
    failed: dict[str, str] = {}
    last_started: str | None = None
    for line in proc.stdout.decode(errors="replace").splitlines():
        kind, _, rest = line.partition(" ")
        ref, _, reason = rest.partition(" ")
        if kind == "start":
            last_started = ref
        elif kind in ("ok", "fail"):
            last_started = None
            if kind == "fail":
                failed[ref] = reason
    if proc.returncode == 0:
        return failed, None, ""
    return failed, last_started or next(iter(items)), _why_died(proc)


def probe(candidates: Mapping[str, Candidate], *, timeout: float = 120.0) -> dict[str, str]:
    """Load every candidate in a child process; return ``{ref: why}`` for those that failed."""
    failed: dict[str, str] = {}
    pending = list(candidates)
    while pending:
        reported, died_on, why = _run_child({r: candidates[r] for r in pending}, timeout)
        failed.update(reported)
        if died_on is None:
            break
        failed[died_on] = why
        pending = pending[pending.index(died_on) + 1:]
    return failed


def main() -> None:
    """Child side: load each candidate and report; a crash here is the point of the exercise."""
    from scoring.models import load_model

    stream = sys.stdin.buffer
    header = json.loads(stream.readline())
    for item in header:
        files = {name: stream.read(size) for name, size in item["files"].items()}
        print("start", item["ref"], flush=True)  # noqa: T201 - the protocol is stdout
        try:
            load_model(item["manifest"], files)
        except Exception as exc:  # noqa: BLE001 - any Python failure is a refusal, reported to the parent
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:_TAIL]
            print("fail", item["ref"], reason, flush=True)  # noqa: T201
            continue
        print("ok", item["ref"], flush=True)  # noqa: T201
