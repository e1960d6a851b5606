from __future__ import annotations

import asyncio
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
from franc.server import engine
from franc.server.config import ServerConfig, load_config
from franc.server.engine import (
    JAVA_WARM_UP_CANDIDATES,
    Job,
    JobResult,
    Progress,
    RestartBudget,
    StageRunner,
    collect_between_jobs,
    example_jobs,
    freeze_warm_heap,
    merge,
)
from franc.server.limits import RequestRejected, check_candidates, nesting_depth
from franc.server.proxy import chat_prompt, forwarded_body, guess_language
from franc.server.schemas import CompletionRequest
from franc.server.service import (
    RankerCache,
    ServerState,
    entry_point_of,
    executes_code,
    resolve_ranker,
)


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
    (["ok", "x = '\udfff'"], "candidates.1", 422),
])
def test_limits_name_the_field(candidates: list[str], field: str, status: int) -> None:
    with pytest.raises(RequestRejected) as caught:
        check_candidates("", candidates, load_config(environ={}))
    assert (caught.value.field, caught.value.status) == (field, status)


def test_limits_accept_ordinary_unicode_and_balanced_deep_code() -> None:
    config = load_config(environ={})
    check_candidates("", ["s = '\U0001F600 \u00e9\ufffd'\n", "(" * 200 + ")" * 200], config)


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
    assert [p.candidates for p in parts] == [tuple("adgj"), tuple("beh"), tuple("cfi")]
    assert [p.indexes for p in parts] == [(0, 3, 6, 9), (1, 4, 7), (2, 5, 8)]
    done = [JobResult(candidates=[Candidate("t", i, c)
                                  for i, c in zip(p.positions, p.candidates, strict=True)],
                      completed=["filtered", "analyzed"]) for p in parts]
    done[2].completed = ["filtered"]
    done[2].partial = True
    done[2].notes = ["deadline"]
    merged = merge(done)
    assert [c.index for c in merged.candidates] == list(range(10))
    assert (merged.completed, merged.partial, merged.notes) == (["filtered"], True, ["deadline"])


def test_a_split_job_balances_the_candidates_length_not_their_count() -> None:
    long, short = "x" * 900, "y" * 100
    job = Job(language="python", prompt="", candidates=(long, long, short, short, short, short))
    parts = job.split(2)
    assert [p.indexes for p in parts] == [(0, 2, 4), (1, 3, 5)]
    assert [sum(map(len, p.candidates)) for p in parts] == [1100, 1100]
    assert job.split(4)[0].indexes == (0,)  # never more parts than asked for, none empty
    assert len(Job(language="python", prompt="", candidates=("a",)).split(2)) == 1


def test_rankers_are_cached_until_their_policy_file_changes(tmp_path: Path) -> None:
    policy = tmp_path / "mine.toml"
    policy.write_text('kind = "original"\n')
    cache = RankerCache(tmp_path)
    first = cache.get("mine", "python")
    assert cache.get("mine", "python") is first
    assert cache.get("mine", "java") is not first  # rankers are per language
    policy.write_text('kind = "franc"\n')
    os.utime(policy, ns=(time.time_ns(), policy.stat().st_mtime_ns + 1_000_000))
    edited = cache.get("mine", "python")
    assert edited is not first
    assert edited.kind == "franc"
    assert {"mine", "quality", "examples"} <= set(cache.names())
    cache.close()


def test_an_unknown_ranker_is_a_422_naming_the_field() -> None:
    with pytest.raises(RequestRejected, match="unknown ranker 'nope'") as caught:
        RankerCache().get("nope", "python")
    assert (caught.value.status, caught.value.field) == (422, "ranker")


@pytest.mark.parametrize("name", ["/etc/passwd", "/etc/no-such-file", "../../../etc/passwd",
                                  "quality.toml", "rankers/quality", "", "a" * 65])
