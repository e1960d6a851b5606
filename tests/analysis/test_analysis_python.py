"""bandit and pylint in-process: the findings they report and how they are mapped."""

from __future__ import annotations

from pathlib import Path

import pytest

from franc.analysis.bandit_tool import BanditAnalyzer, _nosec_lines
from franc.analysis.pylint_tool import PylintAnalyzer, PylintSettings
from franc.errors import InputError

INSECURE = "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
CLEAN = '"""Add."""\n\n\ndef add(a, b):\n    """Sum."""\n    return a + b\n'


@pytest.fixture(scope="module")
def bandit() -> BanditAnalyzer:
    return BanditAnalyzer()


@pytest.fixture(scope="module")
def pylint() -> PylintAnalyzer:
    analyzer = PylintAnalyzer(settings=PylintSettings())
    yield analyzer
    analyzer.close()


def test_bandit_reports_shell_injection_with_cwe_and_levels(bandit: BanditAnalyzer) -> None:
    insecure, clean = bandit.analyze_batch([INSECURE, CLEAN])
    shell = next(f for f in insecure if f.rule_id == "B602")
    assert (shell.tool, shell.cwe, shell.severity, shell.confidence, shell.line) == (
        "bandit", 78, "high", "high", 4)
    assert clean == []


def test_bandit_honours_nosec_like_its_command_line(bandit: BanditAnalyzer) -> None:
    (findings,) = bandit.analyze_batch(["x = eval(input())  # nosec\ny = eval(input())\n"])
    assert [f.line for f in findings if f.rule_id == "B307"] == [2]


def test_bandit_reads_nosec_only_from_comments(bandit: BanditAnalyzer) -> None:
    code = 'NOTE = "nosec"  # a comment, not a pragma\nx = eval(input())  # nosec: B307\n' \
           'y = eval(input())  # nosec: B602\n'
    (findings,) = bandit.analyze_batch([code])
    assert [f.line for f in findings if f.rule_id == "B307"] == [3]


def test_bandit_without_any_nosec_reports_every_line(bandit: BanditAnalyzer) -> None:
    (findings,) = bandit.analyze_batch(["x = eval(input())  # no pragma\ny = eval(input())\n"])
    assert [f.line for f in findings if f.rule_id == "B307"] == [1, 2]
    assert _nosec_lines(b"x = eval(input())  # no pragma\n") == {}


def test_bandit_reuses_one_manager_across_batches(bandit: BanditAnalyzer) -> None:
    first = bandit.analyze_batch([INSECURE])
    assert bandit.analyze_batch([CLEAN, INSECURE]) == [[], first[0]]


def test_pylint_maps_categories_to_severity(pylint: PylintAnalyzer) -> None:
    (findings,) = pylint.analyze_batch(["import os\n\ndef f(a):\n    return b\n"])
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["undefined-variable"].severity == "high"
    assert by_rule["unused-import"].severity == "medium"
    assert by_rule["missing-function-docstring"].severity == "low"
    assert by_rule["undefined-variable"].line == 4
    assert {f.tool for f in findings} == {"pylint"}


def test_pylint_batch_keeps_findings_with_their_candidate(pylint: PylintAnalyzer) -> None:
    codes = [CLEAN, "def g():\n    return undefined_name\n", CLEAN]
    first, second, third = pylint.analyze_batch(codes)
    assert first == third == []
    assert "undefined-variable" in {f.rule_id for f in second}


def test_pylint_does_not_compare_candidates_with_each_other(pylint: PylintAnalyzer) -> None:
    body = "".join(f"    x{i} = a * {i}\n    print(x{i})\n" for i in range(10))
    code = f'"""M."""\n\n\ndef f(a):\n    """F."""\n{body}'
    results = pylint.analyze_batch([code, code])
    assert all("duplicate-code" not in {f.rule_id for f in r} for r in results)


def test_pylint_batches_larger_than_batch_size() -> None:
    analyzer = PylintAnalyzer(settings=PylintSettings(batch_size=2))
    try:
        results = analyzer.analyze_batch([CLEAN, "import os\n", CLEAN, "import sys\n", CLEAN])
    finally:
        analyzer.close()
    assert [bool(r) for r in results] == [False, True, False, True, False]


def test_pylint_settings_come_from_the_policy_table(tmp_path: Path) -> None:
    policy = tmp_path / "custom.toml"
    policy.write_text('[analysis.pylint]\ncategories = ["error", "fatal"]\n'
                      'disable = ["undefined-variable"]\n')
    settings = PylintSettings.from_policy(policy)
    assert settings.categories == ("error", "fatal")
    analyzer = PylintAnalyzer(settings=settings)
    try:
        (findings,) = analyzer.analyze_batch(["import os\n\ndef f(a):\n    return b + f()\n"])
    finally:
        analyzer.close()
    assert {f.severity for f in findings} == {"high"}
    assert "undefined-variable" not in {f.rule_id for f in findings}


def test_pylint_settings_reject_unknown_categories(tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('[analysis.pylint]\ncategories = ["errors"]\n')
    with pytest.raises(InputError, match="unknown categories"):
        PylintSettings.from_policy(policy)


def test_pylint_releases_each_runs_linter() -> None:
    # pylint's functools.cache on MessageDefinitionStore would keep every batch's linter alive.
    from pylint.message.message_definition_store import MessageDefinitionStore

    analyzer = PylintAnalyzer()
    try:
        for _ in range(3):
            analyzer.analyze_batch(["x = 1\n", "def f():\n    return 2\n"])
            assert MessageDefinitionStore.get_message_definitions.cache_info().currsize == 0
    finally:
        analyzer.close()
