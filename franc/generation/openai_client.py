"""The one OpenAI-compatible HTTP client: used by the generator (sync) and the proxy (async).

Both speak through httpx with httpx-retries' transport, so connect errors, timeouts and
429/5xx answers are retried with exponential backoff (honouring ``Retry-After``) the same
way. A reply is read in chunks up to a byte cap, then parsed as one JSON object; every
failure becomes an :class:`UpstreamError` that says what the server did.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
from httpx_retries import Retry, RetryTransport

#: Environment variables read for the API key, in order.
API_KEY_ENV = ("FRANC_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: A single wait between tries never exceeds this, whatever ``Retry-After`` asks.
MAX_RETRY_WAIT = 60.0
#: How much of an error answer an error message quotes.
QUOTED_CHARS = 300


class UpstreamError(Exception):
    """The server could not be reached, or its answer is unusable.

    ``status`` is the server's HTTP status when it answered one; ``timed_out`` tells a
    silent server from a refused connection."""

    def __init__(self, message: str, status: int | None = None, timed_out: bool = False):
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out


def api_key_from_environment(names: tuple[str, ...] = API_KEY_ENV) -> str | None:
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


def server_root(base_url: str) -> str:
    """The server root from the root itself or its ``/v1`` path (users write both)."""
    root = base_url.rstrip("/")
    return root[:-3] if root.endswith("/v1") else root


def retrying_transport(retries: int, backoff: float, jitter: float = 0.5) -> RetryTransport:
    """Retries POSTs too: a completion request has no side effect worth protecting.

    ``backoff`` is the first wait in seconds; each later one doubles, ``jitter`` (0..1)
    shortens each wait by a random share so that many clients do not retry in step."""
    retry = Retry(total=retries, backoff_factor=backoff / 2, backoff_jitter=jitter,
                  max_backoff_wait=MAX_RETRY_WAIT, allowed_methods=["GET", "POST"],
                  status_forcelist=RETRY_STATUS)
    return RetryTransport(retry=retry)


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class JsonReply:
    """An answer's bytes, collected chunk by chunk up to ``limit``, then parsed.

    The cap applies while reading, so a huge or endless answer costs at most ``limit``
    bytes of memory; a declared Content-Length over it is refused before reading."""

    def __init__(self, url: str, response: httpx.Response, limit: int):
        self.url = url
        self.status = response.status_code
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self.too_large()

    def too_large(self) -> UpstreamError:
        return UpstreamError(f"{self.url}: answer larger than {self.limit} bytes", self.status)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.too_large()
        self.parts.append(chunk)

    def json(self) -> dict[str, Any]:
        data = b"".join(self.parts)
        if self.status >= 400:
            text = data.decode("utf-8", "replace")[:QUOTED_CHARS]
            raise UpstreamError(f"{self.url}: HTTP {self.status}: {text!r}", self.status)
        try:
            answer = json.loads(data)
        except ValueError as exc:  # also bytes that are not UTF-8 at all
            raise UpstreamError(f"{self.url}: malformed JSON in the reply: "
                                f"{data[:200]!r}", self.status) from exc
        if not isinstance(answer, dict):
            raise UpstreamError(f"{self.url}: the reply is not a JSON object: "
                                f"{data[:200]!r}", self.status)
        return answer


def transport_failure(url: str, exc: httpx.HTTPError, timeout: float, tries: int
                      ) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(f"{url}: no answer within {timeout:g} s ({tries} tries)",
                             timed_out=True)
    return UpstreamError(f"{url}: {type(exc).__name__}: {exc}")


def request_json(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None,
                 limit: int, tries: int, headers: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """One exchange (with the transport's retries) on a blocking client; ``path`` is
    relative to the client's base URL (or a full URL when it has none)."""
    url = f"{client.base_url}{path}"
    try:
        with client.stream(method, path, json=body, headers=headers) as response:
            reply = JsonReply(url, response, limit)
            for chunk in response.iter_bytes():
                reply.add(chunk)
    except httpx.HTTPError as exc:
        timeout = client.timeout.read or 0.0
        raise transport_failure(url, exc, timeout, tries) from exc
    return reply.json()


async def arequest_json(client: httpx.AsyncClient, method: str, path: str,
                        body: dict[str, Any] | None, limit: int, tries: int,
                        headers: dict[str, str] | None = None) -> dict[str, Any]:
    """:func:`request_json` on an asyncio client."""
    url = f"{client.base_url}{path}"
    try:
        async with client.stream(method, url, json=body, headers=headers) as response:
            reply = JsonReply(url, response, limit)
            async for chunk in response.aiter_bytes():
                reply.add(chunk)
    except httpx.HTTPError as exc:
        timeout = client.timeout.read or 0.0
        raise transport_failure(url, exc, timeout, tries) from exc
    return reply.json()
