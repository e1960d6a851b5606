"""OpenAI-compatible ranking proxy: /v1/completions, /v1/chat/completions and /v1/models.

When a request asks for code, the proxy asks the upstream model for ``n`` candidates (at
least ``config.proxy_n``), runs FRANC's filter, analysis and ranking, drops choices whose
code is the same, and answers in the upstream's own schema with the best choices first.
FRANC's view of each choice sits under the extension field ``franc``. Any other request
(plain chat) is passed through with the client's own ``n``. Errors take OpenAI's shape, so
a plugin that speaks the OpenAI protocol gains FRANC by changing one URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from franc.errors import FrancError
from franc.generation.openai_client import (
    UpstreamError,
    arequest_json,
    auth_headers,
    retrying_transport,
    server_root,
)
from franc.models import LANGUAGES, Language
from franc.server.config import ServerConfig
from franc.server.limits import RequestRejected
from franc.server.schemas import (
    CandidateOut,
    CandidatesRequest,
    ChatCompletionRequest,
    ChatMessage,
    CompletionRequest,
    OpenAIErrorResponse,
    ProxyRequest,
    openai_error_content,
)
from franc.server.service import check_token, rank_request, state_of

FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.DOTALL)
JAVA_MARKERS = re.compile(r"\b(public|private|class|interface|void|import java)\b|;\s*$", re.M)
PYTHON_MARKERS = re.compile(r"^\s*(def|import|from|class)\b.*:?\s*$|^\s*#", re.M)
# What makes a request one for code, decided from its text alone (no model call).
CODE_REQUEST = re.compile(
    r"\b(write|implement|complete|fix|refactor|generate|create|rewrite|port|translate|convert"
    r"|optimi[sz]e|debug)\b[^.?!\n]{0,80}?\b(code|function|method|class|script|program"
    r"|snippet|tests?|implementation|python|java)\b", re.IGNORECASE)
CODE_LINE = re.compile(
    r"^[ \t]*(def \w+\s*\(|class \w+|import [\w.]+|from [\w.]+ import |(public|private|"
    r"protected|static) |@\w+|return\b)|[;{}][ \t]*$|<\|?fim[_-]?(prefix|suffix|middle)\|?>"
    r"|<(PRE|SUF|MID)>", re.MULTILINE)
#: Characters per streamed chunk of the ranked answer.
STREAM_CHUNK_CHARS = 64
#: Fields of the answer that every streamed chunk repeats.
STREAM_HEAD_FIELDS = ("id", "created", "model", "system_fingerprint")
#: Fields that only make sense for a streamed upstream call (the proxy never streams it).
STREAM_ONLY_FIELDS = ("stream_options",)


def guess_language(text: str) -> Language:
    """Python or Java, from a prompt's look (a request can also say it: ``franc_language``)."""
    java = len(JAVA_MARKERS.findall(text))
    python = len(PYTHON_MARKERS.findall(text)) + text.count("def ")
    return "java" if java > python else "python"


def message_text(message: ChatMessage) -> str:
    """A message's text, whether ``content`` is a string or a list of typed parts."""
    if isinstance(message.content, list):
        return "\n".join(str(part.get("text", "")) for part in message.content
                         if isinstance(part, dict))
    return message.content or ""


def asks_for_code(body: ProxyRequest) -> bool:
    """Cheaply, from the request: a completion prompt that looks like code, or a chat with a
    code fence anywhere in it or a system/user message asking to write or fix code."""
    if isinstance(body, CompletionRequest):
        prompt = body.prompt if isinstance(body.prompt, str) else body.prompt[0]
        return bool(CODE_LINE.search(prompt) or "```" in prompt)
    if isinstance(body, ChatCompletionRequest):
        return any("```" in message_text(m) or (m.role in ("system", "user") and
                                                 CODE_REQUEST.search(message_text(m)))
                   for m in body.messages)
    return False


