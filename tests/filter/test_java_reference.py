"""Our Java filter on real model output beats FRANC's published after-filter compilability.

A sample (10 evenly spaced prompts x 10 candidates of each of the 14 Java files in
../shared/reference) goes through the shipped chain, the honesty rule and the real javac.
FRANC's figure is over the whole file, so the sample may fall short of it by sampling noise
only: two standard errors of the sampled share. The whole-file comparison (the issue's goal)
is benchmarks/static_filter.py's job.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pytest

from franc.datasets import load_suggestions, load_tasks
from franc.filter import StaticFilter

pytestmark = [pytest.mark.reference,
              pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK")]

PROMPTS_PER_FILE = 10


def java_files(reference: Path) -> list[Path]:
    return sorted((reference / "suggestions").glob("*[jJ]ava_*.jsonl.gz"))


@pytest.fixture(scope="module")
def figures(reference_dir: Path) -> dict[str, float]:
    with (reference_dir / "franc_figures.csv").open(encoding="utf-8") as handle:
        return {row["file"]: float(row["compilable_after_franc_filter"])
                for row in csv.DictReader(handle) if row["language"] == "java"}


@pytest.fixture(scope="module")
def measured(reference_dir: Path) -> dict[str, float]:
    """File -> compilable share of the sample (with the honesty rule: empty bodies fail)."""
    shares = {}
    with StaticFilter("java") as static_filter:
        for path in java_files(reference_dir):
            bench = "HumanEval_java" if path.name.startswith("HumanEval") else "SOEvalJava"
            tasks = load_tasks(reference_dir / "benchmarks" / f"{bench}.jsonl", language="java")
            by_id = {task.task_id: task for task in tasks}
            suggestions = load_suggestions(path, tasks=tasks)
            task_ids = [t for t in suggestions if t in by_id]
            step = max(1, len(task_ids) // PROMPTS_PER_FILE)
            items = [(by_id[t], i, raw) for t in task_ids[::step][:PROMPTS_PER_FILE]
                     for i, raw in enumerate(suggestions[t])]
            candidates = static_filter.run_many(items)
            shares[path.name.removesuffix(".jsonl.gz")] = (
                sum(c.compiles for c in candidates) / len(items))
    return shares


def noise(share: float) -> float:
    """Two standard errors of a share measured on the sample's candidates."""
    return 2 * math.sqrt(max(share * (1 - share), 0.01) / (PROMPTS_PER_FILE * 10))


def test_all_fourteen_java_files_are_sampled(measured, figures):
    assert sorted(measured) == sorted(figures) and len(measured) == 14


def test_after_filter_compilability_beats_franc_on_every_java_file(measured, figures):
    report = {name: (round(ours, 3), figures[name]) for name, ours in measured.items()}
    below = [name for name, (ours, franc) in report.items() if ours <= franc - noise(franc)]
    assert below == [], report
    # Pooled over the 14 files, sampling noise is small: the mean share must beat FRANC's.
    mean_ours = sum(ours for ours, _ in report.values()) / len(report)
    mean_franc = sum(franc for _, franc in report.values()) / len(report)
    assert mean_ours > mean_franc, report
