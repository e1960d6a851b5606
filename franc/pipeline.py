"""The whole of FRANC for one prompt: filter, analyse, rank, and repair when needed.

    with Pipeline("python", generator=make_generator("openai:http://127.0.0.1:8000")) as p:
        report = p.generate_and_run(prompt, n=10)
        print(report.best.code)

Repair rounds run while the best candidate still has blocking findings on generated
lines (see :class:`franc.repair.Judge`), until an answer is clean or ``max_rounds``
ran out. Repair answers join the candidates (``index`` after the originals) and
everything is ranked again.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from franc.generation.base import GenerationError, Generator
from franc.models import Candidate, Task, check_language
from franc.repair.judge import Judge
from franc.repair.loop import BatchFilter, Repairer, RepairRound
from franc.repair.templates import load_template

STOP_CLEAN = "clean"
STOP_NO_GENERATOR = "no generator"
STOP_NOTHING_TO_FIX = "best candidate does not compile; nothing for the analyzers to state"
STOP_ROUNDS = "rounds used up"
STOP_GENERATION_ERROR = "generator failed"


@dataclass
class PipelineReport:
    """Ranked candidates (best first) and the repair rounds that were run."""

    task: Task
    candidates: list[Candidate]
    judge: str
    rounds: list[RepairRound] = field(default_factory=list)
    stop_reason: str = ""
    original_count: int = 0

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def clean(self) -> bool:
        return self.stop_reason == STOP_CLEAN

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task.task_id, "judge": self.judge, "clean": self.clean,
                "stop_reason": self.stop_reason, "original_count": self.original_count,
                "candidates": [c.to_json() for c in self.candidates],
                "rounds": [r.to_json() for r in self.rounds]}


def _as_task(prompt: str | Task, language: str) -> Task:
    if isinstance(prompt, Task):
        return prompt
    return Task(task_id="prompt", prompt=prompt, language=check_language(language))


class Pipeline:
    """``static_filter``, ``analyzers`` and ``ranker`` take the stage objects or their names
    (a filter chain, analyzer ids, a ranker policy); objects given are not closed here.
    A chain given by name or path also configures the analyzers built here (its
    ``[analysis.*]`` tables). ``filter`` is the deprecated name of ``static_filter``."""

    def __init__(self, language: str, *, static_filter: BatchFilter | str | Path | None = None,
                 analyzers: Any = None, ranker: Any = "quality",
                 generator: Generator | None = None, repair_template: str | Path = "P1",
                 max_rounds: int = 2, judge: Judge | None = None, repair_n: int = 10,
                 max_new_tokens: int = 512, temperature: float = 0.8,
                 stop: Sequence[str] = (), filter: BatchFilter | str | Path | None = None):
        from franc.analysis import Analyzers
        from franc.filter import StaticFilter
        from franc.ranking import get_ranker

        if filter is not None:
            warnings.warn("Pipeline(filter=...) is deprecated; use static_filter=...",
                          DeprecationWarning, stacklevel=2)
            static_filter = static_filter if static_filter is not None else filter
        self.language = check_language(language)
        self._owned: list[Any] = []
        chain = static_filter if isinstance(static_filter, (str, Path)) else None
        stage: BatchFilter
        if static_filter is None or isinstance(static_filter, (str, Path)):
            stage = StaticFilter(self.language, static_filter)
            self._owned.append(stage)
        else:
            stage = static_filter
        if analyzers is None or isinstance(analyzers, (list, tuple)):
            analyzers = Analyzers(self.language, analyzers, policy=chain)
            self._owned.append(analyzers)
        if isinstance(ranker, (str, Path)):
            ranker = get_ranker(ranker, self.language)
            self._owned.append(ranker)
        self.filter = stage
        self.analyzers = analyzers
        self.ranker = ranker
        self.generator = generator
        self.judge = judge or Judge(self.language)
        self.repairer = Repairer(load_template(repair_template, self.language), stage,
                                 analyzers.run, self.judge)
        self.max_rounds = max_rounds
        self.repair_n = repair_n
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.stop = tuple(stop)

    def check(self, task: Task, raws: Sequence[str], first_index: int = 0) -> list[Candidate]:
        """Filter and analyse raw candidates (not ranked)."""
        candidates = self.filter.run_many([(task, first_index + i, raw)
                                           for i, raw in enumerate(raws)])
        return self.analyzers.run(candidates, {task.task_id: task})

    def run(self, prompt: str | Task, candidates: Sequence[str]) -> PipelineReport:
        task = _as_task(prompt, self.language)
        checked = self.check(task, candidates)
        return self.repair(task, checked)

    def generate_and_run(self, prompt: str | Task, n: int) -> PipelineReport:
        if self.generator is None:
            raise GenerationError("generate_and_run needs a generator")
        task = _as_task(prompt, self.language)
        raws = self.generator.generate(task.prompt, n, self.max_new_tokens, self.temperature,
                                       self.stop)
        return self.run(task, raws)

    def repair(self, task: Task, checked: Sequence[Candidate]) -> PipelineReport:
        """Rank already filtered and analysed candidates, then repair while needed."""
        pool = list(checked)
        ranked = self.ranker.rank(task, list(pool))
        report = PipelineReport(task, ranked, self.judge.name, original_count=len(pool))
        target = ranked[0] if ranked else None
        while True:
            if target is not None and self.judge.is_clean(target):
                report.stop_reason = STOP_CLEAN
                break
            if self.generator is None:
                report.stop_reason = STOP_NO_GENERATOR
                break
            if target is None or not self.repairer.needs_repair(target):
                report.stop_reason = STOP_NOTHING_TO_FIX
                break
            if len(report.rounds) >= self.max_rounds:
                report.stop_reason = STOP_ROUNDS
                break
            round_ = self._round(task, target, len(report.rounds) + 1, len(pool))
            report.rounds.append(round_)
            if round_.error:
                report.stop_reason = STOP_GENERATION_ERROR
                break
            pool.extend(a.candidate for a in round_.answers)
            # Next: a clean answer ends the loop; else repair the best answer that still
            # needs it; else ask again with the same prompt (sampling varies the answers).
            answers = self.ranker.rank(task, [a.candidate for a in round_.answers])
            target = next((c for c in answers if self.judge.is_clean(c)),
                          next((c for c in answers if self.repairer.needs_repair(c)), target))
        report.candidates = self.ranker.rank(task, pool)
        if report.clean:
            # The judge's verdict outranks the ranker's taste: a clean candidate goes first.
            report.candidates.sort(key=lambda c: not self.judge.is_clean(c))
            for rank, candidate in enumerate(report.candidates, start=1):
                candidate.rank = rank
        return report

    def _round(self, task: Task, target: Candidate, number: int,
               first_index: int) -> RepairRound:
        rendered = self.repairer.render(task, target)
        round_ = RepairRound(number, self.repairer.template.name, target.index, rendered.prompt)
        try:
            raws = self.generator.generate(rendered.prompt, self.repair_n,  # type: ignore[union-attr]
                                           self.max_new_tokens, self.temperature, self.stop)
        except GenerationError as exc:
            round_.error = str(exc)
            return round_
        round_.answers = self.repairer.judge_answers(task, rendered, raws, first_index)
        return round_

    def close(self) -> None:
        for owned in reversed(self._owned):
            owned.close()
        self._owned.clear()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
