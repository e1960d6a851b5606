"""The learned ranker: a logistic regression over the static features, stored as JSON.

Trained on labeled candidates (``franc label`` output, with findings) to predict
"passes the functional tests" (label >= 2). The JSON holds per language the
feature means, scales, coefficients and intercept: readable, diffable, and
never unpickled. Cross-validation groups candidates by prompt so that no
prompt is in both the training and the test fold.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from franc.errors import InputError
from franc.models import LANGUAGES, Candidate, Language, Task
from franc.ranking.features import FEATURES, ConsensusParams, Weights, task_features

FORMAT = "franc-learned-ranker"
PASS_LABEL = 2


@dataclass(frozen=True)
class LinearModel:
    """Standardise, then a linear score (the logit of P(pass))."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def to_json(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
                "intercept": self.intercept}


@dataclass(frozen=True)
class LearnedModel:
    features: tuple[str, ...]
    models: Mapping[str, LinearModel]
    finding_weights: Weights = field(default_factory=Weights)
    consensus: ConsensusParams = field(default_factory=ConsensusParams)
    card: Mapping[str, Any] = field(default_factory=dict)

    def explain(self, language: Language, row: Mapping[str, float]) -> dict[str, float]:
        """Score parts: the intercept plus coef x standardised value per feature."""
        model = self.models.get(language)
        if model is None:
            raise InputError(f"learned ranker has no model for {language}; trained for "
                             f"{', '.join(self.models)}")
        parts = {"intercept": model.intercept}
        for name, mean, scale, coef in zip(self.features, model.mean, model.scale, model.coef,
                                           strict=True):
            contribution = coef * (row[name] - mean) / scale
            if contribution != 0.0:
                parts[name] = contribution
        return parts

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "kind": "learned", "target": "label >= 2",
                "features": list(self.features),
                "models": {lang: m.to_json() for lang, m in self.models.items()},
                "consensus": {"max_n": self.consensus.max_n,
                              "normalise": self.consensus.normalise,
                              "method": self.consensus.method},
                "card": dict(self.card)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str | None = None) -> LearnedModel:
        if data.get("format") != FORMAT:
            raise InputError(f"not a learned ranker (format {data.get('format')!r}, expected "
                             f"{FORMAT!r})", source=source)
        features = tuple(data.get("features", ()))
        unknown = sorted(set(features) - set(FEATURES))
        if unknown:
            raise InputError(f"learned ranker uses unknown features {', '.join(unknown)}",
                             source=source)
        models = {}
        for lang, raw in data.get("models", {}).items():
            try:
                model = LinearModel(tuple(map(float, raw["mean"])), tuple(map(float, raw["scale"])),
                                    tuple(map(float, raw["coef"])), float(raw["intercept"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"learned ranker model for {lang!r} is malformed: {exc}",
                                 source=source) from exc
            if not len(model.mean) == len(model.scale) == len(model.coef) == len(features):
                raise InputError(f"learned ranker model for {lang!r} does not match its "
                                 f"{len(features)} features", source=source)
            models[lang] = model
        consensus = data.get("consensus", {})
        return cls(features, models,
                   consensus=ConsensusParams(int(consensus.get("max_n", 4)),
                                             bool(consensus.get("normalise", False)),
                                             str(consensus.get("method", "ngram"))),
                   card=data.get("card", {}))


def feature_matrix(language: Language, groups: Sequence[Sequence[Candidate]],
                   tasks: Mapping[str, Task] | None = None,
                   consensus: ConsensusParams | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Rows of :data:`FEATURES`, pass labels (0/1), graded labels and the prompt of each row.

    ``groups`` holds the candidates of one task of one file each (features like
    consensus compare a candidate with its siblings).
    """
    rows, passing, graded, prompts = [], [], [], []
    for group in groups:
        task = (tasks or {}).get(group[0].task_id)
        for candidate, row in zip(group, task_features(language, task, group,
                                                       consensus=consensus), strict=True):
            if candidate.label is None:
                raise InputError(f"candidate {candidate.task_id}#{candidate.index} has no label; "
                                 "train on `franc label` output")
            rows.append([row[name] for name in FEATURES])
            passing.append(int(candidate.label >= PASS_LABEL))
            graded.append(candidate.label)
            prompts.append(candidate.task_id)
    return (np.asarray(rows, dtype=float).reshape(-1, len(FEATURES)), np.asarray(passing),
            np.asarray(graded, dtype=float), prompts)


def group_by_task(candidates: Sequence[Candidate]) -> dict[str, list[Candidate]]:
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[candidate.task_id].append(candidate)
    return groups


OBJECTIVES = ("pairwise", "pointwise")


def pairwise_differences(z: np.ndarray, y: np.ndarray, groups: np.ndarray,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Within each group, (passing - failing) rows labeled 1 and their negations labeled 0."""
    diffs = []
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        good, bad = rows[y[rows] == 1], rows[y[rows] == 0]
        if len(good) and len(bad):
            diffs.append((z[good][:, None, :] - z[bad][None, :, :]).reshape(-1, z.shape[1]))
    if not diffs:
        return np.empty((0, z.shape[1])), np.empty(0)
    d = np.vstack(diffs)
    return np.vstack([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))])


def fit_linear(x: np.ndarray, y: np.ndarray, c: float = 1.0, groups: np.ndarray | None = None,
               objective: str = "pairwise") -> LinearModel:
    """Standardise ``x`` and fit a logistic regression.

    ``pairwise`` (default) learns from pairs inside one prompt (a passing minus
    a failing candidate), so it optimises the order within a prompt, which is
    all a ranker needs; ``pointwise`` predicts P(pass) from each row alone.
    """
    from sklearn.linear_model import LogisticRegression  # lazy: heavy import

    if objective not in OBJECTIVES:
        raise InputError(f"objective {objective!r} not one of {', '.join(OBJECTIVES)}")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    neutral = LinearModel(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                          (0.0,) * x.shape[1], 0.0)
    # The ranker puts compilable candidates first by rule; the model orders those.
    compilable = x[:, FEATURES.index("compiles")] > 0
    z, y = z[compilable], y[compilable]
    groups = groups[compilable] if groups is not None else None
    if objective == "pairwise" and groups is not None:
        z, y = pairwise_differences(z, y, groups)
    if len(set(y.tolist())) < 2:
        # Nothing passes (or everything does): no signal; keep a neutral model.
        return neutral
    model = LogisticRegression(C=c, max_iter=2000,
                               fit_intercept=objective == "pointwise").fit(z, y)
    intercept = float(model.intercept_[0]) if objective == "pointwise" else 0.0
    return LinearModel(neutral.mean, neutral.scale, tuple(float(v) for v in model.coef_[0]),
                       intercept)


def _scores(model: LinearModel, x: np.ndarray) -> np.ndarray:
    """The ranker's order: compilable first (a large offset), then the linear score."""
    linear = ((x - np.asarray(model.mean)) / np.asarray(model.scale)) @ np.asarray(model.coef)
    return linear + 1e6 * x[:, FEATURES.index("compiles")]


def _task_metrics(scores: np.ndarray, x: np.ndarray, labels_graded: np.ndarray,
                  groups: Sequence[int]) -> dict[str, float]:
    """Top-1 pass rate and NDCG@10 of the model's order over the given rows' groups."""
    position = FEATURES.index("position")
    by_group: dict[int, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        by_group[group].append(i)
    top1, ndcgs = [], []
    for rows in by_group.values():
        order = sorted(rows, key=lambda i: (-scores[i], x[i, position]))
        gains = [float(labels_graded[i]) for i in order]
        top1.append(float(gains[0] >= PASS_LABEL))
        ideal = sorted(gains, reverse=True)
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal[:10]))
        if idcg > 0:
            ndcgs.append(sum(g / math.log2(r + 2) for r, g in enumerate(gains[:10])) / idcg)
    return {"top1_pass": float(np.mean(top1)) if top1 else 0.0,
            "ndcg@10": float(np.mean(ndcgs)) if ndcgs else 0.0}


