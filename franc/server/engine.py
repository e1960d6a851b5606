"""Warm workers for the server: each holds a static filter and analyzers per language.

A request is a :class:`Job`; its worker streams back each finished stage
(filtered, analyzed) so that a request that hits its deadline still gets the
last complete stage, clearly marked partial. A client's deadline never kills a
warm worker: the worker finishes its current stage, skips the rest and goes back
to the pool, and the late result is dropped. Only a worker that hangs past the
server's own hard limit is killed and replaced, and no more often than
:class:`RestartBudget` allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import multiprocessing as mp
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal

from franc.models import Candidate, Language, Task
from franc.parallel import collect_garbage_in_bulk
from franc.stages import Stages

if TYPE_CHECKING:
    from franc.analysis import Analyzers
    from franc.generation.base import Generator
    from franc.pipeline import Pipeline, PipelineReport
    from franc.ranking.rankers import Ranker

Stage = Literal["filtered", "analyzed", "repaired"]
STAGES: tuple[Stage, ...] = ("filtered", "analyzed", "repaired")


@dataclass(frozen=True)
class RepairSpec:
    """What a repair job asks for: the template, the rounds, and the ranker's policy file
    (a path the server resolved and checked; ``ranker_version`` is its modification time)."""

    template: str
    max_rounds: int
    ranker: str
    ranker_version: int


@dataclass(frozen=True)
class Job:
    language: Language
    prompt: str
    candidates: tuple[str, ...]
    analyze: bool = True
    analyzers: tuple[str, ...] | None = None
    task_id: str = "request"
    #: Each candidate's index in the request (``None``: 0, 1, ...); a split job keeps them.
    indexes: tuple[int, ...] | None = None
    #: The client's deadline (``time.monotonic()``, one clock for all processes on Linux):
    #: the worker skips the stages that would start after it.
    deadline: float | None = None
    #: Set for /v1/repair: after the analysis, rank and repair (never split over workers).
    repair: RepairSpec | None = None
    entry_point: str | None = None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    @property
    def positions(self) -> tuple[int, ...]:
        return self.indexes if self.indexes is not None else tuple(range(len(self.candidates)))

    def split(self, parts: int) -> list[Job]:
        """At most ``parts`` jobs of about equal cost, indexes kept. A candidate's cost is its
        length (filtering and analysis grow with it): the longest go first, each to the part
        with the least so far, so one long candidate does not make its worker the slowest."""
        loads = [0] * parts
        members: list[list[int]] = [[] for _ in range(parts)]
        for i in sorted(range(len(self.candidates)), key=lambda i: -len(self.candidates[i])):
            lightest = loads.index(min(loads))
            loads[lightest] += len(self.candidates[i]) + 1
            members[lightest].append(i)
        positions = self.positions
        return [dataclasses.replace(self, candidates=tuple(self.candidates[i] for i in part),
                                    indexes=tuple(positions[i] for i in part))
                for part in map(sorted, members) if part]

    @property
    def task(self) -> Task:
        return Task(task_id=self.task_id, prompt=self.prompt, language=self.language,
                    entry_point=self.entry_point)


@dataclass
class JobResult:
    candidates: list[Candidate] = field(default_factory=list)
    completed: list[Stage] = field(default_factory=list)
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    report: PipelineReport | None = None  # a repair job's report


def merge(parts: list[JobResult]) -> JobResult:
    """One result from the results of a split job, in the order of the candidates' indexes."""
    completed = [stage for stage in STAGES if all(stage in part.completed for part in parts)]
    merged = JobResult(completed=completed, partial=any(part.partial for part in parts),
                       report=parts[0].report if len(parts) == 1 else None)
    for part in parts:
        merged.notes.extend(note for note in part.notes if note not in merged.notes)
        merged.candidates.extend(part.candidates)
    merged.candidates.sort(key=lambda candidate: candidate.index)
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
    """A worker's warm stages (:class:`franc.stages.Stages`), one per language, and the
    repair pipelines built on them (the generator is made on first use)."""

    def __init__(self, languages: tuple[Language, ...], generator: str | None = None):
        from franc.java import JavaCompiler
        from franc.server.findings_cache import CachingAnalyzers, CachingFilter

        # One JVM per worker: the pool already runs a worker per core, and more JVMs than
        # cores only compete for them (measured no faster, with more memory).
        self.java_compiler = JavaCompiler(workers=1) if "java" in languages else None
        # Each distinct program is analysed once (CachingAnalyzers): candidates repeat within
        # a request, and an IDE asks again on every keystroke.
        self.warm = {lang: Stages.build(lang, compiler=self.java_compiler,
                                        analyzers=CachingAnalyzers(lang))
                     for lang in languages}
        # Each distinct raw candidate of a task is filtered once (the repair pipelines keep
        # the plain filter: their revisions are new every round).
        self.filters = {lang: CachingFilter(warm.filter) for lang, warm in self.warm.items()}
        # Analyzer subsets requests asked for, by (language, analyzer ids); each stays warm.
        self.subsets: dict[tuple[Language, tuple[str, ...]], Analyzers] = {}
        self.generator_spec = generator
        self._generator: Generator | None = None
        # By (language, template, ranker policy): (policy version, ranker, pipeline).
        self.pipelines: dict[tuple[Language, str, str], tuple[int, Ranker, Pipeline]] = {}

    def warm_up(self, full: bool = True) -> None:
        """Pay first-use costs before the first request.

        Always: FRANC's bundled example candidates (``franc.examples``) through every stage
        (imports, the JVM's start). ``full`` (a few CPU seconds): the analyzers' own warm-up
        (pylint builds its linter and astroid's models of the modules its policy lists), and
        the Java examples again until :data:`JAVA_WARM_UP_CANDIDATES` candidates went through
        (javac reaches its best speed only once the JIT has compiled its hot paths).
        """
        if full:
            for warm in self.warm.values():
                for analyzer in warm.analyzers.analyzers:
                    analyzer.warm_up()
        for language in self.warm:
            jobs = example_jobs(language)
            candidates = sum(len(job.candidates) for job in jobs)
            rounds = (-(-JAVA_WARM_UP_CANDIDATES // candidates) if full and language == "java"
                      else 1)
            for _ in range(rounds):
                for job in jobs:
                    # Past the filter's cache: each round must reach javac again.
                    for _ in self.stages(job, reuse=False):
                        pass

    def analyzers_for(self, job: Job) -> Analyzers:
        from franc.server.findings_cache import CachingAnalyzers

        if job.analyzers is None:
            return self.warm[job.language].analyzers
        key = (job.language, job.analyzers)
        if key not in self.subsets:
            self.subsets[key] = CachingAnalyzers(job.language, names=job.analyzers)
        return self.subsets[key]

    def pipeline(self, language: Language, spec: RepairSpec) -> Pipeline:
        from franc.generation import make_generator
        from franc.pipeline import Pipeline
        from franc.ranking import get_ranker

        key = (language, spec.template, spec.ranker)
        cached = self.pipelines.get(key)
        if cached is None or cached[0] != spec.ranker_version:
            if cached is not None:
                cached[1].close()
            if self._generator is None:
                if not self.generator_spec:
                    raise RuntimeError("no generator configured")
                self._generator = make_generator(self.generator_spec)
            ranker = get_ranker(spec.ranker, language)
            cached = (spec.ranker_version, ranker, Pipeline(
                language, stages=self.warm[language].with_ranker(ranker),
                generator=self._generator, repair_template=spec.template))
            self.pipelines[key] = cached
        pipeline = cached[2]
        pipeline.max_rounds = spec.max_rounds
        return pipeline

    def stages(self, job: Job, *, reuse: bool = True) -> Iterator[tuple[Stage, Any]]:
        """The job's stages as each completes; ``reuse``: answer raw candidates filtered
        before from the filter's cache."""
        task = job.task
        warm = self.warm[job.language]
        static_filter = self.filters[job.language] if reuse else warm.filter
        filtered = static_filter.run_many(
            list(zip([task] * len(job.candidates), job.positions, job.candidates, strict=True)))
        yield "filtered", filtered
        if not job.analyze or job.expired():
            return
        analyzed = warm.analyzed(task, filtered, self.analyzers_for(job))
        yield "analyzed", analyzed
        if job.repair is not None and not job.expired():
            yield "repaired", self.pipeline(job.language, job.repair).repair(task, analyzed)

    def close(self) -> None:
        for _, ranker, _ in self.pipelines.values():
            ranker.close()
        for warm in self.warm.values():
            warm.close()
            warm.analyzers.close()  # given to the stages, so not closed by them
        if self.java_compiler is not None:
            self.java_compiler.close()
        for analyzers in self.subsets.values():
            analyzers.close()


def freeze_warm_heap() -> None:
    """Keep a warm worker's caches out of the garbage collector's way.

    The warm caches (astroid's models, pylint's checkers) are ~0.6 M objects that every full
    collection would walk, stalling a request for 100s of ms: drop the warm-up's garbage, then
    move what is left to the permanent generation (it lives as long as the worker anyway).
    """
    gc.collect()
    gc.freeze()


#: A worker's full collections come at this fraction of the collector's own rate. Its old
#: generation is its caches (~0.1 s to walk): between jobs at the usual rate (every ~100 jobs)
#: such a pause delayed the next request (p99 up to 130 ms); CPython 3.11 itself puts off
#: full collections until the old generation grew by a quarter.
FULL_COLLECTIONS_RATE = 0.1


def collect_between_jobs() -> None:
    """Collect the last job's garbage while the worker waits for the next job, not in a
    pause inside a later one (a young collection of ~50,000 astroid objects stalls a
    request ~20 ms); the older generations after as many young collections as the
    collector's thresholds ask (full ones at :data:`FULL_COLLECTIONS_RATE` of that)."""
    _, middle, oldest = gc.get_count()
    _, middle_threshold, oldest_threshold = gc.get_threshold()
    middle_due = middle + 1 >= middle_threshold
    oldest_due = oldest + 1 >= oldest_threshold / FULL_COLLECTIONS_RATE
    gc.collect(2 if middle_due and oldest_due else 1 if middle_due else 0)


def _worker_main(connection: Connection, languages: tuple[Language, ...],
                 full_warm_up: bool, generator: str | None) -> None:
    runner = StageRunner(languages, generator)
    runner.warm_up(full_warm_up)
    freeze_warm_heap()
    collect_garbage_in_bulk()
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
                collect_between_jobs()
            except Exception as exc:  # one bad request must not kill the worker
                connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        runner.close()


class Worker:
    """One warm worker process and its pipe; replaced whole when it hangs."""

    def __init__(self, languages: tuple[Language, ...], full_warm_up: bool = True,
                 generator: str | None = None):
        self.languages = languages
        self.full_warm_up = full_warm_up
        self.generator = generator
        self._context = mp.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.connection, child = self._context.Pipe()
        self.process = self._context.Process(
            target=_worker_main, args=(child, self.languages, self.full_warm_up, self.generator),
            daemon=True)
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

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)

    def run(self, job: Job, progress: Progress, hang_seconds: float,
            restarts: RestartBudget) -> None:
        """Run ``job`` to its end, recording each stage in ``progress``; blocks. A worker
        silent for ``hang_seconds`` is hung: it is killed and replaced."""
        self.connection.send(job)
        while True:
            if not self.connection.poll(hang_seconds):
                progress.fail(f"worker hung for {hang_seconds:.0f} s; restarted")
                self._replace(restarts)
                return
            try:
                message, payload = self.connection.recv()
            except EOFError:
                progress.fail("worker died; restarted")
                self._replace(restarts)
                return
            if message == "done":
                return
            if message == "error":
                progress.fail(f"stage failed: {payload}")
                return
            progress.add(message, payload)

    def _replace(self, restarts: RestartBudget) -> None:
        self.kill()
        restarts.wait_turn()
        self._start()


