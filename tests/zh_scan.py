"""Find English words in Chinese texts: every ASCII word that is not a code, a number or a unit.

A *zh text* is a string with at least one Han character.  Inside it, ``{placeholders}`` are
stripped (they are filled with labels or numbers), then every run of ASCII letters is a word; a
word passes when it has no lower-case letter (a code: LTV, PD, IPC, CNIPA, 2026Q3, P50) or is a
unit.  Everything else (``substandard``, ``fund``, ``bank``, ``TreeSHAP``) is an offender.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
UNITS = frozenset({"km", "kg", "ms", "bp", "pp", "x"})


def is_zh(text: str) -> bool:
    """Whether ``text`` is a Chinese text (has a Han character)."""
    return bool(HAN.search(text))


def english_words(text: str) -> list[str]:
    """The ASCII words of ``text`` that are neither codes (no lower case) nor units."""
    return [
        w
        for w in WORD.findall(PLACEHOLDER.sub(" ", text))
        if w.lower() != w.upper() and not w.isupper() and w not in UNITS
    ]


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, f"{path}[{i}]")


def offenders(value: Any) -> list[tuple[str, str, list[str]]]:
    """(path, text, English words) of every zh text in ``value`` that has English words."""
    return [(p, t, w) for p, t in strings(value) if is_zh(t) and (w := english_words(t))]
