"""OpenAI-compatible ranking proxy: /v1/completions and /v1/chat/completions.

The proxy asks the upstream model for ``n`` candidates (at least
``config.proxy_n``), runs FRANC's filter, analysis and ranking, and answers in
the upstream's own schema with the best candidates first. FRANC's view of each
choice sits under the extension field ``franc``. A plugin that speaks the
OpenAI protocol gains FRANC by changing one URL.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from franc.models import LANGUAGES, Language
from franc.server.limits import RequestRejected
from franc.server.schemas import (
    CandidatesRequest,
    ChatCompletionRequest,
    CompletionRequest,
    ErrorResponse,
    ProxyRequest,
)
from franc.server.service import check_token, rank_request, state_of

FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.DOTALL)
JAVA_MARKERS = re.compile(r"\b(public|private|class|interface|void|import java)\b|;\s*$", re.M)
PYTHON_MARKERS = re.compile(r"^\s*(def|import|from|class)\b.*:?\s*$|^\s*#", re.M)


def guess_language(text: str) -> Language:
    """Python or Java, from a prompt's look (a request can also say it: ``franc_language``)."""
    java = len(JAVA_MARKERS.findall(text))
    python = len(PYTHON_MARKERS.findall(text)) + text.count("def ")
    return "java" if java > python else "python"


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


async def call_upstream(client: httpx.AsyncClient, url: str, path: str, body: dict[str, Any],
                        key_env: str) -> dict:
    headers = {"content-type": "application/json"}
    if key := os.environ.get(key_env):
        headers["authorization"] = f"Bearer {key}"
    try:
        reply = await client.post(url.rstrip("/") + path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        message = f"upstream unreachable: {type(exc).__name__}"
        raise RequestRejected(502, message, "upstream") from exc
    if reply.status_code >= 400:
        raise RequestRejected(502, f"upstream answered {reply.status_code}: "
                                   f"{reply.text[:300]}", "upstream")
    try:
        answer = reply.json()
    except json.JSONDecodeError as exc:
        raise RequestRejected(502, "upstream answered malformed JSON", "upstream") from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
        raise RequestRejected(502, "upstream answer has no 'choices' list", "upstream")
    return answer


def as_stream(answer: dict[str, Any], chat: bool) -> StreamingResponse:
    """A streaming client gets the whole ranked answer as one event."""
    if chat:
        answer = {**answer, "object": "chat.completion.chunk",
                  "choices": [{**c, "delta": c.get("message", {})} for c in answer["choices"]]}

    async def events() -> AsyncIterator[str]:
        yield f"data: {json.dumps(answer)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def proxy(request: Request, body: ProxyRequest, path: str, chat: bool) -> Response:
    state = state_of(request)
    if not state.config.upstream_url:
        raise RequestRejected(503, "no upstream model configured (upstream_url)", "upstream")
    forwarded = forwarded_body(body)
    started = time.perf_counter()
    upstream_body = {**forwarded, "n": max(body.n, state.config.proxy_n), "stream": False}
    answer = await call_upstream(state.http, state.config.upstream_url, path, upstream_body,
                                 state.config.upstream_api_key_env)
    upstream_seconds = time.perf_counter() - started
    choices = [c for c in answer["choices"] if isinstance(c, dict)]
    texts = [choice_text(c, chat) for c in choices]
    prompt = chat_prompt(forwarded["messages"]) if chat else forwarded["prompt"]
    if not texts:
        raise RequestRejected(502, "upstream returned no choices", "upstream")
    language = body.franc_language or request.headers.get("x-franc-language")
    if language not in LANGUAGES:
        language = guess_language(prompt + "\n" + texts[0])
    try:
        ranked = await rank_request(CandidatesRequest(language=language, prompt=prompt,
                                                      candidates=texts), state)
    except RequestRejected as exc:
        if not exc.field.startswith("candidates"):
            raise
        raise RequestRejected(502, f"upstream answer refused: {exc.message}", "upstream") from exc
    ordered = []
    for position, candidate in enumerate(ranked.candidates[:body.n]):
        choice = dict(choices[candidate.index])
        if not chat and candidate.code.startswith(prompt) and candidate.compiles:
            choice["text"] = candidate.code[len(prompt):]
        choice["index"] = position
        choice["franc"] = candidate.model_dump()
        ordered.append(choice)
    answer = {**answer, "choices": ordered,
              "franc": {"partial": ranked.partial, "notes": ranked.notes, "ranker": ranked.ranker,
                        "candidates_ranked": len(texts), "prompt_kind": ranked.prompt_kind}}
    added_ms = (time.perf_counter() - started - upstream_seconds) * 1000
    response: Response = as_stream(answer, chat) if body.stream else JSONResponse(answer)
    response.headers["x-franc-added-latency-ms"] = f"{added_ms:.1f}"
    return response


router = APIRouter(dependencies=[Depends(check_token)])
PROXY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the upstream's answer, best choices first, FRANC's view under "
                         "'franc'; one server-sent event when the request streams",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/event-stream": {"schema": {}}}},
    **{code: {"model": ErrorResponse} for code in (401, 413, 422, 502, 503)}}


@router.post("/v1/completions", response_model=None, responses=PROXY_RESPONSES)
async def completions(body: CompletionRequest, request: Request) -> Response:
    return await proxy(request, body, "/v1/completions", chat=False)


@router.post("/v1/chat/completions", response_model=None, responses=PROXY_RESPONSES)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
    return await proxy(request, body, "/v1/chat/completions", chat=True)
