"""``franc datasets list|show|formats`` and ``franc export``."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from franc.datasets import SUGGESTION_FORMATS, TASK_FORMATS, load_tasks
from franc.datasets.export import EXPORT_FORMATS, export, read_candidates
from franc.datasets.shipped import SHIPPED_FORMAT, find_dataset, shipped_datasets
from franc.errors import InputError
from franc.models import LANGUAGES, Task
from franc.parallel import add_progress_flags, note_console

#: Modules that add more ``franc datasets <command>`` sub-commands; each exposes
#: ``register(subparsers)`` like the top-level command modules (``validate PATH``
#: lives in its own module, next to the dataset checks it runs).
DATASET_COMMAND_MODULES: tuple[str, ...] = ("franc.evaluation.soeval",)


def register(subparsers: Any) -> None:
    _register_datasets(subparsers)
    _register_export(subparsers)


def _register_datasets(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "datasets", help="list and show the shipped datasets and the formats FRANC reads",
        description="The datasets FRANC ships (datasets/SOEval) and the prompt and candidate "
                    "formats its commands read.")
    commands = parser.add_subparsers(dest="datasets_command", required=True, metavar="COMMAND")

    listing = commands.add_parser(
        "list", help="the shipped datasets with their sizes",
        description="The datasets FRANC ships, with their language, number of tasks, tasks "
                    "with tests and security tests, and tasks tagged with a CWE.")
    listing.set_defaults(func=list_command)

    show = commands.add_parser(
        "show", help="one shipped dataset, or one task of it (or of --file)",
        description="ID is a shipped dataset (SOEval/python) or a task id (SOEval/Python/3).")
    show.add_argument("id", metavar="ID", help="a dataset (SOEval/python) or a task id")
    show.add_argument("--file", type=Path, help="look the task up in this prompt file instead")
    show.add_argument("--format", choices=[f.id for f in TASK_FORMATS],
                      help="format of --file (detected by default)")
    show.add_argument("--language", choices=LANGUAGES, help="language of --file's prompts")
    show.set_defaults(func=show_command)

    formats = commands.add_parser(
        "formats", help="the prompt and candidate formats FRANC reads",
        description="The prompt formats (--prompts-format, --tasks-format) and candidate "
                    "formats (--format) that FRANC's commands detect and read.")
    formats.set_defaults(func=formats_command)

    for module_name in DATASET_COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)


def _register_export(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="write candidates back in a harness's format",
        description="Write filtered or ranked candidates (FRANC JSONL) as human-eval samples "
                    "(completion = code after the prompt), EvalPlus samples (solution = whole "
                    "code) or bigcode-evaluation-harness generations (a list per task, in the "
                    "prompt file's order). Best-ranked first when candidates carry a rank.")
    parser.add_argument("--format", required=True, choices=list(EXPORT_FORMATS),
                        help="the harness's sample format")
    parser.add_argument("--candidates", required=True, type=Path,
                        help="candidates JSONL written by franc filter / rank / label")
    parser.add_argument("--tasks", type=Path,
                        help="the prompt file (needed by humaneval and bigcode)")
    parser.add_argument("--tasks-format", choices=[f.id for f in TASK_FORMATS],
                        help="format of --tasks (detected by default)")
    parser.add_argument("--language", choices=LANGUAGES, help="language of the prompts")
    parser.add_argument("--best-only", action="store_true",
                        help="one candidate per task: the best-ranked (or first compilable)")
    parser.add_argument("--compilable-only", action="store_true",
                        help="leave out candidates that do not compile")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="the samples file (JSONL, or JSON for bigcode)")
    add_progress_flags(parser)
    parser.set_defaults(func=export_command)


# --------------------------------------------------------------------------- commands


def _summary_row(tasks: Sequence[Task]) -> list[str]:
    languages = ", ".join(sorted({t.language for t in tasks}))
    with_cwe = sum(bool(t.cwe) for t in tasks)
    share = f"{with_cwe} ({with_cwe / len(tasks):.0%})" if tasks else "0"
    return [languages, str(len(tasks)), str(sum(t.test is not None for t in tasks)),
            str(sum(t.security_test is not None for t in tasks)), share]


def list_command(args: argparse.Namespace) -> int:
    table = Table(title="Shipped datasets")
    table.add_column("id", no_wrap=True)
    for column in ("language", "tasks", "tested", "security-tested", "with CWE"):
        table.add_column(column)
    for dataset in shipped_datasets():
        try:
            cells = _summary_row(load_tasks(dataset.path, SHIPPED_FORMAT))
        except InputError as exc:
            cells = [f"[red]unreadable: {exc}[/]", "", "", "", ""]
        table.add_row(dataset.id, *cells)
    Console().print(table)
    return 0


def _find_task(task_id: str, files: Sequence[tuple[Path, str | None]],
               language: str | None) -> Task | None:
    for path, format_id in files:
        for task in load_tasks(path, format_id, language):
            if task.task_id == task_id:
                return task
    return None


def _print_task(console: Console, task: Task) -> None:
    console.rule(f"[bold]{task.task_id}[/] ({task.language})")
    facts = {"entry point": task.entry_point, "CWE": ", ".join(map(str, task.cwe)) or None,
             "tags": ", ".join(task.tags) or None}
    for name, value in facts.items():
        if value:
            console.print(f"[bold]{name}:[/] {value}")
    lexer = "python" if task.language == "python" else "java"
    for name in ("prompt", "canonical_solution", "test", "security_test", "insecure_solution"):
        text = getattr(task, name)
        if text:
            console.print(f"[bold]{name}[/]")
            console.print(Syntax(text, lexer, line_numbers=False))


def show_command(args: argparse.Namespace) -> int:
    console = Console()
    dataset = None if args.file else find_dataset(args.id)
    if dataset is not None:
        tasks = load_tasks(dataset.path, SHIPPED_FORMAT)
        table = Table(title=f"{dataset.id}: {len(tasks)} tasks ({dataset.path})")
        table.add_column("task_id", no_wrap=True)
        for column in ("entry point", "CWE", "security test", "tags"):
            table.add_column(column)
        for task in tasks:
            table.add_row(task.task_id, task.entry_point or "", ", ".join(map(str, task.cwe)),
                          "yes" if task.security_test else "", ", ".join(task.tags))
        console.print(table)
        return 0
    files = ([(args.file, args.format)] if args.file
             else [(d.path, SHIPPED_FORMAT) for d in shipped_datasets()])
    found = _find_task(args.id, files, args.language)
    if found is None:
        where = str(args.file) if args.file else "the shipped datasets"
        raise InputError(f"no dataset or task {args.id!r} in {where}")
    _print_task(console, found)
    return 0


def formats_command(args: argparse.Namespace) -> int:
    table = Table(title="Formats FRANC reads (--format / --tasks-format)")
    table.add_column("id", no_wrap=True)
    for column in ("holds", "description"):
        table.add_column(column)
    for holds, formats in (("prompts", TASK_FORMATS), ("candidates", SUGGESTION_FORMATS)):
        for fmt in formats:
            table.add_row(fmt.id, holds, fmt.description)
    Console().print(table)
    return 0


def export_command(args: argparse.Namespace) -> int:
    tasks = (load_tasks(args.tasks, args.tasks_format, args.language)
             if args.tasks is not None else None)
    summary = export(read_candidates(args.candidates), args.format, args.output, tasks,
                     best_only=args.best_only, compilable_only=args.compilable_only)
    console = note_console(args)
    console.print(f"wrote {summary.candidates} candidates of {summary.tasks} tasks to "
                  f"{summary.path} ({summary.format})")
    if summary.not_prompt_prefixed:
        console.print(f"[yellow]{summary.not_prompt_prefixed} candidates do not start with "
                      "their prompt: their completion joins on the entry point's signature "
                      "(Java) or redefines the function (Python)[/]")
    return 0
