from __future__ import annotations

import re

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


@pytest.mark.parametrize(("row", "message"), [
    ({"heuristics": "extract-code-block"}, "field 'heuristics' must be list[str], got a string"),
    ({"errors": [1]}, "field 'errors' must be list[str], got a list"),
    ({"index": True}, "field 'index' must be int, got a boolean"),
    ({"compiles": "yes"}, "field 'compiles' must be bool"),
    ({"exec_status": "ok"}, "must be one of 'passed', 'failed', 'error', 'timeout' or null"),
    ({"score_parts": {"a": "high"}}, "field 'score_parts' must be dict[str, float]"),
    ({"findings": "none"}, "field 'findings' must be list[Finding] | None"),
    ({"findings": [{"tool": "b"}]}, "findings[0]: missing field 'rule_id'"),
    ({"findings": [{"tool": "b", "rule_id": "B1", "message": "m", "severity": "critical",
                    "confidence": "low", "line": 1}]},
     "findings[0]: field 'severity' must be one of 'low', 'medium', 'high', got"),
])
def test_from_json_names_a_field_of_the_wrong_shape(row: dict, message: str) -> None:
    data = {"task_id": "t", "index": 0, "code": "x = 1\n", **row}
    with pytest.raises(InputError, match=rf"in\.jsonl:3: .*{re.escape(message)}"):
        Candidate.from_json(data, source="in.jsonl", line=3)


def test_from_json_accepts_the_shapes_the_stages_write() -> None:
    data = {"task_id": "t", "index": 0, "code": "x", "heuristics": [], "compiles": True,
            "errors": [], "findings": [], "label": None, "score": 1, "score_parts": {"a": 0.5},
            "exec_status": "passed", "unknown_extra_field": [1, 2]}
    candidate = Candidate.from_json(data)
    assert candidate.score == 1 and candidate.exec_status == "passed"
