"""The ranker interface: :class:`Ranker`, and :class:`RankerBuilder`, how a policy kind
builds one (the entries of ``franc.ranking.rankers.RANKER_KINDS``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from franc.errors import InputError
from franc.models import Candidate, Language, Task


class Ranker:
    """Base class: subclasses implement :meth:`parts`."""

    kind: ClassVar[str]

    def __init__(self, name: str, language: Language | None = None):
        self.name = name
        self.language = language

    def language_for(self, task: Task | None) -> Language:
        if task is not None:
            return task.language
        if self.language is None:
            raise InputError(f"ranker {self.name!r} needs a language (pass language= or a task)")
        return self.language

    def parts(self, task: Task | None, candidates: Sequence[Candidate]) -> list[dict[str, float]]:
        """The score parts of each candidate, in input order."""
        raise NotImplementedError

    def rank(self, task: Task | None, candidates: list[Candidate]) -> list[Candidate]:
        """Set ``score``, ``score_parts`` and ``rank`` (1 = best); return them best first."""
        for candidate, parts in zip(candidates, self.parts(task, candidates), strict=True):
            candidate.score_parts = {key: float(value) for key, value in parts.items()}
            candidate.score = float(sum(candidate.score_parts.values()))
        ordered = sorted(candidates, key=lambda c: (-(c.score or 0.0), c.index))
        for rank, candidate in enumerate(ordered, start=1):
            candidate.rank = rank
        return ordered

    def close(self) -> None:
        """Release resources (a sandbox pool); most rankers hold none."""


class RankerBuilder(Protocol):
    """Builds the ranker ``name`` of one policy kind from its parsed policy; ``source`` names
    the policy file in errors."""

    def __call__(self, name: str, language: Language | None, policy: Mapping[str, Any],
                 source: str) -> Ranker: ...
