"""Quality analysis cost and findings over the SecurityEval and HumanEval reference files.

For each ``SecurityEval_python_*``, ``HumanEval_python_*`` and ``HumanEval_java_*`` file
in ``../shared/reference/suggestions``, the static filter's output
(``out/filtered/<file>.jsonl`` when H-filter's benchmark wrote it, else this script's
previous ``out/analyzed/<file>.jsonl``, else filtered here)
is analysed with the default analyzers (bandit + pylint, java-rules) over the
machine's cores, as ``franc analyze`` does, and written to ``out/analyzed/<file>.jsonl``.

Tables written to benchmarks/results/analyzers.md:
1. side by side on the same sample of compilable snippets, in one run: FRANC's way
   (``bandit -f json FILE``, one subprocess per snippet; likewise ``pylint FILE``)
   against our in-process analyzers (ratios), and whether they report the same findings;
2. amortised wall-clock cost per snippet of the whole analysis over all files (2 cores),
   and the share of candidates flagged next to FRANC's published share;
3. findings per 100 compilable candidates per rule (generated lines only).

    python -m benchmarks.analyzers [--limit N] [--sample N] [--workers N] [--no-append]
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.functional import filtered_candidates
from benchmarks.report import REFERENCE, ROOT, add_print_only, franc_table, table, write_section
from franc.analysis import Analyzers
from franc.cli.analysis import analyze_chunk
from franc.datasets import load_suggestions, load_tasks
from franc.jsonl import read_jsonl, write_jsonl
from franc.languages import facts
from franc.models import Candidate, Task
from franc.parallel import map_chunks

OUT = ROOT / "out"
BIN = Path(sys.executable).parent
DATASETS = (("SecurityEval_python", "python"), ("HumanEval_python", "python"),
            ("HumanEval_java", "java"))
#: language, its default analyzers, the issue's goal in ms per snippet on 2 cores.
GOALS = (("python", "bandit + pylint", 30), ("java", "java-rules", 10))


def stored_or_filtered(language: str, name: str, tasks: dict[str, Task],
                       suggestions: dict[str, list[str]]) -> tuple[list[Candidate], str]:
    # H-filter's output first, else this script's previous output (same filtered fields).
    for folder in ("filtered", "analyzed"):
        stored = OUT / folder / f"{name}.jsonl"
        if stored.is_file():
            found = [Candidate.from_json(row, source=str(stored), line=line)
                     for line, row in read_jsonl(stored)]
            return [c for c in found if c.task_id in suggestions], f"out/{folder}"
    return filtered_candidates(language, tasks, suggestions), "filtered here"


def franc_figures() -> dict[str, dict[str, str]]:
    return franc_table("franc_figures.csv")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (subprocesses, pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def per_snippet(fn: Callable[[str], object], codes: Sequence[str]) -> tuple[float, float]:
    """Median wall seconds per snippet and mean CPU seconds per snippet."""
    times = []
    cpu = cpu_seconds()
    for code in codes:
        start = time.perf_counter()
        fn(code)
        times.append(time.perf_counter() - start)
    return statistics.median(times), (cpu_seconds() - cpu) / max(1, len(codes))


def bandit_cli(folder: Path, code: str) -> set[tuple[str, int]]:
    """FRANC's way: write the snippet to a file and run the bandit command on it."""
    path = folder / "snippet.py"
    path.write_text(code, encoding="utf-8", errors="surrogateescape")
    done = subprocess.run([str(BIN / "bandit"), "-f", "json", "-q", str(path)],
                          capture_output=True, text=True, check=False)
    report = json.loads(done.stdout or "{}")
    return {(r["test_id"], r["line_number"]) for r in report.get("results", [])}


def pylint_cli(folder: Path, code: str) -> None:
    path = folder / "snippet.py"
    path.write_text(code, encoding="utf-8", errors="surrogateescape")
    subprocess.run([str(BIN / "pylint"), "--persistent=n", "--score=n", str(path)],
                   capture_output=True, check=False)


def spread(items: Sequence[Candidate], n: int) -> list[Candidate]:
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def ms(seconds: float) -> float:
    return seconds * 1000.0


