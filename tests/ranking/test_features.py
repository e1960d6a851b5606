"""Lint features from real analyzer findings (message symbols, not ids)."""

from __future__ import annotations

from franc.analysis import Analyzers
from franc.analysis.java_rules import JavaRulesAnalyzer
from franc.ranking.features import Weights, finding_features, ngram_profile, profile_similarity

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
