"""Load candidate models in a child process first, because a malformed model can abort ours.

LightGBM's text parser ends the process with a C++ ``terminate`` on some malformed
files (a truncated tree, a non-number where a number belongs): no ``except`` catches
that, so a signed-but-broken model would kill a replica at every start. The server
first parses the exact verified bytes in a throwaway child, with LightGBM's C library
alone (no numpy or pandas to import: about 0.1 s instead of 2 s); only what parsed
there is loaded here. One child checks every candidate of a reload; after a child dies,
the candidates it had not reached get a new one.

Protocol (stdin): one JSON line ``[{"ref", "manifest", "files": {name: size}}, ...]``
then the file bytes in that order. The child prints ``start REF``, then ``ok REF`` or
``fail REF REASON`` for each.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Candidate = tuple[dict[str, Any], dict[str, bytes]]  # (manifest as JSON data, files by name)
_TAIL = 300


def _payload(items: Mapping[str, Candidate]) -> bytes:
    header = [
        {"ref": ref, "manifest": m, "files": {f: len(b) for f, b in files.items()}} for ref, (m, files) in items.items()
    ]
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
        pending = pending[pending.index(died_on) + 1 :]
    return failed


def _native_loader() -> Callable[[bytes], str | None]:
    """Parse a LightGBM text model with LightGBM's C library alone; return the library's error or None.

    Loading ``lib_lightgbm`` through ctypes skips importing the Python package (numpy, pandas,
    scikit-learn: about 2 s of the child's 2.2 s); the parse is the step that can abort the
    process, and everything Python-level is checked again when the server loads the model.
    """
    spec = importlib.util.find_spec("lightgbm")  # finds the package without importing it
    roots = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(r) / "lib" / "lib_lightgbm.so" for r in roots if (Path(r) / "lib" / "lib_lightgbm.so").exists()]
    if found:
        lib = ctypes.cdll.LoadLibrary(str(found[0]))
    else:  # an unusual install: let the package find its library
        from lightgbm.basic import _LIB as lib  # type: ignore[attr-defined]  # private, untyped in lightgbm
    lib.LGBM_GetLastError.restype = ctypes.c_char_p

    def load(data: bytes) -> str | None:
        handle, iterations = ctypes.c_void_p(), ctypes.c_int()
        if (
            lib.LGBM_BoosterLoadModelFromString(ctypes.c_char_p(data), ctypes.byref(iterations), ctypes.byref(handle))
            != 0
        ):
            return str(lib.LGBM_GetLastError().decode(errors="replace"))
        lib.LGBM_BoosterFree(handle)
        return None

    return load


def main() -> None:
    """Child side: parse each candidate's boosters and report; a crash here is the point of the exercise."""
    load = _native_loader()
    stream = sys.stdin.buffer
    header = json.loads(stream.readline())
    for item in header:
        files = {name: stream.read(size) for name, size in item["files"].items()}
        print("start", item["ref"], flush=True)  # noqa: T201 - the protocol is stdout
        # the booster files, as scoring.models.load_model picks them
        problems = [
            f"{name}: {why}"
            for name, data in files.items()
            if name.startswith("model") and name.endswith(".txt") and (why := _parse(load, data))
        ]
        if problems:
            print("fail", item["ref"], "; ".join(problems).replace("\n", " ")[:_TAIL], flush=True)  # noqa: T201
            continue
        print("ok", item["ref"], flush=True)  # noqa: T201


def _parse(load: Callable[[bytes], str | None], data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc}"
    if b"\0" in data:
        return "a NUL byte in the model text"
    return load(data)
