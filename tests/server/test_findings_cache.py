"""The workers' findings cache: each distinct program analysed once, failures not kept."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fake_upstream import InlinePool, serve_proxy

from franc.analysis import Analyzers
from franc.models import Candidate, Finding, Task
from franc.server.engine import Job, JobResult, RepairSpec
from franc.server.findings_cache import CANDIDATE_CACHE_CHARS, CachingAnalyzers
from franc.server.service import AnswerCache

INSECURE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
CLEAN = "def add(a, b):\n    return a + b\n"


def candidates(*codes: str) -> list[Candidate]:
    return [Candidate("t", i, code, compiles=True) for i, code in enumerate(codes)]


def test_each_distinct_program_is_analysed_once_with_the_same_findings() -> None:
    task = {"t": Task("t", "", "python")}
    with Analyzers("python") as plain, CachingAnalyzers("python") as caching:
        expected = plain.run(candidates(INSECURE, CLEAN, INSECURE), task)
        first = caching.run(candidates(INSECURE, CLEAN, INSECURE), task)
        assert (caching.analysed, caching.reused) == (2, 1)
        again = caching.run(candidates(CLEAN, INSECURE), task)
        assert (caching.analysed, caching.reused) == (2, 3)
    assert [c.findings for c in first] == [c.findings for c in expected]
    assert [c.findings for c in again] == [expected[1].findings, expected[0].findings]
    assert any(f.cwe == 78 for f in first[2].findings or [])


def test_the_prompt_lines_are_worked_out_per_request_not_cached() -> None:
    with CachingAnalyzers("python") as caching:
        [alone] = caching.run(candidates(INSECURE), {"t": Task("t", "", "python")})
        [prompted] = caching.run(candidates(INSECURE), {"t": Task("t", INSECURE, "python")})
    assert not any(f.in_prompt for f in alone.findings or [])
    assert all(f.in_prompt for f in prompted.findings or [])


def test_an_analyzer_failure_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def failing(self: Analyzers, codes: list[str]) -> list[list[Finding]]:
        calls.append(len(codes))
        return [[Finding.failure("pylint", "timed out")] for _ in codes]

    with CachingAnalyzers("python", size=2) as caching:
        monkeypatch.setattr(Analyzers, "findings", failing)
        caching.findings([CLEAN])
        caching.findings([CLEAN])
    assert calls == [1, 1]


def test_the_cache_keeps_only_the_latest_codes() -> None:
    with CachingAnalyzers("python", size=2) as caching:
        for code in ("a = 1\n", "b = 2\n", "c = 3\n", "a = 1\n"):
            caching.findings([code])
    assert (caching.analysed, caching.reused) == (4, 0)


class CountingFilter:
    """A plain static filter that counts the raw candidates it filtered."""

    def __init__(self, errors: list[str] | None = None) -> None:
        from franc.filter import StaticFilter

        self.inner = StaticFilter("python")
        self.errors = errors
        self.seen: list[str] = []

    def run_many(self, items: list[tuple[Task, int, str]]) -> list[Candidate]:
        self.seen.extend(raw for _, _, raw in items)
        filtered = self.inner.run_many(items)
        if self.errors is not None:
            for candidate in filtered:
                candidate.compiles, candidate.errors = False, list(self.errors)
        return filtered


PROMPT = 'def add(a, b):\n    """Sum."""\n'


def test_each_distinct_raw_candidate_of_a_task_is_filtered_once() -> None:
    from franc.server.findings_cache import CachingFilter

    task = Task("request", PROMPT, "python", entry_point="add")
    raws = ["    return a + b\n", "    return a +\n", "    return a + b\n"]
    counting = CountingFilter()
    caching = CachingFilter(counting)
    expected = counting.inner.run_many([(task, i, raw) for i, raw in enumerate(raws)])
    first = caching.run_many([(task, i, raw) for i, raw in enumerate(raws)])
    again = caching.run_many([(dataclasses.replace(task, task_id="other"), 7, raws[1])])
    assert counting.seen == raws[:2]
    assert (caching.filtered, caching.reused) == (2, 2)
    assert [c.to_json() for c in first] == [c.to_json() for c in expected]
    assert (again[0].task_id, again[0].index, again[0].code) == ("other", 7, expected[1].code)
    first[0].errors.append("set by a later stage")  # answers are copies, not the cache's own
    assert caching.run_many([(task, 0, raws[0])])[0].errors == expected[0].errors


def test_another_prompt_filters_the_same_raw_candidate_again() -> None:
    from franc.server.findings_cache import CachingFilter

    counting = CountingFilter()
    caching = CachingFilter(counting)
    raw = "    return a + b\n"
    [merged] = caching.run_many([(Task("request", PROMPT, "python"), 0, raw)])
    [alone] = caching.run_many([(Task("request", "", "python"), 0, raw)])
    assert counting.seen == [raw, raw]
    assert merged.code.startswith("def add") and not alone.compiles


def test_a_candidate_the_compiler_could_not_judge_is_not_remembered() -> None:
    from franc.server.findings_cache import CachingFilter

    counting = CountingFilter(errors=["javac timed out after 20 s"])
    caching = CachingFilter(counting)
    for _ in range(2):
        caching.run_many([(Task("request", PROMPT, "python"), 0, "    return a + b\n")])
    assert len(counting.seen) == 2


# --- the server's answers: finished candidates of recent requests ---------------------------
def a_job(*raws: str, prompt: str = "def f(x):\n", **options: object) -> Job:
    return Job(language="python", prompt=prompt, candidates=raws, **options)  # type: ignore[arg-type]


def finished(job: Job, *, partial: bool = False, failing: int | None = None) -> JobResult:
    """What a worker answers for ``job``: each raw candidate filtered to itself and analysed
    (the one at ``failing`` with an analyzer failure)."""
    candidates = [Candidate(job.task_id, position, raw, compiles=True,
                            findings=[Finding.failure("pylint", "timed out")]
                            if position == failing else [])
                  for position, raw in zip(job.positions, job.candidates, strict=True)]
    return JobResult(candidates=candidates, completed=["filtered", "analyzed"], partial=partial)


def test_a_repeated_candidate_is_answered_without_a_worker_at_its_new_position() -> None:
    answers = AnswerCache()
    first = a_job("    return 1\n", "    return 2\n")
    assert answers.answer(first) == ([], first)
    answers.keep(first, finished(first))
    answered, unknown = answers.answer(a_job("    return 3\n", "    return 2\n"))
    assert unknown is not None
    assert (unknown.candidates, unknown.positions) == (("    return 3\n",), (0,))
    assert [(c.code, c.index) for c in answered] == [("    return 2\n", 1)]


def test_each_answer_is_its_own_copy() -> None:
    answers = AnswerCache()
    job = a_job("    return 1\n")
    answers.keep(job, finished(job))
    [given], _ = answers.answer(job)
    given.score, given.rank = 9.0, 1
    assert given.findings is not None
    given.findings.append(Finding.failure("bandit", "changed by a ranker"))
    [again], unknown = answers.answer(job)
    assert unknown is None
    assert (again.score, again.rank, again.findings) == (None, None, [])


def test_what_a_candidate_depends_on_is_all_in_its_key() -> None:
    answers = AnswerCache()
    job = a_job("    return 1\n")
    answers.keep(job, finished(job))
    for other in (a_job("    return 1\n", prompt="def g(x):\n"),
                  a_job("    return 1\n", analyze=False),
                  a_job("    return 1\n", analyzers=("bandit",)),
                  a_job("    return 1\n", entry_point="g")):
        assert answers.answer(other) == ([], other)
    assert answers.answer(a_job("    return 1\n", task_id="another label"))[1] is None


def test_cut_short_failed_and_repair_results_are_not_kept() -> None:
    answers = AnswerCache()
    job = a_job("    return 1\n", "    return 2\n")
    answers.keep(job, finished(job, partial=True))
    answers.keep(job, finished(job, failing=0))
    answered, unknown = answers.answer(job)
    assert [c.index for c in answered] == [1]  # the analyzer failure gets another try
    assert unknown is not None and unknown.positions == (0,)
    repair = a_job("    return 2\n", repair=RepairSpec("P1", 1, "quality.toml", 0))
    answers.keep(repair, finished(repair))
    assert answers.answer(repair) == ([], repair)


class CountingPool(InlinePool):
    """The real stages in-process, recording the raw candidates of each job they run."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[tuple[str, ...]] = []

    async def run(self, job: Job, deadline_seconds: float) -> JobResult:
        self.jobs.append(job.candidates)
        return await super().run(job, deadline_seconds)


