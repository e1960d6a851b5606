"""The ranking benchmark reads a reference model from a file or from git, and measures the
shipped examples chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.ranking import examples_policy, model_text
from franc.ranking import get_ranker
from franc.ranking.examples import ExamplesRanker

ROOT = Path(__file__).resolve().parents[2]


def test_a_reference_model_is_read_from_a_git_revision_as_from_its_file() -> None:
    shipped = ROOT / "rankers" / "learned.json"
    assert model_text(str(shipped)) == shipped.read_text(encoding="utf-8")
    assert model_text("HEAD:rankers/learned.json") == model_text(str(shipped))


def test_a_reference_that_is_neither_a_file_nor_in_git_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="neither a file nor a git REV:PATH"):
        model_text("no-such-revision:rankers/learned.json")


def test_the_measured_examples_chain_is_the_shipped_one_with_the_held_out_fallback(
        tmp_path: Path) -> None:
    fallback = ROOT / "rankers" / "learned.json"
    path = examples_policy(tmp_path / "examples.json", fallback, timeout=7.0, workers=1)
    chain = get_ranker(str(path), "python")
    shipped = get_ranker("examples", "python")
    try:
        # The shipped policy's security tier comes along (a hand-written chain dropped it).
        assert chain.security_tier == shipped.security_tier is not None
        member = chain.members[0]  # type: ignore[attr-defined]
        assert isinstance(member, ExamplesRanker) and (member.timeout, member.workers) == (7.0, 1)
        assert "learned.json" in path.read_text() and '"learned"' not in path.read_text()
    finally:
        chain.close()
        shipped.close()
