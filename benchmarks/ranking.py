"""Ranking on every HumanEval reference file, after our filter, with our labels.

For each ``HumanEval_<language>_*`` reference file whose labeled candidates exist in
``out/labeled/<file>.jsonl`` (written by ``benchmarks/functional.py``: our filter's
output with execution labels), findings are added by our analyzers (cached in
``out/ranking/``), then every ranker orders every prompt's candidates:
original, franc, quality, consensus, learned (always leave-one-model-out: trained
on the other models' files of the same language) and, with ``--examples``, the
opt-in examples ranker (examples run in the sandbox, then learned). Reported per
file and pooled per language: NDCG@10, top-1 pass rate, the oracle, the share of
the gap closed, paired t-tests against original and franc; beside them FRANC's
figures for its own filter's output (``franc_humaneval.csv``), so that the filter
effect (our candidates vs FRANC's) and the ranking effect (rankers on our
candidates) show separately. Writes its sections to benchmarks/results/.

    python -m benchmarks.ranking [--examples] [--files SUBSTRING] [--workers N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from benchmarks.functional import TIMEOUTS, filtered_candidates, franc_figures
from benchmarks.report import REFERENCE, ROOT, table, write_section
from benchmarks.soeval import soeval_tasks
from franc.analysis import Analyzers, analyze
from franc.datasets import load_suggestions, load_tasks
from franc.errors import InputError
from franc.evaluation.labels import label_candidates
from franc.jsonl import write_jsonl
from franc.models import Task
from franc.parallel import default_workers, map_chunks
from franc.policy import shipped_dir
from franc.ranking.evaluate import (
    TOP1,
    EvalReport,
    Evaluation,
    LabeledFile,
    Orders,
    RankJob,
    evaluate,
    load_labeled,
    rank_files,
    rank_jobs,
)
from franc.ranking.examples import ResultCache, parse_examples
from franc.ranking.features import ConsensusParams
from franc.ranking.learned import (
    LearnedModel,
    TrainSettings,
    feature_matrix,
    fit_models,
    group_by_task,
    shipped_settings,
)
from franc.ranking.report import html_page

OUT = ROOT / "out"
#: Sandbox results of the examples ranker, kept across runs (keyed by code and examples).
EXAMPLES_CACHE = OUT / "ranking" / "examples-cache.sqlite"
#: Seconds per analyzer batch (plus pylint's per-candidate allowance) on SOEval answers.
SOEVAL_ANALYSIS_TIMEOUT = 120.0
STATIC = ("original", "franc", "quality", "consensus", "consensus_difflib")


_BENCHMARK_PREFIX = re.compile(r"^(?:HumanEval_(?:python|java)|SOEval(?:Python|Java))_")


def model_of(name: str) -> str:
    """``HumanEval_python_codegen-2B-mono_128_10``, ``SOEvalJava_gpt3.5_512_10`` -> the model."""
    return _BENCHMARK_PREFIX.sub("", name).rsplit("_", 2)[0]


def label_soeval(name: str, language: str, franc: dict[str, Task], ours: dict[str, Task],
                 workers: int | None) -> None:
    """Filter one SOEval reference file against FRANC's prompts and label the output with our
    tests (as ``franc label`` does) into ``out/labeled/<name>.jsonl``."""
    started = time.perf_counter()
    suggestions = load_suggestions(REFERENCE / "suggestions" / f"{name}.jsonl.gz", tasks=franc)
    filtered = filtered_candidates(language, franc, suggestions)
    labeled = label_candidates(filtered, ours, language, workers=workers,
                               timeout=TIMEOUTS[language], progress=False)
    write_jsonl(OUT / "labeled" / f"{name}.jsonl", (c.to_json() for c in labeled))
    runs = len({(c.task_id, c.code) for c in labeled if c.compiles})
    print(f"labeled {name}: {runs} distinct runs, {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)


def with_findings(name: str, tasks: dict[str, Task],
                  analyzers: Analyzers | None = None) -> LabeledFile | None:
    """The labeled file with analyzer findings (cached in ``out/ranking/``); ``analyzers``:
    warm ones shared by several files (else built for this file)."""
    cached = OUT / "ranking" / f"{name}.jsonl"
    source = OUT / "labeled" / f"{name}.jsonl"
    if cached.is_file() and (not source.is_file()
                             or cached.stat().st_mtime >= source.stat().st_mtime):
        return load_labeled(cached, tasks)
    if not source.is_file():
        return None
    try:
        labeled = load_labeled(source, tasks)
    except InputError as exc:  # another run is rewriting it: keep the last complete copy
        print(f"{name}: {exc}; using {'the cached copy' if cached.is_file() else 'nothing'}",
              file=sys.stderr, flush=True)
        return load_labeled(cached, tasks) if cached.is_file() else None
    if any(c.compiles and c.findings is None for c in labeled.candidates):
        analyzed = (analyzers.run(labeled.candidates, tasks) if analyzers is not None
                    else analyze(labeled.language, labeled.candidates, tasks))
        for candidate, done in zip(labeled.candidates, analyzed, strict=True):
            candidate.findings = done.findings
    write_jsonl(cached, (c.to_json() for c in labeled.candidates))
    return labeled


def leave_one_model_out(train: list[LabeledFile], targets: list[LabeledFile],
                        tasks: dict[str, Task], folder: Path,
                        settings: TrainSettings | None = None,
                        ranker: str = "learned") -> dict[str, Path]:
    """Per target file: a learned model fit as ``settings`` say (default: as the shipped one
    is: its features, tiers, pooled languages, C, security tier) on the ``train`` files whose
    model is another one (a model's own answers never train the ranker that ranks them)."""
    settings = settings or shipped_settings()
    consensus = ConsensusParams()
    matrices = {}
    for number, f in enumerate(train):
        groups = list(group_by_task(f.candidates).values())
        x, y, _, _ = feature_matrix(f.language, groups, tasks, consensus)
        # Group ids unique over all files: a prompt of one model is its own group.
        ids = np.repeat(np.arange(len(groups)) + 10_000 * number, [len(g) for g in groups])
        matrices[f.name] = (x, y, ids)
    paths = {}
    for f in targets:
        others = [g for g in train if (settings.pool_languages or g.language == f.language)
                  and model_of(g.name) != model_of(f.name)]
        data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for lang in sorted({g.language for g in others}):
            rows, labels, prompt_ids = (np.concatenate(column) for column in zip(
                *(matrices[g.name] for g in others if g.language == lang), strict=True))
            data[lang] = (rows, labels, prompt_ids)
        fitted = fit_models(data, settings)
        # Pooled languages: the one model also ranks a language no other model's file trains.
        model = LearnedModel(settings.features,
                             {f.language: fitted.get(f.language) or next(iter(fitted.values()))},
                             consensus=consensus, settings=settings,
                             card={"trained_on": [g.name for g in others]})
        paths[f.name] = folder / f"{ranker}-lomo-{f.name}.json"
        paths[f.name].write_text(json.dumps(model.to_json()))
    return paths


def static_orders(files: list[LabeledFile], tasks: dict[str, Task], lomo: dict[str, Path],
                  workers: int | None,
                  variants: dict[str, dict[str, Path]] | None = None) -> list[Orders]:
    """The static rankers' and the leave-one-model-out learned ranker's orders, per file
    (and those of the learned ``variants``: ranker -> file -> its leave-one-model-out model)."""
    orders: list[Orders] = rank_files(files, STATIC, tasks, workers=workers)
    learned = {"learned": lomo, **(variants or {})}
    for f, order in zip(files, orders, strict=True):
        order.update(rank_files([f], [f"{name}={paths[f.name]}" for name, paths in learned.items()],
                                tasks, workers=1, progress=False)[0])
    return orders


def model_text(reference: str) -> str:
    """A model JSON's text: a file, else git's ``REV:PATH`` (a model shipped by an earlier
    commit, e.g. ``166a742:rankers/learned.json``), so that a clean clone reproduces it."""
    path = Path(reference)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        return subprocess.run(["git", "show", reference], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parent).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"--reference-learned {reference}: neither a file nor a git REV:PATH "
                         f"({getattr(exc, 'stderr', '') or exc})") from None


