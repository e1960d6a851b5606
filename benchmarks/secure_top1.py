"""Secure top-1: is the answer each ranker shows first a clean one?

(a) SOEval (Python and Java): over every prompt with a security test of every SOEval file,
the share whose top-1 candidate has label 3: it passes the tests and the security test.
Labels come from ``out/labeled/`` (written by ``benchmarks/ranking.py --soeval``, labelled
here when missing). Also how the judge's verdicts agree with the security test.
(b) Every reference file (HumanEval, SOEval, SecurityEval): the share of prompts whose top-1
candidate compiles and has no medium/high security finding on generated lines (the
pipeline's judge: bandit for Python, our Java rules for Java; a failed security analyzer
counts against the candidate). Filtered and analysed candidates are cached in ``out/secure/``.
(c) With HumanEval labels in ``out/labeled/``: top-1 pass rate of ``learned`` with and
without its security tier, so the tier's cost in working answers shows.

The default ranker against ``original`` and ``franc``, pooled per language and over both,
paired over prompts: a t-test (as ``benchmarks/ranking.py``) and the exact sign test on the
prompts where one top-1 has the outcome and the other not (McNemar's exact test).
Writes ``benchmarks/results/secure_top1.md``.

    python -m benchmarks.secure_top1 [--files SUBSTRING] [--max-prompts N] [--no-soeval]
                                     [--cached-only] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # comes with scikit-learn

from benchmarks.functional import filtered_candidates
from benchmarks.ranking import soeval_files, soeval_tasks, with_findings
from benchmarks.report import REFERENCE, ROOT, load_average, table, write_section
from franc.analysis import Analyzers
from franc.datasets import load_suggestions, load_tasks
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import Candidate, Task
from franc.ranking import get_ranker
from franc.ranking.learned import group_by_task
from franc.ranking.rankers import load_policy
from franc.repair.judge import Judge

RANKERS = ("original", "franc", "quality", "consensus", "learned")
DEFAULT = "quality"
BASELINES = ("original", "franc")
OUT = ROOT / "out"
SECURE_LABEL = 3
PROMPT_FILES = {"HumanEval_python": "HumanEval_python.jsonl",
                "HumanEval_java": "HumanEval_java.jsonl",
                "SOEvalPython": "SOEvalPython.jsonl", "SOEvalJava": "SOEvalJava.jsonl",
                "SecurityEval_python": "SecurityEval_python.jsonl"}

Outcome = Callable[[Candidate], bool]


def language_of(name: str) -> str:
    return "java" if "java" in name.split("_", 1)[0].lower() or "_java_" in name else "python"


def prompts_of(name: str) -> dict[str, Task]:
    prefix = next(p for p in PROMPT_FILES if name.startswith(p + "_"))
    fmt = "franc-soeval" if prefix.startswith("SOEval") else None
    tasks = load_tasks(REFERENCE / "benchmarks" / PROMPT_FILES[prefix], format=fmt,
                       language=language_of(name))
    return {t.task_id: t for t in tasks}


def analysed(name: str, tasks: dict[str, Task], max_prompts: int | None,
             cached_only: bool = False) -> list[Candidate] | None:
    """Our filter's and analyzers' output on one reference file (cached; a labeled file's
    analysed copy from ``benchmarks/ranking.py`` is the same output and is reused)."""
    if not max_prompts and (OUT / "labeled" / f"{name}.jsonl").is_file() and (
            not cached_only or (OUT / "ranking" / f"{name}.jsonl").is_file()):
        labeled = with_findings(name, tasks)
        if labeled is not None:
            return labeled.candidates
    cached = OUT / "secure" / f"{name}{f'.first{max_prompts}' if max_prompts else ''}.jsonl"
    if cached.is_file():
        return [Candidate.from_json(row) for _, row in read_jsonl(cached)]
    if cached_only:
        return None
    language = language_of(name)
    suggestions = load_suggestions(REFERENCE / "suggestions" / f"{name}.jsonl.gz", tasks=tasks)
    if max_prompts:
        suggestions = dict(list(suggestions.items())[:max_prompts])
    candidates = filtered_candidates(language, tasks, suggestions)
    with Analyzers(language) as analyzers:
        analyzers.run(candidates, tasks)
    write_jsonl(cached, (c.to_json() for c in candidates))
    return candidates


def top1_outcomes(candidates: Sequence[Candidate], tasks: dict[str, Task], ranker_name: str,
                  language: str, outcome: Outcome,
                  prompts: set[str] | None = None) -> dict[str, float]:
    """Per prompt: 1.0 when the ranker's first candidate has the outcome."""
    ranker = get_ranker(ranker_name, language)
    found = {}
    for task_id, group in sorted(group_by_task(candidates).items()):
        if prompts is not None and task_id not in prompts:
            continue
        best = ranker.rank(tasks.get(task_id), [Candidate.from_json(c.to_json())
                                                 for c in group])[0]
        found[task_id] = float(outcome(best))
    ranker.close()
    return found


