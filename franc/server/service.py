"""The server's state and the request logic shared by the API routes and the proxy:
the token check, ranker resolution by name, and filter/analyse/rank of one request."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from franc.models import Candidate, Language, Task
from franc.policy import SUFFIXES, shipped_dir
from franc.server.config import ServerConfig
from franc.server.engine import Job, JobResult, RepairSpec, WorkerPool
from franc.server.findings_cache import (
    answer_copy,
    candidate_cache,
    code_key,
    judged_by_its_tools,
    task_key,
)
from franc.server.limits import RequestRejected, bearer_accepted, check_candidates
from franc.server.schemas import (
    CandidateOut,
    CandidatesRequest,
    CandidatesResponse,
    RepairRequest,
    RepairResponse,
)
from franc.server.schemas import RepairRound as RepairRoundOut

if TYPE_CHECKING:
    from franc.ranking.rankers import Ranker

LOG = logging.getLogger("franc.server")

#: Ranker kinds that execute candidate code (in the sandbox).
EXECUTING_KINDS = frozenset({"examples", "behaviour"})
#: Over HTTP a ranker is a name, never a path: letters, digits, ``_`` and ``-``.
RANKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Policies larger than this are refused unread (the shipped ones are a few KB).
MAX_POLICY_BYTES = 1_000_000
PYTHON_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(", re.M)


def executes_code(ranker: Ranker) -> bool:
    """Whether the ranker, or any ranker of its chain or fusion, runs candidate code."""
    members: list[Ranker] = getattr(ranker, "members", [])
    return ranker.kind in EXECUTING_KINDS or any(executes_code(m) for m in members)


def entry_point_of(prompt: str, language: Language) -> str | None:
    """The function a Python prompt asks for: its last ``def`` (helpers come first)."""
    if language != "python":
        return None
    names = PYTHON_DEF.findall(prompt)
    return names[-1] if names else None


class RankerCache:
    """Rankers by (name, language), from the shipped policies and the server's configured
    folder (which comes first), built once and rebuilt when their policy file changes, so an
    edit applies to the next request. Blocking (it reads files): call it off the event loop.

    Errors never show the client a server path or a policy's content: the log has them."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folders = [Path(folder)] if folder else []
        self.folders.append(shipped_dir("rankers"))
        self._entries: dict[tuple[str, Language], tuple[Path, int, Ranker]] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted({path.stem for folder in self.folders if folder.is_dir()
                       for path in folder.iterdir()
                       if path.suffix in SUFFIXES["rankers"] and RANKER_NAME.fullmatch(path.stem)})

    def path_of(self, name: str) -> Path:
        if RANKER_NAME.fullmatch(name):
            for folder in self.folders:
                for suffix in SUFFIXES["rankers"]:
                    if (path := folder / f"{name}{suffix}").is_file():
                        return path
        raise RequestRejected(422, f"unknown ranker {name[:64]!r}: rankers are named, not "
                                   "paths (GET /v1/rankers lists them)", "ranker")

    def get(self, name: str, language: Language) -> Ranker:
        from franc.ranking.rankers import get_ranker

        path = self.path_of(name)
        with self._lock:
            try:
                stat = path.stat()
                cached = self._entries.get((name, language))
                if cached is not None and cached[:2] == (path, stat.st_mtime_ns):
                    return cached[2]
                if stat.st_size > MAX_POLICY_BYTES:
                    raise ValueError(f"{path}: larger than {MAX_POLICY_BYTES} bytes")
                ranker = get_ranker(path, language)
            except Exception as exc:  # whatever the policy holds, the client gets a 422
                LOG.warning("ranker %r (%s): %s: %s", name, path, type(exc).__name__, exc)
                raise RequestRejected(422, f"ranker {name!r} has an invalid policy (the "
                                           "server log says why)", "ranker") from exc
            self._entries[(name, language)] = (path, stat.st_mtime_ns, ranker)
            return ranker

    def close(self) -> None:
        for _, _, ranker in self._entries.values():
            ranker.close()
        self._entries.clear()