def train(files: Sequence[tuple[str, Language, Sequence[Candidate]]],
          tasks: Mapping[str, Task] | None = None, *, folds: int = 5,
          c: float = 1.0, objective: str = "pairwise") -> LearnedModel:
    """Fit one model per language over labeled files ``(name, language, candidates)``.

    The card records grouped cross-validation scores: folds split by prompt
    (task id), so a prompt's candidates from every model sit in the same fold.
    """
    from sklearn.metrics import roc_auc_score  # lazy: heavy import
    from sklearn.model_selection import GroupKFold

    consensus = ConsensusParams()
    models: dict[str, LinearModel] = {}
    card: dict[str, Any] = {"sources": [name for name, _, _ in files],
                            "estimator": "LogisticRegression on standardised features",
                            "objective": objective, "C": c, "cv_folds": folds,
                            "cv_grouping": "task_id",
                            "languages": {}}
    for language in LANGUAGES:
        groups = [group for _, lang, candidates in files if lang == language
                  for group in group_by_task(candidates).values()]
        if not groups:
            continue
        x, y, graded, prompts = feature_matrix(language, groups, tasks, consensus)
        group_ids = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        cv: dict[str, list[float]] = defaultdict(list)
        distinct = len(set(prompts))
        if distinct >= 2:
            for train_rows, test_rows in GroupKFold(n_splits=min(folds, distinct)).split(
                    x, y, prompts):
                fold_model = fit_linear(x[train_rows], y[train_rows], c,
                                        group_ids[train_rows], objective)
                scores = _scores(fold_model, x[test_rows])
                if len(set(y[test_rows].tolist())) == 2:
                    cv["auc"].append(float(roc_auc_score(y[test_rows], scores)))
                for key, value in _task_metrics(scores, x[test_rows], graded[test_rows],
                                                group_ids[test_rows].tolist()).items():
                    cv[key].append(value)
        models[language] = fit_linear(x, y, c, group_ids, objective)
        original = _task_metrics(np.zeros(len(x)), x, graded,
                                 group_ids.tolist())
        card["languages"][language] = {
            "files": sum(lang == language for _, lang, _ in files),
            "candidates": len(y), "prompts": distinct, "passing": int(y.sum()),
            "cv": {key: round(float(np.mean(values)), 4) for key, values in cv.items()},
            "original_order": {key: round(value, 4) for key, value in original.items()}}
    if not models:
        raise InputError("no labeled candidates to train on")
    return LearnedModel(FEATURES, models, consensus=consensus, card=card)


