"""Rankers: each orders the candidates of one task and explains the order.

A ranker is built from a policy file in ``rankers/`` (a TOML file whose ``kind``
names one of :data:`RANKER_KINDS`, or a learned model's JSON). Every ranker
gives each candidate ``score_parts`` that sum to its ``score``; candidates are
sorted by score, best first, the model's order breaking ties.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from franc.errors import InputError
from franc.models import Candidate, Language, Task, check_language
from franc.policy import locate
from franc.ranking.features import FEATURES, ConsensusParams, Weights, task_features
from franc.ranking.learned import tier_scores

POLICY_SUFFIXES = (".toml", ".json")


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


class OriginalRanker(Ranker):
    """The model's own order."""

    kind = "original"

    def parts(self, task, candidates):
        return [{"position": -float(c.index)} for c in candidates]


class FrancRanker(Ranker):
    """FRANC's rule: compilable first, then those without analyzer findings, then model order.

    Following the paper, only the security analyzers FRANC ran count (Bandit for
    Python, SpotBugs for Java; our Java rules stand in for SpotBugs), on the
    whole snippet, prompt lines included, as FRANC analysed whole files.
    """

    kind = "franc"

    def __init__(self, name, language=None, *, tools: Mapping[str, Sequence[str]],
                 count_prompt_findings: bool = True):
        super().__init__(name, language)
        self.tools = {lang: tuple(names) for lang, names in tools.items()}
        self.count_prompt_findings = count_prompt_findings

    def parts(self, task, candidates):
        tools = self.tools.get(self.language_for(task), ())
        rows = []
        for c in candidates:
            counted = [f for f in c.findings or [] if f.tool in tools
                       and (self.count_prompt_findings or not f.in_prompt)]
            rows.append({"compiles": 2.0 if c.compiles else 0.0,
                         "no_findings": 1.0 if c.compiles and not counted else 0.0})
        return rows


class WeightedRanker(Ranker):
    """A transparent weighted sum of static features (``quality``, ``consensus``)."""

    kind = "weighted"

    def __init__(self, name, language=None, *, weights: Mapping[str, float],
                 finding_weights: Weights | None = None,
                 consensus: ConsensusParams | None = None,
                 language_weights: Mapping[str, Mapping[str, float]] | None = None):
        super().__init__(name, language)
        language_weights = language_weights or {}
        for table in (weights, *language_weights.values()):
            unknown = sorted(set(table) - set(FEATURES))
            if unknown:
                raise InputError(f"ranker {name!r}: unknown feature weight(s) "
                                 f"{', '.join(unknown)}; features: {', '.join(FEATURES)}")
        self.weights = dict(weights)
        #: Per language, weights that replace the shared ones (``[languages.java.weights]``).
        self.language_weights = {check_language(lang): dict(table)
                                 for lang, table in language_weights.items()}
        self.finding_weights = finding_weights or Weights()
        self.consensus = consensus or ConsensusParams()

    def weights_for(self, language: Language) -> dict[str, float]:
        return {**self.weights, **self.language_weights.get(language, {})}

    def parts(self, task, candidates):
        language = self.language_for(task)
        weights = self.weights_for(language)
        rows = task_features(language, task, candidates, self.finding_weights, self.consensus)
        return [{name: weight * row[name] for name, weight in weights.items()
                 if weight * row[name] != 0.0} for row in rows]


class LearnedRanker(Ranker):
    """Rule tiers (compilable first, ...), then a linear model over the standardised
    features (trained by ``franc train-ranker``)."""

    kind = "learned"

    def __init__(self, name, language=None, *, model: Mapping[str, Any]):
        super().__init__(name, language)
        from franc.ranking.learned import LearnedModel  # lazy: avoids an import cycle
        self.model = LearnedModel.from_json(model, source=name)

    def parts(self, task, candidates):
        language = self.language_for(task)
        rows = task_features(language, task, candidates, self.model.finding_weights,
                             self.model.consensus)
        # Rule tiers first (compilable first, as FRANC does); the model orders within them.
        tiers = self.model.settings.tiers_for(language)
        return lexicographic([[tier_scores(tiers, row) for row in rows],
                              [self.model.explain(language, row) for row in rows]],
                             ["tier", "model"])


