"""The behaviour ranker against the static rankers, with and without the prompts' examples.

On the labeled HumanEval files (``out/labeled/``, written by ``benchmarks/functional.py``;
findings added and cached by ``benchmarks/ranking.py``'s ``with_findings``), per
language and prompt variant, pooled over the chosen files: top-1 pass rate, the
samples' pass@1 / pass@10, the oracle, the share of the gap between the original
order and the oracle each ranker closes, paired t-tests over prompts (ranx) against
``original`` and ``learned``, and the behaviour ranker's cost (compilable candidates
ranked per second, sandbox processes started, with a cold or warm cache).

``learned`` is leave-one-model-out everywhere (as in benchmarks/ranking.py), also as the
behaviour ranker's fallback. The *stripped* variant hands the rankers the prompts with
their examples removed (:func:`strip_examples`): the behaviour ranker then has only the
signature to generate inputs from. Outcomes are cached in
``out/ranking/behaviour-cache.sqlite`` across runs. Writes
``benchmarks/results/ranking_behaviour.md`` (or ``--output``). ``--soeval`` ranks the
SOEval Python files instead (labels from our SOEval tests, as ``benchmarks/ranking.py
--soeval`` makes them; ``learned`` trained on the other models' HumanEval files), into
``ranking_behaviour_soeval.md``.

    python -m benchmarks.behaviour [--language python|java] [--files SUBSTRING]
                                   [--tasks N|A:B] [--workers N] [--soeval]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from benchmarks.ranking import (
    OUT,
    examples_policy,
    fmt_p,
    leave_one_model_out,
    soeval_files,
    with_findings,
)
from benchmarks.report import REFERENCE, ROOT, table, write_section
from franc.datasets import load_tasks
from franc.models import Task
from franc.parallel import map_chunks
from franc.policy import shipped_dir
from franc.ranking.behaviour import BehaviourRanker, outcome_cache, task_examples
from franc.ranking.evaluate import TOP1, LabeledFile, Orders, RankJob, evaluate, rank_jobs

CACHE = OUT / "ranking" / "behaviour-cache.sqlite"
RESULTS = ROOT / "benchmarks" / "results" / "ranking_behaviour.md"
#: ``{languages}``: the languages the run ranked (each gets its own results file).
TITLE = "Ranking: behaviour vs static rankers on HumanEval ({languages}, with and without examples)"
SOEVAL_TITLE = "Ranking: behaviour vs static rankers on SOEval (Python)"
#: Seconds for a process to start on SOEval: its answers import pandas and the like.
SOEVAL_START_TIMEOUT = 5.0
STATIC = ("original", "franc", "quality")
#: Docstring/Javadoc lines that start the examples: from there to the docstring's end
#: (Python) or every such line and the expected value after it (Java) go.
_PY_EXAMPLES = re.compile(r"^\s*(>>>|[Ee]xamples?\b|[Ff]or [Ee]xample|[Ee]\.g\.|[Ii]nput\s*:"
                          r"|[Ff]or\s+\w+\s*=)")
_JAVA_EXAMPLE = re.compile(r"^\s*\*\s*>")


def strip_examples(task: Task) -> Task:
    """``task`` with its docstring's (Javadoc's) examples removed; the rest stays."""
    lines = task.prompt.splitlines(keepends=True)
    if task.language == "java":
        kept, skip = [], False
        for line in lines:
            if _JAVA_EXAMPLE.match(line):
                skip = True
                continue
            if skip and line.strip().startswith("*") and line.strip() not in ("*", "*/"):
                skip = False
                continue
            skip = False
            kept.append(line)
        return dataclasses.replace(task, prompt="".join(kept))
    entry = task.entry_point or ""
    start = next((k for k, line in enumerate(lines)
                  if _PY_EXAMPLES.match(line) or (entry and line.strip().startswith(f"{entry}("))),
                 None)
    if start is None:
        return task
    end = next((k for k in range(start, len(lines)) if lines[k].strip().endswith(('"""', "'''"))),
               None)
    if end is None:
        return task
    closing = lines[end].strip()
    quote = closing[-3:]
    return dataclasses.replace(task, prompt="".join(
        [*lines[:start], f"    {quote}\n", *lines[end + 1:]]))


def behaviour_policy(folder: Path, name: str, fallback: Path) -> str:
    """The shipped policy with the file's leave-one-model-out fallback, the benchmark's
    cache and one candidate at a time (files run in parallel). Its latency guards
    (``budget``, ``deadline``) stay in the file: the evaluation ranks in batch, which drops
    them (:func:`franc.ranking.get_ranker`), as ``franc eval`` does."""
    settings = tomllib.loads((shipped_dir("rankers") / "behaviour.toml").read_text())
    settings.update(fallback=str(fallback), workers=1, cache=str(CACHE))
    if name.startswith("SOEval"):
        settings.update(start_timeout=SOEVAL_START_TIMEOUT)
    path = folder / f"behaviour-{name}.json"
    path.write_text(json.dumps(settings))
    return f"behaviour={path}"