def side_by_side(python: list[Candidate], java: list[Candidate], sample: int,
                 pylint_sample: int) -> str:
    codes = [c.code for c in spread(python, sample)]
    rows = []
    with Analyzers("python", ["bandit"]) as bandit_only, \
            tempfile.TemporaryDirectory(prefix="franc-bench-") as scratch:
        bandit = bandit_only.analyzers[0]
        bandit.analyze_batch(codes[:5])  # warm (imports, test set)
        slow = per_snippet(lambda code: bandit_cli(Path(scratch), code), codes)
        fast = per_snippet(lambda code: bandit.analyze_batch([code]), codes)
        checked = codes[: min(len(codes), 50)]
        same = sum(bandit_cli(Path(scratch), code) == {
            (f.rule_id, f.line) for f in bandit.analyze_batch([code])[0] if f.tool == "bandit"}
            for code in checked)
        rows.append(["bandit", len(codes), "`bandit -f json FILE` per snippet",
                     *(ms(v) for v in slow), "in-process, one manager reused",
                     *(ms(v) for v in fast), slow[0] / fast[0], slow[1] / fast[1],
                     f"{same}/{len(checked)}"])
        pylint_codes = codes[:pylint_sample]
        slow = per_snippet(lambda code: pylint_cli(Path(scratch), code), pylint_codes)
    with Analyzers("python", ["pylint"]) as pylint_only:
        pylint = pylint_only.analyzers[0]
        cold = batch_cost(pylint.analyze_batch, codes)  # first batch in this process
        warm = batch_cost(pylint.analyze_batch, codes)
    rows.append(["pylint", f"{len(pylint_codes)} / {len(codes)}", "`pylint FILE` per snippet",
                 *(ms(v) for v in slow), "in-process, batches of 100, warm",
                 *(ms(v) for v in warm), slow[0] / warm[0], slow[1] / warm[1],
                 f"(cold first batch: {ms(cold[0]):.1f} ms)"])
    java_codes = [c.code for c in spread(java, sample * 4)]
    with Analyzers("java") as java_rules:
        rules = java_rules.analyzers[0]
        rules.analyze_batch(java_codes[:5])
        fast = per_snippet(lambda code: rules.analyze_batch([code]), java_codes)
    published = [float(r["franc_seconds_per_snippet_analysis"]) for r in franc_figures().values()
                 if r["language"] == "java" and r["franc_seconds_per_snippet_analysis"]]
    rows.append(["java-rules", len(java_codes),
                 "FRANC: SpotBugs per snippet (published mean, not run here)",
                 ms(statistics.mean(published)), "-", "in-process tree-sitter rules",
                 *(ms(v) for v in fast), statistics.mean(published) / fast[0], "-", "-"])
    return table(["analyzer", "snippets", "the slow way", "wall ms", "CPU ms", "our way",
                  "wall ms", "CPU ms", "ratio (wall)", "ratio (CPU)", "same findings"], rows)


