"""``franc analyze``: add findings to each compilable candidate of a filtered JSONL file."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from franc.analysis import Analyzers
from franc.analysis.base import DEFAULT_TIMEOUT
from franc.analysis.settings import PolicyRef
from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import LANGUAGES, Candidate, Task
from franc.parallel import default_workers, map_chunks

#: Candidates per chunk sent to a worker (pylint lints a chunk in one run).
CHUNK_SIZE = 100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze", help="add analyzer findings to filtered candidates",
        description="Run bandit and pylint (Python) or FRANC's Java rules over the compilable "
                    "candidates of a `franc filter` output and write them with `findings`.")
    parser.add_argument("--language", required=True, choices=LANGUAGES)
    parser.add_argument("--candidates", required=True, type=Path,
                        help="filtered candidates (JSONL from `franc filter`)")
    parser.add_argument("--prompts", type=Path,
                        help="the benchmark's prompts, to mark findings on the prompt's lines "
                             "(in_prompt); without it every finding counts")
    parser.add_argument("--prompts-format", help="format of --prompts (detected by default)")
    parser.add_argument("--analyzers", type=comma_list,
                        help="comma-separated analyzer ids (default: bandit,pylint for Python, "
                             "java-rules for Java; optional: semgrep, findbugs)")
    parser.add_argument("--chain", metavar="NAME|PATH",
                        help="the filter policy whose [analysis.*] tables configure the "
                             "analyzers, as given to `franc filter --chain` (default: "
                             "filters/<language>.toml)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="CPU seconds per candidate before an analyzer gives up on it")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("-o", "--output", required=True, type=Path)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def comma_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    candidates = [Candidate.from_json(row, source=str(args.candidates), line=line)
                  for line, row in read_jsonl(args.candidates)]
    tasks: dict[str, Task] = {}
    if args.prompts is not None:
        from franc.datasets import load_tasks

        tasks = {t.task_id: t for t in load_tasks(args.prompts, args.prompts_format, args.language)}
    else:
        console.print("note: no --prompts given, so no finding is marked as in the prompt")
    # Validates the names and the policy, and reports skipped analyzers, before any work.
    with Analyzers(args.language, args.analyzers, policy=args.chain) as probe:
        for name, reason in probe.skipped.items():
            console.print(f"note: analyzer {name} skipped: {reason}")
        names = probe.names
    if not names:
        raise InputError("no analyzer can run here (see the notes above)")
    work = functools.partial(analyze_chunk, args.language, tuple(names), args.timeout, tasks,
                             policy=args.chain)
    analysed = map_chunks(work, candidates, workers=args.workers or default_workers(),
                          chunk_size=CHUNK_SIZE, description=f"analyze ({', '.join(names)})",
                          progress=not args.quiet)
    write_jsonl(args.output, (c.to_json() for c in analysed))
    compilable = [c for c in analysed if c.compiles]
    generated = sum(len(c.generated_findings()) for c in compilable)
    console.print(f"{len(analysed)} candidates, {len(compilable)} compilable analysed with "
                  f"{', '.join(names)}: {generated} findings outside the prompt -> {args.output}")
    return 0


@functools.cache
def warm_analyzers(language: str, names: tuple[str, ...] | None, timeout: float,
                   policy: PolicyRef = None) -> Analyzers:
    """One set of analyzers per worker process, kept warm across the chunks it receives."""
    return Analyzers(language, names, timeout=timeout, policy=policy)


def analyze_chunk(language: str, names: tuple[str, ...] | None, timeout: float,
                  tasks: Mapping[str, Task], chunk: Sequence[Candidate], *,
                  policy: PolicyRef = None) -> list[Candidate]:
    return warm_analyzers(language, names, timeout, policy).run(chunk, tasks)