class RestartBudget:
    """At most ``per_minute`` worker restarts in any minute; a restart over budget waits
    for its turn, so a request that crashes workers on purpose cannot keep them all cold."""

    WINDOW_SECONDS = 60.0

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_turn(self) -> float:
        """Block until a restart is allowed; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            while self._starts and now - self._starts[0] >= self.WINDOW_SECONDS:
                self._starts.popleft()
            delay = 0.0
            if len(self._starts) >= self.per_minute:
                delay = self._starts[-self.per_minute] + self.WINDOW_SECONDS - now
            self._starts.append(now + delay)
        time.sleep(delay)
        return delay


class Progress:
    """The stages a worker finished so far, read by the request when its deadline comes
    while the worker may still be writing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result = JobResult()

    def add(self, stage: Stage, payload: Any) -> None:
        with self._lock:
            if stage == "repaired":
                self._result.report = payload
                self._result.candidates = payload.candidates
            else:
                self._result.candidates = payload
            self._result.completed.append(stage)

    def fail(self, note: str) -> None:
        with self._lock:
            self._result.partial = True
            self._result.notes.append(note)

    def snapshot(self, finished: bool, job: Job) -> JobResult:
        with self._lock:
            result = dataclasses.replace(self._result, completed=list(self._result.completed),
                                         notes=list(self._result.notes))
        wanted = "repaired" if job.repair else "analyzed" if job.analyze else "filtered"
        if not finished or (wanted not in result.completed and not result.partial):
            result.partial = True
            result.notes.append(f"deadline reached after stage(s): "
                                f"{', '.join(result.completed) or 'none'}")
        return result


