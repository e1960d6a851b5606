"""Functional pass rates on every HumanEval reference file: raw vs our filter vs FRANC's.

For each ``HumanEval_<language>_*`` file in ``../shared/reference/suggestions``:
- raw: each suggestion joined to the prompt as a naive user would (the text as is when
  it starts with the prompt, else prompt + text), compile-checked, then run;
- ours: the static filter's output (filtered here with the shipped chain), labeled
  and written to ``out/labeled/<file>.jsonl`` for the ranking benchmarks (the raw
  labels go to ``out/labeled_raw/``; ``--reuse`` takes a program's verdict from
  there instead of running the same task and code again);
- FRANC's figures from ``franc_humaneval.csv``.
Also counts regressions (candidates that pass raw but fail after our filter) and the
test throughput (executed candidates per second). Writes its section to benchmarks/results/.

    python -m benchmarks.functional [--language python|java] [--limit N] [--workers N] [--reuse]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import (
    REFERENCE,
    ROOT,
    add_print_only,
    franc_table,
    load_average,
    table,
    write_section,
)
from franc.datasets import load_suggestions, load_tasks
from franc.evaluation.execution import java_sources
from franc.evaluation.labels import label_candidates
from franc.evaluation.sandbox import sandbox_capabilities
from franc.filter.chain import StaticFilter, language_support
from franc.jsonl import read_jsonl, write_jsonl
from franc.languages import PASS_LABEL
from franc.models import Candidate, ExecStatus, Task
from franc.parallel import default_workers

OUT = ROOT / "out"
TIMEOUTS = {"python": 10.0, "java": 15.0}  # wall clock, as in FRANC's run (franc_humaneval.csv)
# CPU seconds: every canonical HumanEval solution needs < 1 s; endless loops stop early.
CPU_LIMITS = {"python": 2, "java": 4}


@dataclass
class PassRates:
    """One reference file's candidates run raw and after our filter (same order, labeled)."""
    name: str
    candidates: int
    raw_pass: float
    ours_compilable: float
    ours_pass: float
    regressions: int  # candidates that pass raw but fail after our filter

    @classmethod
    def of(cls, name: str, raw: list[Candidate], ours: list[Candidate]) -> PassRates:
        raw_passed = {(c.task_id, c.index) for c in raw if (c.label or 0) >= PASS_LABEL}
        return cls(name=name, candidates=len(ours), raw_pass=pass_rate(raw),
                   ours_compilable=sum(c.compiles for c in ours) / max(1, len(ours)),
                   ours_pass=pass_rate(ours),
                   regressions=sum((c.task_id, c.index) in raw_passed
                                   and (c.label or 0) < PASS_LABEL for c in ours))


@dataclass
class FileResult(PassRates):
    franc_raw_pass: str
    franc_pass: str
    executed: int
    seconds: float
    reused: int = 0  # distinct programs whose verdict came from the previous run (--reuse)


def naive_join(prompt: str, text: str) -> str:
    return text if text.startswith(prompt) else prompt + text


def pass_rate(candidates: list[Candidate]) -> float:
    return sum((c.label or 0) >= PASS_LABEL for c in candidates) / max(1, len(candidates))


def raw_candidates(language: str, tasks: dict[str, Task],
                   suggestions: dict[str, list[str]]) -> list[Candidate]:
    candidates = [Candidate(task_id=tid, index=i, code=naive_join(tasks[tid].prompt, text))
                  for tid, texts in suggestions.items() if tid in tasks
                  for i, text in enumerate(texts)]
    compiler = language_support(language).make_compiler()
    try:
        for candidate, verdict in zip(candidates, compiler.check([c.code for c in candidates]),
                                      strict=True):
            candidate.compiles = verdict.ok
    finally:
        compiler.close()
    return candidates


def filtered_candidates(language: str, tasks: dict[str, Task],
                        suggestions: dict[str, list[str]]) -> list[Candidate]:
    with StaticFilter(language) as static_filter:
        return static_filter.run_many([(tasks[tid], i, text) for tid, texts in suggestions.items()
                                       if tid in tasks for i, text in enumerate(texts)])


Verdict = tuple[int | None, ExecStatus | None, str | None, bool | None]


