"""The README's commands for a public candidate pool, at the size of CodeT's pool.

CodeT's HumanEval pool has 100 samples per prompt in its own format (``prompt``,
``samples``; no task ids) and prompts without the docstring examples. The reference data
has no such pool, so this builds one of the same shape: every sample the 11 reference
Python files hold for a task (about 110 per prompt, from 11 models), written in CodeT's
format with CodeT-style prompts (the examples removed). It then runs the README's
commands as a user would, each as its own process: ``franc filter``, ``analyze``,
``label`` and ``eval`` (with the prompts without examples, then with the official ones).
Writes ``benchmarks/results/ranking_pool.md``: every stage's time and, per ranker, top-1,
pass@k and the gap closed.

The shipped ``learned`` model was fitted on these files, so its figures here are
in-sample; ``quality`` is the static ranker fitted on nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.behaviour import strip_examples
from benchmarks.report import (
    REFERENCE,
    ROOT,
    add_print_only,
    reference_missing,
    table,
    write_section,
)
from franc.datasets import load_tasks

OUT = ROOT / "out" / "pool"
TITLE = "Ranking a CodeT-sized pool with the README's commands (HumanEval Python)"
RANKERS = ("original", "quality", "learned", "behaviour")


def build_pool(folder: Path, limit: int | None = None) -> tuple[Path, Path, Path, int]:
    """The pool in CodeT's format, CodeT-style prompts (no examples) and the official ones
    (the first ``limit`` tasks)."""
    reference = REFERENCE / "benchmarks" / "HumanEval_python.jsonl"
    records = [json.loads(line) for line in reference.read_text().splitlines()
               if line.strip()][:limit]
    folder.mkdir(parents=True, exist_ok=True)
    official = folder / "HumanEval.jsonl"
    official.write_text("".join(json.dumps(record) + "\n" for record in records))
    tasks = load_tasks(official)
    prompts = {task.task_id: task.prompt for task in tasks}
    samples: dict[str, list[str]] = {task.task_id: [] for task in tasks}
    for path in sorted((REFERENCE / "suggestions").glob("HumanEval_python_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["task_id"] not in prompts:
                    continue
                prompt = prompts[row["task_id"]]
                # CodeT's samples continue the prompt; these models' outputs repeat it first.
                samples[row["task_id"]] += [s.removeprefix(prompt) for s in row["suggestions"]]
    stripped = {task.task_id: strip_examples(task).prompt for task in tasks}
    pool = folder / "HumanEval_pool_code_solution.jsonl"
    pool.write_text("".join(json.dumps({"prompt": stripped[t.task_id],
                                        "samples": samples[t.task_id]}) + "\n" for t in tasks))
    codet_prompts = folder / "hmeval_for_code_generation.jsonl"
    codet_prompts.write_text("".join(json.dumps({**r, "prompt": stripped[r["task_id"]]}) + "\n"
                                     for r in records))
    return pool, codet_prompts, official, sum(map(len, samples.values()))


def franc(folder: Path, *words: str) -> float:
    """Run one ``franc`` command in ``folder``; its wall-clock seconds."""
    started = time.monotonic()
    subprocess.run([str(Path(sys.executable).parent / "franc"), *words, "--no-progress"],
                   cwd=folder, check=True)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, help="only the first N tasks (a quick check)")
    add_print_only(parser)
    args = parser.parse_args(argv)
    if reference_missing():
        return 0
    pool, codet_prompts, official, count = build_pool(OUT, args.tasks)
    lang = ("--language", "python")
    seconds = {
        "filter": franc(OUT, "filter", *lang, "--suggestions", pool.name,
                        "--prompts", codet_prompts.name, "-o", "pool.jsonl"),
        "analyze": franc(OUT, "analyze", *lang, "--candidates", "pool.jsonl",
                         "--prompts", codet_prompts.name, "-o", "pool_analyzed.jsonl"),
        "label": franc(OUT, "label", *lang, "--candidates", "pool_analyzed.jsonl",
                       "--prompts", codet_prompts.name, "-o", "pool_labeled.jsonl"),
    }
    results: dict[str, dict[str, Any]] = {}
    for variant, prompts in (("without examples (CodeT's prompts)", codet_prompts),
                             ("with examples (official prompts)", official)):
        report = OUT / f"eval-{len(results)}.json"
        seconds[f"eval, {variant}"] = franc(
            OUT, "eval", *lang, "--labeled", "pool_labeled.jsonl", "--prompts", prompts.name,
            "--rankers", ",".join(RANKERS), "--json", report.name)
        results[variant] = json.loads(report.read_text())["files"][0]
    compilable = sum(1 for line in (OUT / "pool.jsonl").read_text().splitlines()
                     if json.loads(line)["compiles"])
    pooled = next(iter(results.values()))
    rows = []
    for variant, result in results.items():
        passes = result["pass_at_k"]
        for ranker in RANKERS:
            gap = result["gap_closed"][ranker]
            top1 = result["scores"][ranker]["top1_pass"]
            # A random order's expected top-1 is pass@1, the baseline of CodeT's figures.
            random_gap = (top1 - passes["pass@1"]) / (result["oracle"] - passes["pass@1"])
            p = result["p_values"]["original"].get(ranker, {}).get("top1_pass")
            rows.append([variant, ranker, top1, passes["pass@1"], passes["pass@10"],
                         result["oracle"], "-" if gap is None else f"{gap:+.3f}",
                         f"{random_gap:+.3f}",
                         "-" if p is None else ("<0.001" if p < 0.001 else f"{p:.3g}")])
    costs = [[stage, f"{s:.0f}", f"{(compilable if stage.startswith('eval') else count) / s:.1f}"]
             for stage, s in seconds.items()]
    body = (f"{pooled['tasks']} prompts, {count} samples ({count / pooled['tasks']:.0f} per "
            f"prompt, from the 11 reference Python files), {compilable} compilable after the "
            f"filter. gap closed = (top1 - top1_original) / (oracle - top1_original); vs random: "
            f"(top1 - pass@1) / (oracle - pass@1), a random order's expected top-1 being pass@1 "
            f"(the pool lists the samples model by model); p: paired "
            f"t-test over prompts against `original` (ranx). pass@k: the unbiased estimator over "
            f"all samples, whatever the order. `learned` (also `behaviour`'s fallback) was fitted "
            f"on these files: in-sample here.\n\n"
            + table(["prompts", "ranker", "top-1 pass", "pass@1", "pass@10", "oracle",
                     "gap closed", "gap closed vs random", "p top-1 vs original"], rows)
            + "\n\nCost (wall clock, one command each as the README runs them; eval: all four "
              "rankers, compilable candidates per second):\n\n"
            + table(["command", "seconds", "candidates/s"], costs))
    if args.no_append:
        print(body)
    else:
        write_section("ranking_pool", TITLE, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