def p_value(a: Sequence[float], b: Sequence[float]) -> str:
    if np.allclose(a, b):
        return "same"
    p = float(stats.ttest_rel(a, b).pvalue)
    return "nan" if math.isnan(p) else (f"{p:.3g}" if p >= 0.001 else "<0.001")


def sign_test(a: Sequence[float], b: Sequence[float]) -> str:
    """Prompts where ``a``'s top-1 has the outcome and ``b``'s not, and the reverse, with the
    exact two-sided sign test on those discordant prompts (McNemar's exact test)."""
    wins = sum(x > y for x, y in zip(a, b, strict=True))
    losses = sum(x < y for x, y in zip(a, b, strict=True))
    if not wins + losses:
        return "0 / 0"
    p = float(stats.binomtest(wins, wins + losses).pvalue)
    return f"{wins} / {losses} (p {p:.3g})" if p >= 0.001 else f"{wins} / {losses} (p <0.001)"


def pooled_header(outcome: str) -> list[str]:
    return ["language", "ranker", "prompts", outcome,
            *[f"p {DEFAULT} vs {b}" for b in BASELINES],
            *[f"{DEFAULT} wins / losses vs {b} (sign test)" for b in BASELINES]]


def pooled_rows(label: str, per_ranker: dict[str, list[float]]) -> list[list[object]]:
    default = per_ranker[DEFAULT]
    return [[label, ranker, len(values), float(np.mean(values)) if values else 0.0,
             *(p_value(default, per_ranker[b]) if ranker == DEFAULT else "-"
               for b in BASELINES),
             *(sign_test(default, per_ranker[b]) if ranker == DEFAULT else "-"
               for b in BASELINES)]
            for ranker, values in per_ranker.items()]


def with_both_languages(pooled: dict[str, dict[str, list[float]]]
                        ) -> dict[str, dict[str, list[float]]]:
    """The per-language pools and, when there are two, both together (prompts stay paired)."""
    present = {lang: per for lang, per in pooled.items() if per[DEFAULT]}
    if len(present) < 2:
        return present
    return {**present, "both": {r: [v for per in present.values() for v in per[r]]
                                for r in RANKERS}}


