"""Static shape features: data flow, return kinds, votes and clusters (no execution)."""

from __future__ import annotations

import pytest

from franc.models import Candidate, Task
from franc.ranking.features import task_features
from franc.ranking.shape import (
    consistent_return,
    declared_return,
    parameters,
    return_kind,
    shape,
    vote_shares,
)

PROMPT = 'def f(xs: list, k: int) -> bool:\n    """Is k in xs?"""\n'
TASK = Task("T/0", PROMPT, "python", "f")


def test_parameters_and_declared_return_python_and_java():
    assert parameters(TASK) == ("xs", "k")
    assert declared_return(TASK) == "bool"
    java = Task("J/0", "class A {\n    public static List<Integer> g(List<Integer> a, int b) {\n",
                "java", "g")
    assert parameters(java) == ("a", "b") and declared_return(java) == "list"
    assert declared_return(Task("T/1", "def f(x):\n", "python", "f")) is None


@pytest.mark.parametrize(("expr", "kind"), [
    ("True", "bool"), ("k in xs", "bool"), ("a == b", "bool"), ("'yes'", "str"),
    ("0", "number"), ("len(xs)", "number"), ("[1, 2]", "list"), ("(a, b)", "list"),
    ("None", "none"), ("", "none"), ("helper(xs)", "value")])
def test_return_kinds(expr, kind):
    assert return_kind(expr) == kind


def test_return_consistency_flags_a_contradicting_literal_only():
    assert consistent_return(frozenset({"bool", "value"}), "bool") == 1.0
    assert consistent_return(frozenset({"str"}), "bool") == 0.0
    assert consistent_return(frozenset({"bool"}), "number") == 1.0
    assert consistent_return(frozenset({"str"}), None) == 1.0


def test_shape_reads_parameters_loops_and_recursion():
    body = "    for x in xs:\n        if x == 0:\n            return True\n    return f(xs, 1)\n"
    found = shape(body, ["for", "x", "in", "xs", "f"], "python", ("xs", "k"), "f")
    assert found.params_used == (True, False) and found.loops and found.recursive
    assert found.returns == 2 and found.return_kinds == frozenset({"bool", "value"})


def test_vote_shares_count_the_others_with_the_same_key():
    assert vote_shares(["a", "a", "b", None]) == [0.5, 0.5, 0.0, 0.0]
    assert vote_shares(["a"]) == [0.0]


def test_features_vote_and_cluster_over_renamed_syntax():
    bodies = ["    return k in xs\n", "    return k in xs\n", "    return 'no'\n",
              "    return (\n"]
    cands = [Candidate("T/0", i, PROMPT + b, compiles=i < 3, findings=[])
             for i, b in enumerate(bodies)]
    rows = task_features("python", TASK, cands)
    assert rows[0]["ast_vote"] == rows[1]["ast_vote"] == 0.5 and rows[2]["ast_vote"] == 0.0
    assert rows[0]["largest_cluster"] == 1.0 and rows[2]["largest_cluster"] == 0.0
    assert rows[0]["cluster_quality"] == 1.0 and rows[3]["cluster_quality"] == 0.0
    assert rows[0]["params_used"] == 1.0 and rows[2]["params_used"] == 0.0
    assert rows[0]["return_consistent"] == 1.0 and rows[2]["return_consistent"] == 0.0
    assert rows[0]["return_vote"] == 0.5 and rows[2]["return_vote"] == 0.0
    assert rows[3]["flow_vote"] == 0.0
