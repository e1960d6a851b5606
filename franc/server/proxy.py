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

from franc.models import Language
from franc.server.app import check_token, rank_request, state_of
from franc.server.limits import RequestRejected
from franc.server.schemas import CandidatesRequest, ErrorResponse

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


def chat_prompt(messages: list[Any]) -> str:
    """The code the user gave in the last user message (a fenced block), if any."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            match = FENCE.search(str(message.get("content") or ""))
            return match.group(1) if match else ""
    return ""


def parse_body(raw: bytes, chat: bool) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestRejected(422, f"malformed JSON: {exc}", "body") from exc
    if not isinstance(body, dict):
        raise RequestRejected(422, "expected a JSON object", "body")
    if chat and not isinstance(body.get("messages"), list):
        raise RequestRejected(422, "'messages' must be a list", "messages")
    if not chat:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1:
            body["prompt"] = prompt = prompt[0]
        if not isinstance(prompt, str):
            raise RequestRejected(422, "'prompt' must be a string", "prompt")
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise RequestRejected(422, "'n' must be a positive integer", "n")
    return body


async def call_upstream(url: str, path: str, body: dict[str, Any], key_env: str) -> dict:
    headers = {"content-type": "application/json"}
    if key := os.environ.get(key_env):
        headers["authorization"] = f"Bearer {key}"
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as client:
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


async def proxy(request: Request, path: str, chat: bool) -> Response:
    state = state_of(request)
    if not state.config.upstream_url:
        raise RequestRejected(503, "no upstream model configured (upstream_url)", "upstream")
    body = parse_body(await request.body(), chat)
    started = time.perf_counter()
    client_n = body.get("n", 1)
    language = body.pop("franc_language", None) or request.headers.get("x-franc-language")
    upstream_body = {**body, "n": max(client_n, state.config.proxy_n), "stream": False}
    answer = await call_upstream(state.config.upstream_url, path, upstream_body,
                                 state.config.upstream_api_key_env)
    upstream_seconds = time.perf_counter() - started
    choices = [c for c in answer["choices"] if isinstance(c, dict)]
    texts = [choice_text(c, chat) for c in choices]
    prompt = chat_prompt(body["messages"]) if chat else body["prompt"]
    if not texts:
        raise RequestRejected(502, "upstream returned no choices", "upstream")
    ranked = await rank_request(CandidatesRequest(
        language=language or guess_language(prompt + "\n" + texts[0]), prompt=prompt,
        candidates=texts), state)
    ordered = []
    for position, candidate in enumerate(ranked.candidates[:client_n]):
        choice = dict(choices[candidate.index])
        if not chat and candidate.code.startswith(prompt) and candidate.compiles:
            choice["text"] = candidate.code[len(prompt):]
        choice["index"] = position
        choice["franc"] = candidate.model_dump()
        ordered.append(choice)
    answer = {**answer, "choices": ordered,
              "franc": {"partial": ranked.partial, "notes": ranked.notes, "ranker": ranked.ranker,
                        "candidates_ranked": len(texts)}}
    added_ms = (time.perf_counter() - started - upstream_seconds) * 1000
    if body.get("stream"):
        response: Response = as_stream(answer, chat)
    else:
        response = JSONResponse(answer)
    response.headers["x-franc-added-latency-ms"] = f"{added_ms:.1f}"
    return response


router = APIRouter(dependencies=[Depends(check_token)])
PROXY_ERRORS = {code: {"model": ErrorResponse} for code in (401, 413, 422, 502, 503)}


@router.post("/v1/completions", response_model=None, responses=PROXY_ERRORS)
async def completions(request: Request) -> Response:
    return await proxy(request, "/v1/completions", chat=False)


@router.post("/v1/chat/completions", response_model=None, responses=PROXY_ERRORS)
async def chat_completions(request: Request) -> Response:
    return await proxy(request, "/v1/chat/completions", chat=True)
