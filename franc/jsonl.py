"""Reading and writing JSON lines, with errors that name the file and line."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

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


@contextlib.contextmanager
def atomic_output(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A handle on a temporary file next to ``path`` that replaces ``path`` (atomic rename)
    only when the block finishes: an interrupted write leaves the old file untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8"
                       ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_output`."""
    with atomic_output(path) as handle:
        handle.write(text)


def check_output(output: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse, before any work, an output that names one of the ``inputs`` or cannot be
    written (its directory refuses a new file, or it is a directory)."""
    path = Path(output)
    for source in inputs:
        if (Path(source).exists() and path.exists() and os.path.samefile(source, path)) \
                or os.path.realpath(source) == os.path.realpath(path):
            raise InputError(f"the output would overwrite the input {source}; "
                             "choose another output file", source=str(output))
    if path.is_dir():
        raise InputError("is a directory, not a file to write", source=str(output))
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    try:
        probe, name = tempfile.mkstemp(dir=parent, prefix=".franc-write-check-")
    except OSError as exc:
        raise InputError(f"cannot be written ({exc.strerror or exc})",
                         source=str(output)) from None
    os.close(probe)
    os.unlink(name)
    if path.exists() and not path.is_file():
        raise InputError("is not a regular file", source=str(output))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSON lines (gzip when the name ends in .gz), atomically; return the
    count."""
    path = Path(path)
    count = 0
    with atomic_output(path, binary=True) as raw:
        compressed = gzip.GzipFile(fileobj=raw, mode="wb") if path.suffix == ".gz" else None
        sink: IO[bytes] = raw if compressed is None else compressed  # type: ignore[assignment]
        for row in rows:
            sink.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
            count += 1
        if compressed is not None:
            compressed.close()  # the gzip trailer; ``raw`` stays open for the rename
    return count