def lexicographic(levels: Sequence[list[dict[str, float]]],
                  names: Sequence[str]) -> list[dict[str, float]]:
    """Merge several rankers' parts so that the first decides and later ones only break ties.

    Each later ranker's parts are scaled into less than half of the smallest
    gap between the scores so far, so the sum of all parts orders the
    candidates exactly as a tie-breaker chain would.
    """
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


class ChainRanker(Ranker):
    """Rankers as a tie-breaker chain: the first orders, the next break its ties."""

    kind = "chain"

    def __init__(self, name, language=None, *, rankers: Sequence[Ranker]):
        super().__init__(name, language)
        if not rankers:
            raise InputError(f"ranker {name!r}: a chain needs at least one ranker")
        self.members = list(rankers)

    def parts(self, task, candidates):
        return lexicographic([r.parts(task, candidates) for r in self.members],
                             [r.name for r in self.members])

    def close(self):
        for member in self.members:
            member.close()


class FusionRanker(Ranker):
    """Rank fusion of several rankers, as ``ranx.fuse`` computes it (RRF or weighted sum
    of min-max normalised scores); the parts are each ranker's contribution."""

    kind = "fusion"
    METHODS = ("rrf", "wsum")

    def __init__(self, name, language=None, *, rankers: Sequence[Ranker], method: str = "rrf",
                 k: int = 60, weights: Sequence[float] | None = None):
        super().__init__(name, language)
        if method not in self.METHODS:
            raise InputError(f"ranker {name!r}: fusion method {method!r} not one of "
                             f"{', '.join(self.METHODS)}")
        self.members = list(rankers)
        self.method, self.k = method, k
        self.weights = list(weights) if weights else [1.0] * len(self.members)

    def parts(self, task, candidates):
        rows: list[dict[str, float]] = [{} for _ in candidates]
        for member, weight in zip(self.members, self.weights, strict=True):
            scored = member.parts(task, candidates)
            scores = [sum(p.values()) for p in scored]
            if self.method == "rrf":
                order = sorted(range(len(candidates)),
                               key=lambda i: (-scores[i], candidates[i].index))
                for rank, i in enumerate(order, start=1):
                    rows[i][member.name] = weight / (self.k + rank)
            else:
                low, high = min(scores, default=0.0), max(scores, default=0.0)
                for i, score in enumerate(scores):
                    rows[i][member.name] = weight * ((score - low) / (high - low)
                                                     if high > low else 0.0)
        return rows

    def close(self):
        for member in self.members:
            member.close()


def _examples_ranker(name: str, language: Language | None, policy: Mapping[str, Any],
                     source: str) -> Ranker:
    from franc.ranking.examples import ExamplesRanker  # lazy: loads the sandbox lazily
    return ExamplesRanker(name, language, timeout=float(policy.get("timeout", 5.0)),
                          workers=policy.get("workers"), cache=policy.get("cache"))


def _members(name: str, language: Language | None, policy: Mapping[str, Any],
             source: str) -> list[Ranker]:
    members = policy.get("rankers")
    if not isinstance(members, list) or not members:
        raise InputError("'rankers' must be a non-empty list of ranker names or tables",
                         source=source)
    built = []
    for position, member in enumerate(members):
        if isinstance(member, str):
            built.append(get_ranker(member, language))
        elif isinstance(member, dict):
            built.append(from_policy(str(member.get("name", f"{name}[{position}]")), member,
                                     language, source))
        else:
            raise InputError(f"'rankers' entry {position} must be a name or a table",
                             source=source)
    return built


def _finding_weights(policy: Mapping[str, Any], source: str) -> Weights:
    try:
        cwe = {int(key): float(value) for key, value in policy.get("cwe", {}).items()}
    except ValueError as exc:
        raise InputError(f"[cwe] keys must be CWE numbers: {exc}", source=source) from exc
    defaults = Weights()
    return Weights(severity={**defaults.severity, **policy.get("severity", {})},
                   confidence={**defaults.confidence, **policy.get("confidence", {})},
                   cwe=cwe, cwe_default=float(policy.get("cwe_default", 1.0)))


