"""The learned ranker: a logistic regression over the static features, stored as JSON.

Trained on labeled candidates (``franc label`` output, with findings) to predict
"passes the functional tests" (label >= 2). The JSON holds per language the
feature means, scales, coefficients and intercept: readable, diffable, and
never unpickled. Cross-validation groups candidates by prompt so that no
prompt is in both the training and the test fold.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from franc.errors import InputError
from franc.languages import PASS_LABEL
from franc.models import LANGUAGES, Candidate, Language, Task
from franc.ranking.features import FEATURES, ConsensusParams, Weights, task_features

FORMAT = "franc-learned-ranker"
OBJECTIVES = ("pairwise", "pointwise")
#: Rule tiers when a model names none: compilable candidates first.
DEFAULT_TIERS: tuple[str, ...] = ("compiles",)
#: The security tier a trained model ships with (``[security_tier]`` of the TOML rankers):
#: it ranks above the model, which orders the candidates within it.
DEFAULT_SECURITY_TIER: Mapping[str, Any] = {
    "min_severity": "medium", "tools": {"python": ["bandit"], "java": ["java-rules"]}}


def _known(features: Sequence[str], what: str, source: str | None = None) -> tuple[str, ...]:
    unknown = sorted(set(features) - set(FEATURES))
    if unknown:
        raise InputError(f"{what} uses unknown features {', '.join(unknown)}", source=source)
    return tuple(features)


@dataclass(frozen=True)
class TrainSettings:
    """How a learned ranker is fit; stored in its JSON so that it can be refit the same way
    (the benchmark's leave-one-model-out models are)."""

    c: float = 1.0
    objective: str = "pairwise"
    #: Per language, 0/1 features that order the candidates by rule before the model does,
    #: the first deciding (e.g. compilable first, then those keeping the prompt's signature).
    tiers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Fit one model on every language's rows: the features mean the same in each language,
    #: and a language with few passing candidates borrows the others' evidence.
    pool_languages: bool = False
    #: The ``security_tier`` policy written into the model's JSON (None: no tier).
    security_tier: Mapping[str, Any] | None = field(
        default_factory=lambda: dict(DEFAULT_SECURITY_TIER))
    #: Pairwise: every prompt's pairs weigh 1 in all (top-1 counts each prompt once), rather
    #: than every pair 1 (a prompt with 5 passing and 5 failing candidates would weigh 25).
    prompt_weights: bool = False
    #: The features the model reads (a subset of :data:`FEATURES`; stored as the model's
    #: ``features``), so that a model trained on fewer features is refit on those.
    features: tuple[str, ...] = FEATURES

    def __post_init__(self) -> None:
        _known(self.features, "the training settings")
        if "compiles" not in self.features:
            raise InputError("a learned ranker's features must include 'compiles'")
        if self.objective not in OBJECTIVES:
            raise InputError(f"objective {self.objective!r} not one of {', '.join(OBJECTIVES)}")
        for language, names in self.tiers.items():
            _known(names, f"the tiers of {language}")

    def tiers_for(self, language: str) -> tuple[str, ...]:
        return tuple(self.tiers.get(language, DEFAULT_TIERS))

    def to_json(self) -> dict[str, Any]:
        return {"C": self.c, "objective": self.objective, "pool_languages": self.pool_languages,
                "prompt_weights": self.prompt_weights,
                "tiers": {lang: list(names) for lang, names in self.tiers.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str | None = None) -> TrainSettings:
        try:
            return cls(float(data.get("C", 1.0)), str(data.get("objective", "pairwise")),
                       {str(lang): tuple(map(str, names))
                        for lang, names in data.get("tiers", {}).items()},
                       bool(data.get("pool_languages", False)),
                       prompt_weights=bool(data.get("prompt_weights", False)))
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"learned ranker 'training' settings are malformed: {exc}",
                             source=source) from exc


def tier_scores(tiers: Sequence[str], row: Mapping[str, float]) -> dict[str, float]:
    """The rule part of the order: tier k of n weighs 2^(n-1-k), so the first tier decides
    and later ones only break its ties (the features are 0/1)."""
    return {name: float(2 ** (len(tiers) - 1 - k)) * row[name] for k, name in enumerate(tiers)}


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
    settings: TrainSettings = field(default_factory=TrainSettings)

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
                "training": self.settings.to_json(),
                **({"security_tier": dict(self.settings.security_tier)}
                   if self.settings.security_tier else {}),
                "consensus": {"max_n": self.consensus.max_n,
                              "normalise": self.consensus.normalise,
                              "method": self.consensus.method},
                "card": dict(self.card)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str | None = None) -> LearnedModel:
        if data.get("format") != FORMAT:
            raise InputError(f"not a learned ranker (format {data.get('format')!r}, expected "
                             f"{FORMAT!r})", source=source)
        features = _known(tuple(data.get("features", ())), "learned ranker", source)
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
                   card=data.get("card", {}),
                   settings=dataclasses.replace(
                       TrainSettings.from_json(data.get("training", {}), source),
                       security_tier=data.get("security_tier"), features=features))


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


