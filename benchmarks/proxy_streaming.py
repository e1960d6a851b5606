"""First-token latency of the OpenAI-compatible proxy when the client streams.

A local fake model generates ``--tokens`` tokens at ``--token-ms`` each (n answers in
parallel take as long as one, as on a batching server) and can stream them. Measured, as
medians over ``--rounds`` requests, each with ``stream: true`` on /v1/completions:

* the model directly (n=1): time to the first token, and to the last;
* through FRANC (``proxy_n`` answers ranked, the best one streamed): the same two times.

FRANC can only stream once it has ranked whole answers, so its first token comes after the
whole generation plus the ranking: that is the cost this script puts a number on.
Writes ``benchmarks/results/proxy_streaming.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from benchmarks.report import write_section
from tests.server.live_server import send_json, start_server, stop_server

PROMPT = 'def mean(values):\n    """Return the arithmetic mean of a list of numbers."""\n'
ANSWER = ("    if not values:\n        raise ValueError('mean of an empty list')\n"
          "    total = 0.0\n    for value in values:\n        total += value\n"
          "    return total / len(values)\n")


def tokens_of(text: str, count: int) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i:i + size] for i in range(0, len(text), size)]


def fake_model(tokens: int, token_seconds: float) -> type[BaseHTTPRequestHandler]:
    pieces = tokens_of(ANSWER, tokens)

    class Model(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if body.get("stream"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                started = time.monotonic()
                for number, piece in enumerate(pieces, 1):  # on a schedule, not drifting
                    time.sleep(max(0.0, started + number * token_seconds - time.monotonic()))
                    chunk = {"object": "text_completion",
                             "choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                return
            time.sleep(token_seconds * len(pieces))
            choices = [{"index": i, "text": ANSWER, "finish_reason": "stop"}
                       for i in range(body.get("n", 1))]
            send_json(self, {"object": "text_completion", "model": "fake", "choices": choices})

        def log_message(self, *args: object) -> None:
            return

    return Model


def first_and_last(url: str, body: dict) -> tuple[float, float]:
    """Seconds to the first streamed text and to ``[DONE]`` (for a request that does not
    stream, both are the time to the whole answer)."""
    started = time.perf_counter()
    if not body.get("stream"):
        httpx.post(url + "/v1/completions", json=body, timeout=120).raise_for_status()
        return (time.perf_counter() - started,) * 2
    first = None
    with httpx.stream("POST", url + "/v1/completions", json=body, timeout=120) as reply:
        reply.raise_for_status()
        for line in reply.iter_lines():
            if first is None and line.startswith("data: {") and json.loads(
                    line[len("data: "):])["choices"][0].get("text"):
                first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--token-ms", type=float, default=10.0)
    parser.add_argument("--proxy-n", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    model = ThreadingHTTPServer(("127.0.0.1", 0),
                                fake_model(args.tokens, args.token_ms / 1000))
    threading.Thread(target=model.serve_forever, daemon=True).start()
    model_url = f"http://127.0.0.1:{model.server_address[1]}"
    process, proxy_url = start_server(Path(tempfile.mkdtemp()),
                                      f'upstream_url = "{model_url}"\n'
                                      f"proxy_n = {args.proxy_n}\nlanguages = [\"python\"]\n",
                                      full_warm_up=True)
    body = {"model": "fake", "prompt": PROMPT, "max_tokens": args.tokens, "stream": True}
    paths = {"model directly, streamed, n=1": (model_url, body),
             f"model directly, not streamed, n={args.proxy_n}":
                 (model_url, {**body, "stream": False, "n": args.proxy_n}),
             f"FRANC, streamed, best of {args.proxy_n}": (proxy_url, body)}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    try:
        first_and_last(proxy_url, body)  # the first request pays one-off costs
        for _ in range(args.rounds):
            for name, (url, request) in paths.items():
                runs[name].append(first_and_last(url, request))
    finally:
        stop_server(process)
        model.shutdown()
    rows = [f"| {name} | {median_ms([r[0] for r in samples])} | "
            f"{median_ms([r[1] for r in samples])} |" for name, samples in runs.items()]
    text = "\n".join([
        f"Fake model: {args.tokens} tokens at {args.token_ms:g} ms each (n answers take as "
        "long as one); medians of "
        f"{args.rounds} streamed /v1/completions requests.", "",
        "| path | first token (ms) | last token (ms) |", "| --- | ---: | ---: |", *rows, "",
        "FRANC streams only once it has ranked whole answers: its first token comes after the "
        "whole generation of the n answers (second row) plus filtering, analysis and ranking "
        "(the difference between the third row and the second), where the model alone streams "
        "its first token after about one token's time."])
    write_section("proxy_streaming", "Proxy streaming: first-token latency", text)


if __name__ == "__main__":
    main()
