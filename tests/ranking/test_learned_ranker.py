"""The learned ranker: training with grouped CV, JSON round trip (never pickle), bad models."""

from __future__ import annotations

import json

import pytest

from franc.cli import main
from franc.errors import InputError
from franc.jsonl import write_jsonl
from franc.models import Candidate, Finding, Task
from franc.ranking import get_ranker, train
from franc.ranking.features import FEATURES, task_features
from franc.ranking.learned import LearnedModel, LinearModel, TrainSettings, shipped_settings
from franc.ranking.rankers import from_policy

PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'
GOOD = "    total = a + b\n    return total\n"
BAD_BODIES = ["    pass\n", "    return a - b\n    return a - b\n    return a - b\n",
              "    import os\n    os.system(a)\n"]


def task_candidates(task_id: str, good_at: int) -> list[Candidate]:
    cands = []
    for index in range(4):
        body = GOOD if index == good_at else BAD_BODIES[index % 3]
        findings = [Finding("bandit", "B605", "shell", "high", "high", 4, cwe=78)] \
            if "os.system" in body else []
        cands.append(Candidate(task_id, index, PROMPT + body, compiles=True, findings=findings,
                               label=2 if index == good_at else 1))
    cands.append(Candidate(task_id, 4, PROMPT + "    return (", compiles=False, label=0))
    return cands


@pytest.fixture(scope="module")
def data():
    tasks = {f"T/{i}": Task(f"T/{i}", PROMPT, "python", "add") for i in range(12)}
    cands = [c for i in range(12) for c in task_candidates(f"T/{i}", good_at=(i % 3) + 1)]
    return tasks, cands


def test_trained_model_ranks_the_passing_candidate_first(data):
    tasks, cands = data
    model = train([("toy", "python", cands)], tasks, folds=3)
    info = model.card["languages"]["python"]
    assert info["prompts"] == 12 and info["passing"] == 12
    assert info["cv"]["top1_pass"] > info["original_order"]["top1_pass"]
    ranker = get_ranker_from(model)
    for i in range(12):
        ranked = ranker.rank(tasks[f"T/{i}"], [c for c in cands if c.task_id == f"T/{i}"])
        assert ranked[0].label == 2
        assert ranked[0].score == pytest.approx(sum(ranked[0].score_parts.values()))


def get_ranker_from(model: LearnedModel):
    from franc.ranking.rankers import from_policy

    return from_policy("learned", model.to_json(), "python")


def test_json_round_trip_keeps_every_score(data, tmp_path):
    tasks, cands = data
    model = train([("toy", "python", cands)], tasks, folds=2)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(model.to_json()))
    loaded = LearnedModel.from_json(json.loads(path.read_text()))
    assert loaded == LearnedModel.from_json(model.to_json())
    group = [c for c in cands if c.task_id == "T/0"]
    for row in task_features("python", tasks["T/0"], group):
        assert sum(loaded.explain("python", row).values()) == pytest.approx(
            sum(model.explain("python", row).values()))
    by_path = get_ranker(path, "python")
    assert [c.index for c in by_path.rank(tasks["T/0"], list(group))] == \
        [c.index for c in get_ranker_from(model).rank(tasks["T/0"], list(group))]


def test_malformed_models_are_clear_errors():
    with pytest.raises(InputError, match="not a learned ranker"):
        LearnedModel.from_json({"format": "pickle"})
    with pytest.raises(InputError, match="unknown features beauty"):
        LearnedModel.from_json({"format": "franc-learned-ranker", "features": ["beauty"]})
    bad = {"format": "franc-learned-ranker", "features": list(FEATURES),
           "models": {"python": {"mean": [0.0], "scale": [1.0], "coef": [1.0],
                                 "intercept": 0.0}}}
    with pytest.raises(InputError, match="does not match"):
        LearnedModel.from_json(bad)


def test_model_for_another_language_is_refused(data):
    tasks, cands = data
    model = train([("toy", "python", cands)], tasks, folds=2)
    with pytest.raises(InputError, match="no model for java"):
        model.explain("java", dict.fromkeys(FEATURES, 0.0))


