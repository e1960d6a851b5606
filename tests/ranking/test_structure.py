"""Normalised syntax trees: what candidates that differ only in names, layout and comments
share, and the consensus feature read from them."""

from __future__ import annotations

import pytest

from franc.models import Candidate, Task
from franc.ranking.features import cluster_ranks, task_features
from franc.ranking.structure import normalised_tree, parse, target_function, target_tree

PY_TASK = Task("t/0", 'def total(xs):\n    """Sum of xs."""\n', "python", entry_point="total")


def test_names_comments_docstrings_and_layout_do_not_change_the_python_tree() -> None:
    one = 'def f(xs):\n    """Doc."""\n    # start at zero\n    t = 0\n    for x in xs:\n' \
          '        t += x\n    return t\n'
    other = "def f(xs):\n    acc=0\n    for item in xs:  # each\n        acc  +=  item\n" \
            "    return acc\n"
    assert normalised_tree(one, "python") == normalised_tree(other, "python")


def test_a_different_operation_or_literal_changes_the_tree() -> None:
    base = "def f(xs):\n    return sum(xs) + 1\n"
    assert normalised_tree(base, "python") != normalised_tree(base.replace("+", "-"), "python")
    assert normalised_tree(base, "python") != normalised_tree(base.replace("1", "2"), "python")


def test_builtins_and_api_members_keep_their_names() -> None:
    assert normalised_tree("def f(s):\n    return len(s.strip())\n", "python") != \
        normalised_tree("def f(s):\n    return len(s.lower())\n", "python")
    assert normalised_tree("def f(s):\n    return len(s)\n", "python") != \
        normalised_tree("def f(s):\n    return abs(s)\n", "python")


def test_java_trees_ignore_names_and_comments_but_not_method_calls() -> None:
    one = "class A { int f(String s) { /* size */ int n = s.length(); return n; } }"
    other = "class A {\n  int f(String text) {\n    int k = text.length(); // len\n" \
            "    return k;\n  }\n}"
    assert normalised_tree(one, "java") == normalised_tree(other, "java")
    assert normalised_tree(one, "java") != normalised_tree(one.replace("length", "hashCode"),
                                                           "java")


@pytest.mark.parametrize("code, language, name, found", [
    ("def g():\n    pass\ndef f():\n    return 1\ndef f():\n    return 2\n", "python", "f",
     "return 2"),  # the last Python definition wins
    ("class A { int f() { return 1; } int f(int x) { return 2; } }", "java", "f", "return 1"),
])
def test_target_function_finds_the_definition_a_caller_gets(code: str, language: str,
                                                            name: str, found: str) -> None:
    node = target_function(parse(code, language), name, language)  # type: ignore[arg-type]
    assert node is not None and found in node.text.decode()


def test_no_target_function_for_a_missing_name() -> None:
    assert target_function(parse("def g():\n    pass\n", "python"), "f", "python") is None


def test_target_tree_leaves_out_code_around_the_target_and_falls_back_to_the_whole() -> None:
    body = "def total(xs):\n    return sum(xs)\n"
    assert target_tree(body + "\nprint(total([1, 2]))\n", "total", "python") == \
        target_tree(body, "total", "python")
    assert target_tree(body, "other", "python") == normalised_tree(body, "python")


def test_hostile_input_gives_a_tree_not_an_error() -> None:
    deep = "def total(xs):\n    return " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    assert target_tree(deep, "total", "python")
    assert isinstance(target_tree("\x00\udcff def (((", "total", "python"), tuple)


def test_consensus_tree_favours_the_candidate_the_others_share_up_to_names() -> None:
    prompt = PY_TASK.prompt
    cands = [Candidate("t/0", 0, prompt + "    t = 0\n    for x in xs:\n        t += x\n"
                                          "    return t\n", compiles=True),
             Candidate("t/0", 1, prompt + "    acc = 0\n    for v in xs:  # add\n"
                                          "        acc += v\n    return acc\n", compiles=True),
             Candidate("t/0", 2, prompt + "    return max(xs) * 2 if xs else -1\n",
                       compiles=True),
             Candidate("t/0", 3, prompt + "    return (\n", compiles=False)]
    rows = task_features("python", PY_TASK, cands)
    assert rows[0]["consensus_tree"] == rows[1]["consensus_tree"] > rows[2]["consensus_tree"]
    assert rows[3]["consensus_tree"] == 0.0  # a candidate that does not compile takes no part


def test_cluster_ranks_put_the_largest_group_of_equal_programs_first() -> None:
    assert cluster_ranks(["a", "b", "a", "c", None, "a", "b"]) == [0, 1, 0, 2, 3, 0, 1]


def test_cluster_ranks_without_agreement_are_all_first() -> None:
    assert cluster_ranks(["a", "b", "c"]) == [0.0, 0.0, 0.0]
    assert cluster_ranks([None, None]) == [0.0, 0.0]


def test_cluster_rank_sees_through_names_in_task_features() -> None:
    prompt = PY_TASK.prompt
    same = [prompt + f"    {name} = 0\n    for x in xs:\n        {name} += x\n    return {name}\n"
            for name in ("t", "acc")]
    cands = [Candidate("t/0", i, code, compiles=True)
             for i, code in enumerate([*same, prompt + "    return len(xs)\n"])]
    rows = task_features("python", PY_TASK, cands)
    assert [row["cluster_rank"] for row in rows] == [0.0, 0.0, 1.0]