def batch_cost(analyze: Callable[[Sequence[str]], object],
               codes: Sequence[str]) -> tuple[float, float]:
    """Wall and CPU seconds per snippet of one call on the whole batch."""
    cpu, start = cpu_seconds(), time.perf_counter()
    analyze(codes)
    return ((time.perf_counter() - start) / len(codes), (cpu_seconds() - cpu) / len(codes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="first N prompts of each file (default: all)")
    parser.add_argument("--files", nargs="*", help="only these file names (without .jsonl.gz)")
    parser.add_argument("--sample", type=int, default=100,
                        help="snippets for the side-by-side bandit comparison")
    parser.add_argument("--pylint-sample", type=int, default=30,
                        help="snippets for the (slow) pylint subprocess baseline")
    parser.add_argument("--workers", type=int, default=2)
    add_print_only(parser)
    args = parser.parse_args()
    figures = franc_figures()
    files: dict[str, list[tuple[str, str, list[Candidate]]]] = {"python": [], "java": []}
    tasks_by: dict[str, dict[str, Task]] = {"python": {}, "java": {}}
    sources = set()
    for dataset, language in DATASETS:
        tasks = {t.task_id: t for t in load_tasks(REFERENCE / "benchmarks" / f"{dataset}.jsonl",
                                                  language=language)}
        tasks_by[language].update(tasks)
        for path in sorted((REFERENCE / "suggestions").glob(f"{dataset}_*.jsonl.gz")):
            name = path.name.removesuffix(".jsonl.gz")
            if args.files and name not in args.files:
                continue
            suggestions = load_suggestions(path, tasks=tasks)
            if args.limit:
                suggestions = dict(list(suggestions.items())[: args.limit])
            candidates, source = stored_or_filtered(language, name, tasks, suggestions)
            sources.add(source)
            files[language].append((dataset, name, candidates))
            print(f"{name}: {sum(c.compiles for c in candidates)}/{len(candidates)} compilable",
                  file=sys.stderr)
    per_file_rows, amortised_rows = [], []
    rule_counts: dict[str, Counter[tuple[str, str, int | None]]] = {}
    compilable_by: dict[str, list[Candidate]] = {}
    for language, analyzers, goal in GOALS:
        everything = [c for _, _, candidates in files[language] for c in candidates]
        work = functools.partial(analyze_chunk, language, None, 10.0, tasks_by[language])
        cpu, start = cpu_seconds(), time.perf_counter()
        analysed = map_chunks(work, everything, workers=args.workers, chunk_size=100,
                              description=f"analyze {language}")
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        compilable_by[language] = [c for c in analysed if c.compiles]
        n = max(1, len(compilable_by[language]))
        amortised_rows.append([language, analyzers, len(compilable_by[language]), wall, cpu,
                               ms(wall / n), ms(cpu / n), ms(cpu / n / args.workers), goal])
        offset = 0
        for dataset, name, candidates in files[language]:
            mine = analysed[offset: offset + len(candidates)]
            offset += len(candidates)
            write_jsonl(OUT / "analyzed" / f"{name}.jsonl", (c.to_json() for c in mine))
            compilable = [c for c in mine if c.compiles]
            counts = rule_counts.setdefault(dataset, Counter())
            for candidate in compilable:
                counts.update((f.tool, f.rule_id, f.cwe) for f in candidate.generated_findings())
            counts["__candidates__", "", None] += len(compilable)
            flagged = sum(any(f.tool in facts(language).security_analyzers
                              for f in c.generated_findings()) for c in compilable)
            franc = figures.get(name, {})
            per_file_rows.append([name, len(candidates), len(compilable),
                                  flagged / max(1, len(compilable)),
                                  franc.get("flagged_by_franc_analyzer", ""),
                                  franc.get("franc_seconds_per_snippet_analysis", "")])
    comparison = side_by_side(compilable_by["python"], compilable_by["java"], args.sample,
                              args.pylint_sample)
    amortised = table(["language", "analyzers", "compilable snippets", "wall s", "CPU s",
                       f"wall ms/snippet ({args.workers} workers)", "CPU ms/snippet",
                       f"CPU ms / {args.workers} cores", "goal ms"], amortised_rows)
    per_file = table(["file", "candidates", "compilable", "flagged by bandit / java-rules",
                      "FRANC flagged (published)", "FRANC s/snippet (published)"], per_file_rows)
    limit_note = f"first {args.limit} prompts of each file" if args.limit else "all prompts"
    body = (f"Filtered code: {', '.join(sorted(sources))}; {limit_note}. The machine was shared "
            "with other jobs (load average far above its 2 cores), which inflates wall-clock "
            "times: compare ratios, and CPU time (this process plus its finished children) "
            "rather than milliseconds. 'ratio' = slow / ours; 'same findings' compares the "
            "(test id, line) sets of the bandit CLI and bandit in-process per snippet.\n\n"
            f"### Side by side (same snippets, one run)\n\n{comparison}\n\n"
            f"### Whole analysis over all files (as `franc analyze`: chunks of 100, "
            f"{args.workers} worker processes, warm analyzers per worker)\n\n{amortised}\n\n"
            f"### Per file\n\n'flagged' = share of compilable candidates with a finding of the "
            f"security analyzer on a generated line (FRANC flagged with bandit / SpotBugs).\n\n"
            f"{per_file}\n\n"
            f"### Findings per 100 compilable candidates (generated lines only)\n\n"
            f"Security rules (bandit, java-rules), every rule that fired:\n\n"
            f"{rule_table(rule_counts, lambda tool: tool != 'pylint')}\n\n"
            f"pylint, the 20 most frequent messages:\n\n"
            f"{rule_table(rule_counts, lambda tool: tool == 'pylint', top=20)}")
    if args.no_append:
        print(body)
    else:
        write_section("analyzers", "Quality analyzers (benchmarks/analyzers.py)", body)
    return 0


def rule_table(rule_counts: dict[str, Counter[tuple[str, str, int | None]]],
               keep: Callable[[str], bool], top: int | None = None) -> str:
    """Findings per 100 compilable candidates of each dataset, for the tools ``keep`` accepts."""
    datasets = list(rule_counts)
    sizes = {d: rule_counts[d]["__candidates__", "", None] for d in datasets}
    overall: Counter[tuple[str, str, int | None]] = Counter()
    for dataset in datasets:
        overall.update({k: v / max(1, sizes[dataset]) for k, v in rule_counts[dataset].items()
                        if k[0] != "__candidates__" and keep(k[0])})
    rows = []
    for key, _ in overall.most_common(top):
        tool, rule, cwe = key
        rows.append([tool, rule, cwe or "", *(
            f"{100 * rule_counts[d][key] / sizes[d]:.1f}" if sizes[d] else "-" for d in datasets)])
    header = ["tool", "rule", "CWE", *(f"{d} (n={sizes[d]})" for d in datasets)]
    return table(header, rows)


if __name__ == "__main__":
    sys.exit(main())
