"""Input limits of the HTTP API, checked before any work is queued: the token and the
body before the body is parsed, then the candidates before they reach a worker."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from franc.server.config import ServerConfig
from franc.server.schemas import OPENAI_PATHS, openai_error_content

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPENERS, CLOSERS = "([{", ")]}"
_BRACKETS = re.compile(r"[()\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestRejected(Exception):
    """A request that breaks a limit; becomes a 4xx JSON error naming the field."""

    def __init__(self, status: int, message: str, field: str):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def nesting_depth(code: str) -> int:
    """The deepest bracket nesting, a cheap bound on parser recursion."""
    depth = deepest = 0
    for char in _BRACKETS.findall(code):  # a tenth of the characters, found in C
        if char in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in CLOSERS:
            depth = max(0, depth - 1)
    return deepest


def check_code(code: str, field: str, config: ServerConfig) -> None:
    if len(code) > config.max_code_chars:
        raise RequestRejected(413, f"longer than {config.max_code_chars} characters", field)
    if "\x00" in code or _SURROGATE.search(code):
        raise RequestRejected(422, "binary or non-UTF-8 text (NUL byte or lone surrogate)", field)
    if nesting_depth(code) > config.max_nesting:
        raise RequestRejected(422, f"nested deeper than {config.max_nesting} brackets", field)


def check_candidates(prompt: str, candidates: list[str], config: ServerConfig) -> None:
    if len(candidates) > config.max_candidates:
        raise RequestRejected(413, f"more than {config.max_candidates} candidates", "candidates")
    check_code(prompt, "prompt", config)
    for position, code in enumerate(candidates):
        check_code(code, f"candidates.{position}", config)


#: Paths open without the bearer token (a load balancer's health checks).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})


def bearer_accepted(token: str | None, authorization: bytes) -> bool:
    """Whether an ``Authorization`` header carries the server's token (any, when unset)."""
    if token is None:
        return True
    return secrets.compare_digest(authorization, f"Bearer {token}".encode())


class RequestGate:
    """ASGI middleware in front of every route, in the order that costs an attacker most:

    1. the bearer token, checked before a byte of the body is read (an unauthenticated
       client holds no buffer);
    2. the declared size (``Content-Length``), then the size while the body streams in;
    3. the time the body takes to arrive (a slow sender is cut off with a 408).

    Only the health checks (:data:`PUBLIC_PATHS`) are open without the token; the API
    docs (``/docs``, ``/openapi.json``) are behind it like the API itself.
    """

    def __init__(self, app: ASGIApp, config: ServerConfig):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        path = scope["path"]
        if path not in PUBLIC_PATHS and not bearer_accepted(
                self.config.api_token, headers.get(b"authorization", b"")):
            await reject(send, 401, "missing or wrong bearer token", "authorization", path)
            return
        limit = self.config.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await reject(send, 413, f"larger than {limit} bytes", "body", path)
            return
        # Bodies are small (a few MB at most), so buffer them: the app then never
        # sees a request that is over the limit.
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.config.body_timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        break
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    if size > limit:
                        await reject(send, 413, f"larger than {limit} bytes", "body", path)
                        return
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await reject(send, 408, f"body not received within "
                                    f"{self.config.body_timeout_seconds:g} s", "body", path)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def reject(send: Send, status: int, message: str, field: str, path: str) -> None:
    """An error in the shape of the route at ``path`` (OpenAI's on the OpenAI-compatible
    routes, FRANC's elsewhere), sent before the app sees the request."""
    content = (openai_error_content(status, message, field) if path in OPENAI_PATHS
               else {"error": message, "details": [{"field": field, "message": message}]})
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