class AnswerCache:
    """The finished candidates (filtered, and analysed when asked) of the last ``size``
    distinct raw candidates the server answered, by all they depend on: the task, the
    stages and analyzers asked for, and the raw text. Repair jobs are never answered here
    (their revisions are new every round)."""

    def __init__(self, size: int = 4096) -> None:
        self._known = candidate_cache(size)

    @staticmethod
    def keys(job: Job) -> list[str]:
        """One key per raw candidate of ``job``: what it shares with the job's others (the
        task, its prompt included, and the stages) is hashed once."""
        shared = code_key(f"{task_key(job.task)}\0{job.analyze}\0{job.analyzers!r}")
        return [code_key(f"{shared}\0{raw}") for raw in job.candidates]

    def answer(self, job: Job) -> tuple[list[Candidate], Job | None]:
        """The candidates of ``job`` known here (each its own copy, at its position), and a
        job of the others for the workers (None when every one is known)."""
        if job.repair is not None:
            return [], job
        known: list[Candidate] = []
        unknown: list[tuple[int, str]] = []
        for position, raw, key in zip(job.positions, job.candidates, self.keys(job),
                                      strict=True):
            found = self._known.get(key)
            if found is None:
                unknown.append((position, raw))
            else:
                known.append(answer_copy(found, job.task_id, position))
        if not unknown:
            return known, None
        if not known:
            return [], job
        return known, dataclasses.replace(job, candidates=tuple(raw for _, raw in unknown),
                                          indexes=tuple(position for position, _ in unknown))

    def keep(self, job: Job, result: JobResult) -> None:
        """Remember the candidates of ``job``'s result when it is complete (not one its
        deadline cut short), except those a tool could not judge."""
        wanted = "analyzed" if job.analyze else "filtered"
        if job.repair is not None or result.partial or wanted not in result.completed:
            return
        keys = dict(zip(job.positions, self.keys(job), strict=True))
        for candidate in result.candidates:
            if candidate.index in keys and judged_by_its_tools(candidate):
                self._known.put(keys[candidate.index], answer_copy(candidate, "", candidate.index))


@dataclass
class ServerState:
    config: ServerConfig
    pool: WorkerPool
    rankers: RankerCache = field(default_factory=RankerCache)
    #: Finished candidates of recent requests: a repeated one costs no worker round trip.
    answers: AnswerCache = field(default_factory=AnswerCache)

    def deadline(self, requested_ms: int | None, limit: float | None = None) -> float:
        """The request's deadline in seconds: the client's, capped by the server's own
        (``limit``, default ``deadline_seconds``) and raised to the server's floor (a 1 ms
        deadline only buys an empty answer)."""
        limit = limit or self.config.deadline_seconds
        if not requested_ms:
            return limit
        return min(limit, max(requested_ms, self.config.min_deadline_ms) / 1000)


def state_of(request: Request) -> ServerState:
    return request.app.state.franc


def check_token(request: Request) -> None:
    """The token check of the routes (the :class:`RequestGate` already ran it before the
    body was read; this keeps a route that is mounted elsewhere just as closed)."""
    authorization = request.headers.get("authorization", "").encode()
    if not bearer_accepted(state_of(request).config.api_token, authorization):
        raise RequestRejected(401, "missing or wrong bearer token", "authorization")


async def resolve_ranker(name: str | None, state: ServerState, language: Language
                         ) -> tuple[str, Ranker]:
    """The ranker a request names (off the event loop), refused when it runs candidate
    code and the server does not allow that."""
    name = name or state.config.default_ranker
    ranker = await asyncio.to_thread(state.rankers.get, name, language)
    if executes_code(ranker) and not state.config.enable_examples_ranker:
        raise RequestRejected(422, f"ranker {name!r} executes candidate code; start the server "
                                   "with enable_examples_ranker to allow it", "ranker")
    return name, ranker


async def served_rankers(state: ServerState) -> list[str]:
    """The ranker names a client may use here (those that build, and run code only when
    the server allows it)."""
    names = []
    for name in state.rankers.names():
        try:
            await resolve_ranker(name, state, "python")
        except RequestRejected:
            continue
        names.append(name)
    return names


