"""The prompt and candidate file formats FRANC reads, in two immutable tables.

Every format is a small frozen object with an ``id``, a one-line description, a
``matches(sample)`` test used for detection and a ``read`` function.
:data:`TASK_FORMATS` turns prompt files into :class:`~franc.models.Task`;
:data:`SUGGESTION_FORMATS` turns model output into ``task_id -> [raw text, ...]``
in the original order. Detection tries the entries in table order, so a format
whose fields are a superset of another's comes first. A format that carries
both prompts and output (FRANC's research JSONL) appears in both tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from franc.datasets.records import (
    Sample,
    cwe_in_name,
    cwe_numbers,
    guess_entry_point,
    guess_language,
    language_word,
    read_json,
    read_records,
    sample,
    string_list,
    task_key,
    typed_field,
    where,
)
from franc.errors import InputError
from franc.models import Language, Task, check_language

Suggestions = dict[str, list[str]]

# --------------------------------------------------------------------------- task formats


@dataclass(frozen=True)
class TaskFormat:
    """A prompt-file format: how to recognise it and how to read its tasks.

    ``read(path, language)`` returns the tasks in file order; ``language`` (or
    ``None``) overrides what the file states or implies.
    """

    id: str
    description: str
    matches: Callable[[Sample], bool]
    read: Callable[[Path, str | None], list[Task]]


def _language_of(record: Any, path: Path, line: int | None, given: str | None,
                 fallback: Language) -> Language:
    if given is not None:
        return check_language(given)
    word = typed_field(record, "language", str, path, line, required=False)
    return language_word(word, path, line) if word is not None else fallback


def _read_humaneval(path: Path, language: str | None) -> list[Task]:
    tasks = []
    for line, record in read_records(path):
        task_id = task_key(record, path, line)
        prompt = typed_field(record, "prompt", str, path, line)
        fallback: Language = "java" if "java" in task_id.lower() else "python"
        lang = _language_of(record, path, line, language, fallback)
        entry_point = typed_field(record, "entry_point", str, path, line, required=False)
        tasks.append(Task(
            task_id=task_id,
            prompt=prompt,
            language=lang,
            entry_point=entry_point or guess_entry_point(lang, prompt),
            test=typed_field(record, "test", str, path, line, required=False),
            canonical_solution=typed_field(record, "canonical_solution", str, path, line,
                                           required=False),
        ))
    return tasks


def _read_soeval(path: Path, language: str | None) -> list[Task]:
    tasks = []
    for line, record in read_records(path):
        typed_field(record, "language", str, path, line)
        tasks.append(Task(
            task_id=task_key(record, path, line),
            prompt=typed_field(record, "prompt", str, path, line),
            language=_language_of(record, path, line, language, "python"),
            entry_point=typed_field(record, "entry_point", str, path, line),
            test=typed_field(record, "test", str, path, line),
            canonical_solution=typed_field(record, "canonical_solution", str, path, line,
                                           required=False),
            security_test=typed_field(record, "security_test", str, path, line,
                                      required=False),
            insecure_solution=typed_field(record, "insecure_solution", str, path, line,
                                          required=False),
            cwe=cwe_numbers(record, path, line),
            tags=tuple(string_list(record, "tags", path, line, required=False)),
        ))
    return tasks


_ASSERT_LINE = re.compile(r"^(\s*)assert\s*\((.*)\)\s*;\s*$", re.MULTILINE)
_CLASS_NAME = re.compile(r"^\s*(?:public\s+)?(?:final\s+)?class\s+(\w+)", re.MULTILINE)


def _assert_to_check(match: re.Match[str]) -> str:
    indent, condition = match.group(1), match.group(2)
    message = condition.replace("\\", "\\\\").replace('"', '\\"')
    return f'{indent}if (!({condition})) throw new AssertionError("{message}");'


def multipl_e_java_test(prompt: str, tests: str) -> str:
    """MultiPL-E's Java tests as a FRANC-style ``class Main`` that throws on failure.

    MultiPL-E appends its tests to the completion: they close the method, add a
    ``main`` of ``assert(...)`` lines and close the class. We keep that ``main``
    in a ``Main`` that extends the prompt's class (so the unqualified static
    calls resolve) and turn the asserts into checks that do not depend on
    ``java -ea``.
    """
    classes = _CLASS_NAME.findall(prompt)
    main_start = tests.find("public static void main")
    if not classes or main_start < 0:
        return tests
    body = _ASSERT_LINE.sub(_assert_to_check, tests[main_start:])
    return f"class Main extends {classes[-1]} {{\n    {body}"


def _multipl_e_task(record: Mapping[str, Any], path: Path, line: int | None,
                    language: str | None) -> Task:
    prompt = typed_field(record, "prompt", str, path, line)
    tests = typed_field(record, "tests", str, path, line)
    lang = _language_of(record, path, line, language, "python")
    return Task(task_id=task_key(record, path, line, ("name", "task_id")), prompt=prompt,
                language=lang, entry_point=guess_entry_point(lang, prompt),
                test=multipl_e_java_test(prompt, tests) if lang == "java" else tests)


def _read_multipl_e(path: Path, language: str | None) -> list[Task]:
    return [_multipl_e_task(record, path, line, language) for line, record in read_records(path)]


def _multipl_e_files(probe: Sample) -> list[Path]:
    """The per-problem files of a MultiPL-E completions directory, in natural name order.

    MultiPL-E writes ``<name>.json.gz`` (an object with ``completions``) per problem
    and, after evaluation, ``<name>.results.json.gz`` beside it, which we skip.
    """
    if probe.shape != "directory":
        return []
    files = [f for f in probe.path.iterdir() if f.is_file()
             and f.name.endswith((".json", ".json.gz")) and ".results.json" not in f.name]
    return sorted(files, key=lambda f: _natural_key(f.name))


def _multipl_e_records(path: Path) -> list[tuple[Path, Mapping[str, Any]]]:
    records = []
    for file in _multipl_e_files(sample(path)):
        record = read_json(file)
        if not isinstance(record, Mapping):
            raise InputError("expected a JSON object with 'completions'", source=str(file))
        records.append((file, record))
    if not records:
        raise InputError("no MultiPL-E <name>.json(.gz) files in directory", source=str(path))
    return records


def _read_multipl_e_completion_tasks(path: Path, language: str | None) -> list[Task]:
    return [_multipl_e_task(record, file, None, language)
            for file, record in _multipl_e_records(path)]


def _read_multipl_e_completions(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    return {task_key(record, file, None, ("name",)):
            string_list(record, "completions", file, None)
            for file, record in _multipl_e_records(path)}


def _prompt_only(path: Path, language: str | None, id_fields: Sequence[str],
                 prompt_field: str, *, cwe_from_id: bool = False) -> list[Task]:
    """Tasks from records that hold an id and a prompt and nothing to test them with."""
    tasks = []
    for line, record in read_records(path):
        task_id = task_key(record, path, line, id_fields)
        prompt = typed_field(record, prompt_field, str, path, line)
        lang = guess_language(path, prompt, language)
        tasks.append(Task(task_id=task_id, prompt=prompt, language=lang,
                          entry_point=guess_entry_point(lang, prompt),
                          cwe=cwe_in_name(task_id) if cwe_from_id else ()))
    return tasks


def _read_securityeval(path: Path, language: str | None) -> list[Task]:
    if "ID" in sample(path).fields():  # the original release: ID, Prompt, Insecure_code
        return _prompt_only(path, language or "python", ("ID",), "Prompt", cwe_from_id=True)
    return _prompt_only(path, language or "python", ("task_id",), "prompt", cwe_from_id=True)


def _read_codereval(path: Path, language: str | None) -> list[Task]:
    return _prompt_only(path, language, ("question_id",), "input")


def _read_research_tasks(path: Path, language: str | None) -> list[Task]:
    return _prompt_only(path, language, ("task_id", "id"), "prompt")


def _read_franc_soeval(path: Path, language: str | None) -> list[Task]:
    return _prompt_only(path, language, ("task_id",), "prompt")


_JAVA_IMPORTS = "import java.io.*;\nimport java.lang.*;\nimport java.util.*;\nimport java.math.*;\n"


def aixcoder_prompt(task_id: str, description: str, signature: str) -> str:
    """An aiXcoder (AixBench) task as a HumanEval-Java style prompt.

    AixBench gives a description and a method signature; its harness puts the
    generated method alone in a class named after the task, as we do.
    """
    doc = "\n".join(f"     * {text}".rstrip() for text in description.strip().splitlines())
    return (f"{_JAVA_IMPORTS}\n\nclass Aixcoder{task_id} {{\n    /**\n{doc}\n     */\n"
            f"    {signature.strip()} {{\n")


def _read_aixcoder(path: Path, language: str | None) -> list[Task]:
    if language not in (None, "java"):
        raise InputError("aiXcoder tasks are Java", source=str(path))
    tasks = []
    for line, record in read_records(path):
        task_id = task_key(record, path, line)
        signature = typed_field(record, "signature", str, path, line)
        prompt = aixcoder_prompt(task_id, typed_field(record, "raw_nl", str, path, line),
                                 signature)
        tasks.append(Task(task_id=task_id, prompt=prompt, language="java",
                          entry_point=guess_entry_point("java", signature + " {")))
    return tasks


_SOEVAL_FIELDS = frozenset({"task_id", "language", "prompt", "entry_point", "test"})
_SOEVAL_MARKS = frozenset({"security_test", "cwe", "source_question", "insecure_solution"})


def _jsonl_with(required: set[str]) -> Callable[[Sample], bool]:
    return lambda s: s.shape == "jsonl" and s.fields() >= required


def _first_suggestion(probe: Sample) -> Any:
    suggestions = probe.first.get("suggestions") if isinstance(probe.first, Mapping) else None
    return suggestions[0] if isinstance(suggestions, list) and suggestions else None


def _is_research(probe: Sample) -> bool:
    fields = probe.fields()
    return (probe.shape == "jsonl" and {"prompt", "suggestions"} <= fields
            and bool(fields & {"task_id", "id"}) and not isinstance(_first_suggestion(probe), str))


def _is_securityeval(probe: Sample) -> bool:
    fields = probe.fields()
    if probe.shape != "jsonl":
        return False
    return {"ID", "Prompt"} <= fields or (
        fields == {"task_id", "prompt"} and bool(cwe_in_name(str(probe.first["task_id"]))))


TASK_FORMATS: tuple[TaskFormat, ...] = (
    TaskFormat("soeval", "FRANC's executable SOEval (datasets/SOEval/*.jsonl): task_id, language, "
               "prompt, entry_point, test, security_test, cwe, ...",
               lambda s: _jsonl_with(set(_SOEVAL_FIELDS))(s) and bool(s.fields() & _SOEVAL_MARKS),
               _read_soeval),
    TaskFormat("humaneval", "HumanEval / HumanEval-Java (FRANC style) / HumanEval-X: task_id, "
               "prompt, entry_point and/or test",
               lambda s: _jsonl_with({"task_id", "prompt", "entry_point"})(s)
               or _jsonl_with({"task_id", "prompt", "test"})(s), _read_humaneval),
    TaskFormat("multipl-e-completions", "MultiPL-E completions: a directory of <name>.json(.gz) "
               "files with name, language, prompt, tests, completions",
               lambda s: bool(_multipl_e_files(s)), _read_multipl_e_completion_tasks),
    TaskFormat("multipl-e", "MultiPL-E (HumanEval-Java, ...): name, language, prompt, tests, "
               "stop_tokens",
               _jsonl_with({"name", "prompt", "tests"}), _read_multipl_e),
    TaskFormat("aixcoder", "aiXcoder AixBench (Java): task_id, raw_nl, signature",
               _jsonl_with({"task_id", "raw_nl", "signature"}), _read_aixcoder),
    TaskFormat("codereval", "CoderEval prompt files (CEPythonRaw.jsonl, CEJavaHumanLabel.jsonl, "
               "...): question_id, input",
               _jsonl_with({"question_id", "input"}), _read_codereval),
    TaskFormat("securityeval", "SecurityEval: ID, Prompt (original) or task_id 'CWE-...', prompt",
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

    ``read(path, tasks)`` returns ``task_id -> [raw text, ...]`` in the file's
    order; ``tasks`` is only used by formats that match output to tasks by position
    or by a file name.
    """

    id: str
    description: str
    matches: Callable[[Sample], bool]
    read: Callable[[Path, Sequence[Task] | None], Suggestions]


