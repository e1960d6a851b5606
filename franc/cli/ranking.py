"""``franc rank``, ``franc eval`` and ``franc train-ranker``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl, write_text_atomic
from franc.models import LANGUAGES, Candidate, Task, check_language
from franc.parallel import add_progress_flags, note_console, progress_bar, show_progress
from franc.policy import choice_help
from franc.ranking.evaluate import (
    DEFAULT_METRICS,
    EXECUTORS,
    apply_qrels,
    check_metrics,
    evaluate,
    group_tasks,
    load_labeled,
    rank_files,
)


def _tasks(paths: list[str] | None, language: str | None = None) -> dict[str, Task]:
    from franc.datasets import load_tasks  # lazy: only when prompts are given

    tasks: dict[str, Task] = {}
    for path in paths or []:
        tasks.update({t.task_id: t for t in load_tasks(path, language=language)})
    return tasks


def _rank(args: argparse.Namespace) -> int:
    from franc.ranking.rankers import get_ranker

    language = check_language(args.language)
    tasks = _tasks(args.prompts, language)
    candidates = [Candidate.from_json(row, source=args.candidates, line=line)
                  for line, row in read_jsonl(args.candidates)]
    ranker = get_ranker(args.ranker, language, latency_guards=False, cache=args.cache)
    groups = group_tasks(candidates)
    ranked: list[Candidate] = []
    try:
        with progress_bar(show_progress(args)) as bar:
            job = bar.add_task(f"rank ({ranker.name})", total=len(groups))
            for task_id, group in groups.items():
                ranked += ranker.rank(tasks.get(task_id), group)
                bar.advance(job)
    finally:
        ranker.close()
    count = write_jsonl(args.output, (c.to_json() for c in ranked))
    note_console(args).print(f"ranked {count} candidates of {len(groups)} tasks "
                             f"with {ranker.name!r} -> {args.output}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from franc.ranking import report as render

    if not args.jit and "numba" not in sys.modules:
        # ranx's metrics are numba functions: compiling them took ~50 s of CPU on a machine's
        # first run. At franc eval's sizes numba's pure-Python mode gives the same scores in
        # seconds; numba reads this before its first import (ranx is imported lazily below).
        os.environ.setdefault("NUMBA_DISABLE_JIT", "1")
    progress = note_console(args)
    tasks = _tasks(args.prompts, args.language)
    files = [load_labeled(path, tasks, args.language) for path in args.labeled]
    if args.qrels:
        if len(files) != 1:
            raise InputError("--qrels overrides the labels of exactly one --labeled file")
        apply_qrels(files[0], args.qrels)
    for f in files:
        unanalyzed = sum(c.compiles and c.findings is None for c in f.candidates)
        if unanalyzed:
            progress.print(
                f"[yellow]warning:[/] {f.name}: {unanalyzed} compilable candidates carry no "
                "findings (run `franc analyze` first); rankers treat them as clean")
    sampled = {c.task_id for f in files for c in f.candidates}
    unsampled = [task_id for task_id in tasks if task_id not in sampled]
    if unsampled:
        # A pool can hold a prompt without samples (CodeT's loader provides for it): such a
        # task is not scored, so the rates are over fewer prompts than the prompt file has.
        progress.print(
            f"[yellow]note:[/] {len(unsampled)} of the {len(tasks)} tasks of --prompts have no "
            f"candidates in --labeled ({', '.join(unsampled[:3])}"
            f"{', ...' if len(unsampled) > 3 else ''}); the scores are over the "
            f"{len(tasks) - len(unsampled)} that have", highlight=False)
    rankers = [r.strip() for r in args.rankers.split(",") if r.strip()]
    metrics = check_metrics([m.strip() for m in args.metrics.split(",") if m.strip()])
    orders = rank_files(files, rankers, tasks, executor=args.executor, workers=args.workers,
                        progress=show_progress(args), cache=args.cache)
    scoring = f"scoring {len(rankers)} rankers on {len(files)} file(s) with ranx"
    with contextlib.nullcontext() if not show_progress(args) else progress.status(scoring):
        result = evaluate(files, rankers, tasks, metrics=metrics, stat_test=args.stat_test,
                          orders=orders)
    console = Console()
    for table in render.rich_tables(result):
        console.print(table)
    console.print(render.NOTE.format(test=args.stat_test), highlight=False)
    if args.html and not args.quiet:
        progress.print("drawing the plots (matplotlib's first run builds its "
                                   "font cache)", highlight=False)
    outputs = {args.markdown: render.markdown, args.latex: render.latex,
               args.html: render.html_page,
               args.json: lambda r: json.dumps(r.to_json(), indent=2) + "\n"}
    for path, make in outputs.items():
        if path:
            write_text_atomic(path, make(result))
    if args.trec:
        render.write_trec(Path(args.trec), files, orders)
    return 0


def _train(args: argparse.Namespace) -> int:
    from franc.ranking.learned import TrainSettings, card_markdown, train

    tiers: dict[str, tuple[str, ...]] = {}
    for spec in args.tiers or []:
        language, _, names = spec.partition("=")
        if not names:
            raise InputError(f"--tiers {spec!r}: expected LANGUAGE=FEATURE[,FEATURE...]")
        tiers[check_language(language)] = tuple(n.strip() for n in names.split(","))
    settings = TrainSettings(args.C, args.objective, tiers, args.pool_languages,
                             prompt_weights=args.prompt_weights)
    tasks = _tasks(args.prompts)
    files = [load_labeled(path, tasks, args.language) for path in args.labeled]
    model = train([(f.name, f.language, f.candidates) for f in files], tasks,
                  folds=args.folds, settings=settings)
    output = Path(args.output)
    write_text_atomic(output, json.dumps(model.to_json(), indent=1) + "\n")
    options = [f"--tiers {spec}" for spec in args.tiers or []] + (
        ["--pool-languages"] if args.pool_languages else []) + (
        ["--prompt-weights"] if args.prompt_weights else [])
    command = "franc train-ranker " + " ".join(
        [*(Path(p).name for p in args.labeled), *options])
    write_text_atomic(output.with_suffix(".md"), card_markdown(model, command))
    console = note_console(args)
    for language, info in model.card["languages"].items():
        console.print(f"{language}: {info['candidates']} candidates, {info['passing']} passing; "
                      f"grouped CV {info['cv']} (original order {info['original_order']})",
                      highlight=False)
    console.print(f"wrote {output} and its card {output.with_suffix('.md')}")
    return 0


def add_cache_flag(parser: argparse.ArgumentParser) -> None:
    """``--cache``: where the rankers that run candidates keep their outcomes across runs."""
    parser.add_argument("--cache", metavar="PATH",
                        help="SQLite file where the rankers that run candidates (examples, "
                             "behaviour) keep their outcomes, so a second run over the same "
                             "candidates runs only what is new (default: their policy's, "
                             "else memory only)")


def register(subparsers: argparse._SubParsersAction) -> None:
    rank = subparsers.add_parser(
        "rank", help="order each task's candidates by a ranker",
        description="Order each task's candidates with a ranker and write them best first, "
                    "with rank, score and score_parts.")
    rank.add_argument("--language", required=True, choices=LANGUAGES,
                      help="language of the candidates")
    rank.add_argument("--candidates", required=True, help="analyzed candidates (JSONL)")
    rank.add_argument("--ranker", default="quality",
                      help=choice_help("rankers", "the ranker"))
    rank.add_argument("--prompts", action="append",
                      help="benchmark prompts (to tell prompt from generated code)")
    rank.add_argument("-o", "--output", required=True, help="ranked candidates (JSONL)")
    add_cache_flag(rank)
    add_progress_flags(rank)
    rank.set_defaults(func=_rank)

    ev = subparsers.add_parser(
        "eval", help="NDCG/top-1 of rankers against execution labels",
        description="Rank labeled candidates with each ranker and score the orders against "
                    "the execution labels (ranx metrics, top-1 pass rate), with paired "
                    "significance tests; tables on the terminal, optional Markdown, LaTeX, "
                    "JSON, TREC and HTML reports.")
    ev.add_argument("--labeled", action="append", required=True, help="`franc label` output")
    ev.add_argument("--rankers", default="original,franc,quality,consensus,learned",
                    help="comma-separated names, paths, or NAME=PATH")
    ev.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                    help="ranx metrics: NDCG/DCG over the graded labels, the others with "
                         "'passes' (label >= 2) as relevant unless they name a level "
                         "(precision@1-l1); top-1 pass rate and pass@1/pass@10 are always added")
    ev.add_argument("--prompts", action="append", help="benchmark prompts of the tasks")
    ev.add_argument("--language", choices=LANGUAGES, help="when file names do not say it")
    ev.add_argument("--qrels", help="TREC qrels overriding the labels of the one --labeled file")
    ev.add_argument("--stat-test", default="student", choices=("student", "fisher", "tukey"),
                    help="ranx's significance test between rankers")
    ev.add_argument("--executor", default="process", choices=EXECUTORS,
                    help="where the rankers run (processes, threads or this process)")
    ev.add_argument("--workers", type=int, help="parallel rankers (default: cores)")
    ev.add_argument("--markdown", help="write the tables as Markdown")
    ev.add_argument("--latex", help="write ranx's LaTeX table")
    ev.add_argument("--json", help="write all scores and p-values as JSON")
    ev.add_argument("--trec", help="directory for TREC qrels and run files")
    ev.add_argument("--html", help="a self-contained HTML report with plots")
    add_cache_flag(ev)
    add_progress_flags(ev)
    ev.add_argument("--jit", action="store_true",
                    help="compile ranx's metrics with numba (slow first run, cached after; "
                         "worth it for very large pools or --stat-test fisher)")
    ev.set_defaults(func=_eval)

    tr = subparsers.add_parser(
        "train-ranker", help="train the learned ranker (JSON, no pickle)",
        description="Fit the learned ranker (logistic regression over FRANC's features) on "
                    "labeled candidates with grouped cross-validation; writes the model as "
                    "JSON and its card as Markdown beside it.")
    tr.add_argument("labeled", nargs="+", help="`franc label` output with findings")
    tr.add_argument("--prompts", action="append", help="benchmark prompts of the tasks")
    tr.add_argument("--language", choices=LANGUAGES, help="when file names do not say it")
    tr.add_argument("--folds", type=int, default=5,
                    help="cross-validation folds (grouped by task)")
    tr.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    tr.add_argument("--objective", default="pairwise", choices=("pairwise", "pointwise"),
                    help="learn from pairs of one task's candidates, or from single candidates")
    tr.add_argument("--tiers", action="append", metavar="LANGUAGE=FEATURE[,FEATURE...]",
                    help="0/1 features ordering that language's candidates by rule before the "
                         "model (default: compiles)")
    tr.add_argument("--pool-languages", action="store_true",
                    help="fit one model on every language's rows")
    tr.add_argument("--prompt-weights", action="store_true",
                    help="pairwise: every prompt weighs the same, not every pair")
    tr.add_argument("-o", "--output", required=True, help="the model (JSON)")
    add_progress_flags(tr)
    tr.set_defaults(func=_train)