def cached_outcomes() -> int:
    return len(outcome_cache(CACHE))


def task_range(text: str) -> tuple[int, int | None]:
    """``N``: the first N tasks; ``A:B``: tasks numbered A to B-1 (``40:``: 40 to the end)."""
    if ":" not in text:
        return 0, int(text)
    low, _, high = text.partition(":")
    return int(low or 0), int(high) if high else None


def subset(f: LabeledFile, tasks: tuple[int, int | None] | None) -> LabeledFile:
    """``f`` with the candidates of the tasks whose number is in ``tasks`` (all: None)."""
    if tasks is None:
        return f
    low, high = tasks
    number = {t: int(t.rsplit("/", 1)[-1]) for t in {c.task_id for c in f.candidates}}
    keep = {t for t, n in number.items() if n >= low and (high is None or n < high)}
    return dataclasses.replace(f, candidates=[c for c in f.candidates if c.task_id in keep])


def run_variant(files: list[LabeledFile], tasks: dict[str, Task], lomo: dict[str, Path],
                folder: Path, workers: int | None, with_examples_ranker: bool
                ) -> tuple[list[Orders], float, int]:
    jobs: list[RankJob] = []
    for f in files:
        specs = [*STATIC, f"learned={lomo[f.name]}",
                 behaviour_policy(folder, f.name, lomo[f.name])]
        if with_examples_ranker:
            chain = examples_policy(folder / f"examples-{f.name}.json", lomo[f.name], workers=1)
            specs.append(f"examples={chain}")
        # The policies name their own caches.
        jobs.append((f, tuple(specs), {t: tasks[t] for t in {c.task_id for c in f.candidates}},
                     None))
    before, started = cached_outcomes(), time.perf_counter()
    orders = map_chunks(rank_jobs, jobs, workers=workers, chunk_size=1,
                        description="ranking files")
    return orders, time.perf_counter() - started, cached_outcomes() - before


def pooled_rows(files: list[LabeledFile], orders: list[Orders], tasks: dict[str, Task],
                variant: str, seconds: float, runs: int) -> list[list[object]]:
    rankers = list(orders[0])
    report = evaluate(files, rankers, tasks, metrics=["ndcg@10"], orders=orders)
    rows = []
    compilable = sum(c.compiles for f in files for c in f.candidates)
    for evaluation in report.pooled:
        for ranker in rankers:
            gap = evaluation.gap_closed(ranker)
            cost = (f"{compilable / seconds:.1f} cand/s, {runs} calls run"
                    if ranker == "behaviour" and seconds > 0 else "")
            rows.append([evaluation.language, variant, ranker, evaluation.tasks,
                         evaluation.scores[ranker][TOP1], evaluation.pass_at_k[1],
                         evaluation.pass_at_k[10], evaluation.oracle,
                         "-" if gap is None else f"{gap:+.3f}",
                         fmt_p(evaluation, ranker, "original", TOP1),
                         fmt_p(evaluation, ranker, "learned", TOP1), cost])
    return rows


