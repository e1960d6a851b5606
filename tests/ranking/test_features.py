"""Ranking features: lint features from real analyzer findings (message symbols, not ids),
string and data-flow features, and which features a ranker pays for."""

from __future__ import annotations

import pytest

from franc.analysis import Analyzers
from franc.analysis.java_rules import JavaRulesAnalyzer
from franc.models import Candidate, Task
from franc.ranking.code import code_tokens, foreign_strings
from franc.ranking.features import (
    FEATURES,
    Weights,
    finding_features,
    ngram_profile,
    profile_similarity,
    task_features,
)

CODE = "def f(a):\n    unused = 1\n    return b\n"


def test_pylint_errors_and_warnings_feed_the_lint_features() -> None:
    with Analyzers("python", ["pylint"]) as analyzers:
        [findings] = analyzers.findings([CODE])
    symbols = {f.rule_id for f in findings}
    assert {"undefined-variable", "unused-variable"} <= symbols  # symbols, never E0602/W0612
    parts = finding_features(findings, Weights())
    assert parts["lint_errors"] == 1.0   # undefined-variable (category error)
    assert parts["lint_warnings"] >= 1.0  # unused-variable, unused-argument (category warning)


def test_conventions_and_low_severity_rules_are_not_lint_errors_or_warnings() -> None:
    with Analyzers("python", ["pylint"]) as analyzers:
        [findings] = analyzers.findings(['def f():\n    """Doc."""\n    X = 1\n    return X\n'])
    assert findings and all(f.severity == "low" for f in findings)
    parts = finding_features(findings, Weights())
    assert parts["lint_errors"] == parts["lint_warnings"] == 0.0


def test_java_rule_severity_sets_the_lint_level() -> None:
    code = ('class A { void f(String s) { if (s == "x") { return; } '
            'try { g(); } catch (Exception e) { } } void g() { } }')
    [findings] = JavaRulesAnalyzer().analyze_batch([code])
    by_rule = {f.rule_id: f.severity for f in findings}
    assert by_rule["string-equality"] == "medium" and by_rule["empty-catch"] == "low"
    parts = finding_features(findings, Weights())
    assert parts["lint_warnings"] == 1.0 and parts["lint_errors"] == 0.0


def test_data_flow_messages_feed_their_own_feature() -> None:
    with Analyzers("python", ["pylint"]) as analyzers:
        [findings] = analyzers.findings([CODE])
    # unused-variable and unused-argument are data-flow messages; undefined-variable is not.
    assert finding_features(findings, Weights())["data_flow_findings"] == 2.0


def test_style_messages_are_no_data_flow_findings() -> None:
    with Analyzers("python", ["pylint"]) as analyzers:
        [findings] = analyzers.findings(["def f(a):\n    return a  \n"])  # trailing space
    assert findings
    assert finding_features(findings, Weights())["data_flow_findings"] == 0.0


def test_string_literals_the_prompt_never_shows_are_foreign() -> None:
    prompt = 'def yes(x):\n    """Return "Yes" or "No"."""\n'
    tokens = code_tokens('    return "YES" if x else "No"\n', "python")
    assert foreign_strings(tokens, prompt, "python") == 1   # "YES": the prompt says "Yes"


def test_prompt_strings_and_one_character_strings_are_not_foreign() -> None:
    prompt = 'def yes(x):\n    """Return "Yes" or "No"."""\n'
    tokens = code_tokens('    return "Yes" if x != "a" else "No"\n', "python")
    assert foreign_strings(tokens, prompt, "python") == 0
    java = code_tokens('return x ? "Yes" : "Nope"; // "ignored"', "java")
    assert foreign_strings(java, prompt, "java") == 1


def test_features_a_ranker_does_not_read_are_not_computed_and_the_rest_are_unchanged() -> None:
    task = Task("T/1", "def add(a, b):\n", "python", entry_point="add")
    codes = ["def add(a, b):\n    return a + b\n", "def add(x, y):\n    return x + y\n",
             "def add(a, b):\n    return 'sum'\n"]
    candidates = [Candidate("T/1", i, code, compiles=True, findings=[])
                  for i, code in enumerate(codes)]
    full = task_features("python", task, candidates)
    needed = ["compiles", "consensus", "duplicates"]
    partial = task_features("python", task, candidates, needed=needed)
    assert all(set(row) == set(FEATURES) for row in full)
    assert [set(row) for row in partial] == [set(needed)] * 3
    assert partial == [{name: row[name] for name in needed} for row in full]
    # The tree features are what the full set adds: the renamed copy agrees with the first.
    assert full[0]["cluster_rank"] == full[1]["cluster_rank"] < full[2]["cluster_rank"]


def test_the_code_is_parsed_for_returns_none_only_when_a_ranker_reads_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from franc.ranking import features

    parsed: list[str] = []
    real = features.returns_none
    monkeypatch.setattr(features, "returns_none",
                        lambda code, *rest: parsed.append(code) or real(code, *rest))
    task = Task("T/1", "def add(a, b):\n", "python", entry_point="add")
    candidates = [Candidate("T/1", 0, "def add(a, b):\n    return None\n", compiles=True)]
    assert "returns_none" not in task_features("python", task, candidates,
                                               needed=["compiles", "consensus"])[0]
    assert parsed == []
    assert task_features("python", task, candidates, needed=["returns_none"]) == [
        {"returns_none": 1.0}]
    assert len(parsed) == 1


def test_profile_similarity_is_the_mean_ngram_overlap_f1() -> None:
    a = ngram_profile(["x", "=", "x", "+", "1"], 2)
    b = ngram_profile(["x", "=", "x", "+", "2", "+", "2"], 2)
    # unigrams: overlap {x: 2, =: 1, +: 1} = 4 of 5 + 7; bigrams: (x,=) (=,x) (x,+) = 3 of 4 + 6
    expected = (2 * 4 / 12 + 2 * 3 / 10) / 2
    assert profile_similarity(a, b) == profile_similarity(b, a) == expected
    assert profile_similarity(a, a) == 1.0


def test_profile_similarity_of_disjoint_or_empty_profiles_is_zero() -> None:
    assert profile_similarity(ngram_profile(["a"], 2), ngram_profile(["b"], 2)) == 0.0
    assert profile_similarity(ngram_profile([], 2), ngram_profile([], 2)) == 0.0
