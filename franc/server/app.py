"""The FastAPI application: FRANC's HTTP API under /v1 and the OpenAI-style proxy."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from franc.errors import FrancError, InputError
from franc.models import Candidate, Language, Task
from franc.policy import locate
from franc.repair.templates import available_templates
from franc.server.config import ServerConfig
from franc.server.engine import Job, JobResult, WorkerPool
from franc.server.limits import BodySizeLimit, RequestRejected, check_candidates
from franc.server.schemas import (
    CandidateOut,
    CandidatesRequest,
    CandidatesResponse,
    ErrorItem,
    ErrorResponse,
    Health,
    NamesResponse,
    RepairRequest,
    RepairResponse,
)
from franc.server.schemas import RepairRound as RepairRoundOut

if TYPE_CHECKING:
    from franc.pipeline import Pipeline, PipelineReport
    from franc.ranking.rankers import Ranker

EXECUTING_RANKERS = frozenset({"examples"})
ERROR_RESPONSES = {code: {"model": ErrorResponse} for code in (401, 413, 422, 503)}


class RankerCache:
    """Rankers by (name, language), built once and rebuilt when their policy file changes
    (path or modification time), so a user's edit applies to the next request without
    re-reading the policy on every request. Used from the event loop only."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, Language], tuple[Path, int, Ranker]] = {}

    def get(self, name: str, language: Language) -> Ranker:
        from franc.ranking.rankers import POLICY_SUFFIXES, get_ranker

        path = locate("rankers", name, POLICY_SUFFIXES)
        try:
            modified = path.stat().st_mtime_ns
        except OSError as exc:
            raise InputError(f"cannot read ranker policy: {exc}", source=str(path)) from exc
        cached = self._entries.get((name, language))
        if cached is not None and cached[:2] == (path, modified):
            return cached[2]
        ranker = get_ranker(name, language)
        self._entries[(name, language)] = (path, modified, ranker)
        return ranker

    def close(self) -> None:
        for _, _, ranker in self._entries.values():
            ranker.close()
        self._entries.clear()