def learned_variants(reference: str | None, without_tier: bool) -> dict[str, TrainSettings]:
    """Learned rankers to compare the shipped one with, refit leave-one-model-out as it is:
    ``learned_reference`` (another model JSON's features and settings, e.g. the previous
    shipped model) and ``learned_no_tier`` (the shipped settings without the security tier)."""
    variants = {}
    if reference:
        variants["learned_reference"] = LearnedModel.from_json(
            json.loads(model_text(reference)), source=reference).settings
    if without_tier:
        variants["learned_no_tier"] = dataclasses.replace(shipped_settings(), security_tier=None)
    return variants


def variants_table(report: EvalReport, variants: list[str]) -> str:
    """Pooled per language: the shipped learned ranker against each variant, paired."""
    rows = []
    for evaluation in report.pooled:
        for name in variants:
            rows.append([evaluation.language, name, evaluation.scores[name][TOP1],
                         evaluation.scores["learned"][TOP1],
                         fmt_gap(evaluation.gap_closed(name)),
                         fmt_gap(evaluation.gap_closed("learned")),
                         fmt_p(evaluation, "learned", name, TOP1),
                         fmt_p(evaluation, "learned", name, "ndcg@10")])
    return table(["language", "variant", "top-1 variant", "top-1 learned", "gap closed variant",
                  "gap closed learned", "p top-1 learned vs variant",
                  "p NDCG learned vs variant"], rows)


