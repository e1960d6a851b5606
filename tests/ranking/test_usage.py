"""Parameter types read from how the candidates use their parameters."""

from __future__ import annotations

import ast
import random
from collections import Counter

from franc.ranking.behaviour import Signature, edge_values, generate_inputs, parameter_types
from franc.ranking.usage import EITHER_SEQUENCE, decide, infer_types, uses


def test_uses_of_a_parameter_say_its_kind():
    code = ("def f(text, n, xs, grades, table, x):\n"
            "    words = text.split()\n"
            "    for k in range(n):\n        xs.append(k)\n"
            "    for g in grades:\n        if g >= 3.7:\n            pass\n"
            "    return table.items(), x[1:]\n")
    function = ast.parse(code).body[0]
    assert isinstance(function, ast.FunctionDef)
    found = uses(function)
    assert "str" in found["text"] and "int" in found["n"] and "list" in found["xs"]
    assert "element:float" in found["grades"] and "dict" in found["table"]
    assert found["x"] == {"sequence"}


def test_candidates_vote_and_the_most_common_use_wins():
    codes = ["def f(s, k):\n    return s.upper() * k\n",
             "def f(s, k):\n    return ''.join(c for c in s.lower()) + str(k - 1)\n",
             "def f(s, k):\n    return s[k]\n",
             "def f(a):\n    return a\n",  # another signature: no vote
             "def f(s, k:\n"]  # does not parse: no vote
    assert infer_types(codes, "f", ("s", "k")) == ("str", "int")
    assert infer_types(["def f(nums):\n    return sum(nums) / 2\n"], "f", ("nums",)) == \
        ("list[int]",)


def test_no_use_or_only_mappings_give_no_type():
    assert infer_types(["def f(x):\n    return x\n"], "f", ("x",)) == ("?",)
    assert decide(Counter({"dict": 3, "sequence": 1})) == "?"
    assert infer_types([], "f", ("x",)) == ("?",)


def test_a_parameter_only_measured_or_indexed_gets_strings_and_lists():
    assert infer_types(["def f(a, b):\n    return len(a) == len(b) and a[0]\n"], "f",
                       ("a", "b")) == (EITHER_SEQUENCE, EITHER_SEQUENCE)
    values = edge_values(EITHER_SEQUENCE, random.Random(0))
    assert any(isinstance(v, str) for v in values) and any(isinstance(v, list) for v in values)


def test_usage_fills_only_what_hints_examples_and_names_leave_open():
    sig = Signature("f", ("numbers", "operator", "w"), ("?", "?", "int"))
    assert parameter_types(sig, [], ("str", "list[str]", "str")) == \
        ("list[int]", "list[str]", "int")
    # without usage the open parameter stays open, and nothing is generated
    assert parameter_types(sig, []) == ("list[int]", "?", "int")
    assert generate_inputs(sig, [], limit=6) == []
    assert len(generate_inputs(sig, [], limit=6, used_as=("?", "list[str]", "?"))) == 6
