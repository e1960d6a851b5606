"""Our static filter side by side with EvalPlus's sanitizer on the HumanEval Python reference files.

EvalPlus (``evalplus.sanitize.sanitize(code, entrypoint)``: longest parsable span, then
only the imports, classes, functions and assignments reachable from the entry point) is
the closest peer of our filter. It is not a dependency: it runs in its own virtual
environment (default ``/tmp/evalplus-venv``; create it with
``python3 -m venv /tmp/evalplus-venv && /tmp/evalplus-venv/bin/pip install evalplus
tree_sitter tree_sitter_python tqdm``), one subprocess per file. Its ``evalplus.data``
module needs the Hugging Face ``datasets`` package for its CLI only, so the helper
replaces that module with an empty stub before importing the sanitizer.

Both get the same input: each suggestion joined to the prompt as a naive user would (as
is when it starts with the prompt, else prompt + suggestion) — what EvalPlus's own
generation scripts hand to the sanitizer. Per file: compilable and pass rates after each,
and regressions (candidates that pass raw but fail after the tool).

    python -m benchmarks.evalplus_compare [--files TEXT] [--limit N] [--workers N]
                                          [--venv /tmp/evalplus-venv]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.functional import filtered_candidates, naive_join
from benchmarks.report import REFERENCE, load_average, table, write_section
from franc.datasets import load_suggestions, load_tasks
from franc.evaluation.labels import label_candidates
from franc.filter.chain import language_support
from franc.languages import PASS_LABEL
from franc.models import Candidate, Task

HELPER = """\
import json, sys, types
stub = types.ModuleType("evalplus.data")
for name in ("get_human_eval_plus", "get_mbpp_plus", "load_solutions", "write_directory",
             "write_jsonl"):
    setattr(stub, name, None)
sys.modules["evalplus.data"] = stub
from evalplus.sanitize import sanitize
out = []
for code, entry in json.load(sys.stdin):
    try:
        out.append(sanitize(code, entry))
    except Exception as exc:  # a crash leaves nothing, as an empty sanitized solution would
        out.append("")
json.dump(out, sys.stdout)
"""


def evalplus_sanitize(venv: Path, items: list[tuple[str, str]]) -> list[str]:
    done = subprocess.run([str(venv / "bin" / "python"), "-c", HELPER],
                          input=json.dumps(items), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def compiled(candidates: list[Candidate]) -> list[Candidate]:
    """Compile-check; an empty text (EvalPlus's answer when it finds nothing) counts as not."""
    compiler = language_support("python").make_compiler()
    try:
        for candidate, verdict in zip(candidates, compiler.check([c.code for c in candidates]),
                                      strict=True):
            candidate.compiles = verdict.ok and bool(candidate.code.strip())
    finally:
        compiler.close()
    return candidates


def rates(labeled: list[Candidate]) -> tuple[float, float]:
    n = max(1, len(labeled))
    return (sum(c.compiles for c in labeled) / n,
            sum((c.label or 0) >= PASS_LABEL for c in labeled) / n)


def measure(path: Path, tasks: dict[str, Task], venv: Path, limit: int | None,
            workers: int | None) -> tuple[object, ...]:
    suggestions = load_suggestions(path, tasks=tasks)
    if limit:
        suggestions = dict(list(suggestions.items())[:limit])
    keys = [(tid, i, text) for tid, texts in suggestions.items() for i, text in enumerate(texts)]
    joined = [naive_join(tasks[tid].prompt, text) for tid, _, text in keys]
    started = time.perf_counter()
    sanitized = evalplus_sanitize(venv, [(code, tasks[tid].entry_point or "")
                                         for code, (tid, _, _) in zip(joined, keys, strict=True)])
    evalplus_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = filtered_candidates("python", tasks, suggestions)
    ours_seconds = time.perf_counter() - started
    raw = compiled([Candidate(task_id=tid, index=i, code=code)
                    for (tid, i, _), code in zip(keys, joined, strict=True)])
    evalplus = compiled([Candidate(task_id=tid, index=i, code=code)
                         for (tid, i, _), code in zip(keys, sanitized, strict=True)])
    labeled = label_candidates(raw + ours + evalplus, tasks, "python", workers=workers,
                               timeout=10.0, progress=False)
    n = len(keys)
    raw_l, ours_l, evalplus_l = labeled[:n], labeled[n:2 * n], labeled[2 * n:]
    raw_pass = [(c.label or 0) >= PASS_LABEL for c in raw_l]

    def regressions(after: list[Candidate]) -> int:
        return sum(passed and (c.label or 0) < PASS_LABEL
                   for passed, c in zip(raw_pass, after, strict=True))

    emptied = sum(not c.code.strip() for c in evalplus_l)
    ours_compile, ours_pass = rates(ours_l)
    plus_compile, plus_pass = rates(evalplus_l)
    return (path.name.removesuffix(".jsonl.gz"), n, rates(raw_l)[1], ours_compile, ours_pass,
            regressions(ours_l), plus_compile, plus_pass, regressions(evalplus_l), emptied,
            "yes" if ours_pass >= plus_pass else "NO",
            f"{1000 * ours_seconds / n:.2f}", f"{1000 * evalplus_seconds / n:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", help="only files whose name contains this")
    parser.add_argument("--limit", type=int, help="only the first N prompts of each file")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/evalplus-venv"))
    args = parser.parse_args()
    if not (args.venv / "bin" / "python").exists():
        raise SystemExit(f"no EvalPlus environment at {args.venv}; see this script's docstring")
    tasks = {t.task_id: t for t in load_tasks(REFERENCE / "benchmarks" / "HumanEval_python.jsonl",
                                              language="python")}
    rows = []
    for path in sorted((REFERENCE / "suggestions").glob("HumanEval_python_*.jsonl.gz")):
        if args.files and args.files not in path.name:
            continue
        rows.append(measure(path, tasks, args.venv, args.limit, args.workers))
        print(rows[-1], file=sys.stderr, flush=True)
    version = subprocess.run([str(args.venv / "bin" / "python"), "-m", "pip", "show", "evalplus"],
                             capture_output=True, text=True, check=False).stdout
    version = next((line.split(":", 1)[1].strip() for line in version.splitlines()
                    if line.startswith("Version:")), "?")
    load = load_average()
    body = table(("file", "candidates", "raw pass", "ours compilable", "ours pass",
                  "pass raw, fail ours", "EvalPlus compilable", "EvalPlus pass",
                  "pass raw, fail EvalPlus", "EvalPlus emptied", "ours >= EvalPlus",
                  "ours ms/snippet", "EvalPlus ms/snippet"), rows)
    body += (f"\n\nEvalPlus {version} `sanitize(code, entry_point)` vs our static filter "
             "(shipped chain) on the same naive joins of prompt and suggestion; all "
             "candidates run against the HumanEval tests in the sandbox (10 s). *EvalPlus "
             "emptied*: sanitized to an empty text (counted as not compilable). ms/snippet: "
             "filtering time only (ours "
             "includes the compile check; EvalPlus's includes its subprocess start)."
             + (f" First {args.limit} prompts per file only." if args.limit else "")
             + f" Load average at the end: {load} (shared machine).")
    write_section("evalplus_compare", "Static filter vs EvalPlus sanitizer, HumanEval Python "
                   "(benchmarks/evalplus_compare.py)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
