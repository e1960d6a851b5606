"""Reading the raw records of a user's file, with errors that name file, line and field.

The format readers in :mod:`franc.datasets.formats` are built from these pieces:
:func:`sample` (what detection looks at), :func:`read_json` / :func:`read_records`
(the records), :func:`typed_field` and friends (checked access to one field), and
the language and entry-point guesses for prompt files that do not state them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from franc.errors import InputError
from franc.jsonl import MAX_LINE_BYTES, open_binary, read_jsonl
from franc.models import Language, check_language

Shape = Literal["jsonl", "json", "directory"]
Record = Mapping[str, Any]


@dataclass(frozen=True)
class Sample:
    """What format detection looks at: the file's shape and its first record.

    ``first`` is the first JSON object of a JSONL file, the whole value of a JSON
    file, and ``None`` for a directory.
    """

    path: Path
    shape: Shape
    first: Any

    def fields(self) -> frozenset[str]:
        """The field names of the first record (empty unless it is a JSON object)."""
        return frozenset(self.first) if isinstance(self.first, Mapping) else frozenset()


def _read_bytes(path: Path) -> bytes:
    try:
        with open_binary(path) as handle:
            return handle.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc


def _first_lines(path: Path, count: int) -> list[bytes]:
    """Up to ``count`` non-blank lines from the start of ``path`` (each at most MAX_LINE_BYTES)."""
    lines: list[bytes] = []
    try:
        with open_binary(path) as handle:
            while len(lines) < count:
                line = handle.readline(MAX_LINE_BYTES)
                if not line:
                    break
                if line.strip():
                    lines.append(line)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    return lines


def read_json(path: Path) -> Any:
    """The value of a whole JSON file (plain or gzip), with errors naming file and line."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", source=str(path),
                         line=line) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg} (column {exc.colno})", source=str(path),
                         line=exc.lineno) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", source=str(path)) from exc


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return False


