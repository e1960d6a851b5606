"""Repair measured with the replay back-end on all of FRANC's recorded repair rounds.

For every ``../shared/reference/repair/P*_<file>.jsonl.gz``: the prompts FRANC sent
for repair, how many of them we repair (at least one of the 10 recorded answers is
clean after our answer extraction and static filter), FRANC's own figure beside it,
the mean blocking findings per candidate before (the flawed code in the prompt) and
after (the compiling answers), and, for HumanEval prompts, how many clean answers
still pass the tests in the sandbox.

Judge (as close to FRANC's as this machine allows): Python compile() + bandit,
Java javac + our Java rules; clean = no finding >= medium on generated lines. The
``strict`` column uses FRANC's own rule on the same answers: any finding of those
tools on any line.

    python -m benchmarks.repair [--no-exec] [--limit N] [--no-append]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import REFERENCE, add_print_only, table, write_section
from franc.analysis import Analyzers
from franc.datasets import load_tasks
from franc.filter import StaticFilter
from franc.generation.replay import read_recordings
from franc.languages import facts
from franc.models import Task
from franc.repair import Judge, Repairer, load_template
from franc.repair.replay import flawed_candidate, rejudge, task_for

BENCHMARKS = (("HumanEval_python", "python"), ("HumanEval_java", "java"),
              ("SecurityEval_python", "python"), ("SOEvalPython", "python"),
              ("SOEvalJava", "java"))
TEMPLATES = ("P1", "P2", "P3")


@dataclass
class FileResult:
    template: str
    file: str
    language: str
    needing: int = 0
    with_answers: int = 0
    repaired: int = 0
    repaired_strict: int = 0
    flagged: int = 0
    repaired_flagged: int = 0
    franc_needing: int | None = None
    franc_repaired: int | None = None
    before: list[int] = field(default_factory=list)
    after: list[int] = field(default_factory=list)
    clean_answers: int = 0
    prompts_clean_passing: int = 0
    executed: bool = False


def benchmark_of(file: str) -> tuple[str, str]:
    return next((name, language) for name, language in BENCHMARKS if file.startswith(name))


def franc_figures() -> dict[tuple[str, str], tuple[int, int]]:
    with open(REFERENCE / "franc_repair_figures.csv", newline="") as handle:
        return {(row["template"], row["file"]): (int(row["prompts_needing_repair"]),
                                                 int(row["repaired_prompts"]))
                for row in csv.DictReader(handle)}


def measure(path: Path, tasks: dict[str, Task], language: str, sf: StaticFilter,
            analyzers: Analyzers, execute: bool) -> FileResult:
    template, file = path.name.removesuffix(".jsonl.gz").split("_", 1)
    result = FileResult(template, file, language)
    recordings = read_recordings(path)
    result.needing = len(recordings)
    result.with_answers = sum(1 for r in recordings if r.answers)
    judge, strict = Judge(language), Judge(language, strict=True)
    repairer = Repairer(load_template(template, language), sf, analyzers.run, judge)
    replayed = rejudge(recordings, tasks, language, repairer)
    # P3's prompt holds only the code before the flaw: take the flawed code from P1's prompts.
    source = recordings if template != "P3" else read_recordings(
        path.with_name(path.name.replace("P3_", "P1_", 1)))
    flawed = [(task_for(r, tasks, language), 0, flawed_candidate(r, language).code)
              for r in source]
    before = analyzers.run(sf.run_many(flawed), {t.task_id: t for t, _, _ in flawed})
    result.before = [len(judge.blocking(c)) for c in before if c.compiles]
    # Prompts whose flawed code our judge flags too (else "repair" only asks for compiling code).
    flagged = {c.task_id for c in before if c.compiles and judge.blocking(c)}
    result.flagged = sum(1 for r in recordings if r.task_id in flagged)
    executed: dict[tuple[str, str], bool] = {}
    for replay in replayed:
        result.repaired += replay.repaired
        result.repaired_flagged += replay.repaired and replay.task_id in flagged
        result.repaired_strict += any(strict.is_clean(a.candidate) for a in replay.answers)
        result.after += [len(judge.blocking(a.candidate)) for a in replay.answers
                         if a.candidate.compiles]
        task = tasks.get(replay.task_id)
        if execute and task is not None and task.test:
            result.executed = True
            result.clean_answers += sum(a.clean for a in replay.answers)
            result.prompts_clean_passing += any(
                passes(task, a.candidate.code, language, sf, executed)
                for a in replay.answers if a.clean)  # stops at the first passing answer
    return result


def passes(task: Task, code: str, language: str, sf: StaticFilter,
           executed: dict[tuple[str, str], bool]) -> bool:
    """Run the task's tests on ``code`` in the sandbox (each distinct code once)."""
    from franc.evaluation.execution import run_candidate

    key = (task.task_id, code)
    if key not in executed:
        compiler = sf.compiler if language == "java" else None
        executed[key] = run_candidate(task, code, language=language, timeout=15.0,
                                      cpu_limit=5, compiler=compiler).passed  # type: ignore[arg-type]
    return executed[key]


