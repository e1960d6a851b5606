"""``franc repair``, ``franc run`` and ``franc demo``."""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from franc.cli.ranking import add_cache_flag
from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import LANGUAGES, Candidate, Task, check_language
from franc.parallel import add_progress_flags, note_console, progress_bar, show_progress
from franc.policy import choice_help

DEMO_DIR = Path(__file__).resolve().parents[1] / "examples"


def register(subparsers: Any) -> None:
    repair = subparsers.add_parser(
        "repair", help="re-prompt a model with the analyzers' findings, or re-judge recorded "
                       "repair rounds (--replay)",
        description="For each task whose best candidate has blocking findings, ask the model "
                    "again with those findings in a repair template (FRANC's P1/P2/P3 or a chat "
                    "template), then filter, analyse and rank the answers; or re-judge recorded "
                    "repair rounds with --replay.")
    repair.add_argument("--language", required=True, choices=LANGUAGES,
                        help="language of the candidates")
    source = repair.add_mutually_exclusive_group(required=True)
    source.add_argument("--candidates", help="analyzed candidates (JSONL from franc analyze)")
    source.add_argument("--replay", help="recorded repair rounds (task_id, template, "
                                         "repair_prompt, suggestions), e.g. FRANC's P1_*.jsonl.gz")
    repair.add_argument("--prompts", action="append",
                        help="the benchmark's prompt file(s) (needed with --candidates)")
    repair.add_argument("--template", default="P1",
                        help=choice_help("repair_prompts", "the repair template"))
    repair.add_argument("--generator", help="replay:PATH | openai:URL | hf:PATH")
    _generation_options(repair)
    repair.add_argument("--trace", help="also write the rounds in FRANC's repair format, "
                                        "replayable with --generator replay:FILE")
    repair.add_argument("-o", "--output", required=True,
                        help="the repair report (JSONL, one line per prompt)")
    add_progress_flags(repair)
    repair.set_defaults(func=_repair)

    run = subparsers.add_parser(
        "run", help="prompts in, final report out: filter, analyse, rank and repair; every "
                    "stage's output kept beside",
        description="The whole pipeline over a prompt file: the model's candidates (given, or "
                    "sampled with --generator) are filtered, analysed, ranked and repaired. "
                    "Writes the final report and each stage's JSONL beside it "
                    "(OUT.filtered.jsonl, OUT.analyzed.jsonl, OUT.ranked.jsonl, "
                    "OUT.repair.jsonl).")
    run.add_argument("--language", required=True, choices=LANGUAGES,
                     help="language of the prompts")
    run.add_argument("--prompts", required=True, help="prompt file (any format load_tasks reads)")
    run.add_argument("--suggestions", help="the model's raw candidates (else --generator samples)")
    run.add_argument("--generator", help="replay:PATH | openai:URL | hf:PATH")
    run.add_argument("--n", type=int, default=10, help="candidates to sample per prompt")
    run.add_argument("--ranker", default="quality",
                     help=choice_help("rankers", "the ranker"))
    run.add_argument("--template", default="P1",
                     help=choice_help("repair_prompts", "the repair template"))
    _generation_options(run)
    run.add_argument("-o", "--output", required=True, help="final report (JSONL, one per prompt)")
    add_cache_flag(run)
    add_progress_flags(run)
    run.set_defaults(func=_run)

    demo = subparsers.add_parser(
        "demo", help="the whole pipeline on the bundled example",
        description="Filter, analyse, rank and repair the bundled Python and Java examples "
                    "(recorded model answers, no model needed) and print each task's best "
                    "candidate.")
    demo.add_argument("--language", action="append", choices=LANGUAGES,
                      help="only this language (default: every bundled example)")
    demo.add_argument("-o", "--output", help="also write the report (JSONL)")
    add_progress_flags(demo)
    demo.set_defaults(func=_demo)


def _generation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=2, help="repair rounds at most")
    parser.add_argument("--samples", type=int, default=10, help="answers per repair prompt")
    parser.add_argument("--max-new-tokens", type=int, default=512,
                        help="length limit of each model answer, in tokens")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="sampling temperature of the model")


def _tasks(paths: Sequence[str] | None, language: str) -> dict[str, Task]:
    from franc.datasets import load_tasks

    return {t.task_id: t for path in paths or [] for t in load_tasks(path, language=language)}


def _pipeline(args: argparse.Namespace, ranker: Any = "quality") -> Any:
    from franc.generation import make_generator
    from franc.pipeline import Pipeline

    generator = make_generator(args.generator) if args.generator else None
    return Pipeline(args.language, ranker=ranker, generator=generator,
                    repair_template=args.template, max_rounds=args.rounds,
                    repair_n=args.samples, max_new_tokens=args.max_new_tokens,
                    temperature=args.temperature)