def fmt_p(evaluation: Evaluation, ranker: str, baseline: str, metric: str) -> str:
    if ranker == baseline:
        return "-"
    p = evaluation.p_values[ranker][baseline][metric]
    if math.isnan(p):  # the t-test is undefined: the same score on every prompt
        return "same"
    return f"{p:.3g}" if p >= 0.001 else "<0.001"


def fmt_gap(gap: float | None) -> str:
    return "-" if gap is None else f"{gap:+.3f}"


def pooled_table(report: EvalReport, benchmark: str = "") -> str:
    rows = []
    for evaluation in report.pooled:
        for ranker, scores in evaluation.scores.items():
            gap = evaluation.gap_closed(ranker)
            rows.append([benchmark + evaluation.language, ranker, scores["ndcg@10"], scores[TOP1],
                         evaluation.oracle, "-" if gap is None else f"{gap:+.3f}",
                         fmt_p(evaluation, ranker, "original", "ndcg@10"),
                         fmt_p(evaluation, ranker, "original", TOP1),
                         fmt_p(evaluation, ranker, "franc", "ndcg@10"),
                         fmt_p(evaluation, ranker, "franc", TOP1)])
    return table(["language", "ranker", "NDCG@10", "top-1 pass", "oracle", "gap closed",
                  "p NDCG vs original", "p top-1 vs original", "p NDCG vs franc",
                  "p top-1 vs franc"], rows)


def per_file_table(report: EvalReport, files: list[LabeledFile],
                   figures: dict[str, dict[str, str]]) -> str:
    rows = []
    for f, evaluation in zip(files, report.files, strict=True):
        ref = figures.get(f.name, {})
        compilable = sum(c.compiles for c in f.candidates) / len(f.candidates)
        passing = sum((c.label or 0) >= 2 for c in f.candidates) / len(f.candidates)
        rows.append([f.name.removeprefix("HumanEval_"), evaluation.tasks, compilable,
                     ref.get("franc_compilable", ""), passing, ref.get("franc_pass_rate", ""),
                     evaluation.oracle, ref.get("oracle_pass_at_10", ""),
                     ref.get("top1_original", ""), ref.get("top1_franc", ""),
                     *[evaluation.scores[r][TOP1] for r in report.rankers],
                     *[evaluation.scores[r]["ndcg@10"] for r in report.rankers]])
    head = ["file", "prompts", "compilable ours", "compilable FRANC", "pass ours", "pass FRANC",
            "oracle ours", "oracle FRANC", "FRANC top-1 original", "FRANC top-1 franc",
            *[f"top-1 {r}" for r in report.rankers], *[f"NDCG@10 {r}" for r in report.rankers]]
    return table(head, rows)


