"""The workers' findings cache: each distinct program analysed once, failures not kept."""

from __future__ import annotations

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
