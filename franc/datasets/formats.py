"""Readers for the prompt and candidate files users already have.

Every format is a small frozen object with an ``id``, a one-line description, a
``matches(sample)`` test used for detection and a ``read`` function. They are
registered, in detection order, in the two immutable tables
:data:`TASK_FORMATS` (prompt files -> :class:`~franc.models.Task`) and
:data:`SUGGESTION_FORMATS` (model output -> ``task_id -> [raw text, ...]``).
A format that carries both (FRANC's research JSONL holds the prompt beside the
suggestions) appears in both tables.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from franc.errors import InputError
from franc.jsonl import read_jsonl
from franc.models import Language, Task, check_language

Shape = Literal["jsonl", "json", "directory"]
Record = Mapping[str, Any]
Suggestions = dict[str, list[str]]


# --------------------------------------------------------------------------- samples


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
        return frozenset(self.first) if isinstance(self.first, Mapping) else frozenset()


def _read_head(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        return handle.read(size)


def read_json(path: Path) -> Any:
    """The value of a whole JSON file (plain or gzip), with errors naming file and line."""
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
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


def _is_jsonl(path: Path) -> bool:
    """JSONL by name, else by content: the first non-blank line is a whole JSON object."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return True
    if name.endswith(".json"):
        return False
    head = _read_head(path).lstrip()
    if not head.startswith(b"{"):
        return False
    first_line = head.split(b"\n", 1)[0]
    try:
        return isinstance(json.loads(first_line), dict)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def sample(path: str | Path) -> Sample:
    """Look at ``path`` just enough to detect its format."""
    path = Path(path)
    if path.is_dir():
        return Sample(path, "directory", None)
    if not path.is_file():
        raise InputError("no such file or directory", source=str(path))
    if _is_jsonl(path):
        first = next((record for _, record in read_jsonl(path)), None)
        if first is None:
            raise InputError("empty file: no JSON lines", source=str(path))
        return Sample(path, "jsonl", first)
    return Sample(path, "json", read_json(path))


# --------------------------------------------------------------------------- field access


def _where(path: Path, line: int | None) -> dict[str, Any]:
    return {"source": str(path), "line": line}


