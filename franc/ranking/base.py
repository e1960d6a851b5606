"""The ranker interface: :class:`Ranker` with its :class:`SecurityTier`, and
:class:`RankerBuilder`, how a policy kind builds one (the entries of
``franc.ranking.rankers.RANKER_KINDS``)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from franc.errors import InputError
from franc.models import LEVELS, Candidate, Language, Level, Task, check_language

SECURITY_PART = "security_tier"


@dataclass(frozen=True)
class SecurityTier:
    """A rule level above a ranker's own score: compilable candidates with no finding of at
    least ``min_severity`` from the language's security ``tools`` on generated lines (and no
    failure of those tools) come before the other compilable candidates. Copies of one
    insecure program agreeing with each other cannot lift it over a secure one."""

    tools: Mapping[Language, tuple[str, ...]]
    min_severity: Level = "medium"

    def secure(self, language: Language, candidate: Candidate) -> bool:
        return candidate.compiles and not candidate.security_findings(
            self.tools.get(language, ()), self.min_severity)

    def lift(self, language: Language, candidates: Sequence[Candidate],
             rows: list[dict[str, float]]) -> list[dict[str, float]]:
        """``rows`` plus a ``security_tier`` part larger than the spread of their totals
        for the secure candidates (0 for the others), so the tier decides first."""
        totals = [sum(row.values()) for row in rows]
        lift = max(totals, default=0.0) - min(totals, default=0.0) + 1.0
        return [{**row, SECURITY_PART: lift if self.secure(language, candidate) else 0.0}
                for candidate, row in zip(candidates, rows, strict=True)]

    @classmethod
    def from_policy(cls, table: Any, source: str) -> SecurityTier | None:
        """``[security_tier]``: ``min_severity`` and ``tools.<language>`` (analyzer ids)."""
        if table is None:
            return None
        tools = table.get("tools") if isinstance(table, dict) else None
        severity = table.get("min_severity", "medium") if isinstance(table, dict) else None
        if not isinstance(tools, dict) or severity not in LEVELS or not all(
                isinstance(names, list) and all(isinstance(n, str) for n in names)
                for names in tools.values()):
            raise InputError("[security_tier] needs tools.<language> = [analyzer ids] and "
                             f"min_severity one of {', '.join(LEVELS)}", source=source)
        return cls({check_language(lang): tuple(names) for lang, names in tools.items()},
                   severity)

    def to_json(self) -> dict[str, Any]:
        return {"min_severity": self.min_severity,
                "tools": {lang: list(names) for lang, names in self.tools.items()}}


class Ranker:
    """Base class: subclasses implement :meth:`parts`; a policy's ``security_tier`` (set by
    :func:`from_policy`) is applied on top of them by :meth:`scored_parts`."""

    kind: ClassVar[str]

    def __init__(self, name: str, language: Language | None = None):
        self.name = name
        self.language = language
        self.security_tier: SecurityTier | None = None

    def language_for(self, task: Task | None) -> Language:
        if task is not None:
            return task.language
        if self.language is None:
            raise InputError(f"ranker {self.name!r} needs a language (pass language= or a task)")
        return self.language

    def task_to_run(self, task: Task | None, candidates: Sequence[Candidate]) -> Task:
        """The task of a ranker that runs the candidates. Without it nothing could run and the
        ranking would silently be its static fallback's, so its absence is an error."""
        if task is None:
            which = f"task {candidates[0].task_id!r}" if candidates else "their task"
            raise InputError(f"ranker {self.name!r} runs the candidates and needs the prompt "
                             f"of {which}: give the prompt file (--prompts) with that task")
        return task

    def parts(self, task: Task | None, candidates: Sequence[Candidate]) -> list[dict[str, float]]:
        """The score parts of each candidate, in input order."""
        raise NotImplementedError

    def scored_parts(self, task: Task | None,
                     candidates: Sequence[Candidate]) -> list[dict[str, float]]:
        """:meth:`parts` with the policy's security tier above them."""
        rows = self.parts(task, candidates)
        if self.security_tier is None:
            return rows
        return self.security_tier.lift(self.language_for(task), candidates, rows)

    def rank(self, task: Task | None, candidates: list[Candidate]) -> list[Candidate]:
        """Set ``score``, ``score_parts`` and ``rank`` (1 = best); return them best first."""
        for candidate, parts in zip(candidates, self.scored_parts(task, candidates),
                                    strict=True):
            candidate.score_parts = {key: float(value) for key, value in parts.items()}
            candidate.score = float(sum(candidate.score_parts.values()))
        ordered = sorted(candidates, key=lambda c: (-(c.score or 0.0), c.index))
        for rank, candidate in enumerate(ordered, start=1):
            candidate.rank = rank
        return ordered

    def close(self) -> None:
        """Release resources (a sandbox pool); most rankers hold none."""


def lexicographic(levels: Sequence[list[dict[str, float]]],
                  names: Sequence[str]) -> list[dict[str, float]]:
    """Merge several rankers' parts so that the first decides and later ones only break ties.

    Each later ranker's parts are scaled into less than half of the smallest
    gap between the scores so far, so the sum of all parts orders the
    candidates exactly as a tie-breaker chain would. A name given twice (a chain of two
    policies with one file name) gets ``#2`` after its second use, so no level's parts
    overwrite another's.
    """
    names = _unique(names)
    merged = [{f"{names[0]}.{k}": v for k, v in row.items()} for row in levels[0]]
    for name, rows in zip(names[1:], levels[1:], strict=True):
        totals = sorted({round(sum(row.values()), 9) for row in merged})
        gaps = [b - a for a, b in itertools.pairwise(totals)]
        room = min(gaps) / 2 if gaps else 1.0
        scores = [sum(row.values()) for row in rows]
        low, spread = min(scores, default=0.0), max(scores, default=0.0) - min(scores, default=0.0)
        factor = room / spread * 0.999 if spread > 0 else 0.0
        for row, extra in zip(merged, rows, strict=True):
            row.update({f"{name}.{k}": factor * v for k, v in extra.items()})
            if factor:
                row[f"{name}.offset"] = -factor * low
    return merged


def _unique(names: Sequence[str]) -> list[str]:
    """``names`` with ``#k`` after the k-th use (k >= 2) of a repeated one."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique


class RankerBuilder(Protocol):
    """Builds the ranker ``name`` of one policy kind from its parsed policy; ``source`` names
    the policy file in errors."""

    def __call__(self, name: str, language: Language | None, policy: Mapping[str, Any],
                 source: str) -> Ranker: ...
