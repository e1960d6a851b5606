"""Faithfulness of the Python filter: it never does worse than the plain concatenation.

A human-eval-style harness runs prompt + completion. On every HumanEval Python file in
../shared/reference/suggestions, for two pools:
- *suggestions*: each suggestion as the model wrote it (the concatenation: the text as is
  when it repeats the prompt, else prompt + text, as benchmarks/functional.py joins it);
- *completions*: a human-eval-style completion pool built from the same files: each
  suggestion that repeats the prompt, cut at the end of the prompt (the bare continuation;
  its concatenation is the suggestion itself);
it counts
(a) regressions: candidates whose concatenation passes the tests and whose filtered code
    does not (goal 0), from sandboxed runs (franc.evaluation.labels);
(b) moved-in code: filtered candidates whose target function has statements after its
    final ``return``/``raise`` that the model did not write inside the function (goal 0);
(c) the pass rate of the filtered code minus that of the concatenation (goal >= 0).

Only programs whose verdicts can differ are run: a filtered candidate identical to its
concatenation has its verdict; one whose concatenation does not compile cannot regress
(it can only gain: its gain is counted as 0, so (c) is a lower bound there, and a lower
bound >= 0 settles the goal). Verdicts are cached in out/faithfulness/verdicts.jsonl
(task, code -> label): a rerun only runs new programs. ``--every K`` keeps every K-th
prompt of each file (all files stay covered) to bound the sandbox time on a loaded machine.
Writes benchmarks/results/faithfulness.md.

    python -m benchmarks.faithfulness [--every K] [--workers N] [--files SUBSTRING]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.functional import CPU_LIMITS, TIMEOUTS, naive_join
from benchmarks.report import REFERENCE, ROOT, table, write_section
from franc.datasets import load_suggestions, load_tasks
from franc.evaluation.labels import PASS_LABEL, label_candidates
from franc.filter.chain import StaticFilter
from franc.filter.python import compile_error, target_function
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import Candidate, Task

CACHE = ROOT / "out" / "faithfulness" / "verdicts.jsonl"
TITLE = "Filter faithfulness: never worse than prompt + completion (HumanEval Python)"
TIMEOUT, CPU_LIMIT = TIMEOUTS["python"], CPU_LIMITS["python"]  # as functional runs HumanEval


def _key(task_id: str, code: str) -> str:
    return hashlib.sha256(f"{task_id}\0{code.rstrip()}".encode("utf-8", "surrogatepass")
                          ).hexdigest()


def _function(code: str, name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return next((node for node in tree.body if isinstance(node, ast.FunctionDef
                                                          | ast.AsyncFunctionDef)
                 and node.name == name), None)


def moved_in(filtered: str, concatenated: str, name: str | None) -> bool:
    """True when the target's body in ``filtered`` has a statement after its final
    ``return``/``raise`` that the model did not write inside the function: its first line
    is not, at the same or a deeper indentation than the body (a tab: 8 columns), in the
    concatenation (but for closing quotes and brackets close-unterminated added at its end)."""
    function = _function(filtered, name)
    if function is None:
        return False
    ends = [i for i, s in enumerate(function.body) if isinstance(s, ast.Return | ast.Raise)]
    if not ends:
        return False
    lines = filtered.splitlines()
    body_column = function.body[0].col_offset
    expanded = (line.expandtabs(8) for line in concatenated.splitlines())
    written = {line.strip() for line in expanded
               if len(line) - len(line.lstrip()) >= body_column and line.strip()}
    return any(not _written(lines[s.lineno - 1].strip(), written)
               for s in function.body[ends[0] + 1:])


def _written(line: str, written: set[str]) -> bool:
    return line in written or any(line.startswith(w) and not line[len(w):].strip("'\")]}")
                                  for w in written)


@dataclass
class PoolResult:
    file: str
    pool: str
    candidates: int = 0
    identical: int = 0  # filtered == concatenation: same verdict, not run
    concat_not_compiling: int = 0  # cannot regress; not run
    run: int = 0  # pairs run in the sandbox
    regressions: int = 0
    gains: int = 0  # among the pairs run: filtered passes, concatenation fails
    moved_in: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return (self.gains - self.regressions) / max(1, self.candidates)


def pools(tasks: dict[str, Task], suggestions: dict[str, list[str]]
          ) -> dict[str, list[tuple[Task, int, str, str]]]:
    """Pool name -> (task, index, raw input to the filter, its concatenation)."""
    given, cut = [], []
    for task_id, texts in suggestions.items():
        task = tasks[task_id]
        for index, text in enumerate(texts):
            given.append((task, index, text, naive_join(task.prompt, text)))
            if text.startswith(task.prompt) and text[len(task.prompt):].strip():
                cut.append((task, index, text[len(task.prompt):], text))
    return {"suggestions": given, "completions": cut}


def load_cache() -> dict[str, int]:
    if not CACHE.exists():
        return {}
    return {row["key"]: row["label"] for _, row in read_jsonl(CACHE)}


def run_programs(programs: dict[str, tuple[Task, str]], cache: dict[str, int],
                 workers: int | None) -> None:
    """Label the programs not in ``cache`` in the sandbox and add them (and to the file)."""
    todo = {key: value for key, value in programs.items() if key not in cache}
    if not todo:
        return
    keys = list(todo)
    candidates = [Candidate(task_id=todo[k][0].task_id, index=i, code=todo[k][1], compiles=True)
                  for i, k in enumerate(keys)]
    tasks = {task.task_id: task for task, _ in todo.values()}
    labeled = label_candidates(candidates, tasks, "python", workers=workers, progress=False,
                               timeout=TIMEOUT, cpu_limit=CPU_LIMIT)
    fresh = {key: c.label or 0 for key, c in zip(keys, labeled, strict=True)}
    cache.update(fresh)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"key": key, "label": label} for key, label in cache.items()]
    write_jsonl(CACHE, rows)


def measure(path: Path, tasks: dict[str, Task], every: int, cache: dict[str, int],
            workers: int | None) -> list[PoolResult]:
    name = path.name.removesuffix(".jsonl.gz")
    suggestions = load_suggestions(path, tasks=tasks)
    suggestions = {tid: texts for i, (tid, texts) in enumerate(suggestions.items())
                   if tid in tasks and i % every == 0}
    results = []
    with StaticFilter("python") as static_filter:
        for pool, items in pools(tasks, suggestions).items():
            filtered = static_filter.run_many([(task, index, raw)
                                               for task, index, raw, _ in items])
            result = PoolResult(name, pool, candidates=len(items))
            pairs = []
            for (task, _, _, concat), candidate in zip(items, filtered, strict=True):
                code = candidate.code if candidate.compiles else None
                if code is not None and moved_in(code, concat, target_function(task)):
                    result.moved_in += 1
                    if len(result.examples) < 2:
                        result.examples.append(f"{task.task_id}")
                if code is not None and code.rstrip() == concat.rstrip():
                    result.identical += 1
                elif compile_error(concat) is not None:
                    result.concat_not_compiling += 1
                else:
                    pairs.append((task, concat, code))
            programs = {_key(task.task_id, code): (task, code)
                        for task, concat, filtered_code in pairs
                        for code in (concat, filtered_code) if code is not None}
            run_programs(programs, cache, workers)
            for task, concat, code in pairs:
                result.run += 1
                concat_passes = cache[_key(task.task_id, concat)] >= PASS_LABEL
                filtered_passes = (code is not None
                                   and cache[_key(task.task_id, code)] >= PASS_LABEL)
                result.regressions += concat_passes and not filtered_passes
                result.gains += filtered_passes and not concat_passes
            results.append(result)
    return results


def write_results(results: list[PoolResult], every: int, seconds: float) -> None:
    rows = [(r.file.removeprefix("HumanEval_python_"), r.pool, r.candidates, r.identical,
             r.concat_not_compiling, r.run, r.regressions, r.gains, f"{r.delta:+.3f}",
             r.moved_in) for r in results]
    totals = ("**all**", "", sum(r.candidates for r in results),
              sum(r.identical for r in results), sum(r.concat_not_compiling for r in results),
              sum(r.run for r in results), sum(r.regressions for r in results),
              sum(r.gains for r in results), "", sum(r.moved_in for r in results))
    subset = "every prompt" if every == 1 else f"every {every}th prompt of each file"
    body = (f"{subset.capitalize()}; {seconds:.0f} s.\n\n"
            "Pools: *suggestions* = the model's text as given (concatenation: as is when it "
            "repeats the prompt, else prompt + text); *completions* = each suggestion that "
            "repeats the prompt, cut at the end of the prompt (human-eval style; its "
            "concatenation is the suggestion).\n\n"
            "Columns: *identical* = filtered code is the concatenation (same verdict, not "
            "run); *concat no compile* = the concatenation does not compile (cannot regress, "
            "not run); *run* = pairs run in the sandbox; *regressions* (goal 0) = "
            "concatenation passes, filtered fails; *gains* = the reverse; *Δ pass rate ≥* = "
            "filtered minus concatenation pass rate (a lower bound: gains on concatenations "
            "that do not compile are not counted; goal ≥ 0); *moved-in* (goal 0) = filtered "
            "candidates with statements after the target's final return that the model did "
            "not write inside the function.\n\n")
    body += table(("file", "pool", "candidates", "identical", "concat no compile", "run",
                   "regressions", "gains", "Δ pass rate ≥", "moved-in"), [*rows, totals])
    examples = [f"{r.file} {r.pool}: {', '.join(r.examples)}" for r in results if r.examples]
    if examples:
        body += "\n\nMoved-in examples: " + "; ".join(examples)
    write_section("faithfulness", TITLE, body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=1, help="keep every K-th prompt per file")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--files", default="", help="only files whose name contains this")
    args = parser.parse_args()
    bench = REFERENCE / "benchmarks" / "HumanEval_python.jsonl"
    if not bench.exists():
        print(f"no reference data at {REFERENCE}; nothing to measure")
        return 0
    tasks = {t.task_id: t for t in load_tasks(bench, language="python")}
    cache = load_cache()
    started = time.perf_counter()
    results: list[PoolResult] = []
    for path in sorted((REFERENCE / "suggestions").glob("HumanEval_python_*.jsonl.gz")):
        if args.files in path.name:
            results += measure(path, tasks, args.every, cache, args.workers)
            print(results[-2:], flush=True)
    write_results(results, args.every, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
