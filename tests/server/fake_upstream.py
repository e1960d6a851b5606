"""A scriptable OpenAI-compatible upstream on 127.0.0.1, and FRANC's app served in-process.

The app runs in uvicorn on a loopback port with the real stages (filter, analyzers, ranker)
in the test process instead of worker processes, so each test can start a proxy with its
own limits in well under a second.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn
from live_server import free_port

from franc.server.app import create_app
from franc.server.config import load_config
from franc.server.engine import Job, JobResult, StageRunner

CLEAN = "def add(a, b):\n    return a + b\n"
BROKEN = "def add(a, b):\n    return a +\n"

Behaviour = Callable[["UpstreamHandler", dict[str, Any]], None]


def openai_answer(body: dict[str, Any], texts: list[str], chat: bool) -> dict[str, Any]:
    """``body['n']`` choices cycling through ``texts`` (chat answers fence them)."""
    choices = []
    for index in range(body.get("n", 1)):
        text = texts[index % len(texts)]
        choices.append({"index": index, "message": {"role": "assistant",
                                                    "content": f"```python\n{text}```"},
                        "finish_reason": "stop"} if chat else
                       {"index": index, "text": text, "finish_reason": "stop", "logprobs": None})
    return {"id": "cmpl-1", "object": "chat.completion" if chat else "text_completion",
            "created": 1, "model": "fake", "choices": choices}


def answers(*texts: str) -> Behaviour:
    def behave(handler: UpstreamHandler, body: dict[str, Any]) -> None:
        handler.send_json(200, openai_answer(body, list(texts),
                                             handler.path.endswith("/chat/completions")))
    return behave


@dataclass
class FakeUpstream:
    """What the upstream does per path; what it saw (bodies, client ports, bytes sent)."""

    url: str = ""
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = field(default_factory=lambda: answers(BROKEN, CLEAN))
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    client_ports: list[int] = field(default_factory=list)
    bytes_sent: int = 0
    closed_by_client: list[float] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def behaviour(self, path: str) -> Behaviour:
        return self.behaviours.get(path, self.default)


class UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: FakeUpstream

    def do_GET(self) -> None:
        self.answer({})

    def do_POST(self) -> None:
        self.answer(json.loads(self.rfile.read(int(self.headers["content-length"]))))

    def answer(self, body: dict[str, Any]) -> None:
        path = self.path.split("?")[0]
        self.upstream.paths.append(path)
        self.upstream.bodies.append(body)
        self.upstream.client_ports.append(self.client_address[1])
        try:
            self.upstream.behaviour(path)(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_json(self, status: int, payload: object, headers: dict[str, str] | None = None
                  ) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), headers)

    def send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None
                   ) -> None:
        self.send_response(status)
        for key, value in {"content-type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.write(data)

    def write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        self.upstream.bytes_sent += len(data)

    def hang_until_released_or_closed(self, seconds: float) -> None:
        """Send nothing until released (then an empty answer); note when the proxy closes
        the connection (it gave up)."""
        self.connection.settimeout(0.05)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.upstream.release.is_set():
            try:
                if self.connection.recv(1, socket.MSG_PEEK) == b"":
                    self.upstream.closed_by_client.append(time.monotonic())
                    self.close_connection = True
                    return
            except TimeoutError:
                continue
            except OSError:
                self.upstream.closed_by_client.append(time.monotonic())
                self.close_connection = True
                return
        self.connection.settimeout(None)
        self.send_bytes(200, b"")

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    handler = type("Handler", (UpstreamHandler,), {"upstream": upstream})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    upstream.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield upstream
    finally:
        upstream.release.set()
        server.shutdown()
        server.server_close()


class InlinePool:
    """The worker pool's interface over one in-process :class:`StageRunner` (real stages)."""

    def __init__(self) -> None:
        self.runner = StageRunner(("python",))
        self.lock = threading.Lock()

    async def start(self) -> None:
        return None

    def ready(self) -> bool:
        return True

    async def run(self, job: Job, deadline_seconds: float) -> JobResult:
        return await asyncio.to_thread(self._run, job)

    def _run(self, job: Job) -> JobResult:
        result = JobResult()
        with self.lock:
            for stage, candidates in self.runner.stages(job):
                result.candidates = candidates
                result.completed.append(stage)
        return result

    def close(self) -> None:
        """The app closes its pool on shutdown; this one outlives each app (closed by
        :meth:`shut`), so that every test does not rebuild the analyzers."""

    def shut(self) -> None:
        self.runner.close()


@contextmanager
def serve_proxy(pool: InlinePool, upstream_url: str | None, **settings: Any
                ) -> Iterator[str]:
    """FRANC's app with ``settings`` in uvicorn on a free loopback port; yields its URL."""
    overrides = {"upstream_url": upstream_url, "languages": ["python"], **settings}
    config = load_config(overrides=overrides, environ={})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config, pool=pool),  # type: ignore[arg-type]
                                           host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