def earlier_verdicts(name: str) -> dict[tuple[str, str], Verdict]:
    """(task_id, code) -> verdict of the last run (ours and raw) on this file.

    Same task, same code, same sandbox and limits: the same verdict, so ``--reuse``
    runs only the programs the filter changed since then. Code is keyed without its
    trailing whitespace (the harness appends the test after blank lines anyway).
    """
    found: dict[tuple[str, str], Verdict] = {}
    for folder in ("labeled", "labeled_raw"):
        path = OUT / folder / f"{name}.jsonl"
        if not path.exists():
            continue
        for _, row in read_jsonl(path):
            if row.get("compiles") and row.get("label") is not None:
                found[(row["task_id"], row["code"].rstrip())] = (
                    row["label"], row.get("exec_status"), row.get("exec_reason"),
                    row.get("secure"))
    return found


def label_reusing(candidates: list[Candidate], tasks: dict[str, Task], language: str,
                  known: dict[tuple[str, str], Verdict], workers: int | None, timeout: float,
                  cpu_limit: int) -> list[Candidate]:
    """Labeled copies (same order), taking the known verdicts and running the rest."""
    def cached(c: Candidate) -> Verdict | None:
        return known.get((c.task_id, c.code.rstrip())) if c.compiles else None

    fresh = label_candidates([c for c in candidates if cached(c) is None], tasks, language,
                             workers=workers, timeout=timeout, cpu_limit=cpu_limit,
                             progress=False)
    runs = iter(fresh)
    labeled = []
    for candidate in candidates:
        verdict = cached(candidate)
        if verdict is None:
            labeled.append(next(runs))
            continue
        label, status, reason, secure = verdict
        labeled.append(dataclasses.replace(candidate, label=label, exec_status=status,
                                           exec_reason=reason, secure=secure))
    return labeled


def franc_figures() -> dict[str, dict[str, str]]:
    return franc_table("franc_humaneval.csv")


def measure(path: Path, language: str, tasks: dict[str, Task], limit: int | None,
            workers: int | None, timeout: float, cpu_limit: int,
            reuse: bool = False) -> FileResult:
    name = path.name.removesuffix(".jsonl.gz")
    suggestions = load_suggestions(path, tasks=tasks)
    if limit:
        suggestions = dict(list(suggestions.items())[:limit])
    ours = filtered_candidates(language, tasks, suggestions)
    raw = raw_candidates(language, tasks, suggestions)
    known = earlier_verdicts(name) if reuse else {}
    earlier = set(known)
    started = time.perf_counter()
    ours_labeled = label_reusing(ours, tasks, language, known, workers, timeout, cpu_limit)
    if not limit:  # the ranking benchmarks read these: written before the raw runs
        write_jsonl(OUT / "labeled" / f"{name}.jsonl", (c.to_json() for c in ours_labeled))
    known.update({(c.task_id, c.code.rstrip()): (c.label, c.exec_status, c.exec_reason, c.secure)
                  for c in ours_labeled if c.compiles})
    raw_labeled = label_reusing(raw, tasks, language, known, workers, timeout, cpu_limit)
    if not limit:
        write_jsonl(OUT / "labeled_raw" / f"{name}.jsonl", (c.to_json() for c in raw_labeled))
    seconds = time.perf_counter() - started
    programs = {(c.task_id, c.code.rstrip()) for c in raw + ours if c.compiles}
    executed = len(programs - earlier)
    franc = franc_figures().get(name, {})
    return FileResult(**dataclasses.asdict(PassRates.of(name, raw_labeled, ours_labeled)),
                      franc_raw_pass=franc.get("raw_pass_rate", ""),
                      franc_pass=franc.get("franc_pass_rate", ""),
                      executed=executed, seconds=seconds, reused=len(programs & earlier))


def _unsandboxed(language: str, task: Task, code: str, timeout: float) -> bool:
    """The old way, for comparison: a bare subprocess per candidate (javac + java for Java)."""
    nonce = "franc-speed-nonce"
    with tempfile.TemporaryDirectory() as folder:
        if language == "python":
            program = Path(folder) / "program.py"
            program.write_text(f"{code}\n\n{task.test}\n\ncheck({task.entry_point})\n"
                               f"print({nonce!r})\n")
            argv = [sys.executable, str(program)]
        else:
            for name, source in java_sources(task, code, False).items():
                (Path(folder) / name).write_text(source)
            compiled = subprocess.run(["javac", "-proc:none", "-d", folder,
                                       *map(str, Path(folder).glob("*.java"))],
                                      capture_output=True, check=False)
            if compiled.returncode:
                return False
            argv = ["java", "-cp", folder, "Main"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=folder,
                                  check=False)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0 and (language == "java" or nonce.encode() in done.stdout)


