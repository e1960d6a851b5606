"""Request and response models of the HTTP API (version 1).

Responses reuse the library's own :class:`~franc.models.Finding` dataclass, so
the OpenAPI schema and the Python API describe the same thing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from franc.models import Candidate, Finding, Language, PromptKind


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analyzers: list[str] | None = Field(
        None, description="analyzer ids to run (default: all for the language)")
    deadline_ms: int | None = Field(
        None, ge=1, description="per-request deadline; capped by the server's own and raised "
                                "to its floor (min_deadline_ms)")


class CandidatesRequest(BaseModel):
    """The body of /v1/filter, /v1/analyze and /v1/rank."""

    model_config = ConfigDict(extra="forbid")

    language: Language
    prompt: str = Field("", description="the prompt the candidates complete")
    candidates: list[str] = Field(..., min_length=1, description="raw model outputs")
    ranker: str | None = Field(default=None, description="ranker name (GET /v1/rankers)")
    entry_point: str | None = Field(
        default=None, max_length=200, description="the function the prompt asks for (the examples "
                                          "ranker calls it); default: the prompt's last def")
    options: Options = Field(default_factory=Options)


class RepairRequest(CandidatesRequest):
    template: str = Field("chat", description="repair template (GET /v1/templates)")
    max_rounds: int = Field(1, ge=1, le=5)


class CandidateOut(BaseModel):
    index: int = Field(..., description="position of the candidate in the request")
    code: str
    compiles: bool
    errors: list[str]
    findings: list[Finding] | None = None
    score: float | None = None
    score_parts: dict[str, float] | None = None
    prompt_kind: PromptKind | None = Field(None, exclude=True)  # the response states it once

    @classmethod
    def of(cls, candidate: Candidate) -> CandidateOut:
        return cls(index=candidate.index, code=candidate.code, compiles=candidate.compiles,
                   errors=candidate.errors, findings=candidate.findings, score=candidate.score,
                   score_parts=candidate.score_parts, prompt_kind=candidate.prompt_kind)


class CandidatesResponse(BaseModel):
    candidates: list[CandidateOut]
    partial: bool = Field(default=False, description="true when the deadline cut a stage short")
    stages: list[str] = Field(default_factory=list, description="stages that completed")
    notes: list[str] = Field(default_factory=list)
    ranker: str | None = None

    @computed_field(  # type: ignore[prop-decorator]
        description="'instruction': the prompt is natural language, not merged into the "
                    "candidates (judged as whole programs); 'code': the candidates continue it")
    @property
    def prompt_kind(self) -> PromptKind | None:
        return next((c.prompt_kind for c in self.candidates if c.prompt_kind), None)


class RepairRound(BaseModel):
    prompt: str | list[dict[str, str]]
    answers: list[CandidateOut]


class RepairResponse(CandidatesResponse):
    rounds: list[RepairRound] = Field(default_factory=list)
    judge: str | None = None


class ErrorItem(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    error: str
    details: list[ErrorItem] = Field(default_factory=list)


class NamesResponse(BaseModel):
    names: list[str]


class Health(BaseModel):
    status: str


class ProxyRequest(BaseModel):
    """Fields the proxy reads; every other field is forwarded to the upstream untouched."""

    model_config = ConfigDict(extra="allow")

    n: int = Field(1, ge=1, le=64, description="choices the client wants (for code, the "
                                               "upstream is asked for at least proxy_n)")
    stream: bool = Field(False, description="the ranked answer as server-sent events in "
                                            "OpenAI's chunk format")
    franc_language: Language | None = Field(
        None, description="FRANC extension: the code's language (else guessed)")


class CompletionRequest(ProxyRequest):
    prompt: str | Annotated[list[str], Field(min_length=1, max_length=1)] = Field(
        ..., description="one prompt (or a list holding one)")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None


class ChatCompletionRequest(ProxyRequest):
    messages: list[ChatMessage] = Field(..., min_length=1)


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    """OpenAI's error shape, used on the OpenAI-compatible routes."""

    error: OpenAIError


#: The OpenAI-compatible routes: their errors take :class:`OpenAIErrorResponse`'s shape,
#: even those the request gate sends before a route runs.
OPENAI_PATHS = frozenset({"/v1/completions", "/v1/chat/completions", "/v1/models"})
OPENAI_ERROR_TYPES = {401: ("invalid_request_error", "invalid_api_key"),
                      408: ("invalid_request_error", "request_timeout"),
                      413: ("invalid_request_error", "request_too_large"),
                      422: ("invalid_request_error", "invalid_value"),
                      499: ("invalid_request_error", "client_closed_request"),
                      502: ("upstream_error", "bad_gateway"),
                      503: ("server_error", "unavailable"),
                      504: ("upstream_error", "upstream_timeout")}


def openai_error_content(status: int, message: str, param: str | None) -> dict[str, Any]:
    """The JSON body of an error on an OpenAI-compatible route."""
    kind, code = OPENAI_ERROR_TYPES.get(status, ("invalid_request_error", None))
    return OpenAIErrorResponse(error=OpenAIError(message=message, type=kind, param=param,
                                                 code=code)).model_dump()
