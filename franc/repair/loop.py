"""One repair step: render the repair prompt of a candidate, and judge the answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from franc.generation.base import Prompt
from franc.models import Candidate, Finding, Task
from franc.repair.answer import extract_answer, kept_own_line
from franc.repair.judge import Judge
from franc.repair.templates import RenderedPrompt, RepairTemplate

#: Error given to an answer whose filtered code keeps nothing the model wrote.
NOTHING_KEPT = "the repaired code keeps no line of the model's answer"

AnalyzeFn = Callable[[Sequence[Candidate], Mapping[str, Task]], list[Candidate]]


class BatchFilter(Protocol):
    """The part of :class:`franc.filter.StaticFilter` the repair step uses."""

    def run_many(self, items: Sequence[tuple[Task, int, str]]) -> list[Candidate]: ...


@dataclass
class RepairAnswer:
    """One answer of the model: its raw text, what the filter and analyzers made of it,
    and the judge's verdict."""

    raw: str
    candidate: Candidate
    clean: bool

    def to_json(self) -> dict[str, Any]:
        c = self.candidate
        return {"index": c.index, "code": c.code, "compiles": c.compiles, "errors": c.errors,
                "findings": [f.to_json() for f in c.findings or []], "clean": self.clean,
                "raw": self.raw}


@dataclass
class RepairRound:
    number: int
    template: str
    repaired_index: int
    prompt: Prompt
    answers: list[RepairAnswer] = field(default_factory=list)
    error: str | None = None

    @property
    def repaired(self) -> bool:
        return any(a.clean for a in self.answers)

    def to_json(self) -> dict[str, Any]:
        data = {"round": self.number, "template": self.template,
                "repaired_index": self.repaired_index, "prompt": self.prompt,
                "repaired": self.repaired, "answers": [a.to_json() for a in self.answers]}
        return {**data, "error": self.error} if self.error else data


@dataclass
class Repairer:
    """Renders one template and judges answers with the static filter, the analyzers
    and a :class:`Judge`."""

    template: RepairTemplate
    static_filter: BatchFilter
    analyze: AnalyzeFn
    judge: Judge

    def findings_to_fix(self, candidate: Candidate) -> list[Finding]:
        """What the prompt states: every finding of the judge's analyzers, in their order."""
        return [f for f in candidate.findings or [] if self.judge.counts(f)]

    def needs_repair(self, candidate: Candidate) -> bool:
        return candidate.compiles and bool(self.judge.blocking(candidate))

    def render(self, task: Task, candidate: Candidate) -> RenderedPrompt:
        return self.template.render(task, candidate, self.findings_to_fix(candidate))

    def judge_answers(self, task: Task, rendered: RenderedPrompt, raws: Sequence[str],
                      first_index: int = 0) -> list[RepairAnswer]:
        answers = [extract_answer(raw, rendered) for raw in raws]
        candidates = self.static_filter.run_many(
            [(task, first_index + i, a.code) for i, a in enumerate(answers)])
        for candidate, answer in zip(candidates, answers, strict=True):
            if candidate.compiles and not kept_own_line(candidate.code, answer):
                candidate.compiles = False
                candidate.errors = [*candidate.errors, NOTHING_KEPT]
        candidates = self.analyze(candidates, {task.task_id: task})
        return [RepairAnswer(raw, c, self.judge.is_clean(c))
                for raw, c in zip(raws, candidates, strict=True)]
