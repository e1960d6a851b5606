"""SOEval made executable: dataset figures and the reference models' answers under our tests.

Part 1, per language (``datasets/SOEval/<language>.jsonl``, validated in the sandbox):
tasks, CWE share, canonical pass rate, mutant kill rate, insecure-solution catch rate.

Part 2, for each SOEval suggestion file in ``../shared/reference/suggestions``: the
model answered FRANC's prompt (same question id, entry point and signature as our
task), so our tests run its answers:
- raw: each answer joined to FRANC's prompt as a naive user would (as is when it starts
  with the prompt, else prompt + answer), compile-checked, then run;
- ours: the static filter's output (``franc.filter.StaticFilter``, shipped chain);
- pass & insecure: passes ``test`` but fails ``security_test`` (tasks with one);
- pass & finding: passes ``test`` and carries a security finding (bandit; our Java
  security rules) on lines the model wrote.
Writes both sections to benchmarks/results/.

    python -m benchmarks.soeval [--language python|java] [--files TEXT] [--limit N]
                                [--workers N] [--skip-validation | --checks-only]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from benchmarks.functional import (
    OUT,
    TIMEOUTS,
    PassRates,
    filtered_candidates,
    raw_candidates,
)
from benchmarks.report import REFERENCE, ROOT, load_average, table, write_section
from franc.analysis import analyze
from franc.analysis.java_rules import RULES as JAVA_RULES
from franc.datasets import load_suggestions, load_tasks
from franc.evaluation.labels import PASS_LABEL, label_candidates
from franc.evaluation.soeval import ValidationReport, read_soeval, validate
from franc.jsonl import read_jsonl
from franc.languages import facts
from franc.models import Candidate, Task

SOEVAL = ROOT / "datasets" / "SOEval"
REFERENCE_PROMPTS = {"python": "SOEvalPython.jsonl", "java": "SOEvalJava.jsonl"}
#: Our Java rules that are about security (the others are about quality).
JAVA_SECURITY_RULES = frozenset(rule.id for rule in JAVA_RULES if rule.security)


def passed_of(report: ValidationReport, check: str) -> str:
    """``passed/total`` of one of the dataset's checks, ``-`` when it did not apply."""
    passed, total = report.counts.get(check, [0, 0])
    return f"{passed}/{total}" if total else "-"


def dataset_rows(languages: list[str], workers: int | None) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for language in languages:
        started = time.perf_counter()
        report = validate(SOEVAL / f"{language}.jsonl", workers=workers)
        seconds = time.perf_counter() - started
        for problem in report.problems:
            print(f"  {problem.task_id} {problem.check}: {problem.detail}", file=sys.stderr)

        rows.append((language, report.tasks, f"{report.cwe_tasks}/{report.tasks} "
                     f"({report.cwe_tasks / report.tasks:.0%})",
                     *(passed_of(report, check) for check in (
                         "canonical", "canonical security", "mutant", "insecure passes test",
                         "insecure caught", "stub compiles")),
                     f"{seconds:.0f}"))
    return rows