class WorkerPool:
    """A fixed number of warm workers shared by concurrent requests.

    Workers join the idle queue once warm and go back to it when their job ends, not
    when the client stops waiting; :meth:`start` must run inside the server's event loop.
    """

    WARM_UP_SECONDS = 300.0
    MIN_SPLIT = 4  # fewer candidates per worker than this are not worth a second worker

    def __init__(self, size: int, languages: tuple[Language, ...], full_warm_up: bool = True,
                 hang_seconds: float = 60.0, restarts_per_minute: int = 4,
                 generator: str | None = None):
        self.workers = [Worker(languages, full_warm_up, generator) for _ in range(size)]
        self.hang_seconds = hang_seconds
        self.restarts = RestartBudget(restarts_per_minute)
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._admissions: list[asyncio.Task[None]] = []
        self._jobs: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._admissions = [asyncio.create_task(self._admit(worker)) for worker in self.workers]

    async def _admit(self, worker: Worker) -> None:
        await asyncio.to_thread(worker.wait_ready, self.WARM_UP_SECONDS)
        self._idle.put_nowait(worker)

    def _release(self, worker: Worker) -> None:
        if worker.ready.is_set():
            self._idle.put_nowait(worker)
        else:  # replaced after a hang: back in service once warm again
            self._admissions.append(asyncio.create_task(self._admit(worker)))

    def ready(self) -> bool:
        return all(worker.ready.is_set() for worker in self.workers)

    async def _run_on(self, worker: Worker, job: Job, progress: Progress,
                      hang_seconds: float) -> None:
        try:
            await asyncio.to_thread(worker.run, job, progress, hang_seconds, self.restarts)
        finally:
            self._release(worker)

    async def run(self, job: Job, deadline_seconds: float) -> JobResult:
        """Run ``job`` on one worker, or split over the workers that are idle right now
        (an IDE's single request then uses every core). At the deadline, answer with the
        stages done so far; the workers finish on their own and rejoin the pool."""
        deadline = time.monotonic() + deadline_seconds
        queue = self._idle
        try:
            workers = [await asyncio.wait_for(queue.get(), timeout=deadline_seconds)]
        except TimeoutError:
            return JobResult(partial=True, notes=["all workers busy until the deadline"])
        while (job.repair is None and len(workers) * self.MIN_SPLIT < len(job.candidates)
               and not queue.empty()):
            workers.append(queue.get_nowait())
        parts = dataclasses.replace(job, deadline=deadline).split(len(workers))
        for spare in workers[len(parts):]:  # a split may yield fewer parts than workers
            self._release(spare)
        progresses = [Progress() for _ in parts]
        hang_seconds = max(self.hang_seconds, deadline_seconds)
        running = []
        for worker, part, progress in zip(workers, parts, progresses, strict=False):
            task = asyncio.create_task(self._run_on(worker, part, progress, hang_seconds))
            self._jobs.add(task)  # the pool holds it: it outlives a request that gave up
            task.add_done_callback(self._jobs.discard)
            running.append(task)
        await asyncio.wait(running, timeout=max(0.0, deadline - time.monotonic()))
        return merge([progress.snapshot(future.done(), part)
                      for progress, future, part in zip(progresses, running, parts, strict=True)])

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                worker.connection.send(None)
            worker.process.join(timeout=5)
            worker.kill()
