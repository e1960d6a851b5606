"""Start a real FRANC server and a stub upstream model on free loopback ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import httpx

STUB_COMPLETIONS = [
    # The model's first answer runs on into junk; the third is the clean one.
    "    return a +\n",
    "    import os\n    os.system('echo ' + str(a))\n    return a + b\n",
    "    return a + b\n",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send_json(handler: BaseHTTPRequestHandler, payload: object) -> None:
    """Answer the request with ``payload`` as a whole JSON body (status 200)."""
    data = json.dumps(payload).encode()
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class StubModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible upstream that answers with fixed completions."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        StubModel.requests.append(body)
        chat = self.path.endswith("/chat/completions")
        choices = []
        for index in range(body.get("n", 1)):
            text = STUB_COMPLETIONS[index % len(STUB_COMPLETIONS)]
            content = f"```python\ndef add(a, b):\n{text}```"
            choice = ({"index": index, "message": {"role": "assistant", "content": content},
                       "finish_reason": "stop"} if chat else
                      {"index": index, "text": text, "finish_reason": "stop"})
            choices.append(choice)
        send_json(self, {"id": "x", "object": "chat.completion" if chat else "text_completion",
                         "model": "stub", "choices": choices})

    def log_message(self, *args: object) -> None:
        return


READY_SECONDS = 240.0  # a JVM start and the warm-up, on a loaded machine


def start_server(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None,
                 workers: int = 1, full_warm_up: bool = False, cwd: Path | None = None
                 ) -> tuple[subprocess.Popen, str]:
    """``franc serve`` in a subprocess with ``extra`` config lines; returns it and its URL.

    Tests start it without the full warm-up (a few CPU seconds per worker) unless they
    measure speed. ``cwd``: a folder holding another version of ``franc`` to serve."""
    port = free_port()
    config = tmp_path / "franc.toml"
    config.write_text(f"[server]\nport = {port}\nworkers = {workers}\n"
                      f"full_warm_up = {str(full_warm_up).lower()}\n{extra}")
    process = subprocess.Popen([sys.executable, "-m", "franc", "serve", "--config", str(config)],
                               env={**os.environ, **(env or {})}, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise RuntimeError(f"server exited: {stderr.decode()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"server did not become ready in {READY_SECONDS:g} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


