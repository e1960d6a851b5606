"""Any OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, OpenAI) over HTTP.

Plain-text prompts go to ``/v1/completions``, chat prompts to
``/v1/chat/completions``, through the client the proxy uses too
(:mod:`franc.generation.openai_client`): timeouts, retries with exponential backoff on
connect errors, 429 and 5xx (honouring ``Retry-After``), a cap on the reply's size, and
errors that say what the server did.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from franc.generation.base import GenerationError, Prompt, check_messages, cut_at_stop
from franc.generation.openai_client import (
    UpstreamError,
    api_key_from_environment,
    auth_headers,
    request_json,
    retrying_transport,
    server_root,
)

#: OpenAI's servers accept at most this many stop strings; the rest are applied here.
MAX_SERVER_STOPS = 4
#: A reply larger than this is refused (n answers of max_new_tokens fit many times over).
MAX_REPLY_BYTES = 50_000_000


@dataclass
class OpenAIGenerator:
    """``base_url`` is the server root or its ``/v1`` path (both work). ``backoff`` is the
    first wait before a retry, doubling each time; ``jitter`` shortens each by a random share."""

    base_url: str
    model: str = field(default_factory=lambda: os.environ.get("FRANC_OPENAI_MODEL", "default"))
    timeout: float = 60.0
    max_retries: int = 3
    backoff: float = 1.0
    jitter: float = 0.5
    api_key: str | None = field(default_factory=api_key_from_environment, repr=False)
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=server_root(self.base_url), timeout=self.timeout,
            headers=auth_headers(self.api_key),
            transport=retrying_transport(self.max_retries, self.backoff, self.jitter))

    def generate(self, prompt: Prompt, n: int, max_new_tokens: int, temperature: float,
                 stop: Sequence[str] = ()) -> list[str]:
        check_messages(prompt)
        chat = not isinstance(prompt, str)
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_new_tokens,
                                "temperature": temperature}
        if stop:
            body["stop"] = list(stop)[:MAX_SERVER_STOPS]
        if chat:
            body["messages"] = prompt
        else:
            body["prompt"] = prompt
        path = "/v1/chat/completions" if chat else "/v1/completions"
        answers: list[str] = []
        # Some servers (llama.cpp, Ollama) ignore n > 1: ask again for what is missing.
        for _ in range(n):
            reply = self._post(path, {**body, "n": n - len(answers)})
            answers.extend(self._texts(reply, chat, path))
            if len(answers) >= n:
                break
        return [cut_at_stop(text, stop) for text in answers[:n]]

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            return request_json(self._client, "POST", path, body, MAX_REPLY_BYTES,
                                tries=self.max_retries + 1)
        except UpstreamError as exc:
            raise GenerationError(str(exc)) from exc

    def _texts(self, reply: Any, chat: bool, path: str) -> list[str]:
        try:
            choices = sorted(reply["choices"], key=lambda c: c.get("index", 0))
            texts = [c["message"]["content"] if chat else c["text"] for c in choices]
        except (KeyError, TypeError, AttributeError) as exc:
            raise GenerationError(f"{self._client.base_url}{path}: reply lacks "
                                  f"choices[].{'message.content' if chat else 'text'}: "
                                  f"{str(reply)[:200]}") from exc
        if not all(isinstance(t, str) for t in texts):
            raise GenerationError(f"{self._client.base_url}{path}: a choice's text is not a "
                                  "string")
        if not texts:
            raise GenerationError(f"{self._client.base_url}{path}: the reply has no choices")
        return texts

    def close(self) -> None:
        self._client.close()
