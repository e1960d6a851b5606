"""/v1/filter, /v1/rank and the proxy state whether the prompt was read as an instruction."""

from __future__ import annotations

import httpx

SENTENCE = "Write a function that reverses a string."
ANSWERS = ["def reverse(s):\n    return s[::-1]\n",
           "```python\ndef reverse(s: str) -> str:\n    return s[::-1]\n```\n"]


def post(url: str, path: str, body: object) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=120)


def test_filter_and_rank_report_an_instruction_prompt(server_url: str) -> None:
    for path in ("/v1/filter", "/v1/rank"):
        reply = post(server_url, path, {"language": "python", "prompt": SENTENCE,
                                        "candidates": ANSWERS})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["prompt_kind"] == "instruction"
        assert all(c["compiles"] and SENTENCE not in c["code"] for c in body["candidates"])
        assert all("prompt_kind" not in c for c in body["candidates"])  # stated once


def test_rank_reports_a_code_prompt(server_url: str) -> None:
    body = post(server_url, "/v1/rank", {"language": "python", "prompt": "def add(a, b):\n",
                                         "candidates": ["    return a + b\n"]}).json()
    assert body["prompt_kind"] == "code"
    assert body["candidates"][0]["code"] == "def add(a, b):\n    return a + b\n"


def test_proxy_reports_an_instruction_prompt(server_url: str) -> None:
    reply = post(server_url, "/v1/completions",
                 {"model": "stub", "prompt": SENTENCE, "n": 1, "max_tokens": 64,
                  "franc_language": "python"})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["franc"]["prompt_kind"] == "instruction"
    assert SENTENCE not in answer["choices"][0]["franc"]["code"]
