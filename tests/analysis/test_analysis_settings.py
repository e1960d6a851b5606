"""Analyzer settings follow the filter chain given (``[analysis.*]`` tables), are validated
with their schema, and fall back to the shipped language policy."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import pytest

from franc.analysis import Analyzers
from franc.analysis.pylint_tool import PylintAnalyzer, PylintSettings
from franc.analysis.settings import analysis_table
from franc.cli import analysis as cli
from franc.errors import InputError
from franc.jsonl import read_jsonl
from franc.pipeline import Pipeline
from franc.policy import locate

UNDEFINED = "def f(a):\n    return b\n"


def chain_with(tmp_path: Path, analysis: str) -> Path:
    """The shipped Python chain with its [analysis.pylint] table replaced."""
    shipped = locate("filters", "python").read_text(encoding="utf-8")
    kept = shipped.split("[analysis.pylint]")[0]
    path = tmp_path / "mine.toml"
    path.write_text(kept + analysis, encoding="utf-8")
    return path


def pylint_of(analyzers: Analyzers) -> PylintAnalyzer:
    return next(a for a in analyzers.analyzers if isinstance(a, PylintAnalyzer))


def test_the_chains_pylint_table_configures_the_analyzers(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, '[analysis.pylint]\ndisable = ["undefined-variable"]\n')
    with Analyzers("python", ["pylint"], policy=chain) as mine, \
            Analyzers("python", ["pylint"]) as shipped:
        assert pylint_of(mine).settings.disable == ("undefined-variable",)
        [found_mine] = mine.findings([UNDEFINED])
        [found_shipped] = shipped.findings([UNDEFINED])
    assert "undefined-variable" in {f.rule_id for f in found_shipped}
    assert "undefined-variable" not in {f.rule_id for f in found_mine}


def test_a_chain_without_an_analysis_table_keeps_the_shipped_settings(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, "")
    table, source = analysis_table("python", "pylint", chain)
    assert "import-error" in table["disable"]
    assert source == locate("filters", "python")
    assert PylintSettings.from_policy(chain) == PylintSettings.from_policy()
    assert "import-error" in PylintSettings.from_policy(chain).disable


@pytest.mark.parametrize(("table", "key"), [
    ('batch_size = "many"', "analysis.pylint.batch_size"),
    ("batch_size = 0", "analysis.pylint.batch_size"),
    ('disabel = ["import-error"]', "analysis.pylint.disabel"),
])
def test_a_bad_analysis_table_names_the_key_and_the_file(tmp_path: Path, table: str,
                                                         key: str) -> None:
    chain = chain_with(tmp_path, f"[analysis.pylint]\n{table}\n")
    with pytest.raises(InputError, match=key) as caught:
        Analyzers("python", ["pylint"], policy=chain)
    assert str(chain) in str(caught.value)


def test_an_analysis_entry_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, '[analysis]\npylint = "strict"\n')
    with pytest.raises(InputError, match=r"\[analysis\.pylint\] must be a table"):
        PylintSettings.from_policy(chain)


def test_the_pipeline_configures_its_analyzers_from_its_chain(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, '[analysis.pylint]\ndisable = ["undefined-variable"]\n')
    with Pipeline("python", static_filter=chain, analyzers=["pylint"]) as pipeline:
        assert pylint_of(pipeline.analyzers).settings.disable == ("undefined-variable",)


def test_pipelines_filter_parameter_is_a_deprecated_alias(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, '[analysis.pylint]\ndisable = ["undefined-variable"]\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Pipeline("python", filter=chain, analyzers=["pylint"]) as pipeline:  # type: ignore[call-arg]
            assert pylint_of(pipeline.analyzers).settings.disable == ("undefined-variable",)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_franc_analyze_chain_configures_pylint(tmp_path: Path) -> None:
    chain = chain_with(tmp_path, '[analysis.pylint]\ndisable = ["undefined-variable"]\n')
    candidates = tmp_path / "filtered.jsonl"
    candidates.write_text(json.dumps({"task_id": "t", "index": 0, "compiles": True,
                                      "heuristics": [], "errors": [], "code": UNDEFINED}) + "\n")
    rules = {}
    for name, extra in (("shipped", []), ("mine", ["--chain", str(chain)])):
        parser = argparse.ArgumentParser()
        cli.register(parser.add_subparsers())
        output = tmp_path / f"{name}.jsonl"
        args = parser.parse_args(["analyze", "--language", "python", "--candidates",
                                  str(candidates), "--analyzers", "pylint", "--workers", "1",
                                  "--quiet", "-o", str(output), *extra])
        assert args.func(args) == 0
        [(_, row)] = list(read_jsonl(output))
        rules[name] = {f["rule_id"] for f in row["findings"]}
    assert "undefined-variable" in rules["shipped"]
    assert "undefined-variable" not in rules["mine"]
