"""Warm javac vs one javac process per unit, side by side on real filtered Java candidates.

Units: the first ``--prompts`` prompts of every Java suggestion file in ../shared/reference,
fixed by the shipped Java chain (``StaticFilter.fix``, no compile). Rows:
- ``javac`` subprocess per unit (the oldest way; on a ``--subprocess-sample`` of the units);
- the warm helper, each check a fresh full compile (the previous way), 1 and 2 JVMs;
- the warm helper reusing javac's context and stopping after flow analysis (now), 1 and 2
  JVMs, tree-sitter pre-rejection off and on.
Amortised ms per unit include the JVM start and warm-up; "warm" ms per unit time the second
half of the units only. Verdict agreement: the subprocess and the helper on the sampled units;
reused contexts against fresh compiles on every unit (verdicts and messages); the tree-sitter
pre-rejection against javac's verdict (a unit tree-sitter rejects that javac accepts would be a
false rejection).

    python -m benchmarks.java_compiler [--prompts 8] [--subprocess-sample 30] [--no-append]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.report import REFERENCE, add_print_only, reference_missing, table, write_section
from franc.datasets import load_suggestions, load_tasks
from franc.filter import StaticFilter
from franc.java import JavaCompiler
from franc.java.compiler import unit_file_name
from franc.java.syntax import has_syntax_error
from franc.models import CompileResult


def sample_units(prompts: int) -> list[str]:
    units: list[str] = []
    with StaticFilter("java") as static_filter:
        for path in sorted((REFERENCE / "suggestions").glob("*[jJ]ava_*.jsonl.gz")):
            bench = "HumanEval_java" if path.name.startswith("HumanEval") else "SOEvalJava"
            tasks = load_tasks(REFERENCE / "benchmarks" / f"{bench}.jsonl", language="java")
            by_id = {task.task_id: task for task in tasks}
            suggestions = load_suggestions(path, tasks=tasks)
            for task_id in [t for t in suggestions if t in by_id][:prompts]:
                units += [static_filter.fix(by_id[task_id], raw)[0]
                          for raw in suggestions[task_id]]
    return units


def children_cpu() -> float:
    """CPU seconds of the waited-for child processes (javac runs, closed JVMs): load-proof."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def subprocess_javac(units: Sequence[str]) -> list[bool]:
    verdicts = []
    for unit in units:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / unit_file_name(unit)
            source.write_text(unit, encoding="utf-8", errors="replace")
            done = subprocess.run(["javac", "-proc:none", "-d", tmp, str(source)],
                                  capture_output=True, check=False)
            verdicts.append(done.returncode == 0)
    return verdicts


def warm(units: Sequence[str], workers: int, prefilter: bool, fresh: bool
         ) -> tuple[list[CompileResult], float, float]:
    """Results, seconds in all (JVM start included), seconds for the second half of the units."""
    half = len(units) // 2
    started = time.perf_counter()
    with JavaCompiler(workers=workers, prefilter=prefilter, fresh_tasks=fresh) as javac:
        results = javac.check(units[:half])
        second = time.perf_counter()
        results += javac.check(units[half:])
    ended = time.perf_counter()
    return results, ended - started, ended - second


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=8, help="prompts per suggestion file")
    parser.add_argument("--subprocess-sample", type=int, default=30,
                        help="units compiled the old way (one javac process each)")
    add_print_only(parser)
    args = parser.parse_args(argv)
    if reference_missing():
        return 1
    units = sample_units(args.prompts)
    step = max(1, len(units) // args.subprocess_sample)
    sample = units[::step][:args.subprocess_sample]
    load = os.getloadavg()

    started, cpu = time.perf_counter(), children_cpu()
    old = subprocess_javac(sample)
    old_ms = (time.perf_counter() - started) / len(sample) * 1000
    old_cpu = (children_cpu() - cpu) / len(sample) * 1000
    rows = [["javac -proc:none, one process per unit", len(sample), f"{old_ms:.1f}", "1x", "",
             f"{old_cpu:.1f}", "1x"]]
    runs: dict[tuple[int, bool, bool], list[CompileResult]] = {}
    for workers, prefilter, fresh in ((1, False, True), (2, False, True), (1, False, False),
                                      (2, False, False), (1, True, False)):
        cpu = children_cpu()
        results, seconds, second_half = warm(units, workers, prefilter, fresh)
        ms = seconds / len(units) * 1000
        warm_ms = second_half / (len(units) - len(units) // 2) * 1000
        cpu_ms = (children_cpu() - cpu) / len(units) * 1000
        way = ("fresh full compile per check" if fresh
               else "reused context, stops after flow analysis")
        rows.append([f"warm helper, {way}, {workers} JVM(s), tree-sitter pre-reject "
                     f"{'on' if prefilter else 'off'}", len(units), f"{ms:.1f}",
                     f"{old_ms / ms:.0f}x", f"{warm_ms:.1f}", f"{cpu_ms:.1f}",
                     f"{old_cpu / cpu_ms:.0f}x"])
        runs[(workers, prefilter, fresh)] = results
        print(rows[-1], flush=True)
    reference, reused = runs[(1, False, True)], runs[(1, False, False)]
    with JavaCompiler(workers=1, prefilter=False) as javac:
        warm_sample = [r.ok for r in javac.check(sample)]
    agree_old = sum(a == b for a, b in zip(old, warm_sample, strict=True))
    same_verdict = sum(a.ok == b.ok for a, b in zip(reference, reused, strict=True))
    same_messages = sum(a.errors == b.errors for a, b in zip(reference, reused, strict=True))
    rejected = [has_syntax_error(unit) for unit in units]
    false_rejects = sum(r and ref.ok for r, ref in zip(rejected, reference, strict=True))
    end_load = os.getloadavg()
    body = table(["compile check", "units", "wall ms per unit (amortised)", "speed-up",
                  "warm wall ms per unit (2nd half)", "JVM CPU ms per unit", "CPU ratio"], rows)
    body += (
        f"\n\n{len(units)} units ({args.prompts} prompts x 10 candidates of each of the 14 Java "
        f"files, after the shipped Java chain), {sum(r.ok for r in reference)} compile. "
        f"Verdicts: reused context = fresh full compile on {same_verdict}/{len(units)} units "
        f"(identical error messages on {same_messages}); reused context = one javac process "
        f"per unit on {agree_old}/{len(sample)} sampled units; tree-sitter rejects "
        f"{sum(rejected)} units before the JVM, of which javac accepts {false_rejects} (false "
        f"rejections). Wall-clock times on a shared machine (load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, at the end {end_load[0]:.1f} / "
        f"{end_load[1]:.1f} / {end_load[2]:.1f}); the speed-up is measured in the same run. "
        "JVM CPU ms: CPU time of the javac processes (JVM start and warm-up included), which "
        "the load does not inflate; on an idle 2-core machine 2 JVMs take about half of it as "
        "wall time.")
    if args.no_append:
        print(body)
    else:
        write_section("java_compiler",
                      "Java compile check: warm javac helper vs javac per unit", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