def card_markdown(model: LearnedModel, command: str) -> str:
    """The model card shipped beside a learned ranker: data, features, CV scores."""
    card = model.card
    lines = ["# Learned ranker card", "",
             f"Trained with `{command}`.", "",
             f"- Estimator: {card.get('estimator')}, objective {card.get('objective')} "
             f"(pairs of a passing and a failing compilable candidate of one prompt), "
             f"C = {card.get('C')}. Compilable candidates come first by rule; the model "
             "orders candidates within the compilable and the non-compilable tier.",
             f"- Target: passes the functional tests (label >= {PASS_LABEL}).",
             f"- Cross-validation: {card.get('cv_folds')} folds grouped by "
             f"{card.get('cv_grouping')}: every candidate of a prompt, from every model, "
             "is in the same fold.",
             f"- Data: {', '.join(card.get('sources', []))}.", "",
             "| language | files | candidates | prompts | passing | CV AUC | CV top-1 | "
             "CV NDCG@10 | original top-1 | original NDCG@10 |", "|---|---|---|---|---|---|---|"
             "---|---|---|"]
    for language, info in card.get("languages", {}).items():
        cv, original = info["cv"], info["original_order"]
        lines.append(f"| {language} | {info['files']} | {info['candidates']} | "
                     f"{info['prompts']} | {info['passing']} | {cv.get('auc', '-')} | "
                     f"{cv.get('top1_pass', '-')} | {cv.get('ndcg@10', '-')} | "
                     f"{original['top1_pass']} | {original['ndcg@10']} |")
    lines += ["", "Features (standardised; coefficient per language):", "",
              "| feature | " + " | ".join(model.models) + " |",
              "|---|" + "---|" * len(model.models)]
    for k, name in enumerate(model.features):
        lines.append(f"| {name} | " + " | ".join(f"{m.coef[k]:+.3f}"
                                                 for m in model.models.values()) + " |")
    lines += ["", "Known limits: trained on HumanEval only (short, self-contained functions); "
              "the CV figures mix models, so a new model's candidates may rank differently. "
              "Leave-one-model-out figures are in BENCHMARKS.md (benchmarks/ranking.py)."]
    return "\n".join(lines) + "\n"
