"""A long-lived pylint analyzer: one linter reused across batches, and its warm-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import astroid
import pytest
from pylint.utils import ASTWalker

from franc.analysis.base import AnalyzerTimeout
from franc.analysis.pylint_tool import PylintAnalyzer, PylintSettings
from franc.errors import InputError

BATCHES = [
    ["import os\n", "def f(x):\n    if x:\n        return 1\n    else:\n        return 2\n"],
    ["X = 1\nprint(undefined_name)\n", "class a:\n    pass\n", "def g(l=[]):\n    return l\n"],
    ["import sys\nimport sys\n", "def h():\n    try:\n        pass\n    except:\n        pass\n"],
]


def test_a_reused_linter_reports_what_a_fresh_one_reports() -> None:
    fresh = PylintAnalyzer(settings=PylintSettings(), reuse_linter=False)
    reused = PylintAnalyzer(settings=PylintSettings())
    try:
        for batch in BATCHES * 2:
            assert reused.analyze_batch(batch) == fresh.analyze_batch(batch)
        assert reused._linter is not None
    finally:
        fresh.close()
        reused.close()


def test_a_candidates_pragma_does_not_silence_the_next_batch() -> None:
    analyzer = PylintAnalyzer(settings=PylintSettings())
    try:
        (silenced,) = analyzer.analyze_batch(["# pylint: disable=all\nimport os\n"])
        (reported,) = analyzer.analyze_batch(["import os\n"])
    finally:
        analyzer.close()
    assert silenced == []
    assert "unused-import" in {f.rule_id for f in reported}


def test_a_time_out_drops_the_linter_and_the_next_batch_builds_a_new_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = PylintAnalyzer(settings=PylintSettings())
    real_check = analyzer._check

    def interrupted(sources: dict[str, str], reporter: Any) -> None:
        real_check(sources, reporter)  # the linter is half-way through when the limit hits
        raise AnalyzerTimeout("pylint timed out")

    try:
        analyzer.analyze_batch(["x = 1\n"])
        first = analyzer._linter
        monkeypatch.setattr(analyzer, "_check", interrupted)
        (slow,) = analyzer.analyze_batch(["y = 2\n"])
        assert analyzer._linter is None
        monkeypatch.setattr(analyzer, "_check", real_check)
        (normal,) = analyzer.analyze_batch(["import os\n"])
    finally:
        analyzer.close()
    assert [f.message for f in slow] == ["pylint: pylint timed out"]
    assert analyzer._linter is not None and analyzer._linter is not first
    assert "unused-import" in {f.rule_id for f in normal}


def test_warm_up_builds_the_listed_modules_and_the_linter() -> None:
    astroid.MANAGER.astroid_cache.pop("colorsys", None)
    analyzer = PylintAnalyzer(settings=PylintSettings(warm_modules=("colorsys",)))
    try:
        analyzer.warm_up()
        assert "colorsys" in astroid.MANAGER.astroid_cache
        assert analyzer._linter is not None
        assert not [n for n in astroid.MANAGER.astroid_cache if n.startswith("candidate_")]
        (findings,) = analyzer.analyze_batch(["import colorsys\n"])
    finally:
        analyzer.close()
    assert "unused-import" in {f.rule_id for f in findings}


def test_warm_up_builds_the_submodules_a_package_takes_its_names_from() -> None:
    for name in [n for n in astroid.MANAGER.astroid_cache if n.startswith("concurrent")]:
        del astroid.MANAGER.astroid_cache[name]
    analyzer = PylintAnalyzer(settings=PylintSettings(warm_modules=("concurrent.futures",)))
    try:
        analyzer.warm_up()
        # concurrent/futures/__init__.py: from concurrent.futures._base import (...)
        assert "concurrent.futures._base" in astroid.MANAGER.astroid_cache
        (findings,) = analyzer.analyze_batch(
            ['"""Wait."""\nfrom concurrent import futures\nX = futures.wait([], timeout=1)\n'])
    finally:
        analyzer.close()
    assert findings == []


def test_warm_up_without_modules_builds_nothing_more() -> None:
    astroid.MANAGER.astroid_cache.pop("colorsys", None)
    analyzer = PylintAnalyzer(settings=PylintSettings())
    try:
        analyzer.warm_up()
    finally:
        analyzer.close()
    assert "colorsys" not in astroid.MANAGER.astroid_cache


def test_warm_modules_come_from_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "python.toml"
    policy.write_text('[analysis.pylint]\nwarm_modules = ["os", "xml.etree.ElementTree"]\n')
    assert PylintSettings.from_policy(policy).warm_modules == ("os", "xml.etree.ElementTree")
    assert "re" in PylintSettings.from_policy().warm_modules  # the shipped list


@pytest.mark.parametrize("listed", ['["os; import x"]', '[1]', '"os"'])
def test_warm_modules_must_be_module_names(tmp_path: Path, listed: str) -> None:
    policy = tmp_path / "python.toml"
    policy.write_text(f"[analysis.pylint]\nwarm_modules = {listed}\n")
    with pytest.raises(InputError, match="warm_modules"):
        PylintSettings.from_policy(policy)


def test_batches_are_linted_from_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = PylintAnalyzer(settings=PylintSettings())
    try:
        analyzer.analyze_batch(["x = 1\n"])  # the linter and the placeholder exist now

        def no_disk(*args: object, **kwargs: object) -> None:
            raise AssertionError("a batch must not create files or folders")

        monkeypatch.setattr("tempfile.mkdtemp", no_disk)
        first, second = analyzer.analyze_batch(["import os\n", "def f(a):\n    return b\n"])
        sizes = [path.stat().st_size for path in analyzer._placeholders.iterdir()]
    finally:
        analyzer.close()
    assert "unused-import" in {f.rule_id for f in first}
    assert "undefined-variable" in {f.rule_id for f in second}
    assert sizes == [0, 0]


def test_the_ast_walker_is_built_once_and_serves_every_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = PylintAnalyzer(settings=PylintSettings())
    built = []
    real_init = ASTWalker.__init__

    def counted(self: ASTWalker, linter: Any) -> None:
        built.append(self)
        real_init(self, linter)

    monkeypatch.setattr(ASTWalker, "__init__", counted)
    try:
        found = [analyzer.analyze_batch(batch) for batch in BATCHES]
    finally:
        analyzer.close()
    assert len(built) == 1
    assert "unused-import" in {f.rule_id for f in found[0][0]}
    assert "undefined-variable" in {f.rule_id for f in found[1][0]}
    assert "dangerous-default-value" in {f.rule_id for f in found[1][2]}
    assert "reimported" in {f.rule_id for f in found[2][0]}