def _is_jsonl(path: Path) -> bool:
    """JSONL by name, else by content: the first non-blank line is a whole JSON object.

    A ``.json`` file is JSONL only when it holds several such lines (some tools
    name their JSON lines ``.json``); a one-line ``.json`` is read as JSON.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return True
    lines = _first_lines(path, 2)
    if not lines or not _is_object(lines[0]):
        return False
    return len(lines) == 2 or not name.endswith(".json")


def sample(path: str | Path) -> Sample:
    """Look at ``path`` just enough to detect its format."""
    path = Path(path)
    if path.is_dir():
        return Sample(path, "directory", None)
    if not path.is_file():
        raise InputError("no such file or directory", source=str(path))
    if _is_jsonl(path):
        first = next((record for _, record in read_records(path)), None)
        if first is None:
            raise InputError("empty file: no JSON lines", source=str(path))
        return Sample(path, "jsonl", first)
    return Sample(path, "json", read_json(path))


def read_records(path: Path) -> Iterator[tuple[int, Record]]:
    """``(line, object)`` for each record of a JSONL file; a broken gzip is an input error."""
    try:
        yield from read_jsonl(path)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc


# --------------------------------------------------------------------------- field access


def where(path: Path, line: int | None) -> dict[str, Any]:
    """Keyword arguments of :class:`InputError` for ``path`` and ``line``."""
    return {"source": str(path), "line": line}


_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


def _type_name(types: type | tuple[type, ...]) -> str:
    options = types if isinstance(types, tuple) else (types,)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in options)


def typed_field(record: Record, name: str, types: type | tuple[type, ...], path: Path,
                line: int | None, *, required: bool = True) -> Any:
    """``record[name]`` checked against ``types``; a clear error when missing or mistyped.

    An absent optional field and a JSON ``null`` both give ``None``.
    """
    value = record.get(name)
    if value is None:
        if required:
            raise InputError(f"missing field {name!r}", **where(path, line))
        return None
    if isinstance(value, bool) or not isinstance(value, types):
        raise InputError(f"field {name!r} must be {_type_name(types)}, got "
                         f"{type(value).__name__}", **where(path, line))
    return value


def string_list(record: Record, name: str, path: Path, line: int | None, *,
                required: bool = True) -> list[str]:
    """A list of strings under ``name`` (empty when optional and absent)."""
    values = typed_field(record, name, list, path, line, required=required) or []
    for position, value in enumerate(values):
        if not isinstance(value, str):
            raise InputError(f"field {name!r}[{position}] must be a string, got "
                             f"{type(value).__name__}", **where(path, line))
    return values


def task_key(record: Record, path: Path, line: int | None,
             names: Sequence[str] = ("task_id",)) -> str:
    """The task id under the first of ``names`` present; integer ids become strings."""
    for name in names:
        if record.get(name) is not None:
            return str(typed_field(record, name, (str, int), path, line))
    raise InputError(f"missing field {' or '.join(map(repr, names))}", **where(path, line))


def cwe_numbers(record: Record, path: Path, line: int | None) -> tuple[int, ...]:
    """The ``cwe`` field: a list of CWE numbers (``89`` or ``"CWE-89"``)."""
    values = typed_field(record, "cwe", list, path, line, required=False) or []
    numbers = []
    for value in values:
        match = None if isinstance(value, bool) else re.fullmatch(r"(?:CWE-)?0*(\d+)",
                                                                  str(value).strip())
        if match is None or not isinstance(value, (int, str)):
            raise InputError(f"field 'cwe': not a CWE number: {value!r}", **where(path, line))
        numbers.append(int(match.group(1)))
    return tuple(numbers)


def cwe_in_name(name: str) -> tuple[int, ...]:
    """The CWE a SecurityEval-style id starts with (``CWE-020_author_1.py`` -> 20)."""
    match = re.match(r"CWE-0*(\d+)", name)
    return (int(match.group(1)),) if match else ()


# --------------------------------------------------------------------------- languages


_JAVA_HINTS = re.compile(r"^\s*(import\s+java\.|package\s+[\w.]+;|/\*\*|(public\s+)?"
                         r"(final\s+)?class\s+\w+[^\n]*\{|(public|private|protected)\s+"
                         r"[\w<>\[\],. ]+\s\w+\s*\()", re.MULTILINE)
_PYTHON_HINTS = re.compile(r"^\s*((async\s+)?def\s+\w+\s*\(|from\s+[\w.]+\s+import\s|"
                           r"import\s+[\w.]+\s*$)", re.MULTILINE)


def guess_language(path: Path, prompt: str, given: str | None) -> Language:
    """The language given, else the one the file name says, else the one the prompt looks like."""
    if given is not None:
        return check_language(given)
    name = path.name.lower()
    if "java" in name:
        return "java"
    if "python" in name or re.search(r"(^|[_\-.])py([_\-.]|$)", name):
        return "python"
    if _JAVA_HINTS.search(prompt):
        return "java"
    if _PYTHON_HINTS.search(prompt):
        return "python"
    raise InputError("cannot tell the language of the prompts; name it (--language)",
                     source=str(path))


def language_word(word: str, path: Path, line: int | None) -> Language:
    """A language named in a record ("python", "py", "Java", ...)."""
    normal = {"py": "python", "python3": "python"}.get(word.lower(), word.lower())
    try:
        return check_language(normal)
    except InputError as exc:
        raise InputError(str(exc), **where(path, line)) from exc


_PY_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(", re.MULTILINE)
_JAVA_METHOD = re.compile(r"^\s*(?:(?:public|protected|private|static|final|synchronized|"
                          r"abstract)\s+)*(?:<[^>]*>\s*)?[\w<>\[\],.? ]+?\s+(\w+)\s*\([^;{]*\)\s*"
                          r"(?:throws\s+[\w., ]+)?\s*\{?\s*$", re.MULTILINE)
_NOT_NAMES = frozenset({"if", "for", "while", "switch", "catch", "return", "new", "else"})


def guess_entry_point(language: Language, prompt: str) -> str | None:
    """The name of the last function (Python) or method (Java) the prompt declares."""
    pattern = _PY_DEF if language == "python" else _JAVA_METHOD
    names = [m.group(1) for m in pattern.finditer(prompt) if m.group(1) not in _NOT_NAMES]
    return names[-1] if names else None