def _trace_rows(report: Any) -> list[dict[str, Any]]:
    return [{"task_id": report.task.task_id, "template": r.template, "repair_prompt": r.prompt,
             "suggestions": [a.raw for a in r.answers]} for r in report.rounds]


def _repair(args: argparse.Namespace) -> int:
    language = check_language(args.language)
    if args.replay:
        return _replay(args, language)
    if not args.generator or not args.prompts:
        raise InputError("--candidates needs --generator and --prompts")
    tasks = _tasks(args.prompts, language)
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for line, row in read_jsonl(args.candidates):
        candidate = Candidate.from_json(row, source=args.candidates, line=line)
        if candidate.task_id not in tasks:
            raise InputError(f"task {candidate.task_id!r} is not in --prompts",
                             source=args.candidates, line=line)
        groups[candidate.task_id].append(candidate)
    reports = []
    with _pipeline(args) as pipeline, progress_bar(show_progress(args)) as bar:
        job = bar.add_task("repair", total=len(groups))
        for task_id, candidates in groups.items():
            if any(c.findings is None for c in candidates):
                pipeline.analyzers.run(candidates, tasks)
            reports.append(pipeline.repair(tasks[task_id], candidates))
            bar.advance(job)
        judge = pipeline.judge.name
    write_jsonl(args.output, ({"template": args.template, "repaired": r.clean and bool(r.rounds),
                               **r.to_json()} for r in reports))
    if args.trace:
        write_jsonl(args.trace, (row for r in reports for row in _trace_rows(r)))
    sent = sum(1 for r in reports if r.rounds)
    repaired = sum(1 for r in reports if r.rounds and r.clean)
    note_console(args).print(f"{len(reports)} prompts, {sent} sent for repair, {repaired} "
                             f"repaired (judge: {judge}) -> {args.output}")
    return 0


def _replay(args: argparse.Namespace, language: str) -> int:
    from franc.analysis import Analyzers
    from franc.filter import StaticFilter
    from franc.generation.replay import read_recordings
    from franc.languages import facts
    from franc.repair import Judge, Repairer, load_template
    from franc.repair.replay import rejudge

    tasks = _tasks(args.prompts, language)
    recordings = read_recordings(args.replay)
    judge = Judge(language)
    results = []
    with StaticFilter(language) as static_filter, \
            Analyzers(language, facts(language).security_analyzers) as analyzers:
        by_template: dict[str, list[Any]] = defaultdict(list)
        for recording in recordings:
            by_template[recording.template or args.template].append(recording)
        for template, group in by_template.items():
            repairer = Repairer(load_template(template, language), static_filter,
                                analyzers.run, judge)
            results += rejudge(group, tasks, language, repairer)
    write_jsonl(args.output, (r.to_json() for r in results))
    note_console(args).print(
        f"{len(results)} prompts, {sum(r.repaired for r in results)} repaired "
        f"(judge: {judge.name}) -> {args.output}")
    return 0


def _stage_path(output: Path, stage: str) -> Path:
    name = output.name.removesuffix(".gz").removesuffix(".jsonl")
    return output.with_name(f"{name}.{stage}.jsonl")


def run_pipeline(pipeline: Any, tasks: Sequence[Task], raws: dict[str, list[str]] | None,
                 n: int, output: Path, *, progress: bool = True) -> list[Any]:
    """Every task through the pipeline; writes each stage's output beside ``output``."""
    filtered: list[Candidate] = []
    stages: dict[str, list[dict[str, Any]]] = {"filtered": [], "analyzed": [], "ranked": []}
    reports = []
    with progress_bar(progress) as bar:
        job = bar.add_task("run", total=len(tasks))
        for task in tasks:
            texts = raws.get(task.task_id, []) if raws is not None else \
                pipeline.generator.generate(task.prompt, n, pipeline.max_new_tokens,
                                            pipeline.temperature, pipeline.stop)
            filtered = pipeline.stages.filtered(task, texts)
            stages["filtered"] += [c.to_json() for c in filtered]
            analyzed = pipeline.stages.analyzed(task, filtered)
            stages["analyzed"] += [c.to_json() for c in analyzed]
            report = pipeline.repair(task, analyzed)
            stages["ranked"] += [c.to_json() for c in report.candidates]
            reports.append(report)
            bar.advance(job)
    for stage, rows in stages.items():
        write_jsonl(_stage_path(output, stage), rows)
    write_jsonl(_stage_path(output, "repair"),
                (row for r in reports for row in _trace_rows(r)))
    write_jsonl(output, (r.to_json() for r in reports))
    return reports


