"""Render an :class:`~franc.ranking.evaluate.EvalReport`: rich, Markdown, LaTeX, TREC, HTML."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from franc.ranking.evaluate import (
    PASS_AT_K,
    TOP1,
    EvalReport,
    Evaluation,
    LabeledFile,
    Orders,
    _run,
    labels_of,
)

BASELINES = ("original", "franc")


def _marks(evaluation: Evaluation, ranker: str, metric: str) -> str:
    """'o' / 'f': significantly better (p < 0.05) than original / franc."""
    marks = ""
    for baseline in BASELINES:
        if baseline == ranker or baseline not in evaluation.scores:
            continue
        p = evaluation.p_values.get(ranker, {}).get(baseline, {}).get(metric)
        better = evaluation.scores[ranker][metric] > evaluation.scores[baseline][metric]
        if p is not None and p < 0.05 and better:
            marks += baseline[0]
    return marks


def rows(evaluation: Evaluation, metrics: Sequence[str]) -> list[list[str]]:
    out = []
    for ranker, values in evaluation.scores.items():
        gap = evaluation.gap_closed(ranker) if "original" in evaluation.scores else None
        cells = [f"{values[m]:.3f}{_marks(evaluation, ranker, m)}" for m in metrics]
        out.append([ranker, *cells, f"{evaluation.oracle:.3f}",
                    *(f"{evaluation.pass_at_k.get(k, 0.0):.3f}" for k in PASS_AT_K),
                    "-" if gap is None else f"{gap:+.2f}"])
    return out


def header(metrics: Sequence[str]) -> list[str]:
    return ["ranker", *metrics, "oracle", *(f"pass@{k}" for k in PASS_AT_K), "gap closed"]


def rich_tables(report: EvalReport) -> list[Table]:
    tables = []
    for evaluation in [*report.files, *report.pooled]:
        table = Table(title=f"{evaluation.name}: {evaluation.tasks} prompts "
                            f"({evaluation.ndcg_tasks} with a compilable candidate, "
                            f"{evaluation.pass_tasks} with a passing one)")
        for column in header(report.metrics):
            table.add_column(column, justify="left" if column == "ranker" else "right")
        for row in rows(evaluation, report.metrics):
            table.add_row(*row)
        tables.append(table)
    return tables


NOTE = ("Suffix o / f: significantly better than original / franc (paired {test} test over "
        "prompts, p < 0.05). NDCG uses the graded labels (prompts with a compilable "
        "candidate); precision and MRR count passing candidates (label >= 2) as relevant, over "
        "the prompts some candidate passes; top1_pass is over all prompts. pass@k: the unbiased "
        "estimator (Chen et al. 2021) over the model's samples, whatever the order. "
        "gap closed = (top1 - top1_original) / (oracle - top1_original).")


def markdown(report: EvalReport) -> str:
    parts = []
    for evaluation in [*report.files, *report.pooled]:
        head = header(report.metrics)
        lines = [f"**{evaluation.name}** ({evaluation.tasks} prompts, {evaluation.ndcg_tasks} "
                 f"with a compilable candidate, {evaluation.pass_tasks} with a passing one)", "",
                 "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows(evaluation, report.metrics)]
        parts.append("\n".join(lines))
    test = report.pooled[0].stat_test if report.pooled else "student"
    return "\n\n".join(parts) + "\n\n" + NOTE.format(test=test) + "\n"


def latex(report: EvalReport) -> str:
    """ranx's LaTeX tables of the pooled evaluations (graded metrics)."""
    return "\n\n".join(f"% {e.name}\n{e.latex}" for e in report.pooled if e.latex)


def write_trec(directory: Path, files: Sequence[LabeledFile], orders: Sequence[Orders]) -> None:
    """One qrels file and one run file per ranker, in TREC format, for all files pooled."""
    from ranx import Qrels  # lazy: heavy import

    from franc.ranking.evaluate import prefixed

    directory.mkdir(parents=True, exist_ok=True)
    labels = labels_of(files, prefix=True)
    Qrels.from_dict({q: {str(i): v for i, v in row.items()} for q, row in labels.items()}) \
        .save(str(directory / "qrels.trec"), kind="trec")
    for ranker, order in prefixed(files, orders).items():
        _run(order, ranker).save(str(directory / f"run.{ranker}.trec"), kind="trec")


def _figure_png(report: EvalReport) -> str:
    import matplotlib  # lazy: heavy import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    evaluations = [*report.files, *report.pooled]
    rankers = report.rankers
    fig, axes = plt.subplots(3, 1, figsize=(max(8, 0.9 * len(evaluations) + 3), 11))
    width = 0.8 / max(1, len(rankers))
    panels = (("ndcg@10", "NDCG@10"), (TOP1, "top-1 pass rate"), ("gap", "gap closed to oracle"))
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for k, ranker in enumerate(rankers):
            if metric == "gap":
                values = [e.gap_closed(ranker) or 0.0 for e in evaluations]
            else:
                values = [e.scores[ranker].get(metric, 0.0) for e in evaluations]
            axis.bar([i + k * width for i in range(len(evaluations))], values, width,
                     label=ranker)
        if metric == TOP1:
            axis.scatter([i + 0.4 - width / 2 for i in range(len(evaluations))],
                         [e.oracle for e in evaluations], marker="_", s=300, color="black",
                         label="oracle", zorder=3)
        axis.set_title(title)
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(evaluations))])
        axis.set_xticklabels([e.name.replace("HumanEval_", "HE_").replace("_128_10", "")
                              .replace("_512_10", "") for e in evaluations],
                             rotation=35, ha="right", fontsize=7)
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(ncol=min(len(rankers) + 1, 7), fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def html_page(report: EvalReport) -> str:
    """One self-contained page: the plots (base64 PNG) and the tables."""
    import markdown_it  # lazy: comes with rich

    body = markdown_it.MarkdownIt().enable("table").render(markdown(report))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>FRANC ranking evaluation"
            "</title><style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
            "padding:2px 8px;text-align:right}</style></head><body>"
            f"<h1>FRANC ranking evaluation</h1><p>Rankers: {html.escape(', '.join(report.rankers))}"
            f"</p><img alt='per file NDCG@10, top-1 pass rate and gap closed' "
            f"src='data:image/png;base64,{_figure_png(report)}'/>{body}</body></html>")
