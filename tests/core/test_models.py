from __future__ import annotations

import re

import pytest

from franc.errors import InputError
from franc.models import (
    Candidate,
    Finding,
    PromptMatch,
    Task,
    check_language,
    match_prompt,
    prompt_line_span,
)


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


PROMPT = 'import os\n\n\ndef run(cmd):\n    """Run a shell command."""\n'
CODE = PROMPT + "    return os.system(cmd)\n"


def test_prompt_span_is_the_common_prefix_of_lines() -> None:
    assert prompt_line_span(PROMPT, CODE) == 5
    assert prompt_line_span(PROMPT, "def other():\n    pass\n") == 0
    assert prompt_line_span("", CODE) == 0


def test_prompt_span_tolerates_trimmed_blank_lines_and_trailing_spaces() -> None:
    assert prompt_line_span("\n\n" + PROMPT, CODE) == 5
    assert prompt_line_span(PROMPT.replace(":\n", ":  \n"), CODE) == 5


def test_prompt_span_counts_a_continued_last_line_as_generated() -> None:
    assert prompt_line_span("x = 1\ny = ", "x = 1\ny = compute()\n") == 1
    assert prompt_line_span("def f():\n    ", "def f():\n    return 1\n") == 1


def test_prompt_span_survives_json_and_old_lines_load_without_it() -> None:
    candidate = Candidate(task_id="t", index=0, code=CODE, prompt_span=2)
    assert candidate.to_json()["prompt_span"] == 2
    assert Candidate.from_json(candidate.to_json()).prompt_span == 2
    old = {key: value for key, value in candidate.to_json().items() if key != "prompt_span"}
    assert Candidate.from_json(old).prompt_span is None
    with pytest.raises(InputError, match="prompt_span"):
        Candidate.from_json({**old, "prompt_span": "2"})


def test_prompt_line_count_reads_the_recorded_span_else_derives_it() -> None:
    task = Task(task_id="t", prompt=PROMPT, language="python")
    assert Candidate("t", 0, CODE, prompt_span=2).prompt_line_count(task) == 2
    # Not through the filter: derived from the task's prompt; nothing without a task or
    # for an instruction (never merged into the code).
    assert Candidate("t", 0, CODE).prompt_line_count(task) == 5
    assert Candidate("t", 0, CODE).prompt_line_count(None) == 0
    assert Candidate("t", 0, CODE, prompt_kind="instruction").prompt_line_count(task) == 0



def test_match_prompt_ends_after_the_whole_repeated_prompt() -> None:
    assert match_prompt(PROMPT, CODE) == PromptMatch(lines=5, end=len(PROMPT.rstrip()))
    # Leading blank lines, trailing spaces and the prompt's trailing blank lines may differ.
    padded = "\n" + PROMPT.replace(":\n", ":  \n") + "\n\n"
    assert match_prompt(padded, CODE) == PromptMatch(lines=5, end=len(PROMPT.rstrip()))
    assert match_prompt(PROMPT, "\n\n" + CODE).end == 2 + len(PROMPT.rstrip())


def test_match_prompt_keeps_a_continued_last_line_whole_but_calls_it_generated() -> None:
    prompt, code = "x = 1\ny = ", "x = 1\ny = compute()\n"
    assert match_prompt(prompt, code) == PromptMatch(lines=1, end=len("x = 1\ny ="))


def test_match_prompt_has_no_end_unless_the_whole_prompt_is_repeated() -> None:
    assert match_prompt(PROMPT, PROMPT.replace("Run", "Execute") + "    pass\n") == \
        PromptMatch(lines=4, end=0)
    assert match_prompt(PROMPT, "import os\n") == PromptMatch(lines=1, end=0)
    assert match_prompt(PROMPT, "    " + CODE) == PromptMatch(lines=0, end=0)  # indentation counts
    assert match_prompt("", CODE) == match_prompt("\n  \n", CODE) == PromptMatch(lines=0, end=0)
