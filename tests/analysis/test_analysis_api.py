"""Analyzers/analyze: which candidates are analysed, in_prompt, names, skipped tools."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from franc.analysis import ANALYZERS, Analyzers, analyze
from franc.analysis.base import Analyzer
from franc.errors import InputError
from franc.models import Candidate, Finding, Task

PROMPT = 'import os\n\n\ndef run(cmd):\n    """Run a shell command."""\n'
CODE = PROMPT + "    return os.system(cmd)\n"


def test_run_marks_findings_on_prompt_lines() -> None:
    prompt = PROMPT.replace("cmd", "CMD")
    task = Task(task_id="t/0", prompt=prompt, language="python")
    candidate = Candidate(task_id="t/0", index=0, code=CODE.replace("cmd", "CMD"), compiles=True)
    (result,) = analyze("python", [candidate], {"t/0": task}, ["bandit", "pylint"])
    assert result is candidate
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule["B605"].in_prompt is False  # os.system on the generated line 6
    assert by_rule["invalid-name"].in_prompt is True  # `def run(CMD)` is the user's line 4
    assert [f.rule_id for f in result.generated_findings()] == ["B605"]


def test_run_reads_the_span_the_filter_recorded() -> None:
    # Re-deriving the span from the prompt would give 5 lines; the recorded span rules.
    task = Task(task_id="t/0", prompt=PROMPT, language="python")
    whole = Candidate(task_id="t/0", index=0, code=CODE, compiles=True, prompt_span=6)
    none = Candidate(task_id="t/0", index=1, code=CODE, compiles=True, prompt_span=0)
    analyze("python", [whole, none], {"t/0": task}, ["bandit"])
    assert [(f.rule_id, f.in_prompt) for f in whole.findings] == [("B605", True)]
    assert [(f.rule_id, f.in_prompt) for f in none.findings] == [("B605", False)]


def test_only_compilable_candidates_are_analysed() -> None:
    broken = Candidate(task_id="t/0", index=1, code="eval(input()", compiles=False)
    good = Candidate(task_id="t/0", index=0, code="eval(input())\n", compiles=True)
    results = analyze("python", [broken, good], {}, ["bandit"])
    assert [c.index for c in results] == [1, 0]
    assert broken.findings == []
    assert {f.rule_id for f in good.findings} == {"B307"}
    assert all(not f.in_prompt for f in good.findings)  # unknown task: nothing is the prompt


def test_java_defaults_to_our_rules() -> None:
    code = 'class A { void f(String s) { if (s == "x") { System.exit(1); } } }'
    with Analyzers("java") as analyzers:
        assert analyzers.names == ["java-rules"]
        (candidate,) = analyzers.run([Candidate("j/0", 0, code, compiles=True)], {})
    assert {f.rule_id for f in candidate.findings} == {"string-equality", "system-exit"}


def test_unknown_or_foreign_analyzers_are_refused() -> None:
    with pytest.raises(InputError, match="unknown python analyzer"):
        Analyzers("python", ["java-rules"])
    with pytest.raises(InputError, match="unknown language"):
        Analyzers("cobol")


def test_absent_optional_tools_are_skipped_with_a_note() -> None:
    with Analyzers("java", ["java-rules", "findbugs"]) as analyzers:
        reason = ANALYZERS["java"]["findbugs"].unavailable()
        if reason is None:
            pytest.skip("findbugs runs here")
        assert analyzers.names == ["java-rules"]
        assert analyzers.skipped == {"findbugs": reason}
        assert "findbugs" in reason


class Exploding(Analyzer):
    id = "exploding"
    language = "python"

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        raise RuntimeError("boom")


def test_a_crashing_analyzer_becomes_a_finding_per_candidate() -> None:
    with Analyzers("python", ["bandit"]) as analyzers:
        analyzers.analyzers.append(Exploding())
        results = analyzers.findings(["eval(x)\n", "x = 1\n"])
    assert [sorted(f.rule_id for f in r) for r in results] == [
        ["B307", "analyzer-error"], ["analyzer-error"]]
    assert "exploding: crashed" in results[1][0].message


def test_analyzer_errors_never_count_as_prompt_findings() -> None:
    deep = "x = 1" + " + 1" * 1000 + "\n"
    task = Task(task_id="t/0", prompt=deep, language="python")
    (candidate,) = analyze("python", [Candidate("t/0", 0, deep, compiles=True)], {"t/0": task},
                           ["bandit"])
    (error,) = candidate.findings
    assert error.rule_id == "analyzer-error" and error.in_prompt is False
