"""Whether the target function can return nothing (None, null) that its prompt never asks for."""

from __future__ import annotations

import pytest

from franc.models import Candidate, Task
from franc.ranking.features import task_features
from franc.ranking.shape import returns_none

PY_TASK = Task("t/0", 'def pick(xs, n):\n    """Pick the n-th item."""\n', "python",
               entry_point="pick")
JAVA_TASK = Task("t/1", "class Solution {\n    public Integer pick(List<Integer> xs, int n) {\n",
                 "java", entry_point="pick")


@pytest.mark.parametrize("body", [
    "    if n < len(xs):\n        return xs[n]\n",                    # falls off its end
    "    for x in xs:\n        if x == n:\n            return x\n",  # a loop may not return
    "    if n:\n        return xs[n]\n    return None\n",             # an explicit None
    "    if n:\n        return xs[n]\n    return\n",
])
def test_python_target_that_can_return_none(body: str) -> None:
    assert returns_none(PY_TASK.prompt + body, PY_TASK, "python")


@pytest.mark.parametrize("body", [
    "    return xs[n]\n",
    "    if n < len(xs):\n        return xs[n]\n    else:\n        return -1\n",
    "    if n < len(xs):\n        return xs[n]\n    raise IndexError(n)\n",
    "    while True:\n        return xs[n]\n",
    "    try:\n        return xs[n]\n    except IndexError:\n        return -1\n",
    "    def key(x):\n        return\n    return sorted(xs, key=key)[n]\n",  # the helper's
])
def test_python_target_that_always_returns_a_value(body: str) -> None:
    assert not returns_none(PY_TASK.prompt + body, PY_TASK, "python")


def test_a_prompt_that_mentions_none_allows_it() -> None:
    task = Task("t/2", 'def pick(xs, n):\n    """The n-th item, None if there is none."""\n',
                "python", entry_point="pick")
    assert not returns_none(task.prompt + "    if n < len(xs):\n        return xs[n]\n",
                            task, "python")


def test_missing_target_or_broken_code_is_no_finding() -> None:
    assert not returns_none("def other(a):\n    pass\n", PY_TASK, "python")
    assert not returns_none("def pick(:\n", PY_TASK, "python")
    assert not returns_none("def pick(a):\n    pass\n", None, "python")


def test_java_explicit_return_of_nothing() -> None:
    close = "    }\n}\n"
    assert returns_none(JAVA_TASK.prompt + "        if (n < 0) { return null; }\n"
                        "        return xs.get(n);\n" + close, JAVA_TASK, "java")
    assert not returns_none(JAVA_TASK.prompt + "        return xs.get(n);\n" + close,
                            JAVA_TASK, "java")
    # A lambda's return is not the method's.
    assert not returns_none(JAVA_TASK.prompt + "        Runnable r = () -> { return; };\n"
                            "        return xs.get(n);\n" + close, JAVA_TASK, "java")
    assert not returns_none("class Solution { int other() { return 1; } }", JAVA_TASK, "java")


def test_returns_none_feature_marks_only_the_unfinished_candidate() -> None:
    cands = [Candidate("t/0", 0, PY_TASK.prompt + "    return xs[n]\n", compiles=True),
             Candidate("t/0", 1, PY_TASK.prompt + "    if n:\n        return xs[n]\n",
                       compiles=True),
             Candidate("t/0", 2, PY_TASK.prompt + "    if n:\n", compiles=False)]
    assert [row["returns_none"] for row in task_features("python", PY_TASK, cands)] == \
        [0.0, 1.0, 0.0]
