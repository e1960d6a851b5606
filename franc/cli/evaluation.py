"""``franc label``: run the benchmark's tests on the candidates, in the sandbox, and grade them."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from franc.models import Candidate, Task
from franc.parallel import add_progress_flags, note_console, show_progress


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "label", help="run the tests on filtered candidates in a sandbox and grade them 0-3",
        description="Run each compilable candidate against its task's test (and security_test) "
                    "in the sandbox and add label (0 no compile, 1 fails, 2 passes; 3 passes the "
                    "security test too), exec_status, exec_reason and secure to every line.")
    parser.add_argument("--language", required=True, choices=("python", "java"),
                        help="language of the candidates")
    parser.add_argument("--prompts", required=True, type=Path,
                        help="benchmark file with tests (HumanEval, HumanEval-Java, SOEval, ...)")
    parser.add_argument("--prompts-format", help="name the prompt-file format (else detected)")
    parser.add_argument("--candidates", required=True, type=Path,
                        help="`franc filter` output, or raw samples in a format franc datasets "
                             "reads (then run as they are, after a compile check)")
    parser.add_argument("--format", help="name the candidates' format (else detected)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="labeled JSONL")
    parser.add_argument("--qrels", type=Path, help="also write TREC qrels (task 0 index label)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per test run")
    parser.add_argument("--cpu-limit", type=int,
                        help="CPU seconds per run (default: the timeout); endless loops then "
                             "cost less on a loaded machine")
    parser.add_argument("--workers", type=int, help="parallel runs (default: one per core)")
    add_progress_flags(parser)
    parser.add_argument("--resume", action="store_true",
                        help="keep the labels already in the output file (written by an "
                             "interrupted run) and run only the rest")
    parser.add_argument("--unsafe-no-isolation", action="store_true",
                        help="run candidate code even where the sandbox cannot isolate it "
                             "(no bubblewrap): resource limits only; it can then read and "
                             "change your files")
    parser.set_defaults(func=run)


def read_candidates(path: Path, language: str, tasks: list[Task],
                    format: str | None = None) -> list[Candidate]:
    """FRANC candidates as written; any other format becomes candidates after a compile check."""
    from franc.datasets import load_suggestions
    from franc.datasets.formats import suggestion_format
    from franc.filter.chain import language_support
    from franc.jsonl import read_jsonl

    if suggestion_format(path, format).id == "franc-candidates":
        return [Candidate.from_json(row, source=str(path), line=line)
                for line, row in read_jsonl(path)]
    texts = load_suggestions(path, format, tasks)
    candidates = [Candidate(task_id=task_id, index=index, code=text)
                  for task_id, items in texts.items() for index, text in enumerate(items)]
    compiler = language_support(language).make_compiler()
    try:
        for candidate, verdict in zip(candidates, compiler.check([c.code for c in candidates]),
                                      strict=True):
            candidate.compiles, candidate.errors = verdict.ok, list(verdict.errors)
    finally:
        compiler.close()
    return candidates


def _previous_labels(path: Path) -> list[Candidate]:
    from franc.jsonl import read_jsonl

    if not path.is_file():
        return []
    return [Candidate.from_json(row, source=str(path), line=line)
            for line, row in read_jsonl(path)]


def run(args: argparse.Namespace) -> int:
    from franc.datasets import load_tasks
    from franc.evaluation.labels import (
        LabellingInterrupted,
        label_candidates,
        write_trec_qrels,
    )
    from franc.evaluation.sandbox import require_isolation
    from franc.jsonl import check_output, write_jsonl

    console = note_console(args)
    if args.qrels:
        check_output(args.qrels, [args.prompts, args.candidates, args.output])
    tasks = load_tasks(args.prompts, args.prompts_format, args.language)
    candidates = read_candidates(args.candidates, args.language, tasks, args.format)
    done = _previous_labels(args.output) if args.resume else []
    caps = require_isolation(args.unsafe_no_isolation)
    console.print(f"sandbox: {caps.describe()}", highlight=False)
    try:
        labeled = label_candidates(candidates, tasks, args.language, workers=args.workers,
                                   progress=show_progress(args), timeout=args.timeout,
                                   cpu_limit=args.cpu_limit,
                                   unsafe_no_isolation=args.unsafe_no_isolation, done=done)
    except LabellingInterrupted as stopped:
        write_jsonl(args.output, (c.to_json() for c in stopped.finished))
        console.print(f"interrupted: {len(stopped.finished)} of {stopped.total} candidates "
                      f"labelled -> {args.output}; run again with --resume to finish",
                      highlight=False)
        # Worker threads still wait on running sandboxes: do not join them; the sandboxes
        # die with this process (bwrap --die-with-parent).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    write_jsonl(args.output, (c.to_json() for c in labeled))
    if args.qrels:
        write_trec_qrels(labeled, args.qrels)
    counts = Counter(c.label for c in labeled)
    passed = sum(n for label, n in counts.items() if label is not None and label >= 2)
    share = passed / len(labeled) if labeled else 0.0
    console.print(f"{len(labeled)} candidates: "
                  + ", ".join(f"label {k}: {counts[k]}"
                              for k in sorted(counts, key=lambda k: -1 if k is None else k))
                  + f"; pass rate {share:.3f} -> {args.output}", highlight=False)
    return 0
