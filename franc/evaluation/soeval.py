"""Validation of executable SOEval files (``datasets/SOEval/*.jsonl``): ``franc datasets validate``.

A task file is valid when, run in the sandbox (``franc.evaluation.execution``):
every canonical solution passes its test (and its security test); every test
fails for stub bodies (the mutants: an empty body, ``return None`` / a default
value, ``throw new UnsupportedOperationException()``); every ``insecure_solution``
passes the test and fails the security test, or, for tasks without one, draws an
analyzer finding with one of the task's CWEs; ids are unique; the fields come in
the documented order; the prompt with a stub body compiles. The sandbox has no
network (only its own loopback), so a test that needs the network fails here.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from franc.errors import InputError
from franc.jsonl import read_jsonl
from franc.models import Task, check_language
from franc.parallel import add_progress_flags

#: The fields of one SOEval task, in the order they are written.
FIELDS: tuple[str, ...] = ("task_id", "language", "prompt", "entry_point", "canonical_solution",
                           "test", "security_test", "cwe", "tags", "source_question",
                           "insecure_solution")
_JAVA_SIGNATURE = re.compile(r"^\s*(?:public\s+|private\s+|protected\s+)?(?:static\s+)?"
                             r"(?:final\s+)?([\w<>\[\], ?]+?)\s+\w+\s*\(", re.MULTILINE)
_JAVA_DEFAULTS = {"void": "return;", "boolean": "return false;", "char": "return '\\0';",
                  **{t: "return 0;" for t in ("byte", "short", "int", "long", "float", "double")}}


@dataclass(frozen=True)
class Problem:
    """One failed check: which task, which check, what happened."""

    task_id: str
    check: str
    detail: str


@dataclass
class ValidationReport:
    path: str
    language: str
    tasks: int = 0
    cwe_tasks: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: check name -> [passed, total], e.g. "canonical" -> [60, 60].
    counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def rate(self, check: str) -> float | None:
        passed, total = self.counts.get(check, [0, 0])
        return passed / total if total else None

    def tally(self, check: str, passed: bool) -> None:
        entry = self.counts.setdefault(check, [0, 0])
        entry[0] += int(passed)
        entry[1] += 1


def body_indent(prompt: str) -> str:
    """The indentation of the function body that follows a Python prompt."""
    lines = [line for line in prompt.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    indent = last[:len(last) - len(last.lstrip())]
    return indent if indent else "    "


def java_return_type(prompt: str) -> str:
    """The return type of the method whose signature ends a Java prompt."""
    signatures = _JAVA_SIGNATURE.findall(prompt)
    return signatures[-1].strip() if signatures else "void"


def stub_bodies(task: Task) -> list[tuple[str, str]]:
    """(name, completion) of the mutants every test must reject."""
    if task.language == "python":
        indent = body_indent(task.prompt)
        return [("empty body", f"{indent}pass\n"), ("return None", f"{indent}return None\n")]
    default = _JAVA_DEFAULTS.get(java_return_type(task.prompt), "return null;")
    close = "    }\n}\n"
    return [("empty body", close), ("return default", f"        {default}\n{close}"),
            ("throw", f"        throw new UnsupportedOperationException();\n{close}")]


def signature(task: Task) -> str:
    """The entry point's signature line, whitespace removed; Java: prefixed by the class name.

    Used to match our tasks to FRANC's SOEval prompts, whose recorded answers our tests run.
    """
    entry = task.entry_point or ""
    lines = task.prompt.splitlines()
    if task.language == "python":
        line = next((x for x in lines if re.match(rf"\s*def\s+{re.escape(entry)}\s*\(", x)), "")
        return "".join(line.split())
    classes = re.findall(r"^\s*(?:public\s+)?(?:final\s+)?class\s+(\w+)", task.prompt, re.MULTILINE)
    line = next((x for x in reversed(lines) if re.search(rf"\b{re.escape(entry)}\s*\(", x)), "")
    return f"{classes[-1] if classes else ''}.{''.join(line.split())}"


def join(prompt: str, completion: str) -> str:
    """A prompt and a completion (a body) as one program text."""
    return prompt if not completion else prompt.rstrip("\n") + "\n" + completion


def read_soeval(path: str | Path) -> tuple[list[Task], list[Problem]]:
    """The tasks of an SOEval file and the schema problems found while reading it."""
    tasks: list[Task] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for line, row in read_jsonl(path):
        task_id = str(row.get("task_id", f"line {line}"))
        if list(row) != list(FIELDS):
            problems.append(Problem(task_id, "fields", f"line {line}: fields {list(row)} "
                                    f"are not {list(FIELDS)}"))
        if task_id in seen:
            problems.append(Problem(task_id, "unique id", f"line {line}: id appears twice"))
        seen.add(task_id)
        try:
            tasks.append(_task(row, str(path), line))
        except InputError as exc:
            problems.append(Problem(task_id, "schema", str(exc)))
    return tasks, problems


def _task(row: dict[str, Any], source: str, line: int) -> Task:
    def text(name: str, required: bool = True) -> Any:
        value = row.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"field {name!r} must be a non-empty string", source=source, line=line)
        return value

    cwe = row.get("cwe")
    tags = row.get("tags")
    question = row.get("source_question")
    if not isinstance(cwe, list) or not all(isinstance(c, int) for c in cwe):
        raise InputError("field 'cwe' must be a list of ints", source=source, line=line)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InputError("field 'tags' must be a list of strings", source=source, line=line)
    if not isinstance(question, dict) or set(question) != {"id", "title"}:
        raise InputError("field 'source_question' must be {id, title}", source=source, line=line)
    security_test, insecure = text("security_test", False), text("insecure_solution", False)
    if security_test and not insecure:
        raise InputError("a task with a security_test needs an insecure_solution",
                         source=source, line=line)
    if insecure and not cwe:
        raise InputError("a task with an insecure_solution needs a CWE", source=source, line=line)
    return Task(task_id=text("task_id"), prompt=text("prompt"),
                language=check_language(text("language")), entry_point=text("entry_point"),
                test=text("test"), canonical_solution=text("canonical_solution"),
                security_test=security_test, insecure_solution=insecure,
                cwe=tuple(cwe), tags=tuple(tags))


@dataclass(frozen=True)
class _Run:
    """One sandbox run the validation needs, and what its outcome must be."""

    task: Task
    check: str
    code: str
    security: bool
    must_pass: bool


def _runs(task: Task) -> Iterator[_Run]:
    canonical = join(task.prompt, task.canonical_solution or "")
    yield _Run(task, "canonical", canonical, False, True)
    if task.security_test:
        yield _Run(task, "canonical security", canonical, True, True)
    for name, body in stub_bodies(task):
        yield _Run(task, f"mutant: {name}", join(task.prompt, body), False, False)
    if task.insecure_solution:
        insecure = join(task.prompt, task.insecure_solution)
        yield _Run(task, "insecure passes test", insecure, False, True)
        if task.security_test:
            yield _Run(task, "insecure caught", insecure, True, False)


def _stub_compiles(task: Task) -> str | None:
    """None when the prompt with a stub body compiles (Python; Java is seen in its runs)."""
    if task.language != "python":
        return None
    try:
        compile(join(task.prompt, stub_bodies(task)[0][1]), task.task_id, "exec")
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    return None


def _analyzer_catches(tasks: Sequence[Task], language: str) -> dict[str, str | None]:
    """task id -> None when an analyzer flags the insecure solution with a tagged CWE."""
    from franc.analysis import Analyzers

    with Analyzers(language) as analyzers:
        codes = [join(t.prompt, t.insecure_solution or "") for t in tasks]
        found = analyzers.findings(codes)
    verdicts: dict[str, str | None] = {}
    for task, findings in zip(tasks, found, strict=True):
        cwes = sorted({f.cwe for f in findings if f.cwe is not None})
        hit = any(c in task.cwe for c in cwes)
        verdicts[task.task_id] = (None if hit else
                                  f"no finding with CWE {list(task.cwe)} (got {cwes})")
    return verdicts


def validate(path: str | Path, *, workers: int | None = None, sample: int | None = None,
             stride: int = 1,
             progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """Check an SOEval file as described in the module docstring.

    ``stride`` keeps every n-th task and ``sample`` the first n of those (for quick
    checks); ``progress(done, total)`` is called after each sandbox run.
    """
    from franc.evaluation.checkers import CheckerPool
    from franc.evaluation.execution import run_candidate

    tasks, problems = read_soeval(path)
    if not tasks:
        raise InputError("no tasks", source=str(path))
    languages = {t.language for t in tasks}
    if len(languages) != 1:
        raise InputError(f"one language per file expected, found {sorted(languages)}",
                         source=str(path))
    language = tasks[0].language
    tasks = tasks[::max(1, stride)][:sample] if sample else tasks[::max(1, stride)]
    report = ValidationReport(str(path), language, len(tasks),
                              sum(1 for t in tasks if t.cwe), problems)
    for task in tasks if language == "python" else ():
        error = _stub_compiles(task)
        report.tally("stub compiles", error is None)
        if error:
            report.problems.append(Problem(task.task_id, "stub compiles", error))
    runs = [run for task in tasks for run in _runs(task)]
    workers = workers or max(2, min(4, os.cpu_count() or 2))
    with ExitStack() as stack:
        compiler = None
        checkers = stack.enter_context(CheckerPool())
        if language == "java":
            from franc.java import JavaCompiler
            compiler = stack.enter_context(JavaCompiler(workers=min(workers, 2)))

        def execute(run: _Run) -> tuple[_Run, Any]:
            timeout = 20.0 if language == "java" else 15.0
            return run, run_candidate(run.task, run.code, language=language, security=run.security,
                                      timeout=timeout, compiler=compiler, checkers=checkers)

        pool = stack.enter_context(ThreadPoolExecutor(max_workers=workers))
        for done, (run, result) in enumerate(pool.map(execute, runs), 1):
            ok = result.passed == run.must_pass
            report.tally(run.check.split(":")[0], ok)
            if language == "java" and run.check == "mutant: throw":
                compiled = "does not compile" not in result.reason
                report.tally("stub compiles", compiled)
                if not compiled:
                    report.problems.append(Problem(run.task.task_id, "stub compiles",
                                                   result.reason))
            if not ok:
                expected = "pass" if run.must_pass else "fail"
                report.problems.append(Problem(run.task.task_id, run.check,
                                               f"expected to {expected}, got {result.status}: "
                                               f"{result.reason}"))
            if progress:
                progress(done, len(runs))
    unchecked = [t for t in tasks if t.insecure_solution and not t.security_test]
    if unchecked:
        for task_id, error in _analyzer_catches(unchecked, language).items():
            report.tally("insecure caught", error is None)
            if error:
                report.problems.append(Problem(task_id, "insecure caught (analyzer)", error))
    return report


def register(commands: Any) -> None:
    """``franc datasets validate PATH`` (hooked in by ``franc.cli.datasets``)."""
    parser = commands.add_parser(
        "validate", help="run an SOEval file's checks in the sandbox",
        description="Check an executable SOEval file: canonical solutions pass their tests, "
                    "stub bodies fail them, insecure solutions pass the test and fail the "
                    "security test (or draw an analyzer finding with the task's CWE), ids are "
                    "unique, fields are in order, prompts compile with a stub body.")
    parser.add_argument("path", metavar="PATH",
                        help="an SOEval JSONL file or a shipped dataset id (SOEval/python)")
    parser.add_argument("--workers", type=int, help="parallel sandbox runs (default: 2-4)")
    parser.add_argument("--sample", type=int, help="check only the first N tasks")
    add_progress_flags(parser)
    parser.set_defaults(func=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from franc.datasets.shipped import find_dataset
    from franc.parallel import progress_bar, show_progress

    shipped = find_dataset(args.path)
    path = shipped.path if shipped is not None and not Path(args.path).exists() else Path(args.path)
    if not path.is_file():
        raise InputError("no such file or shipped dataset", source=str(args.path))
    console = Console()
    with progress_bar(show_progress(args)) as bar:
        job = bar.add_task(f"validating {path.name}", total=None)
        report = validate(path, workers=args.workers, sample=args.sample,
                          progress=lambda done, total: bar.update(job, completed=done, total=total))
    table = Table(title=f"{args.path}: {report.tasks} {report.language} tasks, "
                        f"{report.cwe_tasks} with a CWE")
    table.add_column("check")
    table.add_column("ok", justify="right")
    for check, (passed, total) in report.counts.items():
        table.add_row(check, f"{passed}/{total}")
    console.print(table)
    for problem in report.problems:
        console.print(f"[red]{problem.task_id}[/] {problem.check}: {problem.detail}",
                      highlight=False, markup=True)
    console.print("[green]valid[/]" if report.ok else f"[red]{len(report.problems)} problem(s)[/]")
    return 0 if report.ok else 1