def latency(files: list[LabeledFile], tasks: dict[str, Task], prompts: int) -> str:
    """Seconds to rank one prompt's candidates with the shipped behaviour ranker in a warm
    process and no outcome cache (as one ``/v1/rank`` request would), p50 and p95."""
    import statistics

    from franc.ranking import get_ranker
    from franc.ranking.evaluate import group_tasks

    lines = []
    for language in sorted({f.language for f in files}):
        groups = [g for f in files if f.language == language
                  for g in group_tasks(f.candidates).values()][:prompts]
        ranker = get_ranker("behaviour", language)
        if not isinstance(ranker, BehaviourRanker):
            raise TypeError(f"rankers/behaviour.toml built a {type(ranker).__name__}")
        try:
            ranker.rank(tasks[groups[0][0].task_id], list(groups[0]))  # warm-up
            seconds = []
            for group in groups[1:]:
                ranker.cache.memory.clear()
                started = time.perf_counter()
                ranker.rank(tasks[group[0].task_id], list(group))
                seconds.append(time.perf_counter() - started)
        finally:
            ranker.close()
        q = statistics.quantiles(seconds, n=20)
        lines.append(f"{language}: {len(seconds)} prompts of {len(groups[0])} candidates, "
                     f"p50 {statistics.median(seconds):.2f} s, p95 {q[18]:.2f} s")
    return "; ".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=("python", "java"), action="append")
    parser.add_argument("--files", help="only files whose name contains one of these "
                                        "(comma-separated)")
    parser.add_argument("--tasks", type=task_range,
                        help="only the tasks numbered A to B-1 of each file (A:B, A: for A to "
                             "the end; N: the first N)")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--no-stripped", action="store_true",
                        help="leave out the variant whose prompts are stripped of their examples")
    parser.add_argument("--no-examples", action="store_true",
                        help="leave out the variant whose prompts keep their examples")
    parser.add_argument("--no-examples-ranker", action="store_true",
                        help="leave out the examples ranker (its sandbox runs are not cached)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="the results file (its name without .md is the topic)")
    parser.add_argument("--latency", type=int, metavar="N",
                        help="only time the ranking of N prompts' candidates, one at a time")
    parser.add_argument("--soeval", action="store_true",
                        help="rank the SOEval Python files instead of HumanEval's")
    args = parser.parse_args()
    languages = ["python"] if args.soeval else args.language or ["python", "java"]
    tasks = {t.task_id: t for language in ("python", "java")
             for t in load_tasks(REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl")}
    every = [f for p in sorted((OUT / "labeled").glob("HumanEval_*.jsonl"))
             if (f := with_findings(p.stem, tasks)) is not None]
    wanted = [w for w in (args.files or "").split(",") if w]
    if args.soeval:
        soeval, soeval_tasks = soeval_files(None, False, args.workers)
        tasks.update(soeval_tasks)
        candidates = [f for f in soeval if f.language == "python"]
    else:
        candidates = [subset(f, args.tasks) for f in every]
    chosen = [f for f in candidates if f.language in languages
              and (not wanted or any(w in f.name for w in wanted))]
    output = args.output
    if args.soeval and output == RESULTS:
        output = RESULTS.with_name("ranking_behaviour_soeval.md")
    if args.latency:
        print(latency(chosen, tasks, args.latency))
        return 0
    stripped = {t: strip_examples(task) for t, task in tasks.items()}
    rows: list[list[object]] = []
    notes = []
    with tempfile.TemporaryDirectory() as scratch:
        lomo = leave_one_model_out(every, chosen, tasks, Path(scratch))
        for language in languages:
            files = [f for f in chosen if f.language == language]
            if not files:
                continue
            prompts = {c.task_id for f in files for c in f.candidates}
            with_examples = sum(bool(task_examples(tasks[t])) for t in prompts)
            left = sum(bool(task_examples(stripped[t])) for t in prompts)
            notes.append(f"{language}: {len(files)} files, {len(prompts)} prompts; literal "
                         f"examples parsed for {with_examples}, after stripping for {left}")
            variants = [(name, variant_tasks) for name, variant_tasks, left_out in
                        (("examples", tasks, args.no_examples),
                         ("stripped", stripped, args.no_stripped)) if not left_out]
            for variant, variant_tasks in variants:
                orders, seconds, runs = run_variant(
                    files, variant_tasks, lomo, Path(scratch), args.workers,
                    with_examples_ranker=language == "python" and not args.no_examples_ranker)
                rows += pooled_rows(files, orders, variant_tasks, variant, seconds, runs)
                print(table(HEADER, rows), flush=True)
    body = (f"{'; '.join(notes)}. `learned` is leave-one-model-out, also as the behaviour "
            f"ranker's fallback; `stripped`: the rankers see the prompts without their examples "
            f"(the candidates are the same). gap closed = (top1 - top1_original) / (oracle - "
            f"top1_original); p: paired t-test over prompts (ranx). pass@k: unbiased estimator "
            f"over the samples (the same for every ranker). Cost: compilable candidates ranked "
            f"per second by all rankers of the row's variant together, wall clock, and the "
            f"calls run in the sandbox (outcomes not in the cache, which keeps one per program "
            f"and input; a candidate's calls share one process); a warm cache costs none. The "
            f"behaviour ranker runs with the shipped policy, in batch as `franc eval` does: "
            f"without its latency guards (budget, deadline: see the server's figures).\n\n"
            + table(HEADER, rows))
    title = SOEVAL_TITLE if args.soeval else TITLE.format(
        languages=", ".join(language.capitalize() for language in languages))
    write_section(output.stem, title, body, output.parent)
    return 0


HEADER = ["language", "prompts", "ranker", "tasks", "top-1 pass", "pass@1", "pass@10", "oracle",
          "gap closed", "p top-1 vs original", "p top-1 vs learned", "cost"]

if __name__ == "__main__":
    sys.exit(main())