def _language_weights(policy: Mapping[str, Any], source: str) -> dict[str, dict[str, float]]:
    """``[languages.<language>.weights]`` tables: per-language replacements of ``[weights]``."""
    tables = policy.get("languages", {})
    if not isinstance(tables, dict) or not all(
            isinstance(t, dict) and isinstance(t.get("weights", {}), dict)
            for t in tables.values()):
        raise InputError("[languages.<language>.weights] must be tables of feature weights",
                         source=source)
    try:
        return {lang: {k: float(v) for k, v in table.get("weights", {}).items()}
                for lang, table in tables.items()}
    except (TypeError, ValueError) as exc:
        raise InputError(f"[languages] weights must be numbers: {exc}", source=source) from exc


def _consensus(policy: Mapping[str, Any]) -> ConsensusParams:
    table = policy.get("consensus", {})
    return ConsensusParams(max_n=int(table.get("max_n", 4)),
                           normalise=bool(table.get("normalise", False)),
                           method=str(table.get("method", "ngram")))


Builder = Callable[[str, "Language | None", Mapping[str, Any], str], Ranker]

#: Ranker kinds a policy file can name, and how each is built from its policy.
RANKER_KINDS: Mapping[str, Builder] = MappingProxyType({
    "original": lambda name, language, policy, source: OriginalRanker(name, language),
    "franc": lambda name, language, policy, source: FrancRanker(
        name, language, tools=policy.get("tools", {}),
        count_prompt_findings=bool(policy.get("count_prompt_findings", True))),
    "weighted": lambda name, language, policy, source: WeightedRanker(
        name, language, weights=policy.get("weights", {}),
        finding_weights=_finding_weights(policy, source), consensus=_consensus(policy),
        language_weights=_language_weights(policy, source)),
    "learned": lambda name, language, policy, source: LearnedRanker(
        name, language, model=policy),
    "examples": _examples_ranker,
    "chain": lambda name, language, policy, source: ChainRanker(
        name, language, rankers=_members(name, language, policy, source)),
    "fusion": lambda name, language, policy, source: FusionRanker(
        name, language, rankers=_members(name, language, policy, source),
        method=str(policy.get("method", "rrf")), k=int(policy.get("k", 60)),
        weights=policy.get("weights")),
})


def from_policy(name: str, policy: Mapping[str, Any], language: Language | None = None,
                source: str | None = None) -> Ranker:
    """Build a ranker from an already parsed policy (a TOML table or a learned model)."""
    if not isinstance(policy, Mapping):
        raise InputError(f"ranker {name!r}: a policy is a table (TOML) or an object (JSON), "
                         f"not a {type(policy).__name__}", source=source)
    kind = policy.get("kind")
    if not isinstance(kind, str) or kind not in RANKER_KINDS:
        raise InputError(f"ranker {name!r}: unknown kind {kind!r}; kinds: "
                         f"{', '.join(RANKER_KINDS)}", source=source)
    return RANKER_KINDS[kind](name, language, policy, source or name)


def load_policy(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"not a valid ranker policy: {exc}", source=str(path)) from exc


def get_ranker(name_or_path: str | Path, language: str | None = None) -> Ranker:
    """The ranker named by a shipped policy (``quality``) or a policy file's path."""
    lang = check_language(language) if language is not None else None
    path = locate("rankers", name_or_path, POLICY_SUFFIXES)
    name = path.stem if Path(name_or_path).suffix else str(name_or_path)
    loading = _LOADING.get()
    if path.resolve() in loading:
        chain = " -> ".join(p.name for p in (*loading, path.resolve()))
        raise InputError(f"ranker {name!r} includes itself ({chain})", source=str(path))
    token = _LOADING.set((*loading, path.resolve()))
    try:
        return from_policy(name, load_policy(path), lang, str(path))
    finally:
        _LOADING.reset(token)


#: The policy files being loaded by the current (nested) :func:`get_ranker` calls, so that
#: a chain naming itself, directly or through another policy, is an error, not a recursion.
_LOADING: ContextVar[tuple[Path, ...]] = ContextVar("ranker_policies_loading", default=())