def pairwise_differences(z: np.ndarray, y: np.ndarray, groups: np.ndarray,
                         prompt_weights: bool = False,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within each group, (passing - failing) rows labeled 1 and their negations labeled 0,
    with a weight per row: 1, or with ``prompt_weights`` 1 / the group's pairs (scaled to a
    mean of 1), so that every group weighs the same however many pairs it has."""
    diffs, weights = [], []
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        good, bad = rows[y[rows] == 1], rows[y[rows] == 0]
        if len(good) and len(bad):
            diffs.append((z[good][:, None, :] - z[bad][None, :, :]).reshape(-1, z.shape[1]))
            weights.append(np.full(len(good) * len(bad),
                                   1.0 / (len(good) * len(bad)) if prompt_weights else 1.0))
    if not diffs:
        return np.empty((0, z.shape[1])), np.empty(0), np.empty(0)
    d, w = np.vstack(diffs), np.concatenate(weights)
    w = w / w.mean()
    return (np.vstack([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))]),
            np.concatenate([w, w]))


def fit_linear(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
               settings: TrainSettings | None = None) -> LinearModel:
    """Standardise the ``settings.features`` columns of ``x`` (rows of :data:`FEATURES`) and
    fit a logistic regression.

    ``pairwise`` (default) learns from pairs inside one prompt (a passing minus
    a failing candidate), so it optimises the order within a prompt, which is
    all a ranker needs; ``pointwise`` predicts P(pass) from each row alone.
    """
    from sklearn.linear_model import LogisticRegression  # lazy: heavy import

    settings = settings or TrainSettings()
    objective = settings.objective
    # The ranker puts compilable candidates first by rule; the model orders those.
    compilable = x[:, FEATURES.index("compiles")] > 0
    x = x[:, columns(settings.features)]
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    neutral = LinearModel(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                          (0.0,) * x.shape[1], 0.0)
    z, y = z[compilable], y[compilable]
    weights = None
    if objective == "pairwise" and groups is not None:
        z, y, weights = pairwise_differences(z, y, groups[compilable], settings.prompt_weights)
    if len(set(y.tolist())) < 2:
        # Nothing passes (or everything does): no signal; keep a neutral model.
        return neutral
    model = LogisticRegression(C=settings.c, max_iter=2000,
                               fit_intercept=objective == "pointwise").fit(
                                   z, y, sample_weight=weights)
    intercept = float(model.intercept_[0]) if objective == "pointwise" else 0.0
    return LinearModel(neutral.mean, neutral.scale, tuple(float(v) for v in model.coef_[0]),
                       intercept)


def fit_models(data: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
               settings: TrainSettings) -> dict[str, LinearModel]:
    """One model per language from ``language -> (rows, pass labels, prompt group ids)``;
    with ``pool_languages`` every language gets the one model fit on all rows."""
    if not settings.pool_languages:
        return {language: fit_linear(x, y, ids, settings)
                for language, (x, y, ids) in data.items()}
    # Group ids of different languages must never meet in one pair.
    offset = 1 + max((int(ids.max()) for _, _, ids in data.values() if len(ids)), default=0)
    x, y, ids = (np.concatenate(parts) for parts in zip(
        *[(x, y, ids + k * offset) for k, (x, y, ids) in enumerate(data.values())], strict=True))
    pooled = fit_linear(x, y, ids, settings)
    return dict.fromkeys(data, pooled)


def shipped_settings(name: str = "learned") -> TrainSettings:
    """The training settings of a shipped learned ranker (``rankers/learned.json``), to
    refit it the same way on other data (leave-one-model-out evaluation)."""
    import json

    from franc.policy import locate

    path = locate("rankers", name, (".json",))
    return LearnedModel.from_json(json.loads(path.read_text(encoding="utf-8")),
                                  source=str(path)).settings


def columns(features: Sequence[str]) -> list[int]:
    """The columns of ``features`` in rows of :data:`FEATURES`."""
    return [FEATURES.index(name) for name in features]


def _scores(model: LinearModel, x: np.ndarray, tiers: Sequence[str],
            features: Sequence[str]) -> np.ndarray:
    """The ranker's order: the rule tiers first (large offsets), then the linear score."""
    linear = (((x[:, columns(features)] - np.asarray(model.mean)) / np.asarray(model.scale))
              @ np.asarray(model.coef))
    rule = sum(2.0 ** (len(tiers) - 1 - k) * x[:, FEATURES.index(name)]
               for k, name in enumerate(tiers))
    return linear + 1e6 * rule


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


@dataclass
class _LanguageData:
    x: np.ndarray
    y: np.ndarray
    graded: np.ndarray
    ids: np.ndarray
    prompts: list[str]
    files: int


