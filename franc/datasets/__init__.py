"""Loaders for the prompt and candidate files users already have, and the shipped datasets.

``load_tasks`` reads a benchmark's prompts as :class:`~franc.models.Task`;
``load_suggestions`` reads a model's raw output as ``task_id -> [text, ...]`` in
the original order. The format is detected from the content, or named (see
``franc.datasets.formats`` for the table of formats).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from franc.datasets.formats import (
    SUGGESTION_FORMATS,
    TASK_FORMATS,
    SuggestionFormat,
    Suggestions,
    TaskFormat,
    suggestion_format,
    task_format,
)
from franc.errors import InputError
from franc.models import Task

__all__ = [
    "SUGGESTION_FORMATS",
    "TASK_FORMATS",
    "SuggestionFormat",
    "Suggestions",
    "TaskFormat",
    "load_suggestions",
    "load_tasks",
    "suggestion_format",
    "task_format",
]


def load_tasks(path: str | Path, format: str | None = None,
               language: str | None = None) -> list[Task]:
    """The tasks (prompts, tests, ...) of the prompt file ``path``, in file order.

    ``format`` names one of :data:`TASK_FORMATS` (detected when ``None``);
    ``language`` overrides the language a file states or implies. Raises
    :class:`~franc.errors.InputError` naming the file, line and field on bad input.
    """
    tasks = task_format(path, format).read(Path(path), language)
    seen: set[str] = set()
    for task in tasks:
        if task.task_id in seen:
            raise InputError(f"task id {task.task_id!r} appears twice", source=str(path))
        seen.add(task.task_id)
    return tasks


def load_suggestions(path: str | Path, format: str | None = None,
                     tasks: Sequence[Task] | Mapping[str, Task] | None = None) -> Suggestions:
    """The raw model output in ``path`` as ``task_id -> [text, ...]`` (original order).

    ``format`` names one of :data:`SUGGESTION_FORMATS` (detected when ``None``).
    ``tasks`` is needed by formats that match candidates to tasks by position
    (bigcode-evaluation-harness generations); a mapping is taken in its order.
    """
    ordered = list(tasks.values()) if isinstance(tasks, Mapping) else tasks
    return suggestion_format(path, format).read(Path(path), ordered)
