"""The OpenAI-compatible generator against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from franc.generation import GenerationError, OpenAIGenerator

Reply = tuple[int, dict[str, str], bytes]


class Script:
    """What the server answers, one reply per request (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: list[Callable[[dict[str, Any]], Reply]] = []
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def next(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        self.requests.append((path, body, headers))
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index](body)


def completions(body: dict[str, Any]) -> Reply:
    texts = [f"answer {i}\nSTOP here" for i in range(body["n"])]
    choices = ([{"index": i, "message": {"role": "assistant", "content": t}}
                for i, t in enumerate(texts)] if "messages" in body
               else [{"index": i, "text": t} for i, t in enumerate(texts)])
    return 200, {"content-type": "application/json"}, json.dumps({"choices": choices}).encode()


def status(code: int, headers: dict[str, str] | None = None) -> Callable[[dict[str, Any]], Reply]:
    return lambda body: (code, headers or {}, b'{"error": "boom"}')


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length))
            code, headers, payload = script.next(self.path, body, dict(self.headers))
            if code == 0:  # a hung server: answer after the client gave up
                time.sleep(1.0)
                code = 200
            try:
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()
    httpd.server_close()


def generator(url: str, **kwargs: Any) -> OpenAIGenerator:
    """Waits are real (httpx-retries sleeps), so tests use short, unjittered ones."""
    kwargs = {"timeout": 5.0, "backoff": 0.01, "jitter": 0.0, **kwargs}
    return OpenAIGenerator(url, model="m", **kwargs)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_completions_returns_n_answers_cut_at_stop(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [completions]
    answers = generator(url).generate("def f():", 3, 16, 0.2, stop=["STOP"])
    assert answers == ["answer 0\n", "answer 1\n", "answer 2\n"]
    path, body, _ = script.requests[0]
    assert path == "/v1/completions"
    assert body["prompt"] == "def f():" and body["n"] == 3 and body["max_tokens"] == 16
    assert body["stop"] == ["STOP"] and body["model"] == "m"


def test_chat_messages_go_to_chat_completions(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [completions]
    messages = [{"role": "system", "content": "fix"}, {"role": "user", "content": "code"}]
    assert generator(url).generate(messages, 2, 8, 0.0, stop=()) == [
        "answer 0\nSTOP here", "answer 1\nSTOP here"]
    assert script.requests[0][0] == "/v1/chat/completions"
    assert script.requests[0][1]["messages"] == messages


def test_api_key_is_read_from_the_environment(server: tuple[str, Script],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url, script = server
    script.replies = [completions]
    monkeypatch.setenv("FRANC_OPENAI_API_KEY", "sk-test")
    OpenAIGenerator(url).generate("x", 1, 4, 0.0)
    assert script.requests[0][2]["Authorization"] == "Bearer sk-test"


def test_server_ignoring_n_is_asked_again(server: tuple[str, Script]) -> None:
    url, script = server
    one = lambda body: completions({**body, "n": 1})  # noqa: E731
    script.replies = [one]
    assert len(generator(url).generate("x", 3, 4, 0.5)) == 3
    assert [b["n"] for _, b, _ in script.requests] == [3, 2, 1]


def test_retries_with_backoff_on_500_then_succeeds(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(500), status(503), completions]
    gen = generator(url, backoff=0.2)
    answers: list[list[str]] = []
    waited = timed(lambda: answers.append(gen.generate("x", 1, 4, 0.0)))
    assert answers == [["answer 0\nSTOP here"]]
    assert len(script.requests) == 3
    assert 0.6 <= waited < 3.0  # 0.2 s, then 0.4 s


def test_429_honours_retry_after(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(429, {"Retry-After": "1"}), completions]
    gen = generator(url)  # its own backoff would be 0.01 s
    assert timed(lambda: gen.generate("x", 1, 4, 0.0)) >= 1.0
    assert len(script.requests) == 2


def test_persistent_500_gives_a_clear_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(500)]
    with pytest.raises(GenerationError, match=r"/v1/completions: HTTP 500"):
        generator(url, max_retries=2).generate("x", 1, 4, 0.0)
    assert len(script.requests) == 3


def test_client_error_is_not_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(400)]
    with pytest.raises(GenerationError, match="HTTP 400"):
        generator(url).generate("x", 1, 4, 0.0)
    assert len(script.requests) == 1


def test_malformed_json_gives_a_clear_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [lambda body: (200, {}, b"{not json")]
    with pytest.raises(GenerationError, match="malformed JSON"):
        generator(url).generate("x", 1, 4, 0.0)


def test_reply_without_choices_gives_a_clear_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [lambda body: (200, {}, b'{"object": "text_completion"}')]
    with pytest.raises(GenerationError, match=r"lacks choices\[\]\.text"):
        generator(url).generate("x", 1, 4, 0.0)


def test_timeout_is_retried_then_reported(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(0)]
    gen = generator(url, timeout=0.2, max_retries=1)
    with pytest.raises(GenerationError, match=r"no answer within 0.2 s \(2 tries\)"):
        gen.generate("x", 1, 4, 0.0)
    assert len(script.requests) == 2


def test_unreachable_server_gives_a_clear_error() -> None:
    gen = generator("http://127.0.0.1:9/v1", max_retries=0, timeout=1.0)
    with pytest.raises(GenerationError, match=r"127\.0\.0\.1:9/v1/completions"):
        gen.generate("x", 1, 4, 0.0)


def test_bad_chat_messages_are_refused() -> None:
    with pytest.raises(GenerationError, match="role"):
        generator("http://127.0.0.1:9").generate([{"content": "x"}], 1, 4, 0.0)
