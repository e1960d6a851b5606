"""Input limits of the HTTP API, checked before any work is queued."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from franc.server.config import ServerConfig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPENERS, CLOSERS = "([{", ")]}"


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
    for char in code:
        if char in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in CLOSERS:
            depth = max(0, depth - 1)
    return deepest


def check_code(code: str, field: str, config: ServerConfig) -> None:
    if len(code) > config.max_code_chars:
        raise RequestRejected(413, f"longer than {config.max_code_chars} characters", field)
    if "\x00" in code or any("\ud800" <= char <= "\udfff" for char in code):
        raise RequestRejected(422, "binary or non-UTF-8 text (NUL byte or lone surrogate)", field)
    if nesting_depth(code) > config.max_nesting:
        raise RequestRejected(422, f"nested deeper than {config.max_nesting} brackets", field)


def check_candidates(prompt: str, candidates: list[str], config: ServerConfig) -> None:
    if len(candidates) > config.max_candidates:
        raise RequestRejected(413, f"more than {config.max_candidates} candidates", "candidates")
    check_code(prompt, "prompt", config)
    for position, code in enumerate(candidates):
        check_code(code, f"candidates.{position}", config)


class BodySizeLimit:
    """ASGI middleware refusing bodies over ``limit`` bytes, with or without Content-Length."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
            return
        # Bodies are small (a few MB at most), so buffer them: the app then never
        # sees a request that is over the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._reject(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        body = (b'{"error":"request body too large","details":[{"field":"body","message":'
                b'"larger than ' + str(self.limit).encode() + b' bytes"}]}')
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
