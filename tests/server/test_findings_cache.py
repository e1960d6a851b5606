"""The workers' findings cache: each distinct program analysed once, failures not kept."""

from __future__ import annotations

import dataclasses

import pytest

from franc.analysis import Analyzers
from franc.models import Candidate, Finding, Task
from franc.server.findings_cache import CachingAnalyzers

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
