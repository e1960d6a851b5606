"""The learned-ranker search benchmark: its candidate features and its top-1 order."""

from __future__ import annotations

import numpy as np

from benchmarks.learned_search import EXTRA, FileData, extra_features, top1
from franc.models import Candidate, Task
from franc.ranking.features import FEATURES

TASK = Task(task_id="t/0", prompt="def add(a, b):\n", entry_point="add", language="python")


def candidate(index: int, body: str, compiles: bool = True) -> Candidate:
    return Candidate(task_id="t/0", index=index, code=f"def add(a, b):\n{body}",
                     compiles=compiles)


def test_equal_trees_up_to_names_share_a_cluster_and_are_each_others_nearest() -> None:
    group = [candidate(0, "    return a + b\n"), candidate(1, "    # sum\n    return a + b\n"),
             candidate(2, "    total = 0\n    for x in range(a):\n        total += b\n"
                          "    return total\n")]
    out = extra_features(group, TASK, "python")
    nearest, share = EXTRA.index("nearest_tree"), EXTRA.index("cluster_share")
    assert out[0, nearest] == out[1, nearest] == 1.0
    assert out[0, share] == out[1, share] == 0.5
    assert out[2, share] == 0.0 and out[2, nearest] < 1.0


def test_a_candidate_that_does_not_compile_gets_no_cluster_features() -> None:
    group = [candidate(0, "    return a + b\n"), candidate(1, "    return a + b\n", False)]
    out = extra_features(group, TASK, "python")
    assert not out.any()


def test_top1_puts_the_security_tier_above_the_model_score() -> None:
    x = np.zeros((2, len(FEATURES)))
    x[:, FEATURES.index("position")] = [0, 1]
    d = FileData("f", "python", "m", x, np.zeros((2, len(EXTRA))), np.array([1, 0]),
                 np.array([2.0, 1.0]), np.array([0, 0]), secure=np.array([0.0, 1.0]),
                 tiers=np.array([1.0, 1.0]))
    # The model prefers the passing candidate, but only the failing one is secure.
    assert top1(d, np.array([5.0, 0.0])).tolist() == [0.0]
    d.secure = np.array([1.0, 1.0])
    assert top1(d, np.array([5.0, 0.0])).tolist() == [1.0]
