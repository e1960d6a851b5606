"""The OpenAI-compatible proxy against fake upstream servers on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fake_upstream import (
    BROKEN,
    CLEAN,
    FakeUpstream,
    InlinePool,
    UpstreamHandler,
    answers,
    fake_upstream,
    serve_proxy,
)
from live_server import free_port

from franc.server.proxy import asks_for_code, code_key, upstream_body
from franc.server.schemas import ChatCompletionRequest, CompletionRequest

CODE_CHAT = [{"role": "user", "content": "Write a python function add(a, b)."}]


@pytest.fixture(scope="module")
def pool() -> Iterator[InlinePool]:
    inline = InlinePool()
    yield inline
    inline.shut()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as fake:
        yield fake


@pytest.fixture
def proxy_url(pool: InlinePool, upstream: FakeUpstream) -> Iterator[str]:
    with serve_proxy(pool, upstream.url, proxy_n=4, upstream_timeout_seconds=10) as url:
        yield url


def post(url: str, path: str, body: dict[str, Any], timeout: float = 30,
         **kwargs: Any) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=timeout, **kwargs)


def error_of(reply: httpx.Response) -> dict[str, Any]:
    """The OpenAI error object, checked for its shape."""
    body = reply.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# Upstream failures and limits (issue 14)


def test_upstream_5xx_is_retried_then_answered(upstream: FakeUpstream, proxy_url: str) -> None:
    tries: list[int] = []

    def flaky(handler: UpstreamHandler, body: dict[str, Any]) -> None:
        tries.append(1)
        if len(tries) < 3:
            handler.send_json(503, {"error": "busy"})
        else:
            answers(CLEAN)(handler, body)

    upstream.default = flaky
    reply = post(proxy_url, "/v1/chat/completions", {"model": "m", "messages": CODE_CHAT})
    assert reply.status_code == 200, reply.text
    assert len(tries) == 3


def test_binary_garbage_from_upstream_is_a_502(upstream: FakeUpstream, proxy_url: str) -> None:
    upstream.default = lambda handler, body: handler.send_bytes(200, b"\x00\xff\xfe" * 100)
    reply = post(proxy_url, "/v1/chat/completions", {"model": "m", "messages": CODE_CHAT})
    assert reply.status_code == 502, reply.text
    assert "malformed JSON" in error_of(reply)["message"]


def endless(handler: UpstreamHandler, body: dict[str, Any]) -> None:
    """100 MB of answer in 1 MB pieces, with no Content-Length (read until close)."""
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("connection", "close")
    handler.end_headers()
    handler.close_connection = True
    handler.write(b'{"choices": [{"text": "')
    for _ in range(100):
        handler.write(b"x" * 1_000_000)


def test_a_huge_answer_is_cut_while_it_streams_in(pool: InlinePool,
                                                  upstream: FakeUpstream) -> None:
    upstream.default = endless
    with serve_proxy(pool, upstream.url, upstream_max_bytes=2_000_000) as url:
        started = time.perf_counter()
        reply = post(url, "/v1/completions", {"model": "m", "prompt": "def f():\n"})
        elapsed = time.perf_counter() - started
    assert reply.status_code == 502, reply.text
    assert "larger than 2000000 bytes" in error_of(reply)["message"]
    # The proxy stopped reading: the upstream could not push the 100 MB.
    assert upstream.bytes_sent < 40_000_000
    assert elapsed < 10


def test_a_declared_oversize_answer_is_refused_unread(pool: InlinePool,
                                                      upstream: FakeUpstream) -> None:
    def oversized(handler: UpstreamHandler, body: dict[str, Any]) -> None:
        handler.send_response(200)
        handler.send_header("content-length", str(50_000_000))
        handler.end_headers()
        handler.write(b"{")

    upstream.default = oversized
    with serve_proxy(pool, upstream.url, upstream_max_bytes=1_000_000) as url:
        reply = post(url, "/v1/completions", {"model": "m", "prompt": "def f():\n"})
    assert reply.status_code == 502
    assert "larger than 1000000 bytes" in error_of(reply)["message"]


def test_a_trickling_upstream_hits_the_overall_timeout(pool: InlinePool,
                                                      upstream: FakeUpstream) -> None:
    def trickle(handler: UpstreamHandler, body: dict[str, Any]) -> None:
        handler.send_response(200)
        handler.send_header("content-length", "1000")
        handler.end_headers()
        for _ in range(1000):  # 1 byte every 0.2 s: each read succeeds, the whole never ends
            handler.write(b" ")
            time.sleep(0.2)

    upstream.default = trickle
    with serve_proxy(pool, upstream.url, upstream_timeout_seconds=1.5) as url:
        started = time.perf_counter()
        reply = post(url, "/v1/completions", {"model": "m", "prompt": "def f():\n"})
        elapsed = time.perf_counter() - started
    assert reply.status_code == 504, reply.text
    assert "within 1.5 s" in error_of(reply)["message"]
    assert elapsed < 5


def test_a_full_proxy_answers_503_at_once(pool: InlinePool, upstream: FakeUpstream) -> None:
    upstream.default = lambda handler, body: handler.hang_until_released_or_closed(30)
    body = {"model": "m", "prompt": "def f():\n"}
    with serve_proxy(pool, upstream.url, upstream_concurrency=2) as url, \
            concurrent.futures.ThreadPoolExecutor(2) as executor:
        hanging = [executor.submit(post, url, "/v1/completions", body) for _ in range(2)]
        deadline = time.monotonic() + 10
        while len(upstream.paths) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.perf_counter()
        refused = post(url, "/v1/completions", body)
        elapsed = time.perf_counter() - started
        upstream.release.set()  # the hanging calls end (with an empty answer: 502)
        assert [f.result().status_code for f in hanging] == [502, 502]
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert error_of(refused)["type"] == "server_error"
    assert elapsed < 5  # not the 30 s the calls in flight hang (measured ~0.05 s idle)


def test_a_client_leaving_cancels_the_upstream_call(pool: InlinePool,
                                                    upstream: FakeUpstream) -> None:
    upstream.default = lambda handler, body: handler.hang_until_released_or_closed(30)
    body = {"model": "m", "prompt": "def f():\n"}
    with serve_proxy(pool, upstream.url, upstream_concurrency=1) as url:
        with pytest.raises(httpx.ReadTimeout):
            post(url, "/v1/completions", body, timeout=0.5)
        left = time.monotonic()
        deadline = left + 10
        while not upstream.closed_by_client and time.monotonic() < deadline:
            time.sleep(0.02)
        assert upstream.closed_by_client, "the upstream call outlived its client"
        assert upstream.closed_by_client[0] - left < 2.0
        # Its slot is free again: the next call is served, not refused as full.
        upstream.default = answers(CLEAN)
        assert post(url, "/v1/completions", body).status_code == 200


def test_calls_share_one_connection_pool(upstream: FakeUpstream, proxy_url: str) -> None:
    for _ in range(3):
        assert post(proxy_url, "/v1/chat/completions",
                    {"model": "m", "messages": CODE_CHAT}).status_code == 200
    assert len(set(upstream.client_ports)) < 3  # connections are reused


# Drop-in compatibility (issue 17)


def test_models_are_passed_through(upstream: FakeUpstream, proxy_url: str) -> None:
    listing = {"object": "list", "data": [{"id": "fake-coder", "object": "model",
                                           "owned_by": "me"}]}
    upstream.behaviours["/v1/models"] = lambda handler, body: handler.send_json(200, listing)
    reply = httpx.get(proxy_url + "/v1/models", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == listing
    assert upstream.paths == ["/v1/models"]


def test_errors_take_openai_shape(upstream: FakeUpstream, proxy_url: str) -> None:
    invalid = post(proxy_url, "/v1/completions", {"model": "m", "n": 0, "prompt": "x"})
    assert invalid.status_code == 422
    assert error_of(invalid) == {"message": error_of(invalid)["message"],
                                 "type": "invalid_request_error", "param": "n",
                                 "code": "invalid_value"}
    upstream.default = lambda handler, body: handler.send_json(400, {"error": "no such model"})
    failed = post(proxy_url, "/v1/completions", {"model": "m", "prompt": "x"})
    assert failed.status_code == 502
    error = error_of(failed)
    assert "HTTP 400" in error["message"] and "no such model" in error["message"]
    assert (error["type"], error["param"]) == ("upstream_error", "upstream")
    # FRANC's own routes keep FRANC's shape.
    franc = post(proxy_url, "/v1/rank", {"language": "python", "candidates": []})
    assert set(franc.json()) == {"error", "details"}


def test_the_token_error_takes_openai_shape(pool: InlinePool, upstream: FakeUpstream) -> None:
    with serve_proxy(pool, upstream.url, api_token="s3cret") as url:
        reply = post(url, "/v1/completions", {"model": "m", "prompt": "x"})
        models = httpx.get(url + "/v1/models", timeout=10)
    assert reply.status_code == models.status_code == 401
    assert error_of(reply)["code"] == error_of(models)["code"] == "invalid_api_key"


def test_identical_choices_are_deduplicated(upstream: FakeUpstream, proxy_url: str) -> None:
    # Four answers, two of them the same code once trailing spaces are ignored.
    upstream.default = answers(CLEAN, CLEAN.replace("b\n", "b   \n\n"), BROKEN, CLEAN)
    reply = post(proxy_url, "/v1/chat/completions",
                 {"model": "m", "messages": CODE_CHAT, "n": 4})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert [c["index"] for c in answer["choices"]] == [0, 1]
    assert answer["franc"]["duplicates_removed"] == 2
    assert sorted(answer["choices"][0]["franc"]["duplicates"]) == [1, 3]
    assert answer["choices"][0]["franc"]["compiles"]


def test_plain_chat_is_passed_through_with_the_clients_n(upstream: FakeUpstream,
                                                         proxy_url: str) -> None:
    prose = "A decorator wraps a function: @cache above def f caches f's results."
    upstream.default = answers(prose)
    messages = [{"role": "user", "content": "explain decorators"}]
    reply = post(proxy_url, "/v1/chat/completions", {"model": "m", "messages": messages})
    assert reply.status_code == 200
    assert upstream.bodies[-1]["n"] == 1
    answer = reply.json()
    assert answer["choices"][0]["message"]["content"] == f"```python\n{prose}```"
    assert answer["franc"]["ranked"] is False


COMPLETIONS = answers("    return a +\n", "    return a + b\n")


def test_code_requests_get_proxy_n_and_ranking(upstream: FakeUpstream, proxy_url: str) -> None:
    upstream.default = COMPLETIONS
    reply = post(proxy_url, "/v1/completions",
                 {"model": "m", "prompt": "def add(a, b):\n", "best_of": 1})
    assert reply.status_code == 200
    sent = upstream.bodies[-1]
    assert (sent["n"], sent["best_of"], sent["stream"]) == (4, 4, False)
    best = reply.json()["choices"][0]
    assert best["franc"]["compiles"] and best["text"].strip() == "return a + b"


@pytest.mark.parametrize(("body", "expected"), [
    ({"prompt": "def add(a, b):\n    "}, True),
    ({"prompt": "<fim_prefix>x = 1<fim_suffix><fim_middle>"}, True),
    ({"prompt": "Once upon a time"}, False),
    ({"messages": [{"role": "user", "content": "explain decorators"}]}, False),
    ({"messages": [{"role": "user", "content": "from now on, answer briefly"}]}, False),
    ({"messages": [{"role": "user", "content": "Write a Python function to parse a date"}]},
     True),
    ({"messages": [{"role": "system", "content": "Complete the code."},
                   {"role": "user", "content": "sort a list"}]}, True),
    ({"messages": [{"role": "user", "content": "What does this do?\n```\nx = 1\n```"}]}, True),
    ({"messages": [{"role": "user", "content": [{"type": "text",
                                                 "text": "implement a class Stack in java"}]}]},
     True),
])
def test_asks_for_code(body: dict[str, Any], expected: bool) -> None:
    request = (CompletionRequest(**body) if "prompt" in body
               else ChatCompletionRequest(**body))
    assert asks_for_code(request) is expected


def test_upstream_body_raises_best_of_and_drops_stream_options() -> None:
    sent = upstream_body({"prompt": "x", "best_of": 2, "n": 1, "stream": True,
                          "stream_options": {"include_usage": True}}, 8)
    assert sent == {"prompt": "x", "best_of": 8, "n": 8, "stream": False}
    assert upstream_body({"prompt": "x", "best_of": 12}, 8)["best_of"] == 12


def test_code_key_keeps_indentation() -> None:
    assert code_key("if x:\n    a\n\nb  \n") == code_key("if x:\n    a\nb\n")
    assert code_key("if x:\n    a\nb\n") != code_key("if x:\n    a\n    b\n")


def sse_events(reply: httpx.Response) -> list[Any]:
    data = [line[len("data: "):] for line in reply.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


def test_streaming_sends_the_best_answer_in_chunks(upstream: FakeUpstream,
                                                   proxy_url: str) -> None:
    long_clean = CLEAN + "".join(f"\n\ndef f{i}(x):\n    return x + {i}\n" for i in range(8))
    upstream.default = answers(BROKEN, long_clean)
    reply = post(proxy_url, "/v1/chat/completions",
                 {"model": "m", "messages": CODE_CHAT, "stream": True})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    chunks = sse_events(reply)
    assert len(chunks) > 3
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == "cmpl-1" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["franc"]["ranked"] is True
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == f"```python\n{long_clean}```"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["franc"]["compiles"]


def test_streaming_completions_use_text_chunks(upstream: FakeUpstream, proxy_url: str) -> None:
    upstream.default = COMPLETIONS
    reply = post(proxy_url, "/v1/completions",
                 {"model": "m", "prompt": "def add(a, b):\n", "stream": True, "n": 2})
    chunks = sse_events(reply)
    assert {c["object"] for c in chunks} == {"text_completion"}
    first = "".join(c["choices"][0]["text"] for c in chunks if c["choices"][0]["index"] == 0)
    assert first.strip() == "return a + b"
    assert {c["choices"][0]["index"] for c in chunks} == {0, 1}


# The real OpenAI client library pointed at the proxy (issue 17)


@pytest.fixture
def openai_client(proxy_url: str) -> Any:
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=proxy_url + "/v1", api_key="unused", max_retries=0,
                         timeout=30)


def test_openai_library_lists_models(upstream: FakeUpstream, openai_client: Any) -> None:
    listing = {"object": "list", "data": [{"id": "fake-coder", "object": "model",
                                           "created": 1, "owned_by": "me"}]}
    upstream.behaviours["/v1/models"] = lambda handler, body: handler.send_json(200, listing)
    assert [model.id for model in openai_client.models.list()] == ["fake-coder"]


def test_openai_library_chat_completion(openai_client: Any) -> None:
    reply = openai_client.chat.completions.create(model="m", messages=CODE_CHAT)
    [choice] = reply.choices
    assert choice.message.content == f"```python\n{CLEAN}```"
    assert choice.model_extra["franc"]["compiles"]


def test_openai_library_completion(upstream: FakeUpstream, openai_client: Any) -> None:
    upstream.default = COMPLETIONS
    reply = openai_client.completions.create(model="m", prompt="def add(a, b):\n", n=1)
    assert reply.choices[0].text.strip() == "return a + b"


def test_openai_library_streams(openai_client: Any) -> None:
    stream = openai_client.chat.completions.create(model="m", messages=CODE_CHAT, stream=True)
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == f"```python\n{CLEAN}```"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_library_reads_the_error_shape(upstream: FakeUpstream,
                                              openai_client: Any) -> None:
    import openai

    upstream.default = lambda handler, body: handler.send_bytes(200, b"\x00\xff")
    with pytest.raises(openai.InternalServerError) as failed:
        openai_client.chat.completions.create(model="m", messages=CODE_CHAT)
    assert failed.value.status_code == 502
    assert (failed.value.type, failed.value.code) == ("upstream_error", "bad_gateway")
    assert "malformed JSON" in failed.value.message
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        openai_client.completions.create(model="m", prompt="x", n=0)
    assert invalid.value.param == "n"


# A real OpenAI-compatible server as the upstream: LiteLLM's proxy with mock responses (it
# answers without a model). Too heavy for the test extra: runs when FRANC_TEST_LITELLM names
# its `litellm` command.


LITELLM_KEY = "sk-franc-test"


@pytest.fixture
def litellm_url(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    command = os.environ.get("FRANC_TEST_LITELLM")
    if not command:
        pytest.skip("set FRANC_TEST_LITELLM to a `litellm` command (pip install 'litellm[proxy]')")
    config = tmp_path / "litellm.yaml"
    config.write_text("model_list:\n  - model_name: fake-coder\n    litellm_params:\n"
                      "      model: openai/fake-coder\n"
                      f"      mock_response: {json.dumps(CLEAN)}\n")
    port = free_port()
    process = subprocess.Popen([command, "--config", str(config), "--host", "127.0.0.1",
                                "--port", str(port)],
                               env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                                    "LITELLM_MASTER_KEY": LITELLM_KEY},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # its imports take minutes on a loaded machine
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health/liveliness", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("LiteLLM's proxy did not start")
        monkeypatch.setenv("FRANC_UPSTREAM_API_KEY", LITELLM_KEY)  # the proxy passes it on
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_against_litellms_openai_compatible_server(pool: InlinePool, litellm_url: str) -> None:
    openai = pytest.importorskip("openai")
    with serve_proxy(pool, litellm_url, proxy_n=3) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        assert "fake-coder" in [model.id for model in client.models.list()]
        reply = client.chat.completions.create(model="fake-coder", messages=CODE_CHAT)
        assert reply.choices[0].message.content == CLEAN
        assert reply.model_extra["franc"]["ranked"] is True
        # LiteLLM answers n=3 with the same mock three times: one choice is left.
        assert reply.model_extra["franc"]["duplicates_removed"] == 2
        chunks = list(client.chat.completions.create(model="fake-coder", messages=CODE_CHAT,
                                                      stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == CLEAN
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(model="no-such-model", messages=CODE_CHAT)
        assert failed.value.status_code == 502 and failed.value.code == "bad_gateway"