def choice_text(choice: dict[str, Any], chat: bool) -> str:
    if chat:
        message = choice.get("message") or {}
        return str(message.get("content") or "")
    return str(choice.get("text") or "")


def chat_prompt(messages: list[dict[str, Any]]) -> str:
    """The code the user gave in the last user message (a fenced block), if any."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            match = FENCE.search(str(message.get("content") or ""))
            return match.group(1) if match else ""
    return ""


def forwarded_body(body: ProxyRequest) -> dict[str, Any]:
    """The client's request as the upstream should see it (FRANC's extension removed)."""
    data = body.model_dump(exclude_unset=True, exclude={"franc_language"})
    if isinstance(data.get("prompt"), list):
        [data["prompt"]] = data["prompt"]
    return data


def upstream_body(forwarded: dict[str, Any], n: int) -> dict[str, Any]:
    """Ask for ``n`` choices, not streamed. ``best_of`` below ``n`` is raised to ``n``:
    OpenAI and vLLM reject ``best_of < n``, and ``best_of == n`` changes nothing."""
    data = {key: value for key, value in forwarded.items() if key not in STREAM_ONLY_FIELDS}
    data.update(n=n, stream=False)
    if isinstance(data.get("best_of"), int):
        data["best_of"] = max(data["best_of"], n)
    return data


def code_key(code: str) -> str:
    """Code compared for sameness: trailing spaces and blank lines ignored, indentation kept
    (in Python it changes what the code means)."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def distinct(ranked: list[CandidateOut]) -> tuple[list[CandidateOut], dict[int, list[int]]]:
    """The ranked candidates without repeats, best first, and for each one kept the upstream
    indexes of the repeats dropped in its favour."""
    kept: dict[str, CandidateOut] = {}
    repeats: dict[int, list[int]] = {}
    for candidate in ranked:
        first = kept.setdefault(code_key(candidate.code), candidate)
        if first is not candidate:
            repeats.setdefault(first.index, []).append(candidate.index)
    return list(kept.values()), repeats


