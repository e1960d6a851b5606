"""Writing FRANC's candidates back in the format of the user's own harness.

``humaneval`` writes human-eval ``samples.jsonl`` (``task_id``, ``completion``:
the code after the prompt, because the harness runs ``prompt + completion``);
``evalplus`` writes EvalPlus samples (``task_id``, ``solution``: the whole
code); ``bigcode`` writes bigcode-evaluation-harness generations (a JSON list,
one list of whole programs per task, in the prompt file's order). Candidates of
a task come best-ranked first when ``rank`` is set, else in the model's order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl, write_text_atomic
from franc.models import Candidate, Task


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: rows, tasks, and completions not cut at the prompt."""

    path: Path
    format: str
    candidates: int
    tasks: int
    not_prompt_prefixed: int = 0


def read_candidates(path: str | Path) -> list[Candidate]:
    """The candidates of a FRANC stage output (``franc filter``, ``franc rank``, ...)."""
    return [Candidate.from_json(record, source=str(path), line=line)
            for line, record in read_jsonl(path)]


def _order_key(candidate: Candidate) -> tuple[int, int, int]:
    ranked = candidate.rank is not None
    return (0 if ranked else 1, candidate.rank or 0, candidate.index)


def select(candidates: Iterable[Candidate], *, best_only: bool = False,
           compilable_only: bool = False) -> dict[str, list[Candidate]]:
    """Candidates grouped by task, best-ranked first (model order where unranked).

    ``best_only`` keeps one per task: the best-ranked, or without ranks the first
    that compiles (the first of all when none compiles).
    """
    grouped: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.compiles or not compilable_only:
            grouped.setdefault(candidate.task_id, []).append(candidate)
    for task_id, group in grouped.items():
        group.sort(key=_order_key)
        if best_only:
            if group[0].rank is None:
                group.sort(key=lambda c: not c.compiles)  # stable: model order kept
            grouped[task_id] = group[:1]
    return grouped


def completion(task: Task, code: str) -> tuple[str, bool]:
    """``code`` as the text a harness appends to ``task.prompt``; and whether it was cut there.

    Code that does not start with the prompt (a filter may rewrite it) is
    appended whole after a newline in Python, where a later ``def`` replaces
    the prompt's; in Java it is cut after the entry point's opening brace, so
    that the prompt's header and the candidate's body and class end join up.
    """
    for prefix in (task.prompt, task.prompt.rstrip()):
        if prefix and code.startswith(prefix):
            return code[len(prefix):], True
    if task.language == "java":
        end = _java_signature_end(task, code)
        if end is not None:
            return code[end:], False
    return "\n" + code, False


def _java_signature_end(task: Task, code: str) -> int | None:
    """Where the body of the prompt's method starts in ``code`` (after its ``{``), if found."""
    lines = task.prompt.rstrip().splitlines()
    signature = lines[-1].strip() if lines else ""
    if signature.endswith("{") and signature in code:
        return code.index(signature) + len(signature)
    if task.entry_point:
        # a declaration at the start of a line, not a mention in a Javadoc line
        match = re.search(rf"^(?![ \t]*\*)[^\n]*\b{re.escape(task.entry_point)}\s*\([^)]*\)"
                          r"[^{;\n]*\{", code, re.MULTILINE)
        if match:
            return match.end()
    return None


Writer = Callable[[Path, Mapping[str, list[Candidate]], Sequence[Task] | None], ExportSummary]


def _tasks_by_id(tasks: Sequence[Task] | None, grouped: Mapping[str, list[Candidate]],
                 format_id: str) -> dict[str, Task]:
    if tasks is None:
        raise InputError(f"export format {format_id!r} needs the prompt file (--tasks)")
    by_id = {task.task_id: task for task in tasks}
    unknown = [task_id for task_id in grouped if task_id not in by_id]
    if unknown:
        raise InputError(f"{len(unknown)} candidate task ids are not in the prompt file, "
                         f"e.g. {unknown[0]!r}")
    return by_id


def _write_humaneval(out: Path, grouped: Mapping[str, list[Candidate]],
                     tasks: Sequence[Task] | None) -> ExportSummary:
    by_id = _tasks_by_id(tasks, grouped, "humaneval")
    rows, loose = [], 0
    for task_id, group in grouped.items():
        for candidate in group:
            text, cut = completion(by_id[task_id], candidate.code)
            loose += not cut
            rows.append({"task_id": task_id, "completion": text})
    return ExportSummary(out, "humaneval", write_jsonl(out, rows), len(grouped), loose)


def _write_evalplus(out: Path, grouped: Mapping[str, list[Candidate]],
                    tasks: Sequence[Task] | None) -> ExportSummary:
    rows = [{"task_id": task_id, "solution": candidate.code}
            for task_id, group in grouped.items() for candidate in group]
    return ExportSummary(out, "evalplus", write_jsonl(out, rows), len(grouped))


def _write_bigcode(out: Path, grouped: Mapping[str, list[Candidate]],
                   tasks: Sequence[Task] | None) -> ExportSummary:
    _tasks_by_id(tasks, grouped, "bigcode")
    generations = [[c.code for c in grouped.get(task.task_id, [])] for task in tasks or ()]
    write_text_atomic(out, json.dumps(generations, ensure_ascii=False))
    return ExportSummary(out, "bigcode", sum(map(len, generations)), len(generations))


#: Export format id -> writer. Immutable; add a format by adding an entry.
EXPORT_FORMATS: Mapping[str, Writer] = MappingProxyType({
    "humaneval": _write_humaneval,
    "evalplus": _write_evalplus,
    "bigcode": _write_bigcode,
})


def export(candidates: Iterable[Candidate], format: str, out: str | Path,
           tasks: Sequence[Task] | None = None, *, best_only: bool = False,
           compilable_only: bool = False) -> ExportSummary:
    """Write ``candidates`` to ``out`` in ``format`` (one of :data:`EXPORT_FORMATS`).

    ``tasks`` (the prompt file's tasks, in order) is required by ``humaneval``
    (to cut the prompt off) and ``bigcode`` (to place each task's list).
    """
    if format not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {format!r}; known: "
                         f"{', '.join(EXPORT_FORMATS)}")
    grouped = select(candidates, best_only=best_only, compilable_only=compilable_only)
    return EXPORT_FORMATS[format](Path(out), grouped, tasks)
