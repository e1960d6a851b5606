"""Replay recorded answers instead of asking a model.

Reads FRANC's repair files (``P1_<file>.jsonl.gz``: ``task_id``, ``template``,
``repair_prompt``, ``suggestions``) and FRANC's own repair traces, which use the
same fields. Answers are looked up by the exact prompt text (chat prompts by
their JSON form) or by ``(task_id, template)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from franc.errors import InputError
from franc.generation.base import GenerationError, Prompt
from franc.jsonl import read_jsonl

RECORD_PATTERNS = ("*.jsonl", "*.jsonl.gz")


def prompt_key(prompt: Prompt) -> str:
    """The lookup key of a prompt: its text, or the JSON of its chat messages."""
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)


@dataclass(frozen=True)
class Recording:
    task_id: str
    template: str
    prompt: Prompt
    answers: tuple[str, ...]
    source: str


def _answer_text(value: object, source: str, line: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("generated_text"), str):
        return value["generated_text"]
    raise InputError("each suggestion must be a string or {'generated_text': str}",
                     source=source, line=line)


def read_recordings(path: str | Path) -> list[Recording]:
    """Recordings of one file (a template name defaults to the file name's ``P1_`` prefix)."""
    path = Path(path)
    default_template = path.name.split("_", 1)[0] if "_" in path.name else ""
    recordings = []
    for line, row in read_jsonl(path):
        prompt = row.get("repair_prompt", row.get("prompt"))
        if not isinstance(prompt, (str, list)) or "task_id" not in row:
            raise InputError("a recording needs 'task_id' and 'repair_prompt'",
                             source=str(path), line=line)
        answers = row.get("suggestions", [])
        if not isinstance(answers, list):
            raise InputError("'suggestions' must be a list", source=str(path), line=line)
        recordings.append(Recording(
            task_id=str(row["task_id"]), template=str(row.get("template", default_template)),
            prompt=prompt, answers=tuple(_answer_text(a, str(path), line) for a in answers),
            source=f"{path}:{line}"))
    return recordings


@dataclass
class ReplayGenerator:
    """A :class:`~franc.generation.base.Generator` over recorded answers."""

    recordings: Sequence[Recording]
    _by_prompt: dict[str, Recording] = field(init=False, repr=False)
    _by_task: dict[tuple[str, str], Recording] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_prompt = {}
        self._by_task = {}
        for recording in self.recordings:
            self._by_prompt.setdefault(prompt_key(recording.prompt), recording)
            self._by_task.setdefault((recording.task_id, recording.template), recording)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> ReplayGenerator:
        """Load files, or every ``*.jsonl[.gz]`` inside the folders given."""
        recordings: list[Recording] = []
        for given in paths:
            path = Path(given)
            if path.is_dir():
                files = sorted(p for pattern in RECORD_PATTERNS for p in path.glob(pattern))
            elif path.is_file():
                files = [path]
            else:
                raise InputError("no such file or folder of recorded answers", source=str(path))
            for file in files:
                recordings.extend(read_recordings(file))
        return cls(recordings)

    def lookup(self, task_id: str, template: str) -> Recording:
        try:
            return self._by_task[(task_id, template)]
        except KeyError:
            raise GenerationError(f"no recorded answers for task {task_id!r} and template "
                                  f"{template!r}") from None

    def generate(self, prompt: Prompt, n: int, max_new_tokens: int = 0,
                 temperature: float = 0.0, stop: Sequence[str] = ()) -> list[str]:
        """The first ``n`` recorded answers to exactly this prompt (generation settings are
        those of the recording and cannot be changed)."""
        recording = self._by_prompt.get(prompt_key(prompt))
        if recording is None:
            head = (prompt if isinstance(prompt, str) else prompt_key(prompt))[:60]
            raise GenerationError(f"no recorded answers for this prompt ({head!r}...); "
                                  f"{len(self._by_prompt)} prompts recorded")
        return list(recording.answers[:n])

    def close(self) -> None:
        """Nothing to release."""