class Upstream:
    """The proxy's way to the model server: one pooled, retrying client, with a cap on the
    calls in flight, on each answer's size (applied while it streams in) and on each whole
    exchange's time (retries included)."""

    BACKOFF_SECONDS = 0.5
    CONNECT_SECONDS = 5.0

    def __init__(self, config: ServerConfig):
        self.root = server_root(config.upstream_url) if config.upstream_url else None
        self.timeout = config.upstream_timeout_seconds
        self.max_bytes = config.upstream_max_bytes
        self.tries = config.upstream_retries + 1
        self.concurrency = config.upstream_concurrency
        self.slots = asyncio.Semaphore(config.upstream_concurrency)
        self.headers = auth_headers(os.environ.get(config.upstream_api_key_env))
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout, connect=self.CONNECT_SECONDS),
            transport=retrying_transport(config.upstream_retries, self.BACKOFF_SECONDS))

    async def call(self, request: Request, method: str, path: str,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The upstream's JSON answer; given up when the client disconnects."""
        if self.root is None:
            raise RequestRejected(503, "no upstream model configured (upstream_url)", "upstream")
        if self.slots.locked():
            raise RequestRejected(503, f"all {self.concurrency} upstream calls are in flight; "
                                       "retry shortly", "upstream")
        async with self.slots:
            return await until_disconnected(request, self._exchange(method, path, body))

    async def _exchange(self, method: str, path: str, body: dict[str, Any] | None
                        ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                return await arequest_json(self.client, method, f"{self.root}{path}", body,
                                           self.max_bytes, self.tries, self.headers)
        except TimeoutError as exc:
            raise RequestRejected(504, f"upstream gave no complete answer within "
                                       f"{self.timeout:g} s", "upstream") from exc
        except UpstreamError as exc:
            status = 504 if exc.timed_out else 502
            raise RequestRejected(status, f"upstream failed: {exc}", "upstream") from exc

    async def aclose(self) -> None:
        await self.client.aclose()


async def until_disconnected(request: Request, work: Awaitable[dict[str, Any]]
                             ) -> dict[str, Any]:
    """``work``'s result, or its cancellation (closing the upstream connection) as soon as
    the client goes away: nobody would read the answer."""
    async def client_gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(client_gone())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watch):
            pending.cancel()
    if not task.done() or task.cancelled():
        raise RequestRejected(499, "the client closed the connection", "request")
    return task.result()


def upstream_of(request: Request) -> Upstream:
    return request.app.state.franc_upstream


def choices_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    choices = answer.get("choices")
    if not isinstance(choices, list):
        raise RequestRejected(502, "upstream answer has no 'choices' list", "upstream")
    return [choice for choice in choices if isinstance(choice, dict)]


def stream_chunks(answer: dict[str, Any], chat: bool) -> AsyncIterator[str]:
    """The answer as server-sent events in OpenAI's chunk format, each choice's text in
    pieces, then ``[DONE]``. FRANC's extension rides on the first and on each last chunk."""
    head: dict[str, Any] = {key: answer[key] for key in STREAM_HEAD_FIELDS if key in answer}
    head["object"] = "chat.completion.chunk" if chat else "text_completion"

    def event(choice: dict[str, Any], **extra: Any) -> str:
        return f"data: {json.dumps({**head, 'choices': [choice], **extra})}\n\n"

    async def events() -> AsyncIterator[str]:
        extension = {"franc": answer["franc"]} if "franc" in answer else {}
        for choice in answer["choices"]:
            text = choice_text(choice, chat)
            pieces = [text[i:i + STREAM_CHUNK_CHARS]
                      for i in range(0, len(text), STREAM_CHUNK_CHARS)] or [""]
            for number, piece in enumerate(pieces):
                delta: dict[str, Any] = (
                    {"delta": {"role": "assistant", "content": piece} if number == 0
                     else {"content": piece}} if chat else {"text": piece, "logprobs": None})
                yield event({"index": choice["index"], **delta, "finish_reason": None},
                            **extension)
                extension = {}
            ending: dict[str, Any] = {"delta": {}} if chat else {"text": "", "logprobs": None}
            yield event({"index": choice["index"], **ending,
                         "finish_reason": choice.get("finish_reason") or "stop",
                         **({"franc": choice["franc"]} if "franc" in choice else {})})
        yield "data: [DONE]\n\n"

    return events()


def respond(answer: dict[str, Any], stream: bool, chat: bool, added_ms: float) -> Response:
    response: Response = (StreamingResponse(stream_chunks(answer, chat),
                                            media_type="text/event-stream")
                          if stream else JSONResponse(answer))
    response.headers["x-franc-added-latency-ms"] = f"{added_ms:.1f}"
    return response


async def proxy(request: Request, body: ProxyRequest, path: str, chat: bool) -> Response:
    state = state_of(request)
    upstream = upstream_of(request)
    forwarded = forwarded_body(body)
    header_language = request.headers.get("x-franc-language")
    language = body.franc_language or (header_language if header_language in LANGUAGES
                                       else None)
    started = time.perf_counter()
    if language is None and not asks_for_code(body):
        answer = await upstream.call(request, "POST", path, upstream_body(forwarded, body.n))
        choices_of(answer)
        answer["franc"] = {"ranked": False, "reason": "the request does not ask for code"}
        return respond(answer, body.stream, chat, 0.0)
    answer = await upstream.call(request, "POST", path,
                                 upstream_body(forwarded, max(body.n, state.config.proxy_n)))
    upstream_seconds = time.perf_counter() - started
    choices = choices_of(answer)
    texts = [choice_text(c, chat) for c in choices]
    prompt = chat_prompt(forwarded["messages"]) if chat else forwarded["prompt"]
    if not texts:
        raise RequestRejected(502, "upstream returned no choices", "upstream")
    language = language or guess_language(prompt + "\n" + texts[0])
    try:
        ranked = await rank_request(CandidatesRequest(language=language, prompt=prompt,
                                                      candidates=texts, ranker=None), state)
    except RequestRejected as exc:
        if not exc.field.startswith("candidates"):
            raise
        raise RequestRejected(502, f"upstream answer refused: {exc.message}", "upstream") from exc
    unique, repeats = distinct(ranked.candidates)
    ordered = []
    for position, candidate in enumerate(unique[:body.n]):
        choice = dict(choices[candidate.index])
        if not chat and candidate.code.startswith(prompt) and candidate.compiles:
            choice["text"] = candidate.code[len(prompt):]
        choice["index"] = position
        choice["franc"] = {**candidate.model_dump(), "duplicates": repeats.get(candidate.index, [])}
        ordered.append(choice)
    answer = {**answer, "choices": ordered,
              "franc": {"ranked": True, "partial": ranked.partial, "notes": ranked.notes,
                        "ranker": ranked.ranker, "candidates_ranked": len(texts),
                        "duplicates_removed": len(ranked.candidates) - len(unique),
                        "prompt_kind": ranked.prompt_kind}}
    added_ms = (time.perf_counter() - started - upstream_seconds) * 1000
    return respond(answer, body.stream, chat, added_ms)


#: Seconds a client should wait before retrying a 503 (OpenAI clients honour it).
RETRY_AFTER_SECONDS = 1


def openai_error(status: int, message: str, param: str | None) -> JSONResponse:
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse(status_code=status, content=openai_error_content(status, message, param),
                        headers=headers)


def validation_error(exc: RequestValidationError) -> JSONResponse:
    [first, *_] = exc.errors() or [{}]
    param = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
    return openai_error(422, f"invalid request: {first.get('msg', 'invalid')}", param)


class OpenAIRoute(APIRoute):
    """A route whose errors take OpenAI's shape, ``{"error": {message, type, param, code}}``,
    which OpenAI client libraries and editor plugins parse."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestRejected as exc:
                return openai_error(exc.status, exc.message, exc.field)
            except RequestValidationError as exc:
                return validation_error(exc)
            except StarletteHTTPException as exc:
                return openai_error(exc.status_code, str(exc.detail), None)
            except FrancError as exc:
                return openai_error(422, str(exc), None)

        return handle


@asynccontextmanager
async def upstream_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's own lifespan, so the server's config is there already."""
    upstream = app.state.franc_upstream = Upstream(app.state.franc.config)
    try:
        yield
    finally:
        await upstream.aclose()


router = APIRouter(dependencies=[Depends(check_token)], route_class=OpenAIRoute,
                   lifespan=upstream_lifespan)
PROXY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the upstream's answer, best choices first, FRANC's view under "
                         "'franc'; server-sent events in OpenAI's chunk format when the "
                         "request streams",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/event-stream": {"schema": {}}}},
    **{code: {"model": OpenAIErrorResponse} for code in (401, 413, 422, 502, 503, 504)}}


@router.post("/v1/completions", response_model=None, responses=PROXY_RESPONSES)
async def completions(body: CompletionRequest, request: Request) -> Response:
    return await proxy(request, body, "/v1/completions", chat=False)


@router.post("/v1/chat/completions", response_model=None, responses=PROXY_RESPONSES)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
    return await proxy(request, body, "/v1/chat/completions", chat=True)


@router.get("/v1/models", response_model=None, responses={
    200: {"description": "the upstream's model list, unchanged",
          "content": {"application/json": {"schema": {"type": "object"}}}},
    **{code: {"model": OpenAIErrorResponse} for code in (401, 502, 503, 504)}})
async def models(request: Request) -> Response:
    return JSONResponse(await upstream_of(request).call(request, "GET", "/v1/models"))