def test_a_ranker_over_http_is_a_name_never_a_path(name: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        RankerCache().get(name, "python")
    # The same answer whether the file exists or not, and nothing read from it.
    assert caught.value.status == 422
    assert caught.value.message.startswith("unknown ranker")
    assert "root:" not in caught.value.message


@pytest.mark.parametrize("policy", [
    '[{"kind": "original"}]',                       # a JSON list
    '{"kind": "chain", "rankers": ["SELF"]}',       # a chain that includes itself
    '{"kind": "weighted", "weights": {"beauty": 1}}',
    '{"kind": ',                                    # not JSON at all
])
def test_every_policy_error_is_a_422_that_shows_no_path_or_content(tmp_path: Path,
                                                                   policy: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(policy.replace("SELF", str(path)))
    with pytest.raises(RequestRejected) as caught:
        RankerCache(tmp_path).get("bad", "python")
    assert caught.value.status == 422
    assert caught.value.message == "ranker 'bad' has an invalid policy (the server log says why)"


def test_a_huge_policy_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "huge.toml").write_text('kind = "original"\n' + "#" * 2_000_000)
    with pytest.raises(RequestRejected, match="invalid policy"):
        RankerCache(tmp_path).get("huge", "python")


def test_the_examples_gate_looks_at_what_a_ranker_does_not_its_name(tmp_path: Path) -> None:
    shipped = RankerCache()
    (tmp_path / "innocent.toml").write_text(
        (Path(engine.__file__).parents[2] / "rankers" / "examples.toml").read_text())
    (tmp_path / "nested.toml").write_text(
        f'kind = "fusion"\nrankers = ["quality", "{tmp_path / "innocent.toml"}"]\n')
    cache = RankerCache(tmp_path)
    assert executes_code(shipped.get("examples", "python"))
    assert executes_code(shipped.get("behaviour", "python"))
    assert not executes_code(shipped.get("quality", "python"))
    assert executes_code(cache.get("innocent", "python"))
    assert executes_code(cache.get("nested", "python"))
    state = ServerState(config=ServerConfig(), pool=None, rankers=cache)  # type: ignore[arg-type]
    for name in ("innocent", "nested", "examples", "behaviour"):
        with pytest.raises(RequestRejected, match="executes candidate code"):
            asyncio.run(resolve_ranker(name, state, "python"))
    assert asyncio.run(resolve_ranker("quality", state, "python"))[0] == "quality"


def test_the_entry_point_is_the_prompts_last_def() -> None:
    prompt = "def helper(x):\n    return x\n\n\ndef solve(a, b):\n    \"\"\"Doc.\"\"\"\n"
    assert entry_point_of(prompt, "python") == "solve"
    assert entry_point_of("x = 1\n", "python") is None
    assert entry_point_of("class A { void f() {} }", "java") is None


def test_a_client_deadline_has_a_floor_and_a_ceiling() -> None:
    state = ServerState(config=ServerConfig(deadline_seconds=5.0, min_deadline_ms=100),
                        pool=None)  # type: ignore[arg-type]
    assert state.deadline(1) == pytest.approx(0.1)
    assert state.deadline(2000) == pytest.approx(2.0)
    assert state.deadline(60_000) == pytest.approx(5.0)
    assert state.deadline(None) == pytest.approx(5.0)


def test_worker_restarts_are_limited_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []
    monkeypatch.setattr(engine.time, "sleep", waited.append)
    budget = RestartBudget(per_minute=2)
    for _ in range(4):
        budget.wait_turn()
    assert waited[:2] == [0.0, 0.0]
    assert waited[2] == pytest.approx(60.0, abs=1.0)
    assert waited[3] == pytest.approx(60.0, abs=1.0)


def test_a_late_job_answers_with_the_stages_done_so_far() -> None:
    job = Job(language="python", prompt="", candidates=("x = 1\n",))
    progress = Progress()
    filtered = [Candidate("request", 0, "x = 1\n", compiles=True)]
    progress.add("filtered", filtered)
    late = progress.snapshot(finished=False, job=job)
    assert (late.completed, late.partial) == (["filtered"], True)
    assert late.notes == ["deadline reached after stage(s): filtered"]
    # The worker skipped analysis because the deadline had passed: partial too.
    assert progress.snapshot(finished=True, job=job).partial
    progress.add("analyzed", filtered)
    done = progress.snapshot(finished=True, job=job)
    assert (done.completed, done.partial, done.notes) == (["filtered", "analyzed"], False, [])


def test_a_worker_skips_the_stages_after_an_expired_deadline() -> None:
    runner = StageRunner(("python",))
    try:
        job = Job(language="python", prompt="", candidates=("x = 1\n",),
                  deadline=time.monotonic() - 1)
        assert [stage for stage, _ in runner.stages(job)] == ["filtered"]
        live = Job(language="python", prompt="", candidates=("x = 1\n",),
                   deadline=time.monotonic() + 60)
        assert [stage for stage, _ in runner.stages(live)] == ["filtered", "analyzed"]
    finally:
        runner.close()


def test_a_worker_runs_one_jvm_shared_by_its_java_filter() -> None:
    runner = StageRunner(("java",))
    try:
        job = Job(language="java", prompt="", candidates=(
            "class A {\n    int f() {\n        return 1;\n    }\n}\n",
            "class B {\n    int f() {\n    }\n}\n"))
        stages = dict(runner.stages(job))
        assert [c.compiles for c in stages["filtered"]] == [True, False]
        assert runner.warm["java"].filter.compiler is runner.java_compiler  # type: ignore[attr-defined]
        assert runner.java_compiler is not None
        assert len(runner.java_compiler.jvm_pids()) == 1
    finally:
        runner.close()
    assert runner.java_compiler.jvm_pids() == []


def units_sent_to_javac(runner: StageRunner) -> list[str]:
    """The list that collects every unit ``runner``'s warm javac checks from now on."""
    checked: list[str] = []
    compiler = runner.java_compiler
    assert compiler is not None
    real_check = compiler.check

    def counting(units: list[str]) -> list:
        checked.extend(units)
        return real_check(units)

    compiler.check = counting  # type: ignore[method-assign]
    return checked


def test_a_worker_filters_a_repeated_request_without_javac() -> None:
    runner = StageRunner(("java",))
    checked = units_sent_to_javac(runner)
    job = Job(language="java", prompt="", candidates=(
        "class A {\n    int f() {\n        return 1;\n    }\n}\n",
        "class B {\n    int f() {\n    }\n}\n"))
    try:
        first = dict(runner.stages(job))["analyzed"]
        units = len(checked)
        again = dict(runner.stages(job))["analyzed"]
    finally:
        runner.close()
    assert units >= 1 and len(checked) == units
    assert [c.to_json() for c in again] == [c.to_json() for c in first]


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
    checked = units_sent_to_javac(runner)
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


class Cycle:
    """An object in a reference cycle with itself: only a collection frees it."""

    def __init__(self) -> None:
        self.itself = self


def test_a_warm_heap_is_frozen_after_its_garbage_is_collected() -> None:
    kept, garbage = Cycle(), weakref.ref(Cycle())
    try:
        freeze_warm_heap()
        assert garbage() is None  # collected, not frozen for good
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())  # out of the collector's sight
    finally:
        gc.unfreeze()
    assert any(obj is kept for obj in gc.get_objects())


