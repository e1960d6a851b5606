"""The CodeT-sized pool the pool benchmark builds reads as a user's CodeT pool would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.pool import build_pool
from benchmarks.report import REFERENCE
from franc.datasets import load_suggestions, load_tasks, suggestion_format

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="needs ../shared/reference")


def test_the_pool_is_codet_shaped_and_matches_both_prompt_files(tmp_path: Path) -> None:
    pool, codet_prompts, official, count = build_pool(tmp_path, limit=2)
    assert suggestion_format(pool).id == "codet"
    lines = [json.loads(line) for line in pool.read_text().splitlines()]
    assert all(set(line) == {"prompt", "samples"} for line in lines)  # no task ids, as CodeT's
    stripped, with_examples = load_tasks(codet_prompts), load_tasks(official)
    assert [t.task_id for t in stripped] == [t.task_id for t in with_examples] == [
        "HumanEval/0", "HumanEval/1"]
    assert ">>>" in with_examples[0].prompt and ">>>" not in stripped[0].prompt
    # Matched by prompt to CodeT-style prompts, by entry point to the official ones.
    by_prompt = load_suggestions(pool, tasks=stripped)
    assert by_prompt == load_suggestions(pool, tasks=with_examples)
    assert sum(map(len, by_prompt.values())) == count >= 2 * 100
    # The samples continue the prompt (the non-chat models' repeat of it is cut).
    assert not any(s.startswith(t.prompt) for t in with_examples for s in by_prompt[t.task_id])