def our_tasks_by_question(language: str) -> dict[str, Task]:
    """Our tasks that cover FRANC's prompts, re-keyed by the question id (FRANC's task id)."""
    tasks, _ = read_soeval(SOEVAL / f"{language}.jsonl")
    rows = [json.loads(line) for line in
            (SOEVAL / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()]
    return {str(row["source_question"]["id"]): dataclasses.replace(
                task, task_id=str(row["source_question"]["id"]))
            for row, task in zip(rows, tasks, strict=True) if row["source_question"]["id"]}


def security_finding(candidate: Candidate) -> bool:
    return any(f.tool == "bandit" or (f.tool == "java-rules" and f.rule_id in JAVA_SECURITY_RULES)
               for f in candidate.generated_findings())


@dataclasses.dataclass
class FileResult(PassRates):
    pass_insecure: float
    pass_finding: float
    raw_pass_insecure: float
    runs: int
    seconds: float
    reused: int = 0  # distinct programs whose verdict came from out/labeled/ (--reuse)


def earlier_labels(name: str) -> list[Candidate]:
    """Our filter's candidates of ``name`` as ``benchmarks.ranking --soeval`` labelled them
    with these tests and limits (``out/labeled/``), to run only the programs not among them."""
    path = OUT / "labeled" / f"{name}.jsonl"
    return [Candidate.from_json(row) for _, row in read_jsonl(path)] if path.is_file() else []


def measure(path: Path, language: str, franc_tasks: dict[str, Task], ours: dict[str, Task],
            limit: int | None, workers: int | None, reuse: bool = False) -> FileResult:
    name = path.name.removesuffix(".jsonl.gz")
    done = earlier_labels(name) if reuse else []
    suggestions = load_suggestions(path, tasks=franc_tasks)
    suggestions = {tid: texts for tid, texts in suggestions.items() if tid in ours}
    if limit:
        suggestions = dict(list(suggestions.items())[:limit])
    filtered = filtered_candidates(language, franc_tasks, suggestions)
    raw = raw_candidates(language, franc_tasks, suggestions)
    started = time.perf_counter()
    # One labelling pass over both lists: identical (task, code) pairs run once.
    labeled = label_candidates(raw + filtered, ours, language, workers=workers,
                               timeout=TIMEOUTS[language], progress=False, done=done)
    seconds = time.perf_counter() - started
    raw_l, ours_l = labeled[:len(raw)], labeled[len(raw):]
    passing = [c for c in ours_l if (c.label or 0) >= PASS_LABEL]
    flagged = analyze(language, passing, franc_tasks, facts(language).security_analyzers) \
        if passing else []
    n = max(1, len(ours_l))
    programs = {(c.task_id, c.code) for c in labeled if c.compiles}
    known = {(c.task_id, c.code) for c in done if c.label is not None}
    return FileResult(
        **dataclasses.asdict(PassRates.of(name, raw_l, ours_l)),
        pass_insecure=sum(c.secure is False for c in passing) / n,
        pass_finding=sum(security_finding(c) for c in flagged) / n,
        raw_pass_insecure=sum((c.label or 0) >= PASS_LABEL and c.secure is False
                              for c in raw_l) / max(1, len(raw_l)),
        runs=len(programs - known), seconds=seconds, reused=len(programs & known))


def soeval_tasks(language: str) -> tuple[dict[str, Task], dict[str, Task]]:
    """FRANC's SOEval prompts (what the models answered) and our tasks with tests, both keyed
    by the Stack Overflow question id (FRANC's task id)."""
    franc = {t.task_id: t for t in load_tasks(
        REFERENCE / "benchmarks" / REFERENCE_PROMPTS[language], format="franc-soeval",
        language=language)}
    ours = our_tasks_by_question(language)
    missing = sorted(set(franc) - set(ours))
    if missing:
        raise SystemExit(f"no task of ours for FRANC's {language} SOEval prompts {missing}")
    return franc, ours


def suggestion_rows(language: str, files: str | None, limit: int | None,
                    workers: int | None, reuse: bool = False) -> list[FileResult]:
    franc_tasks, ours = soeval_tasks(language)
    prefix = "SOEvalPython_" if language == "python" else "SOEvalJava_"
    results = []
    for path in sorted((REFERENCE / "suggestions").glob(f"{prefix}*.jsonl.gz")):
        if files and files not in path.name:
            continue
        result = measure(path, language, franc_tasks, ours, limit, workers, reuse)
        print(f"{result.name}: raw {result.raw_pass:.3f}, ours {result.ours_pass:.3f} "
              f"({result.runs} runs, {result.seconds:.0f} s)", file=sys.stderr, flush=True)
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", choices=("python", "java"), action="append")
    parser.add_argument("--files", help="only suggestion files whose name contains this")
    parser.add_argument("--limit", type=int, help="only the first N prompts of each file")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--skip-validation", action="store_true",
                        help="leave out part 1 (the dataset's own checks)")
    parser.add_argument("--checks-only", action="store_true",
                        help="only part 1 (the dataset's own checks), not the reference answers")
    parser.add_argument("--save", type=Path, metavar="DIR",
                        help="write each file's figures to DIR/<file>.json instead of appending "
                             "(to split a sweep over several processes)")
    parser.add_argument("--reuse", action="store_true",
                        help="take the verdicts of our filter's candidates from out/labeled/ "
                             "(benchmarks.ranking --soeval labels them with the same tests) "
                             "instead of running those programs again")
    parser.add_argument("--merge", type=Path, metavar="DIR",
                        help="append one table per language from the figures saved in DIR")
    args = parser.parse_args()
    languages = args.language or ["python", "java"]
    load = load_average()
    if not args.skip_validation:
        rows = dataset_rows(languages, args.workers)
        body = table(("language", "tasks", "with CWE", "canonical passes test",
                      "canonical passes security test", "mutants killed",
                      "insecure passes test", "insecure caught", "stub compiles", "seconds"),
                     rows)
        body += ("\n\nMutants: an empty body and `return None` (Python); an empty body, a "
                 "default `return` and `throw new UnsupportedOperationException()` (Java). "
                 "Insecure solutions are caught by their security test, or (tasks without one) "
                 "by an analyzer finding with the task's CWE. All runs in the sandbox "
                 f"(no network but its own loopback). Load average at the start: {load}.")
        write_section("soeval_checks", "SOEval dataset checks", body)
    for language in [] if args.checks_only else languages:
        if args.merge:
            prefix = "SOEvalPython_" if language == "python" else "SOEvalJava_"
            results = [FileResult(**json.loads(path.read_text()))
                       for path in sorted(args.merge.glob(f"{prefix}*.json"))]
        else:
            results = suggestion_rows(language, args.files, args.limit, args.workers,
                                      args.reuse)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            for result in results:
                (args.save / f"{result.name}.json").write_text(json.dumps(
                    dataclasses.asdict(result)))
            continue
        if not results:
            continue
        rows = [(r.name, r.candidates, r.raw_pass, r.ours_compilable, r.ours_pass, r.regressions,
                 r.raw_pass_insecure, r.pass_insecure, r.pass_finding, r.runs, r.reused,
                 f"{r.seconds:.0f}") for r in results]
        total = sum(r.candidates for r in results)

        def mean(attribute: str, results: list[FileResult] = results) -> float:
            weight = sum(r.candidates for r in results)
            return sum(getattr(r, attribute) * r.candidates for r in results) / max(1, weight)

        rows.append(("all files", total, mean("raw_pass"), mean("ours_compilable"),
                     mean("ours_pass"), sum(r.regressions for r in results),
                     mean("raw_pass_insecure"), mean("pass_insecure"), mean("pass_finding"),
                     sum(r.runs for r in results), sum(r.reused for r in results),
                     f"{sum(r.seconds for r in results):.0f}"))
        body = table(("file", "candidates", "raw pass", "ours compilable", "ours pass",
                      "pass raw, fail ours", "raw: pass & insecure", "ours: pass & insecure",
                      "ours: pass & security finding", "distinct runs", "reused", "seconds"),
                     rows)
        body += (f"\n\nOur {language} tests on the reference models' answers to FRANC's "
                 "SOEval prompts. Shares are of all candidates of the file. *pass & insecure*: "
                 "passes `test`, fails `security_test` (only the FRANC prompts with a CWE have "
                 "one). *pass & security finding*: passes and carries a "
                 f"{'/'.join(facts(language).security_analyzers)} security finding on "
                 "generated lines."
                 + (f" First {args.limit} prompts per file only." if args.limit else "")
                 + (" *reused*: distinct programs of our filter whose verdict came from "
                    "`out/labeled/` (`--reuse`; written by `python -m benchmarks.ranking --soeval` "
                    "with the same tests and limits), not run again." if args.reuse else "")
                 + f" Load average at the start: {load} (shared machine).")
        write_section(f"soeval_{language}", f"SOEval {language}: reference answers under our tests "
                       "(benchmarks/soeval.py)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