def upstream_client() -> httpx.AsyncClient:
    """One connection pool for every upstream call of the proxy (closed on shutdown)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))


@dataclass
class ServerState:
    config: ServerConfig
    pool: WorkerPool
    rankers: RankerCache = field(default_factory=RankerCache)
    http: httpx.AsyncClient = field(default_factory=upstream_client)
    # Repair pipelines by (language, template, ranker), made on first use; one request at
    # a time each, since a pipeline holds a warm compiler and analyzers.
    pipelines: dict[tuple[Language, str, str], tuple[threading.Lock, Pipeline]] = field(
        default_factory=dict)

    def deadline(self, requested_ms: int | None) -> float:
        limit = self.config.deadline_seconds
        return min(limit, requested_ms / 1000) if requested_ms else limit

    def repair(self, request: RepairRequest, ranker_name: str, ranker: Ranker
               ) -> PipelineReport:
        from franc.generation import make_generator
        from franc.pipeline import Pipeline

        key = (request.language, request.template, ranker_name)
        if key not in self.pipelines:
            if not self.config.generator:
                raise RequestRejected(503, "no generator configured: start the server with "
                                           "generator = 'openai:URL' (or replay:, hf:)",
                                      "generator")
            pipeline = Pipeline(request.language, generator=make_generator(self.config.generator),
                                repair_template=request.template, ranker=ranker)
            self.pipelines.setdefault(key, (threading.Lock(), pipeline))
        lock, pipeline = self.pipelines[key]
        with lock:
            pipeline.max_rounds = request.max_rounds
            task = Task(task_id="request", prompt=request.prompt, language=request.language)
            return pipeline.run(task, request.candidates)


def state_of(request: Request) -> ServerState:
    return request.app.state.franc


def check_token(request: Request) -> None:
    token = state_of(request).config.api_token
    if token is None:
        return
    given = request.headers.get("authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise RequestRejected(401, "missing or wrong bearer token", "authorization")


def field_name(location: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in location if part != "body"]
    return ".".join(parts) or "body"


def error_response(status: int, error: str, details: list[ErrorItem]) -> JSONResponse:
    content = ErrorResponse(error=error, details=details).model_dump()
    return JSONResponse(status_code=status, content=content)


def resolve_ranker(name: str | None, state: ServerState, language: Language
                   ) -> tuple[str, Ranker]:
    name = name or state.config.default_ranker
    if name in EXECUTING_RANKERS and not state.config.enable_examples_ranker:
        raise RequestRejected(422, f"ranker {name!r} executes candidate code; start the server "
                                   "with enable_examples_ranker to allow it", "ranker")
    try:
        return name, state.rankers.get(name, language)
    except FrancError as exc:
        raise RequestRejected(422, str(exc), "ranker") from exc


async def run_stages(request: CandidatesRequest, state: ServerState, *,
                     analyze: bool) -> JobResult:
    check_candidates(request.prompt, request.candidates, state.config)
    if request.language not in state.config.languages:
        raise RequestRejected(422, f"language {request.language!r} is not served here",
                              "language")
    analyzers, notes = None, []
    if request.options.analyzers is not None:
        from franc.analysis import ANALYZERS

        known = ANALYZERS[request.language]
        analyzers = tuple(name for name in request.options.analyzers if name in known)
        notes = [f"analyzer {name!r} does not analyse {request.language}; skipped"
                 for name in request.options.analyzers if name not in known]
    job = Job(language=request.language, prompt=request.prompt,
              candidates=tuple(request.candidates), analyze=analyze, analyzers=analyzers)
    result = await state.pool.run(job, state.deadline(request.options.deadline_ms))
    result.notes[:0] = notes
    return result


def response_of(result: JobResult, candidates: list[Candidate],
                ranker: str | None = None) -> CandidatesResponse:
    return CandidatesResponse(candidates=[CandidateOut.of(c) for c in candidates],
                              partial=result.partial, stages=list(result.completed),
                              notes=result.notes, ranker=ranker)


async def rank_request(request: CandidatesRequest, state: ServerState) -> CandidatesResponse:
    """Filter, analyse and rank; the ranker runs here, on whatever stages completed."""
    name, ranker = resolve_ranker(request.ranker, state, request.language)
    result = await run_stages(request, state, analyze=True)
    task = Task(task_id="request", prompt=request.prompt, language=request.language)
    ranked = await asyncio.to_thread(ranker.rank, task, result.candidates)
    return response_of(result, ranked, name)


def create_app(config: ServerConfig, pool: WorkerPool | None = None) -> FastAPI:
    """The ASGI app; ``pool`` defaults to ``config.workers`` warm worker processes."""
    languages: tuple[Language, ...] = tuple(config.languages)  # type: ignore[assignment]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker_pool = pool or WorkerPool(config.workers, languages, config.full_warm_up)
        await worker_pool.start()
        state = app.state.franc = ServerState(config=config, pool=worker_pool)
        try:
            yield
        finally:
            await state.http.aclose()
            state.rankers.close()
            await asyncio.to_thread(worker_pool.close)

    app = FastAPI(title="FRANC", version="1",
                  description="Filter, analyse, rank and repair code generated by language "
                              "models.", lifespan=lifespan)
    app.add_middleware(BodySizeLimit, limit=config.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [ErrorItem(field=field_name(tuple(error.get("loc", ()))),
                             message=str(error.get("msg", "invalid")))
                   if error.get("type") != "json_invalid" else
                   ErrorItem(field="body", message=f"malformed JSON at character "
                                                   f"{error['loc'][-1]}: {error.get('msg')}")
                   for error in exc.errors()]
        return error_response(422, "invalid request", details)

    @app.exception_handler(RequestRejected)
    async def rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return error_response(exc.status, exc.message,
                              [ErrorItem(field=exc.field, message=exc.message)])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own 4xx (e.g. a body that is not UTF-8) in the same shape as ours.
        field = "body" if exc.status_code == 400 else "request"
        return error_response(exc.status_code, str(exc.detail),
                              [ErrorItem(field=field, message=str(exc.detail))])

    @app.exception_handler(FrancError)
    async def franc_error(_: Request, exc: FrancError) -> JSONResponse:
        return error_response(422, str(exc), [])

    guarded = [Depends(check_token)]

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    async def readyz(request: Request) -> Health | JSONResponse:
        if state_of(request).pool.ready():
            return Health(status="ready")
        return JSONResponse(status_code=503, content={"status": "warming up"})

    @app.post("/v1/filter", response_model=CandidatesResponse, dependencies=guarded,
              responses=ERROR_RESPONSES)
    async def filter_candidates(body: CandidatesRequest, request: Request) -> CandidatesResponse:
        result = await run_stages(body, state_of(request), analyze=False)
        return response_of(result, result.candidates)

    @app.post("/v1/analyze", response_model=CandidatesResponse, dependencies=guarded,
              responses=ERROR_RESPONSES)
    async def analyze(body: CandidatesRequest, request: Request) -> CandidatesResponse:
        result = await run_stages(body, state_of(request), analyze=True)
        return response_of(result, result.candidates)

    @app.post("/v1/rank", response_model=CandidatesResponse, dependencies=guarded,
              responses=ERROR_RESPONSES)
    async def rank(body: CandidatesRequest, request: Request) -> CandidatesResponse:
        return await rank_request(body, state_of(request))

    @app.post("/v1/repair", response_model=RepairResponse, dependencies=guarded,
              responses=ERROR_RESPONSES)
    async def repair(body: RepairRequest, request: Request) -> RepairResponse:
        state = state_of(request)
        check_candidates(body.prompt, body.candidates, state.config)
        ranker_name, ranker = resolve_ranker(body.ranker, state, body.language)
        if body.template not in available_templates():
            raise RequestRejected(422, f"unknown template {body.template!r}", "template")
        report = await asyncio.to_thread(state.repair, body, ranker_name, ranker)
        rounds = [RepairRoundOut(prompt=r.prompt,
                                 answers=[CandidateOut.of(a.candidate) for a in r.answers])
                  for r in report.rounds]
        return RepairResponse(candidates=[CandidateOut.of(c) for c in report.candidates],
                              stages=["filtered", "analyzed"], notes=[report.stop_reason],
                              ranker=ranker_name, rounds=rounds, judge=report.judge)

    @app.get("/v1/rankers", response_model=NamesResponse, dependencies=guarded)
    async def rankers(request: Request) -> NamesResponse:
        from franc.policy import available
        from franc.ranking.rankers import POLICY_SUFFIXES

        names = available("rankers", POLICY_SUFFIXES)
        if not state_of(request).config.enable_examples_ranker:
            names = [name for name in names if name not in EXECUTING_RANKERS]
        return NamesResponse(names=names)

    @app.get("/v1/templates", response_model=NamesResponse, dependencies=guarded)
    async def templates() -> NamesResponse:
        return NamesResponse(names=available_templates())

    from franc.server.proxy import router as proxy_router  # the proxy builds on this module

    app.include_router(proxy_router)
    app.openapi = lambda: openapi_with_choices(app, config)  # type: ignore[method-assign]
    return app


NO_NUL_PATTERN = "^[^\\u0000]*$"


def openapi_with_choices(app: FastAPI, config: ServerConfig) -> dict[str, Any]:
    """The OpenAPI schema with this server's limits: ranker and analyzer names as enums,
    candidate count and code length (bracket nesting, also limited, has no JSON Schema)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        from franc.analysis import ANALYZERS
        from franc.policy import available
        from franc.ranking.rankers import POLICY_SUFFIXES

        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        rankers = [name for name in available("rankers", POLICY_SUFFIXES)
                   if config.enable_examples_ranker or name not in EXECUTING_RANKERS]
        analyzers = sorted({name for names in ANALYZERS.values() for name in names})
        components = schema["components"]["schemas"]
        text_limits = {"maxLength": config.max_code_chars, "pattern": NO_NUL_PATTERN}
        for model in ("CandidatesRequest", "RepairRequest"):
            if model in components:
                properties = components[model]["properties"]
                properties["ranker"]["anyOf"][0]["enum"] = rankers
                properties["candidates"]["maxItems"] = config.max_candidates
                properties["candidates"]["items"].update(text_limits)
                properties["prompt"].update(text_limits)
        prompt = components["CompletionRequest"]["properties"]["prompt"]["anyOf"]
        prompt[0].update(text_limits)
        prompt[1]["items"].update(text_limits)
        components["RepairRequest"]["properties"]["template"]["enum"] = available_templates()
        options = components["Options"]["properties"]["analyzers"]["anyOf"][0]
        options["items"]["enum"] = analyzers
        app.openapi_schema = schema
    return app.openapi_schema