def examples_policy(path: Path, fallback: Path, **member: object) -> Path:
    """The shipped ``examples`` chain (its security tier included) written to ``path``, with
    ``fallback`` (a leave-one-model-out model) in place of ``learned`` and ``member``'s
    settings on its examples member."""
    settings = tomllib.loads((shipped_dir("rankers") / "examples.toml").read_text())
    settings["rankers"] = [{**r, **member} if isinstance(r, dict)
                           else str(fallback) if r == "learned" else r
                           for r in settings["rankers"]]
    path.write_text(json.dumps(settings))
    return path


def examples_jobs(files: list[LabeledFile], tasks: dict[str, Task], lomo: dict[str, Path],
                  scratch: Path) -> list[RankJob]:
    """One ranking job per file: the examples ranker (sandbox results cached on disk across
    runs, one sandbox run at a time per job: the jobs run in parallel), then learned."""
    jobs: list[RankJob] = []
    for f in files:
        # SOEval's examples import heavier libraries (pandas): its tests' time limit.
        timeout = TIMEOUTS["python"] if f.name.startswith("SOEval") else 5.0
        chain = examples_policy(scratch / f"examples-{f.name}.json", lomo[f.name],
                                timeout=timeout, workers=1, cache=str(EXAMPLES_CACHE))
        jobs.append((f, (f"examples={chain}",),
                     {t: tasks[t] for t in {c.task_id for c in f.candidates} if t in tasks},
                     None))  # the chain names its cache
    return jobs


def cached_runs() -> int:
    return len(ResultCache(EXAMPLES_CACHE)) if EXAMPLES_CACHE.is_file() else 0


def cold_runs(f: LabeledFile, tasks: dict[str, Task]) -> tuple[int, int]:
    """(prompts with examples, sandbox runs the examples ranker needs without a cache)."""
    parsed = {t for t in {c.task_id for c in f.candidates} if parse_examples(tasks[t])}
    runs = {(c.task_id, c.code) for c in f.candidates if c.compiles and c.task_id in parsed}
    return len(parsed), len(runs)


