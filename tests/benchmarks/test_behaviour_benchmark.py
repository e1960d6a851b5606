"""The behaviour benchmark's choice of tasks (held-out ranges of task numbers) and policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.behaviour import SOEVAL_START_TIMEOUT, behaviour_policy, subset, task_range
from franc.models import Candidate
from franc.policy import shipped_dir
from franc.ranking import get_ranker
from franc.ranking.evaluate import LabeledFile


def _file() -> LabeledFile:
    return LabeledFile("f", "python", [Candidate(f"HumanEval/{n}", k, "")
                                       for n in range(164) for k in range(2)])


def test_a_range_keeps_the_tasks_numbered_in_it():
    held_out = subset(_file(), task_range("40:"))
    assert {int(c.task_id.split("/")[1]) for c in held_out.candidates} == set(range(40, 164))
    assert len(subset(_file(), task_range("10:12")).candidates) == 4
    assert len(subset(_file(), task_range("40")).candidates) == 80  # the first 40, as before
    assert subset(_file(), None).candidates == _file().candidates


def test_a_range_that_is_not_numbers_is_refused():
    with pytest.raises(ValueError):
        task_range("a:b")


def test_the_policy_runs_without_latency_guards_and_gives_soeval_its_start_time(tmp_path: Path):
    def policy(name: str) -> Path:
        return Path(behaviour_policy(tmp_path, name, fallback).split("=", 1)[1])

    fallback = tmp_path / "learned.json"
    fallback.write_text((shipped_dir("rankers") / "learned.json").read_text())
    humaneval, soeval = policy("HumanEval_python_x"), policy("SOEvalPython_x")
    ranker = get_ranker(humaneval, "python", latency_guards=False)  # as the evaluation builds it
    assert (ranker.budget, ranker.deadline) == (None, None)
    assert ranker.start_timeout < SOEVAL_START_TIMEOUT == get_ranker(soeval, "python").start_timeout
    assert ranker.timeout == get_ranker(soeval, "python").timeout  # the shipped one per call
    assert json.loads(soeval.read_text())["fallback"] == str(fallback)
