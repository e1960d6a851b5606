"""Bad library input gets an InputError naming the argument; an empty pool gets a note."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from franc.analysis import Analyzers
from franc.errors import InputError
from franc.models import Candidate
from franc.pipeline import NOTE_EMPTY_POOL, Pipeline

PROMPT = "def f(x):\n    '''Return x.'''\n"


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    with Pipeline("python") as warm:
        yield warm


def test_a_string_instead_of_a_list_names_the_argument(pipeline: Pipeline) -> None:
    with pytest.raises(InputError, match=r"candidates must be a list of str, not one str"):
        pipeline.run(PROMPT, "    return x\n")  # type: ignore[arg-type]


def test_a_non_string_candidate_names_its_index_and_type(pipeline: Pipeline) -> None:
    with pytest.raises(InputError, match=r"candidates\[0\] must be a str, not int"):
        pipeline.run(PROMPT, [1, None])  # type: ignore[list-item]
    with pytest.raises(InputError, match=r"candidates\[1\] must be a str, not NoneType"):
        pipeline.run(PROMPT, ["    return x\n", None])  # type: ignore[list-item]


def test_a_missing_prompt_is_an_input_error(pipeline: Pipeline) -> None:
    with pytest.raises(InputError, match="prompt must be a string or a Task, not NoneType"):
        pipeline.run(None, ["    return x\n"])  # type: ignore[arg-type]


def test_candidates_that_are_not_a_list_are_an_input_error(pipeline: Pipeline) -> None:
    with pytest.raises(InputError, match="candidates must be a list of str, not NoneType"):
        pipeline.run(PROMPT, None)  # type: ignore[arg-type]


def test_an_empty_pool_returns_a_report_with_a_note(pipeline: Pipeline) -> None:
    report = pipeline.run(PROMPT, [])
    assert report.best is None and report.candidates == []
    assert report.notes == [NOTE_EMPTY_POOL]
    assert report.to_json()["notes"] == [NOTE_EMPTY_POOL]


def test_good_input_has_no_note(pipeline: Pipeline) -> None:
    report = pipeline.run(PROMPT, ["    return x\n"])
    assert report.best is not None and report.best.compiles and report.notes == []


def test_analyzers_name_the_bad_argument() -> None:
    with Analyzers("python", ["bandit"]) as analyzers:
        with pytest.raises(InputError, match="codes must be a list of str, not one str"):
            analyzers.findings("eval(x)\n")  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"candidates\[0\] must be a Candidate, not str"):
            analyzers.run(["eval(x)\n"], {})  # type: ignore[list-item]
        (candidate,) = analyzers.run([Candidate("t", 0, "eval(x)\n", compiles=True)], {})
        assert [f.rule_id for f in candidate.findings or []] == ["B307"]
