"""``franc filter``: repair raw candidates with the heuristic chain and compile-check them."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from franc.datasets import load_suggestions, load_tasks
from franc.errors import InputError
from franc.filter.chain import StaticFilter
from franc.jsonl import write_jsonl
from franc.models import Candidate, Task, check_language
from franc.parallel import (
    add_progress_flags,
    default_workers,
    map_chunks,
    progress_bar,
    show_progress,
)

#: The exact fields of one output line.
OUTPUT_FIELDS = ("task_id", "index", "code", "heuristics", "compiles", "errors", "prompt_kind",
                 "prompt_span")
#: Below this many candidates one process is faster than starting a pool.
PARALLEL_THRESHOLD = 2000

Item = tuple[Task, int, str]


@dataclass(frozen=True)
class Filtered:
    candidate: Candidate
    raw_compiles: bool


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "filter", help="repair raw candidates so they compile, then compile-check them",
        description="Run the static-filter chain (filters/<language>.toml or --chain) over every "
                    "raw candidate and check the result with a real compiler (Python compile(), "
                    "javac). Reads the FRANC research format (prompts inline) or the compact "
                    "format (task_id, suggestions) with --prompts.")
    parser.add_argument("--language", required=True, help="python or java")
    parser.add_argument("--suggestions", required=True, type=Path, metavar="FILE",
                        help="raw model output (.jsonl or .jsonl.gz)")
    parser.add_argument("--prompts", type=Path, metavar="BENCH.jsonl",
                        help="the prompts (needed when FILE does not carry them)")
    parser.add_argument("--format", dest="suggestions_format", metavar="NAME",
                        help="format of FILE (detected when omitted; see `franc datasets formats`)")
    parser.add_argument("--chain", metavar="NAME|PATH",
                        help="heuristic chain: shipped name or TOML file (default: the language)")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.jsonl",
                        help="filtered candidates (JSONL; .gz compresses)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for Python (default: all cores)")
    add_progress_flags(parser)
    parser.set_defaults(func=filter_command)


def read_items(language: str, suggestions: Path, prompts: Path | None,
               suggestions_format: str | None = None) -> list[Item]:
    """``(task, original index, raw text)`` for every candidate, in file order."""
    prompt_file = prompts or suggestions
    try:
        tasks = load_tasks(prompt_file, language=language)
    except InputError as exc:
        if prompts is None:
            raise InputError("found no prompts in this file (compact format?); give them with "
                             "--prompts BENCH.jsonl", source=str(suggestions)) from exc
        raise
    by_id = {task.task_id: task for task in tasks}
    texts = load_suggestions(suggestions, format=suggestions_format, tasks=tasks)
    items: list[Item] = []
    for task_id, raws in texts.items():
        task = by_id.get(task_id)
        if task is None:
            raise InputError(f"task {task_id!r} has no prompt in {prompt_file}",
                             source=str(suggestions))
        items.extend((task, index, raw) for index, raw in enumerate(raws))
    return items


def filter_items(language: str, chain: str | None, items: Sequence[Item]) -> list[Filtered]:
    """Filter one chunk with its own :class:`StaticFilter` (used by the worker processes)."""
    with StaticFilter(language, chain) as static_filter:
        return _filter_with(static_filter, items)


def _filter_with(static_filter: StaticFilter, items: Sequence[Item]) -> list[Filtered]:
    candidates = static_filter.run_many(items)
    raw = static_filter.compiler.check([raw for _, _, raw in items])
    return [Filtered(c, r.ok) for c, r in zip(candidates, raw, strict=True)]


def run_filter(language: str, items: Sequence[Item], chain: str | None = None, *,
               workers: int | None = None, progress: bool = True) -> list[Filtered]:
    """Filter every item, in order. Python fans out over processes when the input is big;
    Java keeps one warm compiler (it compiles on several JVMs itself)."""
    workers = workers or default_workers()
    if language == "python" and workers > 1 and len(items) >= PARALLEL_THRESHOLD:
        chunk = max(256, math.ceil(len(items) / (workers * 8)))
        return map_chunks(partial(filter_items, language, chain), items, workers=workers,
                          chunk_size=chunk, description="filtering", progress=progress)
    results: list[Filtered] = []
    with StaticFilter(language, chain) as static_filter, progress_bar(progress) as bar:
        task = bar.add_task("filtering", total=len(items))
        step = 64 if language == "java" else 256
        for start in range(0, len(items), step):
            batch = items[start:start + step]
            results.extend(_filter_with(static_filter, batch))
            bar.advance(task, len(batch))
    return results


def output_row(candidate: Candidate) -> dict[str, Any]:
    return {name: getattr(candidate, name) for name in OUTPUT_FIELDS}


def filter_command(args: argparse.Namespace) -> int:
    language = check_language(args.language)
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    started = time.perf_counter()
    items = read_items(language, args.suggestions, args.prompts, args.suggestions_format)
    StaticFilter(language, args.chain).close()  # a bad --chain fails before any work
    results = run_filter(language, items, args.chain, workers=args.workers,
                         progress=show_progress(args))
    write_jsonl(args.output, (output_row(r.candidate) for r in results))
    seconds = time.perf_counter() - started
    total = len(results)
    raw = sum(r.raw_compiles for r in results)
    after = sum(r.candidate.compiles for r in results)

    def share(count: int) -> str:
        return f"{count} ({count / total:.1%})" if total else "0"

    Console(highlight=False, soft_wrap=True).print(
        f"franc filter: {total} candidates, compilable raw {share(raw)} -> after {share(after)}, "
        f"{seconds:.1f} s -> {args.output}")
    return 0
