"""Read one tabular training file as people have it: CSV, XLSX or Parquet.

CSV files come from spreadsheet programs and databases in many shapes: UTF-8
with or without a byte-order mark, GBK/GB18030 (what spreadsheet programs on
Chinese systems save by default), and comma, semicolon or tab separators. The
format, encoding and separator are detected and reported (:class:`TableFormat`);
each can be given instead.

Every problem is a :class:`TableError` whose message names the file and, where
there is one, the row and column: rows are numbered as a spreadsheet shows them
(row 1 is the header, the first data row is row 2).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

FileKind = Literal["csv", "xlsx", "parquet"]
FILE_KINDS: tuple[FileKind, ...] = ("csv", "xlsx", "parquet")
# Tried in this order: utf-8-sig reads UTF-8 with and without a BOM; GB18030 is a
# superset of GBK and GB2312, so one decoder covers every Chinese spreadsheet export.
ENCODINGS = ("utf-8-sig", "gb18030")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_SNIFF_BYTES = 64 * 1024


class TableError(ValueError):
    """A training or scoring file cannot be read; the message names the file, row and column."""

    def __init__(self, message: str, *, path: Path | None = None, row: int | None = None, column: str | None = None):
        where = [str(path)] if path is not None else []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(": ".join([", ".join(where), message]) if where else message)
        self.path, self.row, self.column = path, row, column


@dataclass(frozen=True)
class TableFormat:
    """How a file was read (reported to the user, stored in the model manifest)."""

    kind: FileKind
    encoding: str | None = None
    separator: str | None = None

    def describe(self) -> str:
        """One line, e.g. ``csv, encoding gb18030, separator semicolon``."""
        parts: list[str] = [self.kind]
        if self.encoding:
            parts.append(f"encoding {self.encoding}")
        if self.separator:
            parts.append(f"separator {SEPARATORS.get(self.separator, repr(self.separator))}")
        return ", ".join(parts)


def detect_kind(path: Path) -> FileKind:
    """``xlsx`` or ``parquet`` by magic bytes (a zip or ``PAR1``), else ``csv``."""
    with path.open("rb") as f:
        head = f.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"PK":
        return "xlsx"
    return "csv"


def detect_encoding(raw: bytes) -> str:
    """The first of :data:`ENCODINGS` that decodes ``raw`` (a sample may end mid-character)."""
    for enc in ENCODINGS:
        try:
            raw.decode(enc)
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 4:  # cut at the end of the sample, not a bad byte
                return enc
            continue
        return enc
    raise TableError(f"cannot decode as {' or '.join(ENCODINGS)}: give --encoding")


def detect_separator(text: str) -> str:
    """Comma, semicolon or tab: the one the csv sniffer picks, else the most frequent in the header."""
    lines = text.splitlines()
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        return max(SEPARATORS, key=header.count)


def read_table(
    path: Path,
    *,
    kind: FileKind | None = None,
    encoding: str | None = None,
    separator: str | None = None,
) -> tuple[pd.DataFrame, TableFormat]:
    """Read ``path`` into a frame; return it with the format used.

    Parameters
    ----------
    path
        A CSV, XLSX (first sheet) or Parquet file.
    kind, encoding, separator
        Overrides of the detected file kind, CSV text encoding and CSV separator.

    Raises
    ------
    TableError
        Missing file, undecodable text, a malformed row or an unreadable workbook.
    """
    if not path.exists():
        raise TableError("no such file", path=path)
    if path.is_dir():
        raise TableError(
            "is a directory, not a file (a contract data directory goes to --data without --task)", path=path
        )
    kind = kind or detect_kind(path)
    try:
        if kind == "csv":
            return _read_csv(path, encoding=encoding, separator=separator)
        return _read_binary(path, kind), TableFormat(kind)
    except TableError:
        raise
    except (OSError, ValueError, ImportError) as exc:
        raise TableError(f"cannot read as {kind}: {_first_line(exc)}", path=path) from exc


def _read_binary(path: Path, kind: FileKind) -> pd.DataFrame:
    import pandas as pd

    if kind == "xlsx":
        return pd.read_excel(path, engine="openpyxl")
    return pd.read_parquet(path)


def _read_csv(path: Path, *, encoding: str | None, separator: str | None) -> tuple[pd.DataFrame, TableFormat]:
    import pandas as pd

    with path.open("rb") as f:
        sample = f.read(_SNIFF_BYTES)
    try:
        enc = encoding or detect_encoding(sample)
        sep = separator or detect_separator(sample.decode(enc, errors="ignore"))
    except TableError as exc:
        raise TableError(str(exc), path=path) from exc
    try:
        try:
            frame = pd.read_csv(path, encoding=enc, sep=sep, skipinitialspace=True)
        except UnicodeDecodeError:
            if encoding is not None or enc == ENCODINGS[-1]:
                raise
            # the sample was plain ASCII and Chinese text starts further down: GB18030 it is
            enc = ENCODINGS[-1]
            frame = pd.read_csv(path, encoding=enc, sep=sep, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise TableError(f"bad {enc} text at byte {exc.start}: give --encoding", path=path) from exc
    except pd.errors.ParserError as exc:
        raise TableError(_parser_message(exc, sep), path=path) from exc
    except pd.errors.EmptyDataError as exc:
        raise TableError("the file is empty", path=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if enc == "utf-8-sig" and not sample.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8"  # what the file is: the -sig decoder only also strips a byte-order mark
    return frame, TableFormat("csv", enc, sep)


def _parser_message(exc: Exception, sep: str) -> str:
    """pandas says 'Error tokenizing data. C error: Expected 7 fields in line 5, saw 8'; keep the facts."""
    text = _first_line(exc)
    marker = "Expected "
    if marker in text:
        fact = text[text.index(marker) :]
        return f"{fact} (separator {SEPARATORS.get(sep, repr(sep))}; a value with the separator needs quotes)"
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
