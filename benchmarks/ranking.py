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
candidates) show separately. Appends the tables to BENCHMARKS.md.

    python benchmarks/ranking.py [--examples] [--files SUBSTRING] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import REFERENCE, ROOT, append_section, table

from franc.analysis import analyze
from franc.datasets import load_tasks
from franc.jsonl import write_jsonl
from franc.models import Task
from franc.ranking.evaluate import (
    TOP1,
    EvalReport,
    Evaluation,
    LabeledFile,
    Orders,
    evaluate,
    load_labeled,
    rank_files,
)
from franc.ranking.examples import parse_examples
from franc.ranking.features import ConsensusParams
from franc.ranking.learned import (
    FEATURES,
    LearnedModel,
    feature_matrix,
    fit_linear,
    group_by_task,
)
from franc.ranking.report import html_page

OUT = ROOT / "out"
STATIC = ("original", "franc", "quality", "consensus", "consensus_difflib")


def model_of(name: str) -> str:
    """``HumanEval_python_codegen-2B-mono_128_10`` -> ``codegen-2B-mono``."""
    return name.split("_", 2)[2].rsplit("_", 2)[0]


def with_findings(name: str, tasks: dict[str, Task]) -> LabeledFile | None:
    cached = OUT / "ranking" / f"{name}.jsonl"
    source = OUT / "labeled" / f"{name}.jsonl"
    if cached.is_file() and (not source.is_file()
                             or cached.stat().st_mtime >= source.stat().st_mtime):
        return load_labeled(cached, tasks)
    if not source.is_file():
        return None
    labeled = load_labeled(source, tasks)
    if any(c.compiles and c.findings is None for c in labeled.candidates):
        analyzed = analyze(labeled.language, labeled.candidates, tasks)
        for candidate, done in zip(labeled.candidates, analyzed, strict=True):
            candidate.findings = done.findings
    write_jsonl(cached, (c.to_json() for c in labeled.candidates))
    return labeled


def leave_one_model_out(files: list[LabeledFile], tasks: dict[str, Task],
                        folder: Path) -> dict[str, Path]:
    """Per file: a learned model trained on the other models' files of its language."""
    consensus = ConsensusParams()
    matrices = {}
    for number, f in enumerate(files):
        groups = list(group_by_task(f.candidates).values())
        x, y, _, _ = feature_matrix(f.language, groups, tasks, consensus)
        # Group ids unique over all files: a prompt of one model is its own group.
        ids = np.repeat(np.arange(len(groups)) + 10_000 * number, [len(g) for g in groups])
        matrices[f.name] = (x, y, ids)
    paths = {}
    for f in files:
        others = [g for g in files if g.language == f.language
                  and model_of(g.name) != model_of(f.name)]
        x, y, ids = (np.concatenate([matrices[g.name][k] for g in others]) for k in range(3))
        model = LearnedModel(FEATURES, {f.language: fit_linear(x, y, groups=ids)},
                             consensus=consensus, card={"trained_on": [g.name for g in others]})
        paths[f.name] = folder / f"learned-lomo-{f.name}.json"
        paths[f.name].write_text(json.dumps(model.to_json()))
    return paths


