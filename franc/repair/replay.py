"""Re-judge recorded repair rounds (FRANC's ``P*_<file>.jsonl.gz`` or our traces).

Each recorded line holds the prompt that was sent and the model's answers; the
answers go through the same extraction, static filter, analyzers and judge as a
live repair. The code a completion model continues is recovered from the
recorded prompt itself: P2's trailing original prompt, P3's code before the
``Fix:`` comments, nothing for P1 and chat prompts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from franc.generation.replay import Recording
from franc.languages import facts
from franc.models import Candidate, Task
from franc.repair.loop import RepairAnswer, Repairer
from franc.repair.templates import RenderedPrompt

FIX_LINE = r"^[ \t]*{comment} Fix:[^\n]*(?:\n|\Z)"


def recorded_prompt(recording: Recording, language: str) -> RenderedPrompt:
    """The recorded prompt with the code its answers continue."""
    prompt = recording.prompt
    if not isinstance(prompt, str):
        return RenderedPrompt(recording.template, prompt)
    fixes = list(re.finditer(FIX_LINE.format(comment=re.escape(facts(language).comment)), prompt,
                             re.MULTILINE))
    if not fixes or "Fixed Code:" in prompt[fixes[-1].end():]:
        if recording.template == "P3" and fixes:
            return RenderedPrompt("P3", prompt, prompt[:fixes[0].start()].removesuffix("\n"))
        return RenderedPrompt(recording.template, prompt)
    return RenderedPrompt(recording.template, prompt, prompt[fixes[-1].end():])


def flawed_code(recording: Recording, language: str) -> str:
    """The code the repair prompt asked to fix (FRANC's P1/P2: the text before the fixes)."""
    prompt = recording.prompt if isinstance(recording.prompt, str) else ""
    first = re.search(FIX_LINE.format(comment=re.escape(facts(language).comment)), prompt,
                      re.MULTILINE)
    return prompt[:first.start()] if first else ""


@dataclass
class ReplayResult:
    task_id: str
    template: str
    answers: list[RepairAnswer]

    @property
    def repaired(self) -> bool:
        return any(a.clean for a in self.answers)

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "template": self.template, "repaired": self.repaired,
                "answers": [{k: v for k, v in a.to_json().items() if k != "raw"}
                            for a in self.answers]}


def task_for(recording: Recording, tasks: Mapping[str, Task], language: str) -> Task:
    """The benchmark task of a recording; without one, a task whose prompt is empty
    (P2's recorded prompt ends with the original prompt, which is used then)."""
    if recording.task_id in tasks:
        return tasks[recording.task_id]
    rendered = recorded_prompt(recording, language)
    prompt = rendered.continues if recording.template == "P2" else ""
    return Task(task_id=recording.task_id, prompt=prompt, language=language)  # type: ignore[arg-type]


def rejudge(recordings: Sequence[Recording], tasks: Mapping[str, Task], language: str,
            repairer: Repairer) -> list[ReplayResult]:
    results = []
    for recording in recordings:
        task = task_for(recording, tasks, language)
        answers = repairer.judge_answers(task, recorded_prompt(recording, language),
                                         list(recording.answers))
        results.append(ReplayResult(recording.task_id, recording.template, answers))
    return results


def flawed_candidate(recording: Recording, language: str, index: int = 0) -> Candidate:
    return Candidate(task_id=recording.task_id, index=index,
                     code=flawed_code(recording, language))
