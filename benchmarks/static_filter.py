"""Static filter on real model output: compilability raw vs after our filter vs FRANC's.

Runs the shipped chains over every file in ../shared/reference/suggestions (47 files,
Python and Java), prints a table and writes it to benchmarks/results/. Columns:
- raw: the raw text compiles as is (Python ``compile()``, Java javac);
- ours: after our filter, with the honesty rule (a target that keeps nothing the model
  wrote is ``empty body``, never compilable);
- ours w/o honesty: the same code also counting those empty bodies when they compile
  (what a filter without the rule would report; FRANC's figure counts them);
- FRANC: its after-filter figure (``compilable_after_franc_filter_rechecked`` where given);
- filter / compile ms: our seconds per snippet, in milliseconds (heuristics + honesty
  check; the compile check), FRANC's static-filter seconds per snippet for comparison.
The filtered candidates are written to out/filtered/<file>.jsonl (the ``franc filter``
output format) for the execution, analysis and ranking benchmarks to reuse.

    python -m benchmarks.static_filter [--only SUBSTRING] [--limit N] [--no-append]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import (
    REFERENCE,
    ROOT,
    add_print_only,
    franc_table,
    reference_missing,
    table,
    write_section,
)
from franc.cli.filter import output_row
from franc.datasets import load_suggestions, load_tasks
from franc.filter import EMPTY_BODY, StaticFilter
from franc.filter.base import Compiler
from franc.filter.java import TRUNCATION_THROW
from franc.filter.python import PythonCompiler
from franc.jsonl import write_jsonl
from franc.models import CompileResult, Task

OUT_DIR = ROOT / "out" / "filtered"
PROMPT_FILES = {
    "HumanEval_python": ("HumanEval_python.jsonl", "python"),
    "HumanEval_java": ("HumanEval_java.jsonl", "java"),
    "SOEvalPython": ("SOEvalPython.jsonl", "python"),
    "SOEvalJava": ("SOEvalJava.jsonl", "java"),
    "SecurityEval_python": ("SecurityEval_python.jsonl", "python"),
}


def children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's live child processes (the JVMs)."""
    me, total = str(os.getpid()), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:  # fields[1] is the parent pid; utime, stime are fields 11, 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_with_children() -> float:
    """CPU seconds of this process and its live children: fair on a shared, loaded machine."""
    return time.process_time() + children_cpu_seconds()


class TimedCompiler:
    """A compiler that adds up the seconds its ``check`` calls take on ``clock``."""

    def __init__(self, compiler: Compiler, clock: Callable[[], float]):
        self.compiler = compiler
        self.clock = clock
        self.seconds = 0.0
        self.own_seconds = 0.0  # the part spent in this process

    def check(self, units: Sequence[str]) -> list[CompileResult]:
        started, own = self.clock(), time.process_time()
        try:
            return self.compiler.check(units)
        finally:
            self.seconds += self.clock() - started
            self.own_seconds += time.process_time() - own

    def close(self) -> None:
        self.compiler.close()


@dataclass
class Row:
    file: str
    language: str
    snippets: int
    raw: float
    ours: float
    ours_without_honesty: float
    franc: float
    filter_ms: float
    compile_ms: float
    franc_filter_ms: float
    # Java: shares of the snippets that compile after javac's revision, that end in the
    # truncation throw, and that compile by cutting and closing only (neither).
    revised_after_compile: float = 0.0
    truncation_throw: float = 0.0
    cut_and_close_only: float = 0.0


def franc_figures() -> dict[str, dict[str, str]]:
    return franc_table("franc_figures.csv")


def franc_after(row: dict[str, str]) -> float:
    return float(row["compilable_after_franc_filter_rechecked"]
                 or row["compilable_after_franc_filter"])


def items_of(path: Path, limit: int | None) -> tuple[str, list[tuple[Task, int, str]]]:
    prefix = next(p for p in PROMPT_FILES if path.name.startswith(p + "_"))
    prompt_file, language = PROMPT_FILES[prefix]
    tasks = load_tasks(REFERENCE / "benchmarks" / prompt_file, language=language)
    by_id = {task.task_id: task for task in tasks}
    suggestions = load_suggestions(path, tasks=tasks)
    task_ids = [t for t in suggestions if t in by_id][:limit]
    return language, [(by_id[t], i, raw) for t in task_ids
                      for i, raw in enumerate(suggestions[t])]


