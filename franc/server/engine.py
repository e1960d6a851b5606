"""Warm workers for the server: each holds a static filter and analyzers per language.

A request is a :class:`Job`; its worker streams back each finished stage
(filtered, analyzed) so that a request that hits its deadline still gets the
last complete stage, clearly marked partial. A worker that overruns the
deadline is killed and replaced, so a hung analysis never leaves a stuck worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import multiprocessing as mp
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Literal

from franc.models import Candidate, Language, Task

Stage = Literal["filtered", "analyzed"]
STAGES: tuple[Stage, ...] = ("filtered", "analyzed")


@dataclass(frozen=True)
class Job:
    language: Language
    prompt: str
    candidates: tuple[str, ...]
    analyze: bool = True
    analyzers: tuple[str, ...] | None = None
    task_id: str = "request"
    first_index: int = 0  # index of the first candidate when a request is split

    def split(self, parts: int) -> list[Job]:
        """Contiguous slices of the candidates, one job each, indexes kept."""
        size = -(-len(self.candidates) // parts)
        return [dataclasses.replace(self, candidates=self.candidates[start:start + size],
                                    first_index=self.first_index + start)
                for start in range(0, len(self.candidates), size)]

    @property
    def task(self) -> Task:
        return Task(task_id=self.task_id, prompt=self.prompt, language=self.language)


@dataclass
class JobResult:
    candidates: list[Candidate] = field(default_factory=list)
    completed: list[Stage] = field(default_factory=list)
    partial: bool = False
    notes: list[str] = field(default_factory=list)


def merge(parts: list[JobResult]) -> JobResult:
    """One result from the results of a split job, in candidate order."""
    completed = [stage for stage in STAGES if all(stage in part.completed for part in parts)]
    merged = JobResult(completed=completed, partial=any(part.partial for part in parts))
    for part in parts:
        merged.notes.extend(note for note in part.notes if note not in merged.notes)
        merged.candidates.extend(part.candidates)
    return merged


#: Java example candidates a full warm-up runs through the stages (most reach javac, whose
#: speed levels off after a few hundred checks).
JAVA_WARM_UP_CANDIDATES = 300


def example_jobs(language: Language) -> list[Job]:
    """One job per task of FRANC's bundled examples (realistic raw candidates)."""
    from franc import examples
    from franc.datasets import load_suggestions, load_tasks

    tasks = {task.task_id: task
             for task in load_tasks(examples.prompts(language), language=language)}
    suggestions = load_suggestions(examples.suggestions(language), tasks=list(tasks.values()))
    return [Job(language=language, prompt=tasks[task_id].prompt, candidates=tuple(raws),
                task_id=task_id) for task_id, raws in suggestions.items()]


