"""Any OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, OpenAI) over HTTP.

Plain-text prompts go to ``/v1/completions``, chat prompts to
``/v1/chat/completions``. Timeouts, retries with exponential backoff on 429 and
5xx (honouring ``Retry-After``), and errors that say what the server did.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from franc.generation.base import GenerationError, Prompt, check_messages, cut_at_stop

#: Environment variables read for the API key, in order.
API_KEY_ENV = ("FRANC_OPENAI_API_KEY", "OPENAI_API_KEY")
#: OpenAI's servers accept at most this many stop strings; the rest are applied here.
MAX_SERVER_STOPS = 4
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def _api_key() -> str | None:
    return next((os.environ[name] for name in API_KEY_ENV if os.environ.get(name)), None)


@dataclass
class OpenAIGenerator:
    """``base_url`` is the server root or its ``/v1`` path (both work)."""

    base_url: str
    model: str = field(default_factory=lambda: os.environ.get("FRANC_OPENAI_MODEL", "default"))
    timeout: float = 60.0
    max_retries: int = 3
    backoff: float = 1.0
    api_key: str | None = field(default_factory=_api_key, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        root = self.base_url.rstrip("/")
        root = root[:-3] if root.endswith("/v1") else root
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(base_url=root, timeout=self.timeout, headers=headers)

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
        url = f"{self._client.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self._client.post(path, json=body)
            except httpx.TimeoutException as exc:
                if last:
                    raise GenerationError(f"{url}: no answer within {self.timeout:g} s "
                                          f"({self.max_retries + 1} tries)") from exc
                self.sleep(self.backoff * 2 ** attempt)
                continue
            except httpx.HTTPError as exc:
                if last:
                    raise GenerationError(f"{url}: {type(exc).__name__}: {exc}") from exc
                self.sleep(self.backoff * 2 ** attempt)
                continue
            if response.status_code in RETRY_STATUS and not last:
                self.sleep(self._retry_after(response) or self.backoff * 2 ** attempt)
                continue
            if response.status_code >= 400:
                raise GenerationError(f"{url}: HTTP {response.status_code}: "
                                      f"{response.text[:300]!r}")
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise GenerationError(f"{url}: malformed JSON in the reply: "
                                      f"{response.text[:200]!r}") from exc
        raise AssertionError("unreachable")  # the loop always returns or raises

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        try:
            return min(float(response.headers.get("retry-after", "")), 60.0)
        except ValueError:
            return None

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
