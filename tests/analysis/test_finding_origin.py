"""Every analyzer's failure is a finding with its origin, and the judge never calls the
candidate clean when one of its security analyzers failed (issue 15: a crashed Java rule
used to be judged clean because its failure was recognised by splitting the message)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from pylint.checkers import BaseChecker
from tree_sitter import Node

from franc.analysis import Analyzer, Analyzers
from franc.analysis.bandit_tool import BanditAnalyzer
from franc.analysis.external import FindBugsAnalyzer, SemgrepAnalyzer
from franc.analysis.java_rules import RULES, JavaRulesAnalyzer, Unit
from franc.analysis.pylint_tool import PylintAnalyzer
from franc.models import Candidate, Finding, Origin
from franc.pipeline import Pipeline
from franc.repair.judge import Judge

JAVA = """public class Query {
    static String find(java.sql.Connection c, String name) throws Exception {
        return c.createStatement().executeQuery("select * from t where n=" + name).getString(1);
    }
}
"""
PYTHON = "def double(x):\n    return 2 * x\n"


def crashing_rule(unit: Unit) -> Iterator[tuple[Node, str]]:
    raise RuntimeError("rule bug")
    yield  # pragma: no cover - makes this a generator like the real rules


def crashing_bandit_test(context: object) -> None:
    raise RuntimeError("bandit test bug")


class CrashingChecker(BaseChecker):
    name = "franc-crashing-checker"
    msgs = {"E9901": ("never emitted", "franc-test-crash", "a checker that crashes")}  # noqa: RUF012

    def visit_return(self, node: object) -> None:
        raise RuntimeError("checker bug")


def judged(language: str, findings: list[Finding], analyzers: tuple[str, ...] = ()) -> bool:
    candidate = Candidate("t", 0, "code", compiles=True, findings=findings)
    return Judge(language, analyzers).is_clean(candidate)


def assert_failure_of(findings: list[Finding], analyzer: str) -> Finding:
    (failure,) = [f for f in findings if f.is_failure]
    assert failure.origin == Origin(analyzer, "failure")
    assert not failure.in_prompt
    return failure


def test_a_crashed_java_rule_is_a_failure_finding_and_never_judged_clean() -> None:
    sql_rule = next(r for r in RULES if r.id == "sql-injection")
    broken = dataclasses.replace(sql_rule, check=crashing_rule)
    with Analyzers("java", ["java-rules"]) as analyzers:
        analyzers.analyzers = [JavaRulesAnalyzer(rules=(broken,))]
        with Pipeline("java", analyzers=analyzers) as pipeline:
            report = pipeline.run("", [JAVA])
    best = report.best
    assert best is not None and best.compiles
    failure = assert_failure_of(best.findings or [], "java-rules")
    assert "sql-injection" in failure.message and "rule bug" in failure.message
    assert not report.clean
    assert not Judge("java").is_clean(best)


def test_a_crashed_bandit_test_is_a_failure_finding_and_never_judged_clean() -> None:
    bandit = BanditAnalyzer()
    bandit._manager.b_ts.tests.setdefault("Call", []).append(crashing_bandit_test)
    (findings,) = bandit.analyze_batch(["print(abs(-1))\n"])
    assert_failure_of(findings, "bandit")
    assert not judged("python", findings)


def test_a_crashed_pylint_checker_is_a_failure_finding_and_never_judged_clean() -> None:
    pylint = PylintAnalyzer(reuse_linter=True)
    pylint.analyze_batch(["X = 1\n"])  # builds the linter the crashing checker joins
    assert pylint._linter is not None
    pylint._linter.register_checker(CrashingChecker(pylint._linter))
    try:
        (findings,) = pylint.analyze_batch([PYTHON])
    finally:
        pylint.close()
    assert_failure_of(findings, "pylint")
    assert not judged("python", findings, ("bandit", "pylint"))


@pytest.mark.parametrize(("analyzer", "code", "language"), [
    (SemgrepAnalyzer, PYTHON, "python"), (FindBugsAnalyzer, JAVA, "java")])
def test_an_external_tool_that_cannot_run_is_a_failure_finding(analyzer: type[Analyzer], code: str,
                                                               language: str) -> None:
    if analyzer.unavailable() is None:
        pytest.skip(f"{analyzer.id} is installed here; its failure path needs it missing")
    (findings,) = analyzer(timeout=20.0).analyze_batch([code])
    assert_failure_of(findings, analyzer.id)
    assert not judged(language, findings, (analyzer.id,))


def test_a_failure_of_an_analyzer_the_judge_does_not_use_does_not_block() -> None:
    assert judged("python", [Finding.failure("pylint", "crashed: boom")])
    assert not judged("python", [Finding.failure("bandit", "crashed: boom")])


def test_findings_name_their_analyzer_and_round_trip_through_json() -> None:
    finding = Finding("bandit", "B602", "shell=True", "high", "high", 3, cwe=78)
    assert finding.origin == Origin("bandit") and not finding.is_failure
    failure = Finding.failure("java-rules", "rule sql-injection crashed")
    assert (failure.tool, failure.rule_id) == ("franc", "analyzer-error")  # as JSON shows it
    candidate = Candidate("t", 0, "x", findings=[finding, failure])
    again = Candidate.from_json(candidate.to_json())
    assert again.findings == [finding, failure]


def test_failures_written_before_findings_had_an_origin_are_read_as_failures() -> None:
    old = {"tool": "franc", "rule_id": "analyzer-error", "severity": "low", "confidence": "low",
           "message": "java-rules/sql-injection: crashed: RuntimeError", "line": 1}
    finding = Finding.from_json(old)
    assert finding.origin == Origin("java-rules", "failure")
    assert not judged("java", [finding])
