"""End-to-end tests against a real server process on a loopback port."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from live_server import StubModel, start_server, stop_server

PROMPT = 'def add(a, b):\n    """Return the sum of a and b."""\n'
PYTHON_CANDIDATES = [
    PROMPT + "    return a +\n",                                         # truncated
    PROMPT + "    import subprocess\n    subprocess.call('echo %s' % a, shell=True)\n"
             "    return a + b\n",                                      # insecure
    PROMPT + "    return a + b\n\n\nprint(add(1, 2))\n",               # trailing junk
]
JAVA_PROMPT = "class Add {\n    public static int add(int a, int b) {\n"
JAVA_CANDIDATES = [
    "return a + b;\n    }\n}\n",
    "return a +\n",
    "int s = a + b;\n        return s;\n    }\n}\n",
]


def post(url: str, path: str, body: object, **kwargs: object) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=60, **kwargs)


def test_health_and_ready(server_url: str) -> None:
    assert httpx.get(server_url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server_url + "/readyz").json() == {"status": "ready"}


def test_rank_python_orders_best_first_with_request_indexes(server_url: str) -> None:
    reply = post(server_url, "/v1/rank", {"language": "python", "prompt": PROMPT,
                                         "candidates": PYTHON_CANDIDATES})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert not body["partial"]
    assert body["stages"] == ["filtered", "analyzed"]
    ranked = body["candidates"]
    assert sorted(c["index"] for c in ranked) == [0, 1, 2]
    assert ranked[0]["index"] == 2 and ranked[0]["compiles"]
    assert "print(add" not in ranked[0]["code"]
    insecure = next(c for c in ranked if c["index"] == 1)
    assert any(f["tool"] == "bandit" and f["cwe"] == 78 for f in insecure["findings"])
    scores = [c["score"] for c in ranked]
    assert scores == sorted(scores, reverse=True)
    for candidate in ranked:
        assert sum(candidate["score_parts"].values()) == pytest.approx(candidate["score"])


def test_rank_java(server_url: str) -> None:
    reply = post(server_url, "/v1/rank", {"language": "java", "prompt": JAVA_PROMPT,
                                         "candidates": JAVA_CANDIDATES})
    assert reply.status_code == 200, reply.text
    ranked = reply.json()["candidates"]
    assert ranked[0]["compiles"]
    assert {c["index"] for c in ranked if c["compiles"]} >= {0, 2}


def test_filter_keeps_request_order_and_skips_analysis(server_url: str) -> None:
    body = post(server_url, "/v1/filter", {"language": "python", "prompt": PROMPT,
                                          "candidates": PYTHON_CANDIDATES}).json()
    assert [c["index"] for c in body["candidates"]] == [0, 1, 2]
    assert body["stages"] == ["filtered"]
    assert all(c["findings"] is None for c in body["candidates"])


def test_analyze_adds_findings(server_url: str) -> None:
    body = post(server_url, "/v1/analyze", {"language": "python", "prompt": PROMPT,
                                           "candidates": PYTHON_CANDIDATES[1:2]}).json()
    assert body["candidates"][0]["findings"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"language": "cobol", "candidates": ["x"]}, 422, "language"),
    ({"language": "python", "candidates": [3]}, 422, "candidates.0"),
    ({"language": "python"}, 422, "candidates"),
    ({"language": "python", "candidates": []}, 422, "candidates"),
    ({"language": "python", "candidates": ["x"], "ranker": "nope"}, 422, "ranker"),
    ({"language": "python", "candidates": ["x"], "ranker": "examples"}, 422, "ranker"),
    ({"language": "python", "candidates": ["a\x00b"]}, 422, "candidates.0"),
    ({"language": "python", "candidates": ["x"] * 65}, 413, "candidates"),
    ({"language": "python", "candidates": ["[" * 500]}, 422, "candidates.0"),
    ({"language": "python", "candidates": ["x"], "surprise": 1}, 422, "surprise"),
])
def test_bad_requests_get_4xx_naming_the_field(server_url: str, body: dict, status: int,
                                                field: str) -> None:
    reply = post(server_url, "/v1/rank", body)
    assert reply.status_code == status, reply.text
    assert field in [detail["field"] for detail in reply.json()["details"]]


def test_malformed_and_non_utf8_bodies(server_url: str) -> None:
    for raw in (b"{not json", b'{"language": "python", "candidates": ["\xff\xfe"]}'):
        reply = httpx.post(server_url + "/v1/rank", content=raw,
                           headers={"content-type": "application/json"})
        assert reply.status_code in (400, 422), reply.text
        assert reply.json()["details"][0]["field"] == "body"


def test_oversized_body_is_refused(server_url: str) -> None:
    reply = httpx.post(server_url + "/v1/rank", content=b"x" * 2_000_001,
                       headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["details"][0]["field"] == "body"


def test_tiny_deadline_gives_a_partial_answer_and_keeps_the_worker_warm(server_url: str
                                                                        ) -> None:
    # Long bodies (the filter keeps every line: they are the target's own): analysing the
    # 8 takes about 1.5 s of CPU here, far beyond the server's deadline floor (100 ms) even
    # on a machine several times faster. Unused helper functions would not do: the filter
    # drops them, and what is left is analysed within the floor on a fast machine.
    body = "".join(f"    v{i} = [y * {i} for y in range(a)]\n" for i in range(100))
    started = time.monotonic()
    reply = post(server_url, "/v1/rank", {"language": "python", "prompt": PROMPT,
                                         "candidates": [PROMPT + body + f"    return a + b + {i}\n"
                                                        for i in range(8)],
                                         "options": {"deadline_ms": 1}})
    assert reply.status_code == 200
    assert reply.json()["partial"] is True
    assert time.monotonic() - started >= 0.1  # raised to the server's floor
    # The client's deadline killed no worker: the pool stays ready and the next request
    # (the worker finishes the late job first, then drops it) is complete.
    assert httpx.get(server_url + "/readyz").status_code == 200
    again = post(server_url, "/v1/rank", {"language": "python", "prompt": PROMPT,
                                         "candidates": PYTHON_CANDIDATES})
    assert again.json()["partial"] is False
    assert httpx.get(server_url + "/readyz").status_code == 200


@pytest.mark.parametrize("ranker", ["/etc/passwd", "/etc/no-such-file", "../../../etc/passwd",
                                    "/usr/lib/jvm"])
def test_a_ranker_path_is_refused_alike_whether_it_exists_or_not(server_url: str,
                                                                  ranker: str) -> None:
    started = time.monotonic()
    reply = post(server_url, "/v1/rank", {"language": "python", "candidates": ["x = 1\n"],
                                         "ranker": ranker})
    assert reply.status_code == 422
    assert reply.json()["details"] == [{"field": "ranker", "message": reply.json()["error"]}]
    assert reply.json()["error"].startswith(f"unknown ranker {ranker!r}: rankers are named")
    assert time.monotonic() - started < 10


def test_repair_asks_the_model_and_puts_a_clean_answer_first(server_url: str) -> None:
    insecure = PYTHON_CANDIDATES[1]
    reply = post(server_url, "/v1/repair", {"language": "python", "prompt": PROMPT,
                                           "candidates": [insecure], "template": "chat"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["notes"] == ["clean"]
    assert body["rounds"] and isinstance(body["rounds"][0]["prompt"], list)
    best = body["candidates"][0]
    assert best["index"] >= 1 and "subprocess" not in best["code"]
    assert body["judge"]


def test_repair_runs_in_a_worker_under_the_clients_deadline(server_url: str) -> None:
    # A long body (the filter keeps it whole, unlike helpers the target never calls) that
    # no earlier request analysed: the workers' findings cache cannot answer it in time.
    body = "".join(f"    part{i} = [y * {i} for y in range(a)]\n" for i in range(300))
    candidates = [PROMPT + f"    run = {uuid.uuid4().hex!r}\n" + body
                  + "    import os\n    os.system('ls')\n    return a + b\n"]
    reply = post(server_url, "/v1/repair", {"language": "python", "prompt": PROMPT,
                                           "candidates": candidates, "template": "chat",
                                           "options": {"deadline_ms": 1}})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["partial"] is True and body["rounds"] == []
    assert "repaired" not in body["stages"]
    assert httpx.get(server_url + "/readyz").status_code == 200


def test_repair_with_unknown_template_names_the_field(server_url: str) -> None:
    reply = post(server_url, "/v1/repair", {"language": "python", "candidates": ["x = 1\n"],
                                           "template": "nope"})
    assert reply.status_code == 422
    assert reply.json()["details"][0]["field"] == "template"


def test_listing_endpoints(server_url: str) -> None:
    rankers = httpx.get(server_url + "/v1/rankers").json()["names"]
    assert {"original", "franc", "quality"} <= set(rankers)
    assert "examples" not in rankers
    assert httpx.get(server_url + "/v1/templates").json()["names"]
    assert "/v1/rank" in httpx.get(server_url + "/openapi.json").json()["paths"]


def test_proxy_completions_answers_best_of_n(server_url: str) -> None:
    StubModel.requests.clear()
    reply = post(server_url, "/v1/completions",
                 {"model": "stub", "prompt": PROMPT, "n": 1, "max_tokens": 64,
                  "franc_language": "python"})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert StubModel.requests[-1]["n"] == 4
    assert "franc_language" not in StubModel.requests[-1]
    assert len(answer["choices"]) == 1
    best = answer["choices"][0]
    assert best["text"].rstrip() == "    return a + b"
    assert best["franc"]["compiles"] and best["franc"]["findings"] == []
    assert float(reply.headers["x-franc-added-latency-ms"]) >= 0


def test_proxy_chat_streaming_sends_chunks(server_url: str) -> None:
    reply = post(server_url, "/v1/chat/completions",
                 {"model": "stub", "n": 2, "stream": True,
                  "messages": [{"role": "user", "content": "write add(a, b) in python"}]})
    assert reply.status_code == 200
    events = [line for line in reply.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event[len("data: "):]) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk["choices"][0]["index"] for chunk in chunks} == {0, 1}
    best_last = [c for c in chunks if c["choices"][0]["index"] == 0][-1]["choices"][0]
    assert best_last["finish_reason"] == "stop" and best_last["franc"]["compiles"]


def test_token_is_required_when_configured(tmp_path: Path) -> None:
    process, url = start_server(tmp_path, env={"FRANC_API_TOKEN": "s3cret"})
    try:
        body = {"language": "python", "candidates": ["x = 1\n"]}
        assert post(url, "/v1/filter", body).status_code == 401
        assert post(url, "/v1/filter", body,
                    headers={"authorization": "Bearer wrong"}).status_code == 401
        ok = post(url, "/v1/filter", body, headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert httpx.get(url + "/healthz").status_code == 200
    finally:
        stop_server(process)


#: A candidate both analyzers flag: bandit (shell=True) and pylint (an unused variable).
FLAGGED = PROMPT + ("    import subprocess\n    unused = 1\n"
                    "    subprocess.call('echo %s' % a, shell=True)\n    return a + b\n")


def tools_of(reply: httpx.Response) -> set[str]:
    assert reply.status_code == 200, reply.text
    return {f["tool"] for c in reply.json()["candidates"] for f in c["findings"] or []}


def test_a_request_names_its_analyzers_and_the_default_is_all(server_url: str) -> None:
    body = {"language": "python", "prompt": PROMPT, "candidates": [FLAGGED]}
    assert tools_of(post(server_url, "/v1/analyze", body)) == {"bandit", "pylint"}
    assert tools_of(post(server_url, "/v1/analyze",
                         {**body, "options": {"analyzers": ["bandit"]}})) == {"bandit"}


def test_the_servers_default_analyzers_apply_unless_a_request_names_its_own(
        tmp_path: Path) -> None:
    process, url = start_server(tmp_path, 'analyzers = { python = ["bandit"] }\n')
    try:
        body = {"language": "python", "prompt": PROMPT, "candidates": [FLAGGED]}
        assert tools_of(post(url, "/v1/analyze", body)) == {"bandit"}
        assert tools_of(post(url, "/v1/analyze",
                             {**body, "options": {"analyzers": ["pylint"]}})) == {"pylint"}
    finally:
        stop_server(process)