def _run(args: argparse.Namespace) -> int:
    from franc.datasets import load_suggestions
    from franc.ranking import get_ranker

    language = check_language(args.language)
    tasks = list(_tasks([args.prompts], language).values())
    if not args.suggestions and not args.generator:
        raise InputError("give --suggestions (the model's candidates) or --generator")
    raws = (load_suggestions(args.suggestions, tasks=tasks) if args.suggestions else None)
    output = Path(args.output)
    # A batch run: the ranker has no interactive latency guards (see get_ranker).
    ranker = get_ranker(args.ranker, language, latency_guards=False, cache=args.cache)
    try:
        with _pipeline(args, ranker) as pipeline:
            reports = run_pipeline(pipeline, tasks, raws, args.n, output,
                                   progress=show_progress(args))
            judge = pipeline.judge
    finally:
        ranker.close()
    console = note_console(args)
    console.print(summary_table(reports, f"franc run ({language})", judge))
    console.print(f"report -> {output}; stages -> {_stage_path(output, '*')}")
    return 0


def summary_table(reports: Sequence[Any], title: str, judge: Any) -> Table:
    table = Table(title=title)
    width = min(max((len(r.task.task_id) for r in reports), default=4), 30)
    table.add_column("task", overflow="fold", min_width=width)
    for column in ("compile", "best", "findings", "blocking", "clean", "rounds"):
        table.add_column(column, no_wrap=column != "blocking", overflow="fold")
    for report in reports:
        best = report.best
        originals = [c for c in report.candidates if c.index < report.original_count]
        compiling = sum(1 for c in originals if c.compiles)
        blocking = ", ".join(sorted({f.rule_id for f in judge.blocking(best)})) if best else ""
        repaired = best is not None and best.index >= report.original_count
        table.add_row(report.task.task_id, f"{compiling}/{report.original_count}",
                      "-" if best is None else f"#{best.index}" + (" fix" if repaired else ""),
                      str(len(best.generated_findings())) if best else "-",
                      blocking or "none", "[green]yes[/]" if report.clean else "[red]no[/]",
                      str(len(report.rounds)))
    return table


def _print_rounds(console: Console, report: Any) -> None:
    for round_ in report.rounds:
        clean = sum(a.clean for a in round_.answers)
        console.print(f"[bold]{report.task.task_id}[/]: repair round {round_.number} "
                      f"({round_.template}) of candidate #{round_.repaired_index}: "
                      f"{len(round_.answers)} answers, {clean} clean"
                      + (f" ({round_.error})" if round_.error else ""))


def _demo(args: argparse.Namespace) -> int:
    from franc.datasets import load_suggestions, load_tasks
    from franc.generation import ReplayGenerator
    from franc.pipeline import Pipeline

    console = Console()
    languages = args.language or [lang for lang in LANGUAGES if _demo_files(lang)]
    if not languages:
        raise InputError("no bundled example", source=str(DEMO_DIR))
    reports = []
    for language in languages:
        files = _demo_files(language)
        if files is None:
            raise InputError(f"no bundled {language} example", source=str(DEMO_DIR))
        prompts, suggestions, answers = files
        tasks = load_tasks(prompts, language=language)
        raws = load_suggestions(suggestions, tasks=tasks)
        generator = ReplayGenerator.from_paths([answers]) if answers else None
        with Pipeline(language, generator=generator, repair_template="P1") as pipeline:
            found = [pipeline.run(task, raws.get(task.task_id, [])) for task in tasks]
            judge = pipeline.judge
        console.print(summary_table(found, f"FRANC demo: {language} ({prompts.name})", judge))
        console.print(f"judge: {judge.name}; findings: on generated lines, all analyzers")
        for report in found:
            _print_rounds(console, report)
        for report in found:
            if report.best is not None:
                console.rule(f"{report.task.task_id}: best candidate")
                console.print(report.best.code, markup=False, highlight=False)
        reports += found
    if args.output:
        write_jsonl(args.output, (r.to_json() for r in reports))
    return 0


def _demo_files(language: str) -> tuple[Path, Path, Path | None] | None:
    """The bundled example of a language: prompts, raw candidates, recorded repair answers."""
    prompts = DEMO_DIR / f"{language}_prompts.jsonl"
    suggestions = DEMO_DIR / f"{language}_suggestions.jsonl"
    answers = DEMO_DIR / f"{language}_repair_answers.jsonl"
    if not (prompts.is_file() and suggestions.is_file()):
        return None
    return prompts, suggestions, answers if answers.is_file() else None
