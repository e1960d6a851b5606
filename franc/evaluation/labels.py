"""Graded labels from sandboxed test runs, and their export as TREC qrels for ranx.

The scale, per task:

==== =================================================================
0    does not compile (the static filter's ``compiles`` is false; not run)
1    compiles but fails (or errors, or times out on) the functional test
2    passes the functional test; on a task with a ``security_test``: but
     fails the security test (``secure`` = false)
3    only on a task with a ``security_test``: passes both (``secure`` = true)
==== =================================================================

So ``label >= 2`` always means "works". Tasks without a security test keep the
0-2 scale and ``secure`` stays None; NDCG normalises per task, so a file can mix
both. ``exec_status`` / ``exec_reason`` describe the functional run (plus the
security test's reason when only that one failed). A wall-clock timeout is only
accepted after a second run: on a loaded machine a correct program can be starved.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import ranx

from franc.errors import InputError
from franc.evaluation.checkers import CheckerPool
from franc.evaluation.execution import (
    DEFAULT_TIMEOUT,
    WALL_CLOCK_TIMEOUT,
    ExecResult,
    run_candidate,
)
from franc.evaluation.sandbox import require_isolation
from franc.java import JavaCompiler
from franc.languages import PASS_LABEL
from franc.models import Candidate, Task, check_language
from franc.parallel import default_workers, progress_bar

NOT_COMPILED_REASON = "not run: does not compile"


def grade(compiles: bool, functional: ExecResult | None, security: ExecResult | None) -> int:
    """The graded label (see the module docstring) of one candidate."""
    if not compiles or functional is None:
        return 0
    if not functional.passed:
        return 1
    if security is None:
        return PASS_LABEL
    return 3 if security.passed else PASS_LABEL


def _task_map(tasks: Mapping[str, Task] | Sequence[Task]) -> Mapping[str, Task]:
    return tasks if isinstance(tasks, Mapping) else {task.task_id: task for task in tasks}


def _check_tasks(candidates: Sequence[Candidate], tasks: Mapping[str, Task]) -> None:
    missing = sorted({c.task_id for c in candidates} - set(tasks))
    if missing:
        raise InputError(f"{len(missing)} candidate task id(s) not in the prompts: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    untested = sorted({c.task_id for c in candidates if c.compiles and not tasks[c.task_id].test})
    if untested:
        raise InputError(f"task(s) without a test cannot be labelled: {', '.join(untested[:5])}"
                         f"{' ...' if len(untested) > 5 else ''}; use a benchmark with tests")


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """How each test run goes (see :func:`label_candidates`)."""

    language: str
    timeout: float = DEFAULT_TIMEOUT
    compiler: JavaCompiler | None = None
    cpu_limit: int | None = None
    unsafe_no_isolation: bool = False
    checkers: CheckerPool | None = None


def _run_confirmed(task: Task, code: str, settings: RunSettings, *,
                   security: bool) -> ExecResult:
    """Run once more after a wall-clock timeout: a loaded machine can starve a correct program
    (a CPU-limit timeout is final; that program really computed too long)."""
    def run() -> ExecResult:
        return run_candidate(task, code, language=settings.language, timeout=settings.timeout,
                             security=security, compiler=settings.compiler,
                             cpu_limit=settings.cpu_limit,
                             unsafe_no_isolation=settings.unsafe_no_isolation,
                             checkers=settings.checkers)

    result = run()
    if result.status == "timeout" and result.reason.startswith(WALL_CLOCK_TIMEOUT):
        result = run()
    return result


def _labelled(candidate: Candidate, task: Task, settings: RunSettings) -> Candidate:
    if not candidate.compiles:
        return dataclasses.replace(candidate, label=0, exec_status=None, secure=None,
                                   exec_reason=NOT_COMPILED_REASON)
    functional = _run_confirmed(task, candidate.code, settings, security=False)
    security = None
    if task.security_test:
        security = _run_confirmed(task, candidate.code, settings, security=True)
    reason = functional.reason
    if functional.passed and security is not None and not security.passed:
        reason = f"security test {security.status}: {security.reason}"
    return dataclasses.replace(
        candidate, label=grade(True, functional, security), exec_status=functional.status,
        exec_reason=reason, secure=None if security is None else security.passed)


class LabellingInterrupted(Exception):
    """Ctrl-C during :func:`label_candidates`: ``finished`` holds the candidates labelled so
    far (input order, the unfinished ones left out); queued runs were cancelled."""

    def __init__(self, finished: list[Candidate], total: int):
        super().__init__(f"interrupted after {len(finished)} of {total} candidates")
        self.finished, self.total = finished, total


def label_candidates(candidates: Sequence[Candidate], tasks: Mapping[str, Task] | Sequence[Task],
                     language: str, workers: int | None = None, progress: bool = True,
                     timeout: float = DEFAULT_TIMEOUT,
                     compiler: JavaCompiler | None = None,
                     cpu_limit: int | None = None, *, unsafe_no_isolation: bool = False,
                     done: Sequence[Candidate] = ()) -> list[Candidate]:
    """Copies of ``candidates`` (same order) with label, exec_status, exec_reason, secure set.

    Runs every compilable candidate's tests in the sandbox, ``workers`` at a time
    (default: one per core). The sandboxed programs are separate processes, so
    threads suffice here; Java compiles through one shared warm ``compiler``
    (created and closed here when not given). ``timeout`` is wall-clock seconds per
    run, ``cpu_limit`` CPU seconds per process (default: the timeout). ``done``:
    candidates labelled before (same task, index and code), kept as they are (resuming).
    Ctrl-C cancels the queued runs and raises :class:`LabellingInterrupted` with what
    finished. Without isolation on this machine it raises
    :class:`~franc.evaluation.sandbox.SandboxUnavailable` unless ``unsafe_no_isolation``.
    """
    language = check_language(language)
    task_map = _task_map(tasks)
    _check_tasks(candidates, task_map)
    checkers = CheckerPool()
    settings = RunSettings(language, timeout, compiler, cpu_limit, unsafe_no_isolation, checkers)
    previous = {(c.task_id, c.code): c for c in done if c.label is not None}
    # Identical samples (common in sampling) run once: same task and code, same verdict.
    unique: dict[tuple[str, str], Candidate] = {}
    for candidate in candidates:
        key = (candidate.task_id, candidate.code)
        if candidate.compiles and key not in previous:
            unique.setdefault(key, candidate)
    if unique:
        require_isolation(unsafe_no_isolation)
    owned = compiler is None and language == "java" and bool(unique)
    if owned:
        settings = dataclasses.replace(settings, compiler=JavaCompiler())
    verdicts: dict[tuple[str, str], Candidate] = dict(previous)
    pool = ThreadPoolExecutor(max_workers=workers or default_workers(),
                              thread_name_prefix="franc-label")
    try:
        with progress_bar(progress) as bar:
            job = bar.add_task(f"running {language} tests", total=len(unique))
            futures = {pool.submit(_labelled, c, task_map[c.task_id], settings): key
                       for key, c in unique.items()}
            for future in as_completed(futures):
                verdicts[futures[future]] = future.result()
                bar.advance(job)
    except KeyboardInterrupt:
        # Queued runs are dropped; running sandboxes die with this process (bwrap
        # --die-with-parent) or finish within their timeout.
        pool.shutdown(wait=False, cancel_futures=True)
        finished = [_verdict_of(c, task_map[c.task_id], settings, verdicts) for c in candidates
                    if not c.compiles or (c.task_id, c.code) in verdicts]
        raise LabellingInterrupted(finished, len(candidates)) from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        checkers.close()
        if owned and settings.compiler is not None:
            settings.compiler.close()
    return [_verdict_of(c, task_map[c.task_id], settings, verdicts) for c in candidates]


def _verdict_of(candidate: Candidate, task: Task, settings: RunSettings,
                verdicts: Mapping[tuple[str, str], Candidate]) -> Candidate:
    if not candidate.compiles:
        return _labelled(candidate, task, settings)
    return _copy_verdict(candidate, verdicts[(candidate.task_id, candidate.code)])


def _copy_verdict(candidate: Candidate, verdict: Candidate) -> Candidate:
    return dataclasses.replace(candidate, label=verdict.label, exec_status=verdict.exec_status,
                               exec_reason=verdict.exec_reason, secure=verdict.secure)


def doc_id(candidate: Candidate) -> str:
    """The document id of a candidate in qrels and runs: its index in the model's output."""
    return str(candidate.index)


def qrels_dict(candidates: Iterable[Candidate]) -> dict[str, dict[str, int]]:
    """task_id -> {doc_id: label}; raises if a candidate has no label."""
    table: dict[str, dict[str, int]] = {}
    for candidate in candidates:
        if candidate.label is None:
            raise InputError(f"candidate {candidate.task_id}#{candidate.index} has no label; "
                             "run `franc label` first")
        table.setdefault(candidate.task_id, {})[doc_id(candidate)] = int(candidate.label)
    return table


def to_qrels(candidates: Iterable[Candidate], name: str | None = None) -> ranx.Qrels:
    """ranx Qrels of the candidates' graded labels."""
    return ranx.Qrels(qrels_dict(candidates), name=name)


def write_trec_qrels(candidates: Iterable[Candidate], path: str | Path) -> int:
    """Write TREC qrels lines (``task_id 0 doc_id label``); return the number of lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    qrels = to_qrels(candidates)
    # ranx writes the file; it becomes the output only once complete (an interrupted run
    # keeps the old file)
    partial = path.with_name(f".{path.name}.partial")
    qrels.save(str(partial), kind="trec")
    os.replace(partial, path)
    return sum(len(docs) for docs in qrels.to_dict().values())