def franc_figures() -> dict[str, dict[str, str]]:
    with open(REFERENCE / "franc_humaneval.csv", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def fmt_p(evaluation: Evaluation, ranker: str, baseline: str, metric: str) -> str:
    if ranker == baseline:
        return "-"
    p = evaluation.p_values[ranker][baseline][metric]
    return f"{p:.3g}" if p >= 0.001 else "<0.001"


def pooled_table(report: EvalReport) -> str:
    rows = []
    for evaluation in report.pooled:
        for ranker, scores in evaluation.scores.items():
            gap = evaluation.gap_closed(ranker)
            rows.append([evaluation.language, ranker, scores["ndcg@10"], scores[TOP1],
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


def examples_section(files: list[LabeledFile], orders: list[Orders], tasks: dict[str, Task],
                     lomo: dict[str, Path], substring: str, scratch: Path) -> str:
    """The examples ranker (then learned) on the chosen Python files, in its own table."""
    python_tasks = [t for t in tasks.values() if t.language == "python"]
    with_examples = sum(bool(parse_examples(t)) for t in python_tasks)
    chosen = [i for i, f in enumerate(files) if f.language == "python" and substring in f.name]
    if not chosen:
        return ""
    started = time.perf_counter()
    subset, sub_orders = [files[i] for i in chosen], []
    for i in chosen:
        chain = scratch / f"examples-{files[i].name}.toml"
        chain.write_text(f'kind = "chain"\nrankers = [{{ name = "examples", kind = "examples" }}'
                         f', "{lomo[files[i].name]}"]\n')
        order = {r: orders[i][r] for r in ("original", "franc", "learned")}
        order.update(rank_files([files[i]], [f"examples={chain}"], tasks, workers=1,
                                progress=False)[0])
        sub_orders.append(order)
    report = evaluate(subset, ["original", "franc", "learned", "examples"], tasks,
                      orders=sub_orders)
    return (f"\n\n**Examples ranker** (opt-in; runs the docstring examples in the sandbox, then "
            f"learned breaks ties). Examples parsed for {with_examples} of {len(python_tasks)} "
            f"HumanEval Python prompts; Java: none (HumanEval-Java's Javadoc examples are its "
            f"tests). {len(subset)} files, {time.perf_counter() - started:.0f} s.\n\n"
            + pooled_table(report))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", nargs="?", const="", metavar="SUBSTRING",
                        help="also run the opt-in examples ranker (executes in the sandbox) on "
                             "the Python files whose name contains SUBSTRING (default: all)")
    parser.add_argument("--files", help="only files whose name contains this")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--dry-run", action="store_true", help="print, do not append")
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
        print("no labeled files in out/labeled/; run benchmarks/functional.py first")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        lomo = leave_one_model_out(files, tasks, Path(scratch))
        orders: list[Orders] = rank_files(files, STATIC, tasks, workers=args.workers)
        for f, order in zip(files, orders, strict=True):
            order.update(rank_files([f], [f"learned={lomo[f.name]}"], tasks, workers=1,
                                    progress=False)[0])
        rankers = [*STATIC, "learned"]
        report = evaluate(files, rankers, tasks, orders=orders)
        example_section = ""
        if args.examples is not None:
            example_section = examples_section(files, orders, tasks, lomo, args.examples,
                                               Path(scratch))
    seconds = time.perf_counter() - started
    (OUT / "ranking" / "report.html").write_text(html_page(report), encoding="utf-8")
    (OUT / "ranking" / "report.json").write_text(json.dumps(report.to_json(), indent=1))
    body = (f"Our static filter's candidates with our execution labels (`out/labeled/`), "
            f"findings from our analyzers. `learned` is leave-one-model-out. "
            f"Paired t-tests over prompts (ranx.compare). gap closed = (top1 - top1_original) "
            f"/ (oracle - top1_original). NDCG@10 averages over prompts with a compilable "
            f"candidate. {len(files)} files, {seconds:.0f} s in all."
            + (f" Not labeled yet, left out: {', '.join(missing)}." if missing else "")
            + "\n\n**Pooled per language**\n\n" + pooled_table(report)
            + "\n\n**Per file** (filter effect: ours vs FRANC's compilable/pass/oracle; "
              "ranking effect: top-1 and NDCG@10 per ranker on our candidates; FRANC's own "
              "top-1 on its candidates from franc_humaneval.csv)\n\n"
            + per_file_table(report, files, franc_figures()) + example_section)
    if args.dry_run:
        print(body)
    else:
        append_section("Ranking: NDCG@10 and top-1 pass rate per ranker (HumanEval)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
