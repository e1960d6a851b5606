"""The shared OpenAI-compatible client (generator and proxy) against servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from franc.generation.openai_client import (
    UpstreamError,
    arequest_json,
    request_json,
    retrying_transport,
    server_root,
)

REPLY = {"choices": [{"text": "ok"}]}


class Handler(BaseHTTPRequestHandler):
    payload = json.dumps(REPLY).encode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        return


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def late_server() -> Iterator[str]:
    """A server that starts listening 0.3 s after the test starts: early tries are refused."""
    port = free_port()
    started = threading.Event()
    servers: list[ThreadingHTTPServer] = []

    def start() -> None:
        servers.append(ThreadingHTTPServer(("127.0.0.1", port), Handler))
        started.set()
        servers[0].serve_forever(0.05)

    timer = threading.Timer(0.3, start)
    timer.start()
    yield f"http://127.0.0.1:{port}"
    started.wait(5)
    servers[0].shutdown()
    servers[0].server_close()
    timer.join()


def test_a_refused_connection_is_retried_by_the_blocking_client(late_server: str) -> None:
    transport = retrying_transport(retries=6, backoff=0.1, jitter=0.0)
    with httpx.Client(base_url=late_server, transport=transport, timeout=5) as client:
        assert request_json(client, "POST", "/v1/completions", {}, 1000, tries=7) == REPLY


def test_a_refused_connection_is_retried_by_the_asyncio_client(late_server: str) -> None:
    async def call() -> dict[str, Any]:
        transport = retrying_transport(retries=6, backoff=0.1, jitter=0.0)
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            return await arequest_json(client, "POST", late_server + "/v1/completions", {},
                                       1000, tries=7)

    assert asyncio.run(call()) == REPLY


def test_no_retries_means_the_refusal_is_reported() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with httpx.Client(base_url=url, transport=retrying_transport(0, 0.1), timeout=5) as client, \
            pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/v1/completions: ConnectError"):
        request_json(client, "POST", "/v1/completions", {}, 1000, tries=1)


@pytest.mark.parametrize(("payload", "message"), [
    (b"\x00\xff\xfe garbage", "malformed JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"choices": ["x" * 5000]}).encode(), "larger than 1000 bytes"),
])
def test_unusable_replies_are_upstream_errors(payload: bytes, message: str) -> None:
    handler = type("Garbage", (Handler,), {"payload": payload})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}",
                          transport=retrying_transport(0, 0.1)) as client, \
                pytest.raises(UpstreamError, match=message):
            request_json(client, "POST", "/v1/completions", {}, 1000, tries=1)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/"])
def test_server_root(url: str) -> None:
    assert server_root(url) == "http://h:1"