def mean(values: Sequence[int]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


def run(execute: bool, limit: int | None,
        languages: Sequence[str]) -> tuple[list[FileResult], float]:
    figures = franc_figures()
    started = time.perf_counter()
    results: list[FileResult] = []
    paths = sorted((REFERENCE / "repair").glob("P*_*.jsonl.gz"))
    by_language: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        language = benchmark_of(path.name.split("_", 1)[1])[1]
        if language in languages:
            by_language[language].append(path)
    for language, files in by_language.items():
        with StaticFilter(language) as sf, \
                Analyzers(language, facts(language).security_analyzers) as analyzers:
            for path in files[:limit]:
                benchmark = benchmark_of(path.name.split("_", 1)[1])[0]
                tasks = {t.task_id: t for t in load_tasks(
                    REFERENCE / "benchmarks" / f"{benchmark}.jsonl", language=language)}
                result = measure(path, tasks, language, sf, analyzers, execute)
                result.franc_needing, result.franc_repaired = figures.get(
                    (result.template, result.file), (None, None))
                results.append(result)
                print(f"{path.name}: {result.repaired}/{result.needing} "
                      f"(FRANC {result.franc_repaired})", file=sys.stderr, flush=True)
    return results, time.perf_counter() - started


def report(results: list[FileResult], seconds: float, judge_note: str) -> str:
    per_file = [[r.template, r.file, r.needing, r.with_answers,
                 "-" if r.franc_repaired is None else r.franc_repaired, r.repaired,
                 r.repaired_strict, f"{r.repaired_flagged}/{r.flagged}",
                 mean(r.before), mean(r.after),
                 f"{r.prompts_clean_passing}/{r.repaired}" if r.executed else "-"]
                for r in results if r.needing]
    groups: dict[tuple[str, str], list[FileResult]] = defaultdict(list)
    for r in results:
        groups[(r.language, r.template)].append(r)
    summary = []
    totals: defaultdict[str, int] = defaultdict(int)
    for (language, template), rows in sorted(groups.items()):
        franc = sum(r.franc_repaired or 0 for r in rows)
        franc_needing = sum(r.franc_needing or 0 for r in rows)
        ours = sum(r.repaired for r in rows)
        totals["franc"] += franc
        totals["ours"] += ours
        totals["strict"] += sum(r.repaired_strict for r in rows)
        totals["needing"] += sum(r.needing for r in rows)
        totals["flagged"] += sum(r.flagged for r in rows)
        totals["repaired_flagged"] += sum(r.repaired_flagged for r in rows)
        summary.append([language, template, f"{franc}/{franc_needing}",
                        f"{ours}/{sum(r.needing for r in rows)}",
                        sum(r.repaired_strict for r in rows),
                        f"{sum(r.repaired_flagged for r in rows)}/"
                        f"{sum(r.flagged for r in rows)}",
                        f"{ours / franc:.2f}x" if franc else "inf",
                        "yes" if ours > franc else "NO",
                        mean([v for r in rows for v in r.before]),
                        mean([v for r in rows for v in r.after]),
                        f"{sum(r.prompts_clean_passing for r in rows)}/"
                        f"{sum(r.repaired for r in rows if r.executed)}"
                        if any(r.executed for r in rows) else "-"])
    summary.append(["all", "all", str(totals["franc"]), f"{totals['ours']}/{totals['needing']}",
                    totals["strict"], f"{totals['repaired_flagged']}/{totals['flagged']}",
                    f"{totals['ours'] / max(totals['franc'], 1):.2f}x",
                    "yes" if totals["ours"] >= 1.5 * totals["franc"] else "NO", "", "", ""])
    files = len(results)
    empty = sum(1 for r in results if not r.needing)
    return "\n\n".join([
        f"{files} repair files ({empty} empty: nothing needed repair), replayed in "
        f"{seconds:.0f} s. Judge: {judge_note}. `strict`: FRANC's rule (any finding of those "
        "tools on any line) on the same answers. `flagged by our judge`: repaired / sent among "
        "the prompts whose flawed code our judge flags too (the others had no blocking "
        "finding for our analyzers, so their repair only needs a compiling answer). "
        "Findings: mean blocking findings per compiling candidate, before = the flawed code "
        "in the repair prompt, after = the answers. HumanEval: repaired prompts with a clean "
        "answer that still passes the HumanEval tests (sandbox, warm javac) / repaired prompts.",
        table(["language", "template", "FRANC repaired", "ours repaired", "ours strict",
               "ours, flagged by our judge", "ratio", "above FRANC", "findings before",
               "findings after", "HumanEval prompts clean+passing"], summary),
        "Per file:",
        table(["template", "file", "prompts sent", "with answers", "FRANC repaired",
               "ours repaired", "ours strict", "ours, flagged", "findings before", "findings after",
               "HumanEval clean+passing"], per_file)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-exec", action="store_true",
                        help="skip running the HumanEval tests on clean answers")
    parser.add_argument("--limit", type=int, help="files per language (a quick look)")
    add_print_only(parser)
    parser.add_argument("--language", action="append", choices=("python", "java"),
                        help="only this language (repeatable; default both)")
    args = parser.parse_args()
    if not (REFERENCE / "repair").is_dir():
        print(f"no reference data at {REFERENCE}", file=sys.stderr)
        return 1
    results, seconds = run(not args.no_exec, args.limit,
                           args.language or ("python", "java"))
    note = f"{Judge('python').name}; {Judge('java').name}"
    body = report(results, seconds, note)
    if args.no_append or args.limit or args.language:
        print(body)
    else:
        write_section("repair", "Repair (replay of FRANC's recorded answers)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