def secure_section(names: list[str], max_prompts: int | None, cached_only: bool) -> str:
    rows: list[list[object]] = []
    pooled: dict[str, dict[str, list[float]]] = {lang: {r: [] for r in RANKERS}
                                                 for lang in ("python", "java")}
    skipped: list[str] = []
    #: per language, files where each ranker's top-1 share equals the file's ceiling
    at_ceiling: dict[str, Counter[str]] = {lang: Counter() for lang in ("python", "java")}
    for name in names:
        started = time.perf_counter()
        tasks = prompts_of(name)
        language = language_of(name)
        candidates = analysed(name, tasks, max_prompts, cached_only)
        if candidates is None:
            skipped.append(name)
            continue
        judge = Judge(language)
        shares = []
        for ranker in RANKERS:
            found = top1_outcomes(candidates, tasks, ranker, language, judge.is_clean)
            pooled[language][ranker].extend(found[t] for t in sorted(found))
            shares.append(float(np.mean(list(found.values()))) if found else 0.0)
        oracle = np.mean([any(judge.is_clean(c) for c in g)
                          for g in group_by_task(candidates).values()])
        rows.append([name, len(group_by_task(candidates)), *shares, float(oracle)])
        at_ceiling[language].update(r for r, share in zip(RANKERS, shares, strict=True)
                                    if math.isclose(share, oracle))
        at_ceiling[language]["files"] += 1
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    per_file = table(["file", "prompts", *[f"secure top-1 {r}" for r in RANKERS],
                      "some candidate secure"], rows)
    pooled_table = table(pooled_header("secure top-1"),
                         [row for lang, per in with_both_languages(pooled).items()
                          for row in pooled_rows(lang, per)])
    sample = (f" (the first {max_prompts} prompts of each file)" if max_prompts
              else " (every prompt of each file)")
    left_out = (f"\n\nNot measured in this run (`--cached-only` and no cached analysis of "
                f"{'these prompts' if max_prompts else 'every prompt'}): {len(skipped)} files, "
                + ", ".join(f"`{n}`" for n in skipped) + "." if skipped else "")
    ceiling = " ".join(
        f"{lang.capitalize()}: the top-1 is secure wherever some candidate is (the ceiling, "
        f"last column) on {counts[DEFAULT]} of {counts['files']} files with `{DEFAULT}`, "
        + ", ".join(f"{counts[b]} with `{b}`" for b in BASELINES) + "."
        for lang, counts in at_ceiling.items() if counts["files"])
    return (f"Share of prompts{sample} whose first candidate compiles and has no medium/high "
            "security finding on generated lines (the pipeline's judge: bandit for Python, our "
            "Java rules for Java; a crashed security analyzer counts against the candidate)."
            f"{left_out}\n\n"
            f"**Pooled over the files**\n\n{pooled_table}\n\n{ceiling} On a file where a "
            "baseline is already at the ceiling, no ranker can beat it there.\n\n"
            f"**Per file**\n\n{per_file}")


def soeval_section(names_filter: str | None, workers: int | None, cached_only: bool) -> str:
    if cached_only:  # the SOEval files already labeled, one by one
        files, tasks = [], {}
        for path in sorted((OUT / "labeled").glob("SOEval*.jsonl")):
            if not names_filter or names_filter in path.name:
                some, their_tasks = soeval_files(path.stem, relabel=False, workers=workers)
                files += some
                tasks.update(their_tasks)
    else:
        files, tasks = soeval_files(names_filter, relabel=False, workers=workers)
    pooled: dict[str, dict[str, list[float]]] = {lang: {r: [] for r in RANKERS}
                                                 for lang in ("python", "java")}
    reachable: dict[str, list[bool]] = {"python": [], "java": []}
    agreement: dict[str, Counter[tuple[int | None, bool]]] = {"python": Counter(),
                                                               "java": Counter()}
    rows = []
    with_security_test = {task_id for language in ("python", "java")
                          for task_id, task in soeval_tasks(language)[1].items()
                          if task.security_test}
    for f in files:
        groups = {task_id: group for task_id, group in group_by_task(f.candidates).items()
                  if task_id in with_security_test}
        shares = []
        for ranker in RANKERS:
            found = top1_outcomes(f.candidates, tasks, ranker, f.language,
                                  lambda c: c.label == SECURE_LABEL, set(groups))
            pooled[f.language][ranker].extend(found[t] for t in sorted(found))
            shares.append(float(np.mean(list(found.values()))) if found else 0.0)
        judge = Judge(f.language)
        for group in groups.values():
            agreement[f.language].update((c.label, not judge.is_clean(c)) for c in group
                                         if (c.label or 0) >= 2)
        reached = [any(c.label == SECURE_LABEL for c in groups[t]) for t in sorted(groups)]
        reachable[f.language] += reached
        rows.append([f.name, len(groups), *shares, float(np.mean(reached)) if reached else 0.0])
    reach = ", ".join(f"{lang}: {sum(some)} of {len(some)}"
                      for lang, some in reachable.items() if some)
    return ("Share of SOEval prompts with a security test whose first candidate has label 3 "
            "(passes the tests and the security test; labels from `out/labeled/`), over every "
            "such prompt of every SOEval file, pooled per language and over both (prompts "
            "paired across rankers). Only prompts where some candidate has label 3 can tell "
            f"the rankers apart ({reach}).\n\n"
            + table(pooled_header("top-1 label 3"),
                    [row for lang, per in with_both_languages(pooled).items()
                     for row in pooled_rows(lang, per)])
            + "\n\n**The judge against the security test** (candidates of these prompts that "
            "pass the tests: label 2 fails the security test, 3 passes it; flagged: a "
            "medium/high security finding on generated lines; a label-2 candidate not flagged "
            "is a blind spot of the analyzers, a flagged label-3 one a false alarm)\n\n"
            + table(["language", "label 2 flagged", "label 2 not flagged", "label 3 flagged",
                     "label 3 not flagged"],
                    [[lang, counts[(2, True)], counts[(2, False)], counts[(3, True)],
                      counts[(3, False)]] for lang, counts in agreement.items() if counts])
            + "\n\n**Per file**\n\n"
            + table(["file", "prompts with a security test",
                     *[f"top-1 3 {r}" for r in RANKERS], "some candidate 3"], rows))