def task_of(request: CandidatesRequest) -> Task:
    entry_point = request.entry_point or entry_point_of(request.prompt, request.language)
    return Task(task_id="request", prompt=request.prompt, language=request.language,
                entry_point=entry_point)


async def run_stages(request: CandidatesRequest, state: ServerState, *,
                     analyze: bool, repair: RepairSpec | None = None) -> JobResult:
    check_candidates(request.prompt, request.candidates, state.config)
    if request.language not in state.config.languages:
        raise RequestRejected(422, f"language {request.language!r} is not served here",
                              "language")
    analyzers, notes = None, []
    asked = request.options.analyzers
    if asked is None:  # the server's choice for the language, if it made one
        configured = state.config.analyzers.get(request.language)
        analyzers = None if configured is None else tuple(configured)
    else:
        from franc.analysis import ANALYZERS

        known = ANALYZERS[request.language]
        analyzers = tuple(name for name in asked if name in known)
        notes = [f"analyzer {name!r} does not analyse {request.language}; skipped"
                 for name in asked if name not in known]
    job = Job(language=request.language, prompt=request.prompt,
              candidates=tuple(request.candidates), analyze=analyze, analyzers=analyzers,
              repair=repair, entry_point=task_of(request).entry_point)
    limit = state.config.repair_deadline_seconds if repair else None
    answered, unknown = state.answers.answer(job)
    if unknown is None:
        result = JobResult(completed=["filtered", "analyzed"] if analyze else ["filtered"])
    else:
        result = await state.pool.run(unknown, state.deadline(request.options.deadline_ms,
                                                              limit))
        state.answers.keep(unknown, result)
    if answered:
        result.candidates = sorted([*result.candidates, *answered], key=lambda c: c.index)
    result.notes[:0] = notes
    return result


def response_of(result: JobResult, candidates: list[Candidate],
                ranker: str | None = None) -> CandidatesResponse:
    return CandidatesResponse(candidates=[CandidateOut.of(c) for c in candidates],
                              partial=result.partial, stages=list(result.completed),
                              notes=result.notes, ranker=ranker)


async def rank_request(request: CandidatesRequest, state: ServerState) -> CandidatesResponse:
    """Filter, analyse and rank; the ranker runs here, on whatever stages completed."""
    name, ranker = await resolve_ranker(request.ranker, state, request.language)
    result = await run_stages(request, state, analyze=True)
    ranked = await asyncio.to_thread(ranker.rank, task_of(request), result.candidates)
    return response_of(result, ranked, name)


async def repair_request(request: RepairRequest, state: ServerState) -> RepairResponse:
    """Filter, analyse, rank and repair in a worker, under the repair deadline; past it, the
    candidates of the stages done so far, ranked here."""
    from franc.repair.templates import available_templates

    if not state.config.generator:
        raise RequestRejected(503, "no generator configured: start the server with "
                                   "generator = 'openai:URL' (or replay:, hf:)", "generator")
    name, ranker = await resolve_ranker(request.ranker, state, request.language)
    if request.template not in available_templates():
        raise RequestRejected(422, f"unknown template {request.template!r}", "template")
    path = state.rankers.path_of(name)
    spec = RepairSpec(template=request.template, max_rounds=request.max_rounds,
                      ranker=str(path), ranker_version=path.stat().st_mtime_ns)
    result = await run_stages(request, state, analyze=True, repair=spec)
    report = result.report
    if report is None:
        ranked = await asyncio.to_thread(ranker.rank, task_of(request), result.candidates)
        return RepairResponse(candidates=[CandidateOut.of(c) for c in ranked], partial=True,
                              stages=list(result.completed), notes=result.notes, ranker=name)
    rounds = [RepairRoundOut(prompt=r.prompt,
                             answers=[CandidateOut.of(a.candidate) for a in r.answers])
              for r in report.rounds]
    return RepairResponse(candidates=[CandidateOut.of(c) for c in report.candidates],
                          partial=result.partial, stages=list(result.completed),
                          notes=[report.stop_reason, *result.notes], ranker=name,
                          rounds=rounds, judge=report.judge)