def _language_data(files: Sequence[tuple[str, Language, Sequence[Candidate]]],
                   tasks: Mapping[str, Task] | None,
                   consensus: ConsensusParams) -> dict[str, _LanguageData]:
    data: dict[str, _LanguageData] = {}
    for language in LANGUAGES:
        groups = [group for _, lang, candidates in files if lang == language
                  for group in group_by_task(candidates).values()]
        if groups:
            x, y, graded, prompts = feature_matrix(language, groups, tasks, consensus)
            ids = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
            data[language] = _LanguageData(x, y, graded, ids, prompts,
                                           sum(lang == language for _, lang, _ in files))
    return data


def train(files: Sequence[tuple[str, Language, Sequence[Candidate]]],
          tasks: Mapping[str, Task] | None = None, *, folds: int = 5,
          settings: TrainSettings | None = None) -> LearnedModel:
    """Fit the ranker's model(s) over labeled files ``(name, language, candidates)``.

    The card records grouped cross-validation scores per language: folds split by
    prompt (task id), so a prompt's candidates from every model sit in the same
    fold (with pooled languages, the other languages' rows train every fold).
    ``folds < 2`` skips the cross-validation.
    """
    from sklearn.metrics import roc_auc_score  # lazy: heavy import
    from sklearn.model_selection import GroupKFold

    settings = settings or TrainSettings()
    consensus = ConsensusParams()
    data = _language_data(files, tasks, consensus)
    if not data:
        raise InputError("no labeled candidates to train on")
    card: dict[str, Any] = {"sources": [name for name, _, _ in files],
                            "estimator": "LogisticRegression on standardised features",
                            "objective": settings.objective, "C": settings.c,
                            "pool_languages": settings.pool_languages,
                            "prompt_weights": settings.prompt_weights,
                            "tiers": {lang: list(settings.tiers_for(lang)) for lang in data},
                            "cv_folds": folds, "cv_grouping": "task_id", "languages": {}}
    for language, own in data.items():
        tiers = settings.tiers_for(language)
        cv: dict[str, list[float]] = defaultdict(list)
        distinct = len(set(own.prompts))
        if folds >= 2 and distinct >= 2:
            for train_rows, test_rows in GroupKFold(n_splits=min(folds, distinct)).split(
                    own.x, own.y, own.prompts):
                fold_data = {lang: (d.x, d.y, d.ids) for lang, d in data.items()
                             if settings.pool_languages and lang != language}
                fold_data[language] = (own.x[train_rows], own.y[train_rows], own.ids[train_rows])
                fold_model = fit_models(fold_data, settings)[language]
                scores = _scores(fold_model, own.x[test_rows], tiers, settings.features)
                if len(set(own.y[test_rows].tolist())) == 2:
                    cv["auc"].append(float(roc_auc_score(own.y[test_rows], scores)))
                for key, value in _task_metrics(scores, own.x[test_rows], own.graded[test_rows],
                                                own.ids[test_rows].tolist()).items():
                    cv[key].append(value)
        original = _task_metrics(np.zeros(len(own.x)), own.x, own.graded, own.ids.tolist())
        card["languages"][language] = {
            "files": own.files, "candidates": len(own.y), "prompts": distinct,
            "passing": int(own.y.sum()),
            "cv": {key: round(float(np.mean(values)), 4) for key, values in cv.items()},
            "original_order": {key: round(value, 4) for key, value in original.items()}}
    models = fit_models({lang: (d.x, d.y, d.ids) for lang, d in data.items()}, settings)
    return LearnedModel(settings.features, models, consensus=consensus, card=card,
                        settings=settings)


def card_markdown(model: LearnedModel, command: str) -> str:
    """The model card shipped beside a learned ranker: data, features, CV scores."""
    card = model.card
    lines = ["# Learned ranker card", "",
             f"Trained with `{command}`.", "",
             f"- Estimator: {card.get('estimator')}, objective {card.get('objective')} "
             f"(pairs of a passing and a failing compilable candidate of one prompt), "
             f"C = {card.get('C')}"
             + (", every prompt's pairs weighing the same in all" if card.get("prompt_weights")
                else "")
             + (", one model fit on every language's rows (pooled)"
                if card.get("pool_languages") else ", one model per language") + ".",
             "- Rule tiers (ordered by rule before the model; the first decides): "
             + "; ".join(f"{lang}: {', '.join(names)}"
                         for lang, names in card.get("tiers", {}).items())
             + ". The model orders the candidates within each tier.",
             f"- Target: passes the functional tests (label >= {PASS_LABEL}).",
             f"- Cross-validation: {card.get('cv_folds')} folds grouped by "
             f"{card.get('cv_grouping')}: every candidate of a prompt, from every model, "
             "is in the same fold"
             + ("; the other languages' rows train every fold, so a prompt translated into "
                "another language (HumanEval/N and HumanEval_java/N) is not held out with it."
                if card.get("pool_languages") else "."),
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
