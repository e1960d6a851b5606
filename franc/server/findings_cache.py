"""Filter and analyse each distinct program once: a worker's stages with LRUs of results.

An IDE asks again on every keystroke, and a model's candidates often repeat within one
request. Findings depend only on the code and the analyzers' policy (loaded once when the
analyzers are built), so a warm :class:`~franc.analysis.Analyzers` keeps them by a hash of
the code; whether a finding is on a prompt line is worked out per request, after the cache.
Likewise the static filter's verdict on a raw candidate depends only on it, the task and
the chain (loaded once), so :class:`CachingFilter` keeps it by their hash: a repeated
request skips the heuristics and javac. A request is split over the idle workers, so each
worker's caches see only the candidates routed to it: the server itself keeps the finished
candidates of recent requests (:class:`franc.server.service.AnswerCache`), so that a
repeated candidate costs no worker round trip, whichever worker made it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from franc.analysis import Analyzers
from franc.java import is_tool_failure
from franc.models import Candidate, Finding, Task
from franc.recent import Recent

if TYPE_CHECKING:
    from franc.repair.loop import BatchFilter

#: Characters of code a cache of candidates keeps at most (4096 ordinary candidates take
#: ~6 M): a client sending the largest candidates allowed cannot make it hold ~400 MB.
CANDIDATE_CACHE_CHARS = 32_000_000


def candidate_cache(size: int) -> Recent[Candidate]:
    """An LRU of the last ``size`` candidates, within :data:`CANDIDATE_CACHE_CHARS`."""
    return Recent(size, weigh=lambda candidate: len(candidate.code), budget=CANDIDATE_CACHE_CHARS)


def code_key(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def task_key(task: Task) -> str:
    """The task's every field but its id (a request's label)."""
    return repr(dataclasses.replace(task, task_id=""))


def answer_copy(known: Candidate, task_id: str, index: int) -> Candidate:
    """A remembered candidate as a request's answer: its own copy (later stages set
    findings, scores and ranks on it in place), under the request's id and position."""
    return dataclasses.replace(known, task_id=task_id, index=index,
                               heuristics=list(known.heuristics), errors=list(known.errors),
                               findings=None if known.findings is None else list(known.findings))


def judged_by_its_tools(candidate: Candidate) -> bool:
    """Whether the compiler and every analyzer gave a verdict on the candidate (one that
    failed, timed out under load or met a dead JVM, gets another try next time)."""
    return not any(is_tool_failure(error) for error in candidate.errors) \
        and not any(finding.is_failure for finding in candidate.findings or [])


class CachingAnalyzers(Analyzers):
    """:class:`Analyzers` that analyse each distinct code once, and remember the findings
    of the last ``size`` codes. An analyzer's failure (a crash, a timeout under load) is
    not remembered: the next request tries again."""

    def __init__(self, language: str, names: Sequence[str] | None = None, *,
                 size: int = 4096) -> None:
        super().__init__(language, names)
        self._known: Recent[tuple[Finding, ...]] = Recent(size)
        #: Codes analysed and codes answered from the cache (or a duplicate), for reports.
        self.analysed = self.reused = 0

    def findings(self, codes: Sequence[str]) -> list[list[Finding]]:
        keys = [code_key(code) for code in codes]
        missing = {key: code for key, code in zip(keys, codes, strict=True)
                   if key not in self._known}
        fresh = dict(zip(missing, super().findings(list(missing.values())), strict=True))
        self.analysed += len(missing)
        self.reused += len(codes) - len(missing)
        for key, found in fresh.items():
            if not any(finding.is_failure for finding in found):
                self._known.put(key, tuple(found))
        return [list(known) if (known := self._known.get(key)) is not None
                else list(fresh[key]) for key in keys]


class CachingFilter:
    """A static filter (:class:`~franc.repair.loop.BatchFilter`) that filters each distinct
    (task, raw candidate) once and remembers the results of the last ``size``; a candidate
    the compiler could not judge is not remembered."""

    def __init__(self, static_filter: BatchFilter, size: int = 4096) -> None:
        self.inner = static_filter
        self._known = candidate_cache(size)
        #: Raw candidates filtered and answered from the cache (or a duplicate), for reports.
        self.filtered = self.reused = 0

    @staticmethod
    def key(task: Task, raw: str) -> str:
        """The task's every field but its id (a request's label), and the raw text."""
        return code_key(f"{task_key(task)}\0{raw}")

    def run_many(self, items: Sequence[tuple[Task, int, str]]) -> list[Candidate]:
        keys = [self.key(task, raw) for task, _, raw in items]
        missing = {key: item for key, item in zip(keys, items, strict=True)
                   if key not in self._known}
        fresh = dict(zip(missing, self.inner.run_many(list(missing.values())), strict=True))
        self.filtered += len(missing)
        self.reused += len(items) - len(missing)
        for key, candidate in fresh.items():
            # A compiler that could not judge the code (a time-out under load, a dead JVM)
            # gets another try on the next request.
            if judged_by_its_tools(candidate):
                self._known.put(key, candidate)
        return [answer_copy(self._known.get(key) or fresh[key], task.task_id, index)
                for key, (task, index, _) in zip(keys, items, strict=True)]
