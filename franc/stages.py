"""The warm stage objects of one language, built in one place.

A :class:`Stages` holds the static filter (with its warm compiler), the analyzers and
the ranker of one language. The :class:`~franc.pipeline.Pipeline`, the server's worker
processes and the language server all build theirs here, and the server's repair runs in
the workers on the same warm objects as its ranking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from franc.models import Candidate, Language, Task, check_language

if TYPE_CHECKING:
    from franc.analysis import Analyzers
    from franc.java import JavaCompiler
    from franc.ranking.rankers import Ranker
    from franc.repair.loop import BatchFilter


@dataclass
class Stages:
    """Filter, analyzers and ranker of one language; closes only what it built."""

    language: Language
    filter: BatchFilter
    analyzers: Analyzers
    ranker: Ranker | None = None
    _owned: list[Any] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, language: str, *, static_filter: BatchFilter | str | Path | None = None,
              analyzers: Analyzers | Sequence[str] | None = None,
              ranker: Ranker | str | Path | None = None,
              compiler: JavaCompiler | None = None) -> Stages:
        """Each stage given as an object is used as is (not closed here); given by name
        (``static_filter``: a filter chain, analyzer ids, a ranker policy) or left out, it is
        built; a chain given by name also configures the analyzers. ``compiler``: a warm Java
        compiler for the filter to share; ``ranker=None``: no ranker (the caller ranks
        elsewhere)."""
        from franc.analysis import Analyzers
        from franc.filter import StaticFilter
        from franc.ranking import get_ranker

        lang = check_language(language)
        owned: list[Any] = []
        chain = static_filter if isinstance(static_filter, (str, Path)) else None
        if static_filter is None or chain is not None:
            static_filter = StaticFilter(lang, chain,
                                         compiler=compiler if lang == "java" else None)
            owned.append(static_filter)
        if analyzers is None or isinstance(analyzers, (list, tuple)):
            # a chain given by name also configures the analyzers (its [analysis.*] tables)
            analyzers = Analyzers(lang, analyzers, policy=chain)
            owned.append(analyzers)
        if isinstance(ranker, (str, Path)):
            ranker = get_ranker(ranker, lang)
            owned.append(ranker)
        return cls(lang, static_filter, analyzers, ranker, owned)  # type: ignore[arg-type]

    def with_ranker(self, ranker: Ranker) -> Stages:
        """The same warm filter and analyzers with another ranker (owned by the caller)."""
        return dataclasses.replace(self, ranker=ranker, _owned=[])

    def filtered(self, task: Task, raws: Sequence[str], first_index: int = 0
                 ) -> list[Candidate]:
        return self.filter.run_many([(task, first_index + i, raw) for i, raw in enumerate(raws)])

    def analyzed(self, task: Task, candidates: list[Candidate],
                 analyzers: Analyzers | None = None) -> list[Candidate]:
        return (analyzers or self.analyzers).run(candidates, {task.task_id: task})

    def check(self, task: Task, raws: Sequence[str], first_index: int = 0) -> list[Candidate]:
        """Filter and analyse raw candidates (not ranked)."""
        return self.analyzed(task, self.filtered(task, raws, first_index))

    def close(self) -> None:
        for owned in reversed(self._owned):
            owned.close()
        self._owned.clear()
