"""Reading and writing JSON lines, with errors that name the file and line."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from franc.errors import InputError

#: A single JSON line larger than this is refused (a sign of a binary or broken file).
MAX_LINE_BYTES = 64 * 1024 * 1024


def open_binary(path: Path) -> io.BufferedIOBase:
    """``path`` opened for reading bytes, gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Plain or gzip-compressed. Raises :class:`InputError` naming the file and line
    for non-UTF-8 bytes, malformed JSON, a value that is not an object, or a line
    over :data:`MAX_LINE_BYTES`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    try:
        yield from _parse_lines(path)
    except (EOFError, OSError) as exc:  # e.g. a truncated or corrupt gzip file
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc


def _parse_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_binary(path) as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""),
                                     start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"line longer than {MAX_LINE_BYTES} bytes", source=str(path),
                                 line=number)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})",
                                 source=str(path), line=number) from exc
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON: {exc.msg} (column {exc.colno})",
                                 source=str(path), line=number) from exc
            if not isinstance(value, dict):
                raise InputError(f"expected a JSON object, got {type(value).__name__}",
                                 source=str(path), line=number)
            yield number, value


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSON lines (gzip when the name ends in .gz); return the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    with opener(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