def _type_name(types: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", list: "a list", dict: "an object"}
    if isinstance(types, tuple):
        return " or ".join(names.get(t, t.__name__) for t in types)
    return names.get(types, types.__name__)


def typed_field(record: Record, name: str, types: type | tuple[type, ...], path: Path,
          line: int | None, *, required: bool = True) -> Any:
    """``record[name]`` checked against ``types``; a clear error when missing or mistyped.

    An absent optional field and a JSON ``null`` both give ``None``.
    """
    value = record.get(name)
    if value is None:
        if required:
            raise InputError(f"missing field {name!r}", **_where(path, line))
        return None
    if isinstance(value, bool) or not isinstance(value, types):
        raise InputError(f"field {name!r} must be {_type_name(types)}, got "
                         f"{type(value).__name__}", **_where(path, line))
    return value


def string_list(record: Record, name: str, path: Path, line: int | None) -> list[str]:
    values = typed_field(record, name, list, path, line)
    for position, value in enumerate(values):
        if not isinstance(value, str):
            raise InputError(f"field {name!r}[{position}] must be a string, got "
                             f"{type(value).__name__}", **_where(path, line))
    return values


def task_key(record: Record, path: Path, line: int | None, names: Sequence[str] = ("task_id",)
             ) -> str:
    """The task id under the first of ``names`` present; integers are accepted as ids."""
    for name in names:
        if record.get(name) is not None:
            value = typed_field(record, name, (str, int), path, line)
            return str(value)
    raise InputError(f"missing field {' or '.join(map(repr, names))}", **_where(path, line))


# --------------------------------------------------------------------------- languages


_JAVA_HINTS = re.compile(r"^\s*(import\s+java\.|package\s+[\w.]+;|(public\s+)?(final\s+)?"
                         r"class\s+\w+[^\n]*\{|public\s+static\s)", re.MULTILINE)
_PYTHON_HINTS = re.compile(r"^\s*(def\s+\w+\s*\(|from\s+[\w.]+\s+import\s|import\s+\w+\s*$)",
                           re.MULTILINE)


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


_PY_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(", re.MULTILINE)
_JAVA_METHOD = re.compile(r"^\s*(?:(?:public|protected|private|static|final|synchronized|"
                          r"abstract)\s+)*[\w<>\[\],.? ]+?\s+(\w+)\s*\([^;{]*\)\s*"
                          r"(?:throws\s+[\w., ]+)?\s*\{?\s*$", re.MULTILINE)


def guess_entry_point(language: Language, prompt: str) -> str | None:
    """The name of the last function (Python) or method (Java) the prompt declares."""
    pattern = _PY_DEF if language == "python" else _JAVA_METHOD
    names = [m.group(1) for m in pattern.finditer(prompt)
             if m.group(1) not in {"if", "for", "while", "switch", "catch", "return", "new"}]
    return names[-1] if names else None


def _language_word(word: str, path: Path, line: int | None) -> Language:
    """A language named in a record ("python", "py", "Java", ...)."""
    normal = {"py": "python", "python3": "python"}.get(word.lower(), word.lower())
    try:
        return check_language(normal)
    except InputError as exc:
        raise InputError(str(exc), **_where(path, line)) from exc


# --------------------------------------------------------------------------- records


def _records(path: Path) -> Iterator[tuple[int, Record]]:
    return read_jsonl(path)


def _cwe_from_id(task_id: str) -> tuple[int, ...]:
    match = re.match(r"CWE-0*(\d+)", task_id)
    return (int(match.group(1)),) if match else ()


def _cwe_list(record: Record, path: Path, line: int) -> tuple[int, ...]:
    values = typed_field(record, "cwe", list, path, line, required=False) or []
    cwes = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InputError("field 'cwe' must be a list of CWE numbers", **_where(path, line))
        match = re.fullmatch(r"(?:CWE-)?0*(\d+)", str(value).strip())
        if not match:
            raise InputError(f"field 'cwe': not a CWE number: {value!r}", **_where(path, line))
        cwes.append(int(match.group(1)))
    return tuple(cwes)


# --------------------------------------------------------------------------- task formats


@dataclass(frozen=True)
class TaskFormat:
    """A prompt file format: how to recognise it and how to read its tasks."""

    id: str
    description: str
    matches: Callable[[Sample], bool]
    read: Callable[[Path, str | None], list[Task]]


def _read_humaneval(path: Path, language: str | None) -> list[Task]:
    tasks = []
    for line, record in _records(path):
        task_id = task_key(record, path, line)
        word = typed_field(record, "language", str, path, line, required=False)
        if language is not None:
            lang = check_language(language)
        elif word is not None:
            lang = _language_word(word, path, line)
        else:
            lang = "java" if "java" in task_id.lower() else "python"
        tasks.append(Task(
            task_id=task_id,
            prompt=typed_field(record, "prompt", str, path, line),
            language=lang,
            entry_point=typed_field(record, "entry_point", str, path, line, required=False),
            test=typed_field(record, "test", str, path, line, required=False),
            canonical_solution=typed_field(record, "canonical_solution", str, path, line,
                                     required=False),
        ))
    return tasks


def _read_soeval(path: Path, language: str | None) -> list[Task]:
    tasks = []
    for line, record in _records(path):
        word = typed_field(record, "language", str, path, line)
        lang = check_language(language) if language is not None else _language_word(
            word, path, line)
        tags = typed_field(record, "tags", list, path, line, required=False) or []
        if not all(isinstance(tag, str) for tag in tags):
            raise InputError("field 'tags' must be a list of strings", **_where(path, line))
        tasks.append(Task(
            task_id=task_key(record, path, line),
            prompt=typed_field(record, "prompt", str, path, line),
            language=lang,
            entry_point=typed_field(record, "entry_point", str, path, line),
            test=typed_field(record, "test", str, path, line),
            canonical_solution=typed_field(record, "canonical_solution", str, path, line,
                                     required=False),
            security_test=typed_field(record, "security_test", str, path, line, required=False),
            insecure_solution=typed_field(record, "insecure_solution", str, path, line,
                                    required=False),
            cwe=_cwe_list(record, path, line),
            tags=tuple(tags),
        ))
    return tasks


def _prompt_only_tasks(path: Path, language: str | None, *, id_fields: Sequence[str],
                       prompt_field: str, cwe_from_id: bool) -> list[Task]:
    """Tasks from records that hold an id and a prompt and nothing to test them with."""
    tasks = []
    for line, record in _records(path):
        task_id = task_key(record, path, line, id_fields)
        prompt = typed_field(record, prompt_field, str, path, line)
        lang = guess_language(path, prompt, language)
        tasks.append(Task(task_id=task_id, prompt=prompt, language=lang,
                          entry_point=guess_entry_point(lang, prompt),
                          cwe=_cwe_from_id(task_id) if cwe_from_id else ()))
    return tasks


def _read_franc_soeval(path: Path, language: str | None) -> list[Task]:
    return _prompt_only_tasks(path, language, id_fields=("task_id",), prompt_field="prompt",
                              cwe_from_id=False)


def _read_securityeval(path: Path, language: str | None) -> list[Task]:
    if "ID" in sample(path).fields():  # the original release: ID, Prompt, Insecure_code
        return _prompt_only_tasks(path, language or "python", id_fields=("ID",),
                                  prompt_field="Prompt", cwe_from_id=True)
    return _prompt_only_tasks(path, language or "python", id_fields=("task_id",),
                              prompt_field="prompt", cwe_from_id=True)


def _read_research_tasks(path: Path, language: str | None) -> list[Task]:
    return _prompt_only_tasks(path, language, id_fields=("task_id", "id"), prompt_field="prompt",
                              cwe_from_id=False)


_SOEVAL_KEYS = frozenset({"task_id", "language", "prompt", "entry_point", "test"})
_SOEVAL_MARKS = frozenset({"security_test", "cwe", "source_question", "insecure_solution"})


def _first_suggestion(sample_: Sample) -> Any:
    suggestions = sample_.first.get("suggestions") if isinstance(sample_.first, Mapping) else None
    return suggestions[0] if isinstance(suggestions, list) and suggestions else None


def _is_research(sample_: Sample) -> bool:
    keys = sample_.fields()
    return (sample_.shape == "jsonl" and "suggestions" in keys and "prompt" in keys
            and bool(keys & {"task_id", "id"}) and not isinstance(_first_suggestion(sample_), str))


def _is_securityeval(sample_: Sample) -> bool:
    keys = sample_.fields()
    if sample_.shape != "jsonl":
        return False
    if {"ID", "Prompt"} <= keys:
        return True
    return keys == {"task_id", "prompt"} and bool(
        re.match(r"CWE-\d+", str(sample_.first.get("task_id"))))


TASK_FORMATS: tuple[TaskFormat, ...] = (
    TaskFormat("soeval", "FRANC's executable SOEval (datasets/SOEval/*.jsonl): tests, "
               "security tests, CWEs",
               lambda s: s.shape == "jsonl" and s.fields() >= _SOEVAL_KEYS
               and bool(s.fields() & _SOEVAL_MARKS),
               _read_soeval),
    TaskFormat("humaneval", "HumanEval / HumanEval-Java (FRANC style): task_id, prompt, "
               "entry_point, test",
               lambda s: s.shape == "jsonl" and {"task_id", "prompt", "entry_point"} <= s.fields(),
               _read_humaneval),
    TaskFormat("securityeval", "SecurityEval: ID/Prompt (original) or task_id 'CWE-...'/prompt",
               _is_securityeval, _read_securityeval),
    TaskFormat("franc-research", "FRANC research JSONL: task_id or id, prompt, suggestions",
               _is_research, _read_research_tasks),
    TaskFormat("franc-soeval", "FRANC's SOEval prompts: task_id, prompt (no tests)",
               lambda s: s.shape == "jsonl" and s.fields() == {"task_id", "prompt"},
               _read_franc_soeval),
)


# --------------------------------------------------------------------------- suggestion formats


@dataclass(frozen=True)
class SuggestionFormat:
    """A model-output format: how to recognise it and how to read the raw texts.

    ``read(path, tasks)`` returns ``task_id -> [raw text, ...]`` in the file's order;
    ``tasks`` is only needed by formats that match candidates to tasks by position.
    """

    id: str
    description: str
    matches: Callable[[Sample], bool]
    read: Callable[[Path, Sequence[Task] | None], Suggestions]


def _read_research(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    result: Suggestions = {}
    for line, record in _records(path):
        task_id = task_key(record, path, line, ("task_id", "id"))
        texts = []
        for position, item in enumerate(typed_field(record, "suggestions", list, path, line)):
            text = item.get("generated_text") if isinstance(item, Mapping) else None
            if not isinstance(text, str):
                raise InputError(f"field 'suggestions'[{position}] must be an object with a "
                                 "string 'generated_text'", **_where(path, line))
            texts.append(text)
        result.setdefault(task_id, []).extend(texts)
    return result


def _read_compact(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    result: Suggestions = {}
    for line, record in _records(path):
        task_id = task_key(record, path, line)
        result.setdefault(task_id, []).extend(string_list(record, "suggestions", path, line))
    return result


SUGGESTION_FORMATS: tuple[SuggestionFormat, ...] = (
    SuggestionFormat("franc-research", "FRANC research JSONL: task_id or id, prompt, "
                     "suggestions: [{generated_text}]",
                     _is_research, _read_research),
    SuggestionFormat("compact", "compact JSONL(.gz): task_id, suggestions: [text, ...]",
                     lambda s: s.shape == "jsonl" and {"task_id", "suggestions"} <= s.fields()
                     and not isinstance(_first_suggestion(s), Mapping),
                     _read_compact),
)


# --------------------------------------------------------------------------- dispatch


def _pick(table: Sequence[TaskFormat] | Sequence[SuggestionFormat], name: str | None,
          path: str | Path, what: str) -> Any:
    if name is not None:
        for fmt in table:
            if fmt.id == name:
                return fmt
        known = ", ".join(f.id for f in table)
        raise InputError(f"unknown {what} format {name!r}; known: {known}", source=str(path))
    probe = sample(path)
    for fmt in table:
        if fmt.matches(probe):
            return fmt
    found = ", ".join(sorted(probe.fields())) or probe.shape
    known = "; ".join(f"{f.id} ({f.description})" for f in table)
    raise InputError(f"cannot tell the {what} format (found {found}); name one with --format: "
                     f"{known}", source=str(path))


def task_format(path: str | Path, name: str | None = None) -> TaskFormat:
    """The task format named ``name``, or the one ``path`` looks like."""
    return _pick(TASK_FORMATS, name, path, "prompt-file")


def suggestion_format(path: str | Path, name: str | None = None) -> SuggestionFormat:
    """The suggestion format named ``name``, or the one ``path`` looks like."""
    return _pick(SUGGESTION_FORMATS, name, path, "candidates")