def _texts_per_record(path: Path, id_fields: Sequence[str],
                      texts: Callable[[Mapping[str, Any], int], list[str]]) -> Suggestions:
    """Gather ``texts(record, line)`` by task id; a task may span several lines."""
    result: Suggestions = {}
    for line, record in read_records(path):
        task_id = task_key(record, path, line, id_fields)
        result.setdefault(task_id, []).extend(texts(record, line))
    return result


def _read_research(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    def texts(record: Mapping[str, Any], line: int) -> list[str]:
        found = []
        for position, item in enumerate(typed_field(record, "suggestions", list, path, line)):
            text = item.get("generated_text") if isinstance(item, Mapping) else None
            if not isinstance(text, str):
                raise InputError(f"field 'suggestions'[{position}] must be an object with a "
                                 "string 'generated_text'", **where(path, line))
            found.append(text)
        return found

    return _texts_per_record(path, ("task_id", "id"), texts)


def _read_compact(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    return _texts_per_record(path, ("task_id",),
                             lambda record, line: string_list(record, "suggestions", path, line))


def _read_codereval_results(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    return _texts_per_record(
        path, ("_id", "question_id"),
        lambda record, line: string_list(record, "generate_results", path, line))


def _one_text(name_options: Sequence[str]) -> Callable[[Path, Sequence[Task] | None],
                                                        Suggestions]:
    """A reader of one text per line under the first present of ``name_options``."""

    def read(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
        def texts(record: Mapping[str, Any], line: int) -> list[str]:
            for name in name_options:
                if record.get(name) is not None:
                    return [typed_field(record, name, str, path, line)]
            raise InputError(f"missing field {' or '.join(map(repr, name_options))}",
                             **where(path, line))

        return _texts_per_record(path, ("task_id",), texts)

    return read


def _read_franc_candidates(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    """FRANC's own stage output: the candidates' code, in original (``index``) order."""
    indexed: dict[str, list[tuple[int, str]]] = {}
    for line, record in read_records(path):
        task_id = task_key(record, path, line)
        index = typed_field(record, "index", int, path, line)
        indexed.setdefault(task_id, []).append(
            (index, typed_field(record, "code", str, path, line)))
    return {task_id: [code for _, code in sorted(pairs, key=lambda pair: pair[0])]
            for task_id, pairs in indexed.items()}


def _read_bigcode(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    generations = read_json(path)
    if not isinstance(generations, list):
        raise InputError("expected a JSON list (one list of generations per task)",
                         source=str(path))
    if tasks is None:
        raise InputError("bigcode generations are matched to tasks by position: give the "
                         "prompt file too (--tasks)", source=str(path))
    if len(generations) > len(tasks):
        raise InputError(f"{len(generations)} lists of generations but only {len(tasks)} tasks",
                         source=str(path))
    result: Suggestions = {}
    for position, (task, texts) in enumerate(zip(tasks, generations, strict=False)):
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise InputError(f"item {position} ({task.task_id}) must be a list of strings",
                             source=str(path))
        result[task.task_id] = list(texts)
    return result


def _read_codet(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    """CodeT's candidate pools (``{"prompt", "samples": [completion, ...]}`` per line).

    The lines carry no task id: each is matched to the task with the same prompt,
    then the same prompt up to surrounding white space, then the one task whose
    entry point the prompt's last ``def`` names (CodeT's HumanEval prompts are the
    official ones with the examples removed, so a user may pair the pool with
    either). The samples continue the prompt, as human-eval completions do.
    """
    if tasks is None:
        raise InputError("CodeT pools are matched to tasks by prompt: give the prompt file "
                         "too (--prompts)", source=str(path))
    exact = {task.prompt: task.task_id for task in tasks}
    stripped = {task.prompt.strip(): task.task_id for task in tasks}
    by_entry: dict[str, list[str]] = {}
    for task in tasks:
        if task.entry_point:
            by_entry.setdefault(task.entry_point, []).append(task.task_id)
    languages = {task.language for task in tasks}

    def task_of(record: Mapping[str, Any], line: int | None) -> str:
        if record.get("task_id") is not None:
            return task_key(record, path, line)
        prompt = typed_field(record, "prompt", str, path, line)
        found = exact.get(prompt) or stripped.get(prompt.strip())
        if found is not None:
            return found
        names = {guess_entry_point(language, prompt) for language in languages}
        owners = {task_id for name in names if name for task_id in by_entry.get(name, ())}
        if len(owners) == 1:
            return owners.pop()
        said = ", ".join(sorted(repr(name) for name in names if name)) or "none"
        raise InputError(f"no task has this prompt, nor one task its entry point ({said})",
                         **where(path, line))

    result: Suggestions = {}
    for line, record in read_records(path):
        result.setdefault(task_of(record, line), []).extend(
            string_list(record, "samples", path, line))
    return result


#: The file names a candidate of a directory may have: ``<n>.<extension>``.
DIRECTORY_SUFFIXES = (".py", ".java", ".txt")


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _read_directory(path: Path, tasks: Sequence[Task] | None) -> Suggestions:
    """``DIR/<task>/<n>.py|.java|.txt``: one folder per task, candidates numbered from 0.

    The task folder is the task id with ``/`` replaced by ``_`` (EvalPlus's layout,
    ``HumanEval_0/3.py``) or nested (``HumanEval/0/3.py``). With ``tasks`` given,
    folders are matched to task ids and returned in the tasks' order.
    """
    found: dict[str, list[tuple[int, Path]]] = {}
    for file in path.rglob("*"):
        if file.is_file() and file.suffix in DIRECTORY_SUFFIXES and file.stem.isdigit():
            folder = file.parent.relative_to(path).as_posix()
            if folder != ".":
                found.setdefault(folder, []).append((int(file.stem), file))
    if not found:
        raise InputError("no candidate files <task>/<n>.py|.java|.txt in directory",
                         source=str(path))
    by_folder: dict[str, str] = {}
    for task in tasks or ():
        by_folder[task.task_id] = task.task_id
        by_folder.setdefault(task.task_id.replace("/", "_"), task.task_id)
    order = {task.task_id: position for position, task in enumerate(tasks or ())}
    result: Suggestions = {}

    def position(folder: str) -> tuple[int, list[Any]]:
        return order.get(by_folder.get(folder, folder), len(order)), _natural_key(folder)

    for folder in sorted(found, key=position):
        texts = []
        for _, file in sorted(found[folder]):
            try:
                texts.append(file.read_bytes().decode("utf-8"))
            except UnicodeDecodeError as exc:
                line = file.read_bytes()[: exc.start].count(b"\n") + 1
                raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})",
                                 source=str(file), line=line) from exc
        result[by_folder.get(folder, folder)] = texts
    return result


def _is_bigcode(probe: Sample) -> bool:
    return (probe.shape == "json" and isinstance(probe.first, list) and bool(probe.first)
            and all(isinstance(item, list) for item in probe.first))


SUGGESTION_FORMATS: tuple[SuggestionFormat, ...] = (
    SuggestionFormat("franc-research", "FRANC research JSONL: task_id or id, prompt, "
                     "suggestions: [{generated_text}]", _is_research, _read_research),
    SuggestionFormat("compact", "compact JSONL(.gz): task_id, suggestions: [text, ...]",
                     lambda s: _jsonl_with({"task_id", "suggestions"})(s)
                     and not isinstance(_first_suggestion(s), Mapping),
                     _read_compact),
    SuggestionFormat("franc-candidates", "FRANC candidates (franc filter/rank output): "
                     "task_id, index, code", _jsonl_with({"task_id", "index", "code"}),
                     _read_franc_candidates),
    SuggestionFormat("evalplus", "EvalPlus samples: task_id, solution (or completion), "
                     "one line per sample", _jsonl_with({"task_id", "solution"}),
                     _one_text(("solution", "completion"))),
    SuggestionFormat("humaneval-samples", "human-eval samples.jsonl: task_id, completion, "
                     "one line per sample", _jsonl_with({"task_id", "completion"}),
                     _one_text(("completion",))),
    SuggestionFormat("codet", "CodeT candidate pools: prompt, samples: [completion, ...] "
                     "(matched to the tasks by prompt; needs the tasks)",
                     _jsonl_with({"prompt", "samples"}), _read_codet),
    SuggestionFormat("codereval-results", "CoderEval generation results: _id, "
                     "generate_results: [text, ...]", _jsonl_with({"_id", "generate_results"}),
                     _read_codereval_results),
    SuggestionFormat("bigcode", "bigcode-evaluation-harness --save_generations JSON: a list per "
                     "task (in the prompt file's order) of texts; needs the tasks",
                     _is_bigcode, _read_bigcode),
    SuggestionFormat("multipl-e-completions", "MultiPL-E completions: a directory of "
                     "<name>.json(.gz) files with name, prompt, completions (continuations of "
                     "the prompt)", lambda s: bool(_multipl_e_files(s)),
                     _read_multipl_e_completions),
    SuggestionFormat("directory", "a directory <task>/<n>.py|.java|.txt (task id with '/' as "
                     "'_', as EvalPlus writes, or nested folders)",
                     lambda s: s.shape == "directory", _read_directory),
)


# --------------------------------------------------------------------------- dispatch


def _pick(table: Sequence[Any], name: str | None, path: str | Path, what: str) -> Any:
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
    found = (f"fields {', '.join(sorted(probe.fields()))}" if probe.fields()
             else f"a {probe.shape} {type(probe.first).__name__}")
    known = "; ".join(f"{f.id} ({f.description})" for f in table)
    raise InputError(f"cannot tell the {what} format (found {found}); name one with --format: "
                     f"{known}", source=str(path))


def task_format(path: str | Path, name: str | None = None) -> TaskFormat:
    """The task format named ``name``, or the one ``path`` looks like."""
    return _pick(TASK_FORMATS, name, path, "prompt-file")


def suggestion_format(path: str | Path, name: str | None = None) -> SuggestionFormat:
    """The suggestion format named ``name``, or the one ``path`` looks like."""
    return _pick(SUGGESTION_FORMATS, name, path, "candidates")