def test_between_jobs_a_worker_frees_the_jobs_cyclic_garbage_and_keeps_the_living() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # only the call below may collect
    try:
        kept, garbage = Cycle(), weakref.ref(Cycle())
        assert garbage() is not None  # reference counts alone never free a cycle
        collect_between_jobs()
        assert garbage() is None
        assert kept.itself is kept
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize(("counts", "generation"), [
    ((40_000, 3, 95), 0),  # most jobs: the young generation only
    ((40_000, 9, 5), 1),  # the tenth young collection: the middle one too
    ((40_000, 9, 9), 1),  # a full one is due at the collector's rate, not yet at a tenth of it
    ((40_000, 9, 99), 2),
])
def test_between_jobs_older_generations_are_collected_only_when_due(
        monkeypatch: pytest.MonkeyPatch, counts: tuple[int, int, int], generation: int) -> None:
    collected: list[int] = []
    monkeypatch.setattr(engine.gc, "get_count", lambda: counts)
    monkeypatch.setattr(engine.gc, "get_threshold", lambda: (50_000, 10, 10))
    monkeypatch.setattr(engine.gc, "collect", collected.append)
    collect_between_jobs()
    assert collected == [generation]


def test_a_workers_repair_pipelines_share_its_warm_stages() -> None:
    from franc.policy import SUFFIXES
    from franc.server.engine import RepairSpec

    policy = RankerCache().path_of("quality")
    assert policy.suffix in SUFFIXES["rankers"]
    runner = StageRunner(("python",), generator="openai:http://127.0.0.1:9")
    try:
        spec = RepairSpec(template="chat", max_rounds=1, ranker=str(policy),
                          ranker_version=policy.stat().st_mtime_ns)
        pipeline = runner.pipeline("python", spec)
        warm = runner.warm["python"]
        assert pipeline.filter is warm.filter and pipeline.analyzers is warm.analyzers
        assert runner.pipeline("python", spec) is pipeline  # built once
        edited = RepairSpec(template="chat", max_rounds=2, ranker=str(policy),
                            ranker_version=spec.ranker_version + 1)
        rebuilt = runner.pipeline("python", edited)
        assert rebuilt is not pipeline and rebuilt.filter is warm.filter
        assert rebuilt.max_rounds == 2
    finally:
        runner.close()
