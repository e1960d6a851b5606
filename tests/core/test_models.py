from __future__ import annotations

import pytest

from franc.errors import InputError
from franc.models import Candidate, Finding, check_language


def test_filter_stage_json_has_exactly_the_filter_fields() -> None:
    candidate = Candidate(task_id="t/1", index=3, code="x = 1\n", heuristics=["h1"],
                          compiles=True, errors=[], prompt_kind="code")
    assert set(candidate.to_json()) == {"task_id", "index", "code", "heuristics", "compiles",
                                        "errors", "prompt_kind"}


def test_candidate_round_trips_with_findings() -> None:
    finding = Finding(tool="bandit", rule_id="B602", message="shell", severity="high",
                      confidence="high", line=3, cwe=78)
    candidate = Candidate(task_id="t", index=0, code="c", findings=[finding], label=2)
    again = Candidate.from_json(candidate.to_json())
    assert again == candidate
    assert again.findings == [finding]


def test_generated_findings_skip_prompt_lines() -> None:
    inside = Finding("bandit", "B1", "m", "low", "low", 1, in_prompt=True)
    outside = Finding("bandit", "B2", "m", "low", "low", 9)
    candidate = Candidate(task_id="t", index=0, code="", findings=[inside, outside])
    assert candidate.generated_findings() == [outside]


def test_from_json_names_the_line_on_bad_types() -> None:
    with pytest.raises(InputError, match=r"in\.jsonl:7"):
        Candidate.from_json({"task_id": "t", "index": 0, "code": 5}, source="in.jsonl", line=7)
    with pytest.raises(InputError, match="not a candidate"):
        Candidate.from_json({"task_id": "t"}, source="in.jsonl", line=2)


def test_check_language() -> None:
    assert check_language("java") == "java"
    with pytest.raises(InputError, match="unknown language 'cobol'"):
        check_language("cobol")
