"""Quality analysis: bandit, pylint and our Java rules, one findings model.

``Analyzers(language)`` builds the analyzers once and stays warm (for the
server and for worker processes); ``analyze(...)`` is the one-shot form::

    with Analyzers("python") as analyzers:
        candidates = analyzers.run(candidates, {t.task_id: t for t in tasks})

Only compilable candidates are analysed (the others get ``findings == []``).
A finding whose line lies in the prompt the candidate begins with (the span the
static filter recorded, :meth:`~franc.models.Candidate.prompt_line_count`) gets
``in_prompt=True``: it is reported but does not count against the candidate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import TracebackType

from franc.analysis.base import DEFAULT_TIMEOUT, Analyzer
from franc.analysis.registry import ANALYZERS, DEFAULT_ANALYZERS
from franc.analysis.settings import PolicyRef
from franc.errors import InputError, expect_list
from franc.models import Candidate, Finding, Task, check_language

__all__ = ["ANALYZERS", "DEFAULT_ANALYZERS", "Analyzer", "Analyzers", "analyze"]


class Analyzers:
    """The analyzers of one language, created once and reused for many batches.

    ``names`` picks analyzers by id (default: ``DEFAULT_ANALYZERS[language]``).
    Optional tools that cannot run here are left out and explained in ``skipped``
    (id -> reason).
    """

    def __init__(self, language: str, names: Sequence[str] | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, policy: PolicyRef = None):
        self.language = check_language(language)
        known = ANALYZERS[self.language]
        wanted = list(DEFAULT_ANALYZERS[self.language] if names is None else names)
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise InputError(f"unknown {language} analyzer(s) {', '.join(unknown)}; "
                             f"available: {', '.join(known)}")
        self.skipped: dict[str, str] = {}
        self.analyzers: list[Analyzer] = []
        for name in dict.fromkeys(wanted):
            reason = known[name].unavailable(policy)
            if reason:
                self.skipped[name] = reason
            else:
                self.analyzers.append(known[name].configured(policy, timeout))

    @property
    def names(self) -> list[str]:
        return [analyzer.id for analyzer in self.analyzers]

    def findings(self, codes: Sequence[str]) -> list[list[Finding]]:
        """All analyzers over ``codes``: one list per code, ordered by line."""
        codes = expect_list(codes, "codes", str)
        merged: list[list[Finding]] = [[] for _ in codes]
        for analyzer in self.analyzers:
            try:
                results = analyzer.analyze_batch(codes)
            except Exception as exc:  # an analyzer bug must not cost the batch
                results = [[Finding.failure(analyzer.id, f"crashed: {exc!r}"[:300])]
                           for _ in codes]
            for bucket, found in zip(merged, results, strict=True):
                bucket.extend(found)
        return [sorted(bucket, key=lambda f: (f.line, f.column, f.tool, f.rule_id))
                for bucket in merged]

    def run(self, candidates: Sequence[Candidate], tasks: Mapping[str, Task]) -> list[Candidate]:
        """Set ``findings`` on every candidate (in place) and return them in order."""
        candidates = expect_list(candidates, "candidates", Candidate)
        compilable = [c for c in candidates if c.compiles]
        for candidate in candidates:
            if not candidate.compiles:
                candidate.findings = []
        for candidate, found in zip(compilable, self.findings([c.code for c in compilable]),
                                    strict=True):
            span = candidate.prompt_line_count(tasks.get(candidate.task_id))
            # An analyzer that failed says nothing about the prompt: its error always counts.
            candidate.findings = [
                dataclasses.replace(f, in_prompt=not f.is_failure and 1 <= f.line <= span)
                for f in found]
        return list(candidates)

    def close(self) -> None:
        for analyzer in self.analyzers:
            analyzer.close()

    def __enter__(self) -> Analyzers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def analyze(language: str, candidates: Sequence[Candidate], tasks: Mapping[str, Task],
            analyzers: Sequence[str] | None = None, policy: PolicyRef = None) -> list[Candidate]:
    """One-shot analysis: build the analyzers, run them over ``candidates``, close them."""
    with Analyzers(language, analyzers, policy=policy) as warm:
        return warm.run(candidates, tasks)