def measure(path: Path, compilers: dict[str, TimedCompiler], limit: int | None,
            figures: dict[str, dict[str, str]]) -> Row:
    name = path.name.removesuffix(".jsonl.gz")
    language, items = items_of(path, limit)
    compiler = compilers[language]
    raw_results = compiler.check([raw for _, _, raw in items])
    compiler.seconds = compiler.own_seconds = 0.0
    with StaticFilter(language, compiler=compiler) as static_filter:
        started = time.process_time()
        candidates = static_filter.run_many(items)
        cpu = time.process_time() - started
    compile_seconds = compiler.seconds
    # The machine is shared: everything is timed in CPU seconds (javac: of the JVMs as well).
    filter_seconds = cpu - compile_seconds + (
        0.0 if language == "python" else compile_seconds - compiler.own_seconds)
    empty = [c for c in candidates if c.errors == [EMPTY_BODY]]
    empty_compiling = sum(r.ok for r in compiler.check([c.code for c in empty]))
    write_jsonl(OUT_DIR / f"{name}.jsonl", (output_row(c) for c in candidates))
    n = len(items)
    figure = figures.get(name, {})
    compiled = [c for c in candidates if c.compiles]
    revised = {id(c) for c in compiled if "java-cut-at-compile-error" in c.heuristics}
    throws = {id(c) for c in compiled if TRUNCATION_THROW in c.code}
    return Row(
        file=name, language=language, snippets=n,
        raw=sum(r.ok for r in raw_results) / n,
        ours=sum(c.compiles for c in candidates) / n,
        ours_without_honesty=(sum(c.compiles for c in candidates) + empty_compiling) / n,
        franc=franc_after(figure) if figure else float("nan"),
        filter_ms=filter_seconds / n * 1000, compile_ms=compile_seconds / n * 1000,
        franc_filter_ms=float(figure.get("franc_seconds_per_snippet_static_filter") or "nan")
        * 1000,
        revised_after_compile=len(revised) / n, truncation_throw=len(throws) / n,
        cut_and_close_only=sum(id(c) not in revised | throws for c in compiled) / n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="only files whose name contains this")
    parser.add_argument("--limit", type=int, help="only the first N prompts of each file")
    add_print_only(parser)
    args = parser.parse_args(argv)
    if reference_missing():
        return 1
    paths = sorted(p for p in (REFERENCE / "suggestions").glob("*.jsonl.gz")
                   if args.only.lower() in p.name.lower())
    figures = franc_figures()
    compilers = {"python": TimedCompiler(PythonCompiler(), time.process_time)}
    if any(items_language(p) == "java" for p in paths):
        from franc.filter.java import JavaCompiler

        compilers["java"] = TimedCompiler(JavaCompiler(), cpu_with_children)
    rows: list[Row] = []
    try:
        for path in paths:
            row = measure(path, compilers, args.limit, figures)
            rows.append(row)
            verdict = "beats" if row.ours > row.franc else "BELOW"
            print(f"{row.file:46s} raw {row.raw:.3f}  ours {row.ours:.3f}  "
                  f"(w/o honesty {row.ours_without_honesty:.3f})  FRANC {row.franc:.3f} "
                  f"{verdict}  filter {row.filter_ms:.2f} ms  compile {row.compile_ms:.2f} ms",
                  flush=True)
    finally:
        for compiler in compilers.values():
            compiler.close()
    header = ["file", "snippets", "raw", "ours", "ours w/o honesty", "FRANC", "ours > FRANC",
              "filter ms", "compile ms", "FRANC filter ms"]
    body = [[r.file, r.snippets, r.raw, r.ours, r.ours_without_honesty, r.franc,
             "yes" if r.ours > r.franc else "no", f"{r.filter_ms:.2f}", f"{r.compile_ms:.2f}",
             f"{r.franc_filter_ms:.2f}"] for r in rows]
    summary = summarize(rows)
    text = (table(header, body) + "\n\n" + summary + "\n\nCompilable shares; ms per snippet. "
            "`ours w/o honesty` also counts candidates whose target kept no generated statement "
            "(`empty body`) when their code compiles, as FRANC's figure does. Filter ms: CPU time "
            "of the filtering process (heuristics + honesty check); compile ms: CPU time of "
            "`compile()` for Python, of the warm javac JVMs (2, summed) plus the driving thread "
            "for Java (on two idle cores the wall time is about half of it). Filtered "
            "output: "
            "out/filtered/<file>.jsonl." + "".join(
                note(rows) for language, note in NOTES.items()
                if any(r.language == language for r in rows)))
    if args.no_append:
        print(text)
    else:
        scope = f" (only *{args.only}*)" if args.only else ""
        limit = f", first {args.limit} prompts per file" if args.limit else ""
        topic = "static_filter" + "".join(
            f"_{part}" for part in (args.only, args.limit and f"first{args.limit}") if part)
        write_section(re.sub(r"\W+", "_", topic),
                      f"Static filter: compilability vs FRANC{scope}{limit}", text)
    return 0