def speed(language: str, count: int, workers: int | None) -> None:
    """Runs/s of the old way (bare subprocesses, sequential) vs the sandbox, side by side."""
    name = {"python": "codegen-2B-mono", "java": "codegen-2B-multi"}[language]
    bench = REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl"
    tasks = {t.task_id: t for t in load_tasks(bench, language=language)}
    path = next((REFERENCE / "suggestions").glob(f"HumanEval_{language}_{name}_*.jsonl.gz"))
    ours = filtered_candidates(language, tasks, load_suggestions(path, tasks=tasks))
    unique = list({(c.task_id, c.code): c for c in ours if c.compiles}.values())[:count]
    timeout, cpu = TIMEOUTS[language], CPU_LIMITS[language]
    started = time.perf_counter()
    old = [_unsandboxed(language, tasks[c.task_id], c.code, timeout) for c in unique]
    old_seconds = time.perf_counter() - started
    started = time.perf_counter()
    one = label_candidates(unique, tasks, language, workers=1, timeout=timeout,
                           cpu_limit=cpu, progress=False)
    one_seconds = time.perf_counter() - started
    started = time.perf_counter()
    label_candidates(unique, tasks, language, workers=workers, timeout=timeout, cpu_limit=cpu,
                     progress=False)
    many_seconds = time.perf_counter() - started
    agree = sum(passed == ((c.label or 0) >= PASS_LABEL) for passed, c in zip(old, one,
                                                                            strict=True))
    n = len(unique)
    rows = [(way, n, seconds, f"{n / seconds:.1f}", f"{old_seconds / seconds:.1f}x")
            for way, seconds in (
                ("bare subprocess per candidate, sequential"
                 + (" (javac + java)" if language == "java" else ""), old_seconds),
                ("sandbox, 1 worker" + (" (warm javac)" if language == "java" else ""),
                 one_seconds),
                (f"sandbox, {workers or default_workers()} workers", many_seconds))]
    load = load_average()
    body = table(("way", "runs", "seconds", "runs/s", "vs bare"), rows)
    outcomes = Counter(c.exec_status for c in one)
    body += (f"\n\n{n} distinct compilable filtered candidates of {path.name} (sandbox "
             "outcomes: " + ", ".join(f"{count} {status}" for status, count in
                                      sorted(outcomes.items(), key=lambda kv: str(kv[0])))
             + f"; a time-out costs the bare way its {timeout:g} s wall clock, the sandbox "
             f"its {cpu} s of CPU); verdicts of "
             f"the bare and the sandboxed runs agree on {agree}/{n}. Load average at the end "
             f"(1/5/15 min): {load} on a machine shared with other jobs.")
    write_section(f"functional_speed_{language}",
                  f"Test execution speed, {language} (benchmarks/functional.py --speed)", body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", choices=("python", "java"), action="append")
    parser.add_argument("--limit", type=int, help="only the first N tasks of each file")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--files", help="only files whose name contains this")
    add_print_only(parser, "print the table only (a part of a run split over processes)")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="LOG",
                        help="only build the tables from the logs of earlier (split) runs")
    parser.add_argument("--reuse", action="store_true",
                        help="take the verdict of a program (task, code) run by the previous "
                             "run on that file (out/labeled*/) instead of running it again")
    parser.add_argument("--speed", type=int, metavar="N",
                        help="only compare the runs/s of N candidates: bare vs sandboxed")
    args = parser.parse_args()
    print(f"sandbox: {sandbox_capabilities().describe()}", file=sys.stderr)
    if args.summarize:
        summarize(args.summarize)
        return 0
    if args.speed:
        for language in args.language or ["python", "java"]:
            speed(language, args.speed, args.workers)
        return 0
    for language in args.language or ["python", "java"]:
        bench = REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl"
        tasks = {t.task_id: t for t in load_tasks(bench, language=language)}
        files = sorted((REFERENCE / "suggestions").glob(f"HumanEval_{language}_*.jsonl.gz"))
        results = []
        for path in files:
            if args.files and args.files not in path.name:
                continue
            result = measure(path, language, tasks, args.limit, args.workers,
                             TIMEOUTS[language], CPU_LIMITS[language], reuse=args.reuse)
            print(result, file=sys.stderr, flush=True)
            results.append(result)
        if not results:
            continue
        body = results_table(results, args.workers, TIMEOUTS[language], CPU_LIMITS[language])
        if args.limit:
            body += f" First {args.limit} tasks per file only."
        title = f"Functional pass rates, HumanEval {language} (benchmarks/functional.py)"
        if args.limit or args.no_append:  # a sample or a part: print, do not record
            print(body)
        else:
            write_section(f"functional_{language}", title, body)
    return 0