def test_the_server_answers_a_repeated_request_without_its_workers() -> None:
    prompt = 'def add(a, b):\n    """Return the sum of a and b."""\n'
    raws = ["    return a + b\n",
            "    import subprocess\n    subprocess.call('echo %s' % a, shell=True)\n"
            "    return a + b\n"]
    pool = CountingPool()
    try:
        with serve_proxy(pool, None) as url:
            def rank(candidates: list[str]) -> dict:
                reply = httpx.post(url + "/v1/rank", json={
                    "language": "python", "prompt": prompt, "candidates": candidates}, timeout=60)
                assert reply.status_code == 200, reply.text
                return reply.json()

            first, again = rank(raws), rank(raws)
            assert again == first
            assert [c["index"] for c in first["candidates"]] == [0, 1]  # the clean one first
            assert any(f["cwe"] == 78 for f in first["candidates"][1]["findings"])
            # A keystroke later: one new candidate, the insecure one at another position.
            edited = rank(["    return b + a\n", raws[1]])
            assert {c["index"] for c in edited["candidates"]} == {0, 1}
            moved = next(c for c in edited["candidates"] if c["index"] == 1)
            assert moved["findings"] == first["candidates"][1]["findings"]
    finally:
        pool.shut()
    assert pool.jobs == [tuple(raws), ("    return b + a\n",)]


def test_the_largest_candidates_allowed_cannot_fill_the_answers_memory() -> None:
    answers = AnswerCache()
    huge = "    return 1  # " + "x" * 100_000 + "\n"
    jobs = [a_job(huge + f"# {i}\n") for i in range(CANDIDATE_CACHE_CHARS // 100_000 + 10)]
    for job in jobs:
        answers.keep(job, finished(job))
    kept = sum(answers.answer(job)[1] is None for job in jobs)
    assert 0 < kept <= CANDIDATE_CACHE_CHARS // 100_000
    assert answers.answer(jobs[-1])[1] is None  # the newest are the ones kept