def test_cli_train_ranker_writes_json_with_a_card(data, tmp_path):
    _, cands = data
    labeled = tmp_path / "HumanEval_python_toy.jsonl"
    write_jsonl(labeled, (c.to_json() for c in cands))
    out = tmp_path / "rankers" / "mine.json"
    assert main(["train-ranker", str(labeled), "--folds", "2", "-o", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["format"] == "franc-learned-ranker"
    assert saved["card"]["cv_grouping"] == "task_id"
    assert set(saved["models"]) == {"python"}
    assert "| consensus |" in out.with_suffix(".md").read_text()


def test_training_without_labels_is_an_error():
    with pytest.raises(InputError, match="has no label"):
        train([("toy", "python", [Candidate("T/0", 0, "x = 1", compiles=True)])])


JAVA_PROMPT = "class Add {\n    public static int add(int a, int b) {\n"
JAVA_BAD_SIGNATURE = "class Add {\n    public static long add(long a, long b) {\n"


def java_candidates(task_id: str) -> list[Candidate]:
    """The passing candidate keeps the signature; the failing one changed it."""
    return [Candidate(task_id, 0, JAVA_BAD_SIGNATURE + "        return a + b;\n    }\n}\n",
                      compiles=True, findings=[], label=1),
            Candidate(task_id, 1, JAVA_PROMPT + "        int total = a + b;\n        return total;"
                      "\n    }\n}\n", compiles=True, findings=[], label=2),
            Candidate(task_id, 2, JAVA_PROMPT + "        return (", compiles=False, label=0)]


@pytest.fixture(scope="module")
def both_languages(data):
    tasks, cands = data
    java_tasks = {f"J/{i}": Task(f"J/{i}", JAVA_PROMPT, "java", "add") for i in range(4)}
    java = [c for i in range(4) for c in java_candidates(f"J/{i}")]
    return {**tasks, **java_tasks}, cands, java


def test_tiers_order_by_rule_before_the_model(both_languages):
    tasks, _, java = both_languages
    settings = TrainSettings(tiers={"java": ("compiles", "keeps_signature")})
    model = train([("toy", "java", java)], tasks, folds=0, settings=settings)
    # Make the linear model prefer the changed signature: the tier must still win.
    linear = model.models["java"]
    contrary = LinearModel(linear.mean, linear.scale,
                           tuple(-5.0 if name == "log_lines" else 0.0 for name in FEATURES), 0.0)
    flipped = LearnedModel(FEATURES, {"java": contrary}, settings=settings)
    ranker = from_policy("learned", flipped.to_json(), "java")
    ranked = ranker.rank(tasks["J/0"], [c for c in java if c.task_id == "J/0"])
    assert [c.index for c in ranked] == [1, 0, 2]
    assert ranked[0].score_parts["tier.keeps_signature"] == 1.0
    assert ranked[0].score == pytest.approx(sum(ranked[0].score_parts.values()))
    # Without the tier, the same linear model puts the shorter changed signature first.
    plain = from_policy("learned", LearnedModel(FEATURES, {"java": contrary}).to_json(), "java")
    first = plain.rank(tasks["J/0"], [c for c in java if c.task_id == "J/0"])[0]
    assert first.index == 0


def test_pooled_languages_share_one_model_and_settings_survive_json(both_languages):
    tasks, python, java = both_languages
    settings = TrainSettings(c=0.5, tiers={"java": ("compiles", "keeps_signature")},
                             pool_languages=True)
    model = train([("py", "python", python), ("jv", "java", java)], tasks, folds=2,
                  settings=settings)
    assert model.models["python"] == model.models["java"]
    assert model.card["tiers"] == {"python": ["compiles"],
                                   "java": ["compiles", "keeps_signature"]}
    loaded = LearnedModel.from_json(json.loads(json.dumps(model.to_json())))
    assert loaded.settings == settings
    assert loaded.settings.tiers_for("python") == ("compiles",)
    separate = train([("py", "python", python), ("jv", "java", java)], tasks, folds=0)
    assert separate.models["python"] != separate.models["java"]


def test_a_model_without_training_settings_keeps_compilable_first():
    old = {"format": "franc-learned-ranker", "features": list(FEATURES), "models": {}}
    # Like a TOML policy without [security_tier], a model JSON without one has no tier.
    assert LearnedModel.from_json(old).settings == TrainSettings(security_tier=None)
    with pytest.raises(InputError, match="unknown features beauty"):
        TrainSettings(tiers={"java": ("compiles", "beauty")})
    with pytest.raises(InputError, match="objective"):
        TrainSettings(objective="listwise")


def test_shipped_model_keeps_the_java_signature_tier_and_pools_languages():
    settings = shipped_settings()
    assert settings.tiers_for("java") == ("compiles", "keeps_signature")
    assert settings.tiers_for("python") == ("compiles",)
    assert settings.pool_languages


def test_cli_train_ranker_tiers_option(data, tmp_path):
    _, cands = data
    labeled = tmp_path / "HumanEval_python_toy.jsonl"
    write_jsonl(labeled, (c.to_json() for c in cands))
    out = tmp_path / "mine.json"
    assert main(["train-ranker", str(labeled), "--folds", "0", "--tiers",
                 "python=compiles,trivial_body", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["training"]["tiers"] == {
        "python": ["compiles", "trivial_body"]}
    assert "--tiers python=compiles,trivial_body" in out.with_suffix(".md").read_text()
    assert main(["train-ranker", str(labeled), "--tiers", "python", "-o", str(out)]) != 0


def test_a_model_on_fewer_features_is_refit_on_those(data):
    tasks, cands = data
    fewer = ("compiles", "trivial_body", "lint_errors", "consensus")
    model = train([("toy", "python", cands)], tasks, folds=0,
                  settings=TrainSettings(features=fewer))
    assert model.features == fewer and len(model.models["python"].coef) == len(fewer)
    loaded = LearnedModel.from_json(json.loads(json.dumps(model.to_json())))
    assert loaded.settings.features == fewer  # refitting it (leave-one-model-out) keeps them
    ranker = from_policy("learned", model.to_json(), "python")
    assert ranker.rank(tasks["T/0"], [c for c in cands if c.task_id == "T/0"])[0].label == 2
    with pytest.raises(InputError, match="must include 'compiles'"):
        TrainSettings(features=("consensus",))


def test_prompt_weights_make_every_prompt_weigh_the_same(data):
    import numpy as np

    from franc.ranking.learned import pairwise_differences

    z = np.arange(6, dtype=float).reshape(-1, 1)
    y, groups = np.array([1, 0, 1, 1, 0, 0]), np.array([0, 0, 1, 1, 1, 1])  # 1 pair, 4 pairs
    _, _, plain = pairwise_differences(z, y, groups)
    assert set(plain.tolist()) == {1.0}
    _, labels, weighted = pairwise_differences(z, y, groups, prompt_weights=True)
    first = weighted[labels == 1]
    assert first[0] == pytest.approx(first[1:].sum())  # the one pair weighs the four
    tasks, cands = data
    settings = TrainSettings(prompt_weights=True)
    model = train([("toy", "python", cands)], tasks, folds=0, settings=settings)
    assert LearnedModel.from_json(json.loads(json.dumps(model.to_json()))).settings == settings