class StageRunner:
    """The in-process stages, created once per language and kept warm."""

    def __init__(self, languages: tuple[Language, ...]):
        from franc.analysis import Analyzers
        from franc.filter import StaticFilter
        from franc.java import JavaCompiler

        # One JVM per worker: the pool already runs a worker per core, and more JVMs than
        # cores only compete for them (measured no faster, with more memory).
        self.java_compiler = JavaCompiler(workers=1) if "java" in languages else None
        self.filters = {lang: StaticFilter(lang, compiler=self.java_compiler if lang == "java"
                                           else None) for lang in languages}
        # Keyed by (language, analyzer ids or None for the defaults); each stays warm.
        self.analyzers: dict[tuple[Language, tuple[str, ...] | None], Analyzers] = {
            (lang, None): Analyzers(lang) for lang in languages}

    def warm_up(self, full: bool = True) -> None:
        """Pay first-use costs before the first request.

        Always: FRANC's bundled example candidates (``franc.examples``) through every stage
        (imports, the JVM's start). ``full`` (a few CPU seconds): the analyzers' own warm-up
        (pylint builds its linter and astroid's models of the modules its policy lists), and
        the Java examples again until :data:`JAVA_WARM_UP_CANDIDATES` candidates went through
        (javac reaches its best speed only once the JIT has compiled its hot paths).
        """
        if full:
            for warm in self.analyzers.values():
                for analyzer in warm.analyzers:
                    analyzer.warm_up()
        for language in self.filters:
            jobs = example_jobs(language)
            candidates = sum(len(job.candidates) for job in jobs)
            rounds = (-(-JAVA_WARM_UP_CANDIDATES // candidates) if full and language == "java"
                      else 1)
            for _ in range(rounds):
                for job in jobs:
                    for _ in self.stages(job):
                        pass

    def stages(self, job: Job) -> Iterator[tuple[Stage, list[Candidate]]]:
        task = job.task
        filtered = self.filters[job.language].run_many(
            [(task, index, raw) for index, raw in enumerate(job.candidates, job.first_index)])
        yield "filtered", filtered
        if job.analyze:
            key = (job.language, job.analyzers)
            if key not in self.analyzers:
                from franc.analysis import Analyzers

                self.analyzers[key] = Analyzers(job.language, names=job.analyzers)
            yield "analyzed", self.analyzers[key].run(filtered, {task.task_id: task})

    def close(self) -> None:
        for stage_filter in self.filters.values():
            stage_filter.close()
        if self.java_compiler is not None:
            self.java_compiler.close()
        for analyzers in self.analyzers.values():
            analyzers.close()


def freeze_warm_heap() -> None:
    """Keep a warm worker's caches out of the garbage collector's way.

    The warm caches (astroid's models, pylint's checkers) are ~0.6 M objects that every full
    collection would walk, stalling a request for 100s of ms: drop the warm-up's garbage, then
    move what is left to the permanent generation (it lives as long as the worker anyway).
    """
    gc.collect()
    gc.freeze()


def _worker_main(connection: Connection, languages: tuple[Language, ...],
                 full_warm_up: bool) -> None:
    runner = StageRunner(languages)
    runner.warm_up(full_warm_up)
    freeze_warm_heap()
    connection.send(("ready", None))
    try:
        while True:
            job = connection.recv()
            if job is None:
                break
            try:
                for stage, candidates in runner.stages(job):
                    connection.send((stage, candidates))
                connection.send(("done", None))
            except Exception as exc:  # one bad request must not kill the worker
                connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        runner.close()


class Worker:
    """One warm worker process and its pipe; replaced whole when it overruns."""

    def __init__(self, languages: tuple[Language, ...], full_warm_up: bool = True):
        self.languages = languages
        self.full_warm_up = full_warm_up
        self._context = mp.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.connection, child = self._context.Pipe()
        self.process = self._context.Process(
            target=_worker_main, args=(child, self.languages, self.full_warm_up), daemon=True)
        self.process.start()
        child.close()
        self.ready = threading.Event()

    def wait_ready(self, timeout: float) -> bool:
        """Wait for the worker's warm-up; only the thread that holds the worker calls this."""
        if not self.ready.is_set() and self.connection.poll(timeout):
            message, _ = self.connection.recv()
            if message == "ready":
                self.ready.set()
        return self.ready.is_set()

    def restart(self) -> None:
        self.kill()
        self._start()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)

    def submit(self, job: Job, deadline: float) -> JobResult:
        """Run ``job``; blocks until done or until ``deadline`` (monotonic seconds)."""
        result = JobResult()
        if not self.wait_ready(max(0.0, deadline - time.monotonic())):
            result.partial = True
            result.notes.append("worker still warming up at the deadline")
            return result
        self.connection.send(job)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.connection.poll(remaining):
                result.partial = True
                result.notes.append(f"deadline reached after stage(s): "
                                    f"{', '.join(result.completed) or 'none'}; worker restarted")
                self.restart()
                return result
            try:
                message, payload = self.connection.recv()
            except EOFError:
                result.partial = True
                result.notes.append("worker died; restarted")
                self.restart()
                return result
            if message == "done":
                return result
            if message == "error":
                result.partial = True
                result.notes.append(f"stage failed: {payload}")
                return result
            result.candidates = payload
            result.completed.append(message)


class WorkerPool:
    """A fixed number of warm workers shared by concurrent requests.

    Workers join the idle queue once warm; :meth:`start` must run inside the
    server's event loop.
    """

    WARM_UP_SECONDS = 300.0
    MIN_SPLIT = 4  # fewer candidates per worker than this are not worth a second worker

    def __init__(self, size: int, languages: tuple[Language, ...], full_warm_up: bool = True):
        self.workers = [Worker(languages, full_warm_up) for _ in range(size)]
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._admissions: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._admissions = [asyncio.create_task(self._admit(worker)) for worker in self.workers]

    async def _admit(self, worker: Worker) -> None:
        await asyncio.to_thread(worker.wait_ready, self.WARM_UP_SECONDS)
        self._idle.put_nowait(worker)

    def ready(self) -> bool:
        return all(worker.ready.is_set() for worker in self.workers)

    async def run(self, job: Job, deadline_seconds: float) -> JobResult:
        """Run ``job`` on one worker, or split over the workers that are idle right now
        (an IDE's single request then uses every core)."""
        deadline = time.monotonic() + deadline_seconds
        queue = self._idle
        try:
            workers = [await asyncio.wait_for(queue.get(), timeout=deadline_seconds)]
        except TimeoutError:
            return JobResult(partial=True, notes=["all workers busy until the deadline"])
        while len(workers) * self.MIN_SPLIT < len(job.candidates) and not queue.empty():
            workers.append(queue.get_nowait())
        try:
            # A split may yield fewer parts than workers; the spare ones just go back.
            jobs = zip(workers, job.split(len(workers)), strict=False)
            parts = await asyncio.gather(*(asyncio.to_thread(worker.submit, part, deadline)
                                           for worker, part in jobs))
        finally:
            for worker in workers:
                if worker.ready.is_set():
                    queue.put_nowait(worker)
                else:  # restarted after an overrun: back in service once warm again
                    self._admissions.append(asyncio.create_task(self._admit(worker)))
        return merge(parts)

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                worker.connection.send(None)
            worker.process.join(timeout=5)
            worker.kill()