def franc_counts(rate: float, candidates: int) -> tuple[int, int]:
    """The passing counts whose share of ``candidates`` rounds to the 3-decimal ``rate``."""
    low = math.ceil(round((rate - 0.0005) * candidates, 9))
    high = math.ceil(round((rate + 0.0005) * candidates, 9)) - 1
    return max(low, 0), max(high, low, 0)


def results_table(results: list[FileResult], workers: int | None, timeout: float,
                  cpu_limit: int) -> str:
    figures = franc_figures()
    rows = []
    for r in results:
        franc = figures.get(r.name, {})
        # FRANC's rates have other denominators on some files (tasks it dropped): compare
        # the rounded rates and the numbers of passing candidates. A 3-decimal rate over
        # n candidates allows a range of counts (0.001 of 1640: 1 or 2); the goal needs
        # the largest, `NO*` marks a count inside the range.
        franc_rate, franc_n = float(franc.get("franc_pass_rate") or 0), int(
            franc.get("candidates") or 0)
        low, high = franc_counts(franc_rate, franc_n)
        ours_count = round(r.ours_pass * r.candidates)
        if franc_n == r.candidates:
            at_least_franc, within = ours_count >= high, ours_count >= low
        else:  # FRANC's 3-decimal rate over its own denominator
            at_least_franc = within = r.ours_pass >= franc_rate - 0.0005
        goal = ("yes" if at_least_franc else "NO*" if within else "NO") if (
            r.ours_pass >= r.raw_pass) else "NO"
        shown = f"{low}" if low == high else f"{low}-{high}"
        rows.append((r.name, r.candidates, r.franc_raw_pass, r.raw_pass, r.franc_pass,
                     r.ours_pass, f"{ours_count} / {shown}", r.ours_compilable,
                     r.regressions, goal, r.executed, r.reused,
                     f"{r.executed / r.seconds:.1f}" if r.executed else "-"))
    executed = sum(r.executed for r in results)
    reused = sum(r.reused for r in results)
    seconds = sum(r.seconds for r in results)
    body = table(("file", "candidates", "FRANC raw pass", "raw pass (ours)", "FRANC filter "
                  "pass", "our filter pass", "passing: ours / FRANC's", "our compilable",
                  "pass raw, fail ours", "goal met", "runs", "reused", "runs/s"), rows)
    load = load_average()
    footnote = (" `NO*`: our count lies inside the range FRANC's rounded rate allows, below "
                "its top." if any(row[9] == "NO*" for row in rows) else "")
    reuse_note = (f" The verdicts of {reused} more programs (same task and code) were taken "
                  f"from the previous run (`--reuse`)." if reused else "")
    return (f"{body}\n\nTest runs: {executed} distinct compilable programs (raw and filtered) "
            f"in {seconds:.0f} s = {executed / max(seconds, 1e-9):.1f} runs/s on "
            f"{workers or 'all'} workers;{reuse_note} Timeout {timeout:g} s wall clock, "
            f"{cpu_limit} s CPU per run. Load "
            f"average at the end (1/5/15 min): {load} (machine shared with other jobs).{footnote}")


def summarize(logs: list[Path]) -> None:
    """One table per language from the FileResult lines of runs split over processes."""
    found: dict[str, FileResult] = {}
    for log in logs:
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("FileResult("):
                call = ast.parse(line, mode="eval").body
                assert isinstance(call, ast.Call)
                values = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
                found[values["name"]] = FileResult(**values)
    for language in ("python", "java"):
        results = [found[name] for name in sorted(found) if f"_{language}_" in name]
        if results:
            write_section(f"functional_{language}", f"Functional pass rates, HumanEval {language} "
                           f"(benchmarks/functional.py, {len(results)} files)",
                           results_table(results, None, TIMEOUTS[language],
                                         CPU_LIMITS[language]))


if __name__ == "__main__":
    sys.exit(main())