def examples_section(files: list[LabeledFile], orders: list[Orders], tasks: dict[str, Task],
                     lomo: dict[str, Path], scratch: Path, workers: int | None,
                     figures: dict[str, dict[str, str]]) -> str:
    """The examples ranker (then learned) on the chosen Python files: pooled per benchmark
    (paired tests, gap closed), per file with its cost, beside FRANC's examples baseline."""
    before, started = cached_runs(), time.perf_counter()
    example_orders = map_chunks(rank_jobs, examples_jobs(files, tasks, lomo, scratch),
                                workers=workers, chunk_size=1, description="examples ranker")
    seconds, made = time.perf_counter() - started, cached_runs() - before
    merged = [{**{r: order[r] for r in ("original", "franc", "consensus", "learned")}, **extra}
              for order, extra in zip(orders, example_orders, strict=True)]
    rankers = ["original", "franc", "consensus", "learned", "examples"]
    parts, rows, cold_total = [], [], 0
    for benchmark in ("HumanEval", "SOEval"):
        chosen = [i for i, f in enumerate(files) if f.name.startswith(benchmark)]
        if not chosen:
            continue
        subset = [files[i] for i in chosen]
        report = evaluate(subset, rankers, tasks, orders=[merged[i] for i in chosen])
        prompts = {t for f in subset for t in {c.task_id for c in f.candidates}}
        parsed = sum(bool(parse_examples(tasks[t])) for t in prompts)
        parts.append(f"*{benchmark} Python* (examples parsed for {parsed} of {len(prompts)} "
                     f"prompts)\n\n" + pooled_table(report, f"{benchmark} "))
        for f, evaluation in zip(subset, report.files, strict=True):
            with_examples, cold = cold_runs(f, tasks)
            cold_total += cold
            ref = figures.get(f.name, {})
            gap = evaluation.gap_closed("examples")
            rows.append([f.name, evaluation.tasks, with_examples, cold,
                         *[evaluation.scores[r][TOP1] for r in rankers], evaluation.oracle,
                         "-" if gap is None else f"{gap:+.3f}",
                         fmt_p(evaluation, "examples", "original", TOP1),
                         fmt_p(evaluation, "examples", "learned", TOP1),
                         ref.get("top1_examples", ""), franc_gap(ref),
                         ref.get("examples_tasks", "")])
    franc_rows = [figures[f.name] for f in files if f.name in figures]
    franc_pooled = ""
    if franc_rows:
        mean = {k: float(np.mean([float(r[k]) for r in franc_rows]))
                for k in ("top1_original", "top1_examples", "oracle_pass_at_10")}
        franc_pooled = (f" FRANC's examples baseline on its own filtered candidates "
                        f"(`franc_humaneval.csv`, same {len(franc_rows)} files): top-1 "
                        f"{mean['top1_original']:.3f} original, {mean['top1_examples']:.3f} "
                        f"examples, oracle {mean['oracle_pass_at_10']:.3f}, gap closed "
                        f"{franc_gap({k: str(v) for k, v in mean.items()})}.")
    table_rows = table(["file", "prompts", "with examples", "sandbox runs (no cache)",
                        *[f"top-1 {r}" for r in rankers], "oracle", "gap closed examples",
                        "p top-1 vs original", "p top-1 vs learned", "FRANC top-1 examples",
                        "FRANC gap closed", "FRANC examples_tasks"], rows)
    return (f"Opt-in ranker: runs the examples parsed from the prompt's docstring in the "
            f"sandbox (all examples of a candidate in one run, identical candidates once, "
            f"results cached by code hash in `{EXAMPLES_CACHE.relative_to(ROOT)}`), then "
            f"`learned` (leave-one-model-out) breaks ties. Cost: {cold_total} sandbox runs "
            f"without a cache; this run made {made} ({seconds:.0f} s wall, "
            f"{workers or default_workers()} files in parallel). Java: not applicable "
            f"(HumanEval-Java's Javadoc examples are its test cases, so running them would "
            f"grade candidates on the answers).{franc_pooled}\n\n"
            + "\n\n".join(parts) + "\n\n**Per file**\n\n" + table_rows)


def franc_gap(row: dict[str, str]) -> str:
    try:
        base, top, oracle = (float(row[k]) for k in ("top1_original", "top1_examples",
                                                      "oracle_pass_at_10"))
    except (KeyError, ValueError):
        return ""
    return f"{(top - base) / (oracle - base):+.3f}" if oracle > base else "-"


def soeval_files(names_filter: str | None, relabel: bool,
                 workers: int | None) -> tuple[list[LabeledFile], dict[str, Task]]:
    """The SOEval reference files, filtered and labeled with our tests (cached), with findings."""
    files, tasks = [], {}
    for language, prefix in (("python", "SOEvalPython_"), ("java", "SOEvalJava_")):
        franc, ours = soeval_tasks(language)
        tasks.update(franc)
        # One warm set of analyzers for all files, with room for astroid to build its models
        # of the heavy libraries SOEval answers import (pandas, ...) once: under the default
        # limit a loaded machine times them out and rebuilds them for every batch.
        with Analyzers(language, timeout=SOEVAL_ANALYSIS_TIMEOUT) as analyzers:
            for path in sorted((REFERENCE / "suggestions").glob(f"{prefix}*.jsonl.gz")):
                name = path.name.removesuffix(".jsonl.gz")
                if names_filter and names_filter not in name:
                    continue
                if relabel or not (OUT / "labeled" / f"{name}.jsonl").is_file():
                    label_soeval(name, language, franc, ours, workers)
                labeled = with_findings(name, franc, analyzers)
                assert labeled is not None
                files.append(labeled)
    return files, tasks