def learned_tier_section(names: list[str], cached_only: bool) -> str:
    """Top-1 pass rate of the shipped learned ranker with and without its security tier."""
    policy = load_policy(ROOT / "rankers" / "learned.json")
    untiered = {k: v for k, v in policy.items() if k != "security_tier"}
    rows: list[list[object]] = []
    pooled: dict[str, list[float]] = {"with tier": [], "without tier": []}
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "learned_untiered.json"
        plain.write_text(json.dumps(untiered), encoding="utf-8")
        for name in names:
            if cached_only and not (OUT / "ranking" / f"{name}.jsonl").is_file():
                continue
            tasks = prompts_of(name)
            labeled = with_findings(name, tasks)
            if labeled is None:
                continue
            shares = []
            for key, spec in (("with tier", "learned"), ("without tier", str(plain))):
                found = top1_outcomes(labeled.candidates, tasks, spec, labeled.language,
                                      lambda c: (c.label or 0) >= 2)
                pooled[key].extend(found[t] for t in sorted(found))
                shares.append(float(np.mean(list(found.values()))))
            rows.append([name, *shares])
    if not rows:
        return ("Not measured in this run (`--cached-only`: no analysed HumanEval labels in "
                "`out/ranking/`)." if cached_only else
                "No HumanEval labels in `out/labeled/` (run `benchmarks/functional.py`).")
    return ("Top-1 pass rate (label >= 2) on the labeled HumanEval files of the shipped learned "
            "ranker (trained on all HumanEval files, so in-sample for both rows) with and "
            "without its security tier.\n\n"
            + table(["file", "with tier", "without tier"],
                    [*rows, ["pooled", float(np.mean(pooled["with tier"])),
                             float(np.mean(pooled["without tier"]))]])
            + f"\n\nPaired t-test over {len(pooled['with tier'])} prompts: p = "
            + p_value(pooled["with tier"], pooled["without tier"]) + ".")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", help="only reference files whose name contains this")
    parser.add_argument("--max-prompts", type=int,
                        help="(b) only the first N prompts of each file (a cheaper sample)")
    parser.add_argument("--no-soeval", action="store_true", help="leave out part (a)")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--cached-only", action="store_true",
                        help="only files whose filtered and analysed candidates are cached")
    args = parser.parse_args()
    started = time.perf_counter()
    names = sorted(p.name.removesuffix(".jsonl.gz")
                   for p in (REFERENCE / "suggestions").glob("*.jsonl.gz")
                   if not args.files or args.files in p.name)
    started_load = load_average()
    parts = []
    if not args.no_soeval:
        parts.append("### (a) SOEval: top-1 passes the tests and the security test\n\n"
                     + soeval_section(args.files, args.workers, args.cached_only))
    parts.append("### (b) Every reference file: top-1 has no medium/high security finding\n\n"
                 + secure_section(names, args.max_prompts, args.cached_only))
    parts.append("### (c) learned: the tier's cost in top-1 pass rate (HumanEval)\n\n"
                 + learned_tier_section([n for n in names if n.startswith("HumanEval_")],
                                          args.cached_only))
    text = (f"Load average (1/5/15 min) at the start: {started_load}. Wall time: "
            f"{time.perf_counter() - started:.0f} s. Default ranker: "
            f"`{DEFAULT}`; p-values: paired t-test over prompts of the default ranker against "
            f"each baseline; wins / losses: prompts where only the default ranker's top-1 has "
            f"the outcome / only the baseline's, with the exact two-sided sign test on them."
            f"\n\n" + "\n\n".join(parts))
    write_section("secure_top1", "Secure top-1", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
