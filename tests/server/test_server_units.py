from __future__ import annotations

import gc
import os
import time
import weakref
from pathlib import Path

import pytest
from pydantic import ValidationError

from franc.analysis.pylint_tool import PylintAnalyzer
from franc.errors import InputError
from franc.models import Candidate
from franc.server.app import RankerCache
from franc.server.config import load_config
from franc.server.engine import (
    JAVA_WARM_UP_CANDIDATES,
    Job,
    JobResult,
    StageRunner,
    example_jobs,
    freeze_warm_heap,
    merge,
)
from franc.server.limits import RequestRejected, check_candidates, nesting_depth
from franc.server.proxy import chat_prompt, forwarded_body, guess_language
from franc.server.schemas import CompletionRequest


def test_loopback_needs_no_token_but_other_addresses_do() -> None:
    assert load_config(environ={}).host == "127.0.0.1"
    with pytest.raises(InputError, match="FRANC_API_TOKEN"):
        load_config(overrides={"host": "0.0.0.0"}, environ={})
    config = load_config(overrides={"host": "0.0.0.0"}, environ={"FRANC_API_TOKEN": "s3cret"})
    assert config.api_token == "s3cret"


def test_config_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "franc.toml"
    path.write_text('[server]\nport = 9000\nmax_candidates = 5\n')
    config = load_config(path, environ={"FRANC_PORT": "9100"})
    assert (config.port, config.max_candidates) == (9100, 5)
    path.write_text("port = [")
    with pytest.raises(InputError, match=r"franc\.toml"):
        load_config(path, environ={})
    with pytest.raises(InputError, match="bad server setting"):
        load_config(overrides={"port": -1}, environ={})


def test_nesting_depth() -> None:
    assert nesting_depth("f(a[1], {2: (3)})") == 3
    assert nesting_depth(")))(") == 1


@pytest.mark.parametrize(("candidates", "field", "status"), [
    (["x"] * 65, "candidates", 413),
    (["ok", "a" * 100_001], "candidates.1", 413),
    (["ok", "bad\x00byte"], "candidates.1", 422),
    (["(" * 300 + ")" * 300], "candidates.0", 422),
    (["\ud800"], "candidates.0", 422),
])
def test_limits_name_the_field(candidates: list[str], field: str, status: int) -> None:
    with pytest.raises(RequestRejected) as caught:
        check_candidates("", candidates, load_config(environ={}))
    assert (caught.value.field, caught.value.status) == (field, status)


def test_guess_language() -> None:
    assert guess_language("def f(x):\n    return x\n") == "python"
    assert guess_language("public class A {\n  int f() { return 1; }\n}") == "java"


def test_forwarded_body_drops_franc_fields_and_unwraps_the_prompt() -> None:
    body = CompletionRequest(prompt=["p"], n=2, franc_language="python", max_tokens=9)
    assert forwarded_body(body) == {"prompt": "p", "n": 2, "max_tokens": 9}
    with pytest.raises(ValidationError, match="prompt"):
        CompletionRequest(prompt=["a", "b"])


def test_chat_prompt_takes_the_users_code_block() -> None:
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "Fix:\n```python\ndef f():\n    pass\n```\n"}]
    assert chat_prompt(messages) == "def f():\n    pass\n"
    assert chat_prompt([{"role": "user", "content": "no code"}]) == ""


def test_a_split_job_keeps_indexes_and_merges_in_order() -> None:
    job = Job(language="python", prompt="", candidates=tuple("abcdefghij"))
    parts = job.split(3)
    assert [p.candidates for p in parts] == [tuple("abcd"), tuple("efgh"), tuple("ij")]
    assert [p.first_index for p in parts] == [0, 4, 8]
    done = [JobResult(candidates=[Candidate("t", p.first_index + i, c)
                                  for i, c in enumerate(p.candidates)],
                      completed=["filtered", "analyzed"]) for p in parts]
    done[2].completed = ["filtered"]
    done[2].partial = True
    done[2].notes = ["deadline"]
    merged = merge(done)
    assert [c.index for c in merged.candidates] == list(range(10))
    assert (merged.completed, merged.partial, merged.notes) == (["filtered"], True, ["deadline"])


def test_rankers_are_cached_until_their_policy_file_changes(tmp_path: Path) -> None:
    policy = tmp_path / "mine.toml"
    policy.write_text('kind = "original"\n')
    cache = RankerCache()
    first = cache.get(str(policy), "python")
    assert cache.get(str(policy), "python") is first
    assert cache.get(str(policy), "java") is not first  # rankers are per language
    policy.write_text('kind = "franc"\n')
    os.utime(policy, ns=(time.time_ns(), policy.stat().st_mtime_ns + 1_000_000))
    edited = cache.get(str(policy), "python")
    assert edited is not first
    assert edited.kind == "franc"
    cache.close()


def test_an_unknown_ranker_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nope"):
        RankerCache().get("nope", "python")


def test_a_worker_runs_one_jvm_shared_by_its_java_filter() -> None:
    runner = StageRunner(("java",))
    try:
        job = Job(language="java", prompt="", candidates=(
            "class A {\n    int f() {\n        return 1;\n    }\n}\n",
            "class B {\n    int f() {\n    }\n}\n"))
        stages = dict(runner.stages(job))
        assert [c.compiles for c in stages["filtered"]] == [True, False]
        assert runner.filters["java"].compiler is runner.java_compiler
        assert runner.java_compiler is not None
        assert len(runner.java_compiler.jvm_pids()) == 1
    finally:
        runner.close()
    assert runner.java_compiler.jvm_pids() == []


@pytest.mark.parametrize("full", [True, False])
def test_a_worker_warms_its_analyzers_only_for_a_full_warm_up(monkeypatch: pytest.MonkeyPatch,
                                                              full: bool) -> None:
    calls: list[str] = []
    monkeypatch.setattr(PylintAnalyzer, "warm_up", lambda self: calls.append(self.id))
    runner = StageRunner(("python",))
    try:
        runner.warm_up(full=full)
    finally:
        runner.close()
    assert calls == (["pylint"] if full else [])


@pytest.mark.parametrize("full", [True, False])
def test_a_full_warm_up_lets_javac_see_a_few_hundred_example_units(full: bool) -> None:
    runner = StageRunner(("java",))
    checked: list[str] = []
    assert runner.java_compiler is not None
    real_check = runner.java_compiler.check

    def counting(units: list[str]) -> list:
        checked.extend(units)
        return real_check(units)

    runner.java_compiler.check = counting  # type: ignore[method-assign]
    try:
        runner.warm_up(full=full)
    finally:
        runner.close()
    examples = sum(len(job.candidates) for job in example_jobs("java"))
    assert examples > 0
    if full:  # most example candidates reach javac
        assert len(checked) >= JAVA_WARM_UP_CANDIDATES // 2
    else:
        assert 0 < len(checked) <= examples


def test_a_warm_heap_is_frozen_after_its_garbage_is_collected() -> None:
    class Node:
        pass

    kept, dropped = Node(), Node()
    kept.self = kept  # type: ignore[attr-defined]
    dropped.self = dropped  # type: ignore[attr-defined]
    garbage = weakref.ref(dropped)
    del dropped
    try:
        freeze_warm_heap()
        assert garbage() is None  # collected, not frozen for good
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())  # out of the collector's sight
    finally:
        gc.unfreeze()
    assert any(obj is kept for obj in gc.get_objects())