def soeval_per_file_table(report: EvalReport, files: list[LabeledFile]) -> str:
    rows = []
    for f, evaluation in zip(files, report.files, strict=True):
        n = len(f.candidates)
        gap = evaluation.gap_closed("learned")
        rows.append([f.name, evaluation.tasks, sum(c.compiles for c in f.candidates) / n,
                     sum((c.label or 0) >= 2 for c in f.candidates) / n,
                     sum(c.label == 3 for c in f.candidates) / n, evaluation.oracle,
                     *[evaluation.scores[r][TOP1] for r in report.rankers],
                     *[evaluation.scores[r]["ndcg@10"] for r in report.rankers],
                     "-" if gap is None else f"{gap:+.3f}",
                     fmt_p(evaluation, "learned", "original", TOP1),
                     fmt_p(evaluation, "learned", "franc", TOP1)])
    return table(["file", "prompts", "compilable", "pass", "pass + secure (3)", "oracle",
                  *[f"top-1 {r}" for r in report.rankers],
                  *[f"NDCG@10 {r}" for r in report.rankers], "gap closed learned",
                  "p top-1 learned vs original", "p top-1 learned vs franc"], rows)


def soeval_section(files: list[LabeledFile], orders: list[Orders], tasks: dict[str, Task],
                   rankers: list[str], seconds: float) -> tuple[str, EvalReport]:
    report = evaluate(files, rankers, tasks, orders=orders)
    body = (f"The models answered FRANC's SOEval prompts; our filter cleaned the answers against "
            f"those prompts and our SOEval tests (`datasets/SOEval`, matched by question id and "
            f"signature) labelled them in the sandbox: 0 does not compile, 1 fails `test`, 2 "
            f"passes `test` (and fails `security_test`), 3 passes both; only tasks with a "
            f"security test reach 3. Top-1 pass and the oracle count label >= 2. Findings from "
            f"our analyzers; `learned` is leave-one-model-out (trained on the HumanEval files "
            f"of the other models, so it never saw SOEval nor its own model). Paired t-tests "
            f"over prompts. {len(files)} files, {seconds:.0f} s (labels cached in "
            f"`out/labeled/`).\n\n**Pooled per language**\n\n"
            + pooled_table(report, "SOEval ") + "\n\n**Per file**\n\n"
            + soeval_per_file_table(report, files))
    return body, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", nargs="?", const="", metavar="SUBSTRING",
                        help="also run the opt-in examples ranker (executes in the sandbox) on "
                             "the Python files whose name contains SUBSTRING (default: all)")
    parser.add_argument("--soeval", action="store_true",
                        help="also rank the SOEval reference files (filtered against FRANC's "
                             "prompts, labelled with our SOEval tests; cached in out/labeled/)")
    parser.add_argument("--relabel", action="store_true",
                        help="re-filter and re-label the SOEval files first (after a filter "
                             "or test change)")
    parser.add_argument("--no-humaneval", action="store_true",
                        help="leave out the HumanEval tables (its files still train learned)")
    parser.add_argument("--examples-only", action="store_true",
                        help="write only the examples ranker's section")
    parser.add_argument("--files", help="only files whose name contains this")
    parser.add_argument("--reference-learned", metavar="JSON|REV:PATH",
                        help="also refit this learned model's features and settings "
                             "leave-one-model-out (learned_reference) and test the shipped "
                             "learned ranker against it, paired")
    parser.add_argument("--without-security-tier", action="store_true",
                        help="also refit the shipped learned ranker without its security tier "
                             "(learned_no_tier) and test it against the shipped one, paired")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--dry-run", action="store_true",
                        help="print, do not write benchmarks/results/")
    args = parser.parse_args()

    tasks = {t.task_id: t for language in ("python", "java")
             for t in load_tasks(REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl")}
    names = sorted(p.name.removesuffix(".jsonl.gz")
                   for p in (REFERENCE / "suggestions").glob("HumanEval_*.jsonl.gz"))
    if args.files:
        names = [n for n in names if args.files in n]
    started = time.perf_counter()
    files, missing = [], []
    for name in names:
        labeled = with_findings(name, tasks)
        (files.append(labeled) if labeled else missing.append(name))
    if not files:
        print("no labeled files in out/labeled/; run python -m benchmarks.functional first")
        return 1
    so_files: list[LabeledFile] = []
    if args.soeval:
        so_files, so_tasks = soeval_files(args.files, args.relabel, args.workers)
        tasks.update(so_tasks)
    variant_settings = learned_variants(args.reference_learned, args.without_security_tier)
    rankers = [*STATIC, "learned", *variant_settings]
    sections = []
    with tempfile.TemporaryDirectory() as scratch:
        lomo = leave_one_model_out(files, files + so_files, tasks, Path(scratch))
        variants = {name: leave_one_model_out(files, files, tasks, Path(scratch), settings, name)
                    for name, settings in variant_settings.items()}
        orders = static_orders(files, tasks, lomo, args.workers, variants)
        seconds = time.perf_counter() - started
        if not args.no_humaneval:
            report = evaluate(files, rankers, tasks, orders=orders)
            (OUT / "ranking" / "report.html").write_text(html_page(report), encoding="utf-8")
            (OUT / "ranking" / "report.json").write_text(json.dumps(report.to_json(), indent=1))
            sections.append((
                "ranking_humaneval", "Ranking: NDCG@10 and top-1 pass rate per ranker (HumanEval)",
                f"Our static filter's candidates with our execution labels (`out/labeled/`), "
                f"findings from our analyzers. `learned` is leave-one-model-out. "
                f"Paired t-tests over prompts (ranx.compare). gap closed = (top1 - "
                f"top1_original) / (oracle - top1_original). NDCG@10 averages over prompts with "
                f"a compilable candidate. {len(files)} files, {seconds:.0f} s in all."
                + (f" Not labeled yet, left out: {', '.join(missing)}." if missing else "")
                + "\n\n**Pooled per language**\n\n" + pooled_table(report)
                + ("\n\n**The learned ranker against its variants** (each refit "
                   "leave-one-model-out as the shipped one is; paired t-tests over prompts)"
                   "\n\n" + variants_table(report, list(variants)) if variants else "")
                + "\n\n**Per file** (filter effect: ours vs FRANC's compilable/pass/oracle; "
                  "ranking effect: top-1 and NDCG@10 per ranker on our candidates; FRANC's own "
                  "top-1 on its candidates from franc_humaneval.csv)\n\n"
                + per_file_table(report, files, franc_figures())))
        so_orders: list[Orders] = []
        if so_files:
            so_started = time.perf_counter()
            so_orders = static_orders(so_files, tasks, lomo, args.workers)
            body, so_report = soeval_section(so_files, so_orders, tasks, [*STATIC, "learned"],
                                             time.perf_counter() - so_started)
            (OUT / "ranking" / "report-soeval.html").write_text(html_page(so_report),
                                                                encoding="utf-8")
            (OUT / "ranking" / "report-soeval.json").write_text(
                json.dumps(so_report.to_json(), indent=1))
            sections.append(("ranking_soeval", "Ranking on SOEval: NDCG@10 and top-1 pass "
                             "rate per ranker (our SOEval tests)", body))
        if args.examples is not None:
            every = [(f, o) for f, o in zip(files + so_files, orders + so_orders, strict=True)
                     if f.language == "python" and args.examples in f.name]
            if every:
                sections.append((
                    "ranking_examples",
                    "Ranking: the examples ranker on every Python file (HumanEval, SOEval)",
                    examples_section([f for f, _ in every], [o for _, o in every], tasks, lomo,
                                     Path(scratch), args.workers, franc_figures())))
    if args.examples_only:
        sections = sections[-1:] if args.examples is not None else []
    for topic, title, body in sections:
        if args.dry_run:
            print(f"## {title}\n\n{body}\n")
        else:
            write_section(topic, title, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