def java_candidate_sources(rows: Sequence[Row]) -> str:
    """Where the compilable Java candidates come from, and what FRANC's heuristics reach."""
    chosen = [r for r in rows if r.language == "java"]
    return ("\n\nWhere the compilable Java candidates come from (shares of all snippets):\n\n"
            + table(["file", "snippets", "ours", "revised after javac "
                     "(java-cut-at-compile-error)", "end in the truncation throw",
                     "cut and close only (neither)", "FRANC"],
                    [[r.file, r.snippets, r.ours, r.revised_after_compile, r.truncation_throw,
                      r.cut_and_close_only, r.franc] for r in chosen])
            + "\n\nMost 128-token generations end inside the target method: H7 keeps every "
            "complete statement, closes the braces and, where javac needs it (a value-returning "
            "method whose kept statements can run off the end, JLS 14.22), ends the method with "
            f"a commented `{TRUNCATION_THROW}` (Python's equivalent: falling off the end returns "
            "None); the throw never makes a test pass. `java-cut-at-compile-error` runs after "
            "javac on rejected candidates only: inside a method the model's output was cut off "
            "in, it cuts before the first line javac rejects and closes again (kept only if it "
            "then compiles and keeps a statement the model wrote). `cut and close only` is what "
            "FRANC's kind of filter (cut lines, close braces) reaches with our H2/H6/H7. Where it "
            "falls short of FRANC (SOEvalJava_PolyCoder-0.4B, SOEvalJava_incoder-1B), FRANC's "
            "figure counts empty void bodies: a re-implementation of FRANC's H3/H6/H7 (run once "
            "outside the repository, 2026-11-25; FRANC's code does not enter the project) gave "
            "0.182 and 0.139 there, of which 6 and 35 compilable candidates keep no statement the "
            "model wrote (0.161 and 0.014 under the honesty rule).")


def python_honesty(rows: Sequence[Row]) -> str:
    """What FRANC's own Python heuristics reach under the honesty rule (a measured fact)."""
    return ("\n\nOn the five Python files below FRANC's published figure (codeparrot-small, "
            "codeparrot, HumanEval/SOEval/SecurityEval incoder-1B), FRANC's figure counts "
            "functions whose body is only the prompt's docstring: a re-implementation of FRANC's "
            "Python H3/H4/H5 (run once outside the repository, 2026-11-25; FRANC's code does not "
            "enter the project) reproduced FRANC's published figures within 0.011 and, judged by "
            "our honesty rule (`has_generated_body`), kept 0.087-0.165 of the snippets (ours: "
            "the `ours` column above).")


#: Per language, the sentences after the table (when the run covered that language).
NOTES: dict[str, Callable[[Sequence[Row]], str]] = {"python": python_honesty,
                                                    "java": java_candidate_sources}


def items_language(path: Path) -> str:
    prefix = next(p for p in PROMPT_FILES if path.name.startswith(p + "_"))
    return PROMPT_FILES[prefix][1]


def summarize(rows: Sequence[Row]) -> str:
    lines = []
    for language in ("python", "java"):
        chosen = [r for r in rows if r.language == language]
        if not chosen:
            continue
        snippets = sum(r.snippets for r in chosen)
        wins = sum(r.ours > r.franc for r in chosen)
        wins_plain = sum(r.ours_without_honesty > r.franc for r in chosen)
        filter_ms = sum(r.filter_ms * r.snippets for r in chosen) / snippets
        compile_ms = sum(r.compile_ms * r.snippets for r in chosen) / snippets
        lines.append(
            f"- {language}: {len(chosen)} files, {snippets} snippets; ours > FRANC on {wins} "
            f"files with the honesty rule, on {wins_plain} without it; mean raw "
            f"{_mean(chosen, 'raw'):.3f}, ours {_mean(chosen, 'ours'):.3f}, FRANC "
            f"{_mean(chosen, 'franc'):.3f}; {filter_ms:.2f} ms filter + {compile_ms:.2f} ms "
            "compile per snippet.")
    return "\n".join(lines)


def _mean(rows: Sequence[Row], field: str) -> float:
    return sum(getattr(r, field) for r in rows) / len(rows)


if __name__ == "__main__":
    sys.exit(main())
