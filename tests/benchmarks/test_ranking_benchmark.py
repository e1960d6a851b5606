"""The ranking benchmark reads a reference model from a file or from git."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.ranking import model_text

ROOT = Path(__file__).resolve().parents[2]


def test_a_reference_model_is_read_from_a_git_revision_as_from_its_file() -> None:
    shipped = ROOT / "rankers" / "learned.json"
    assert model_text(str(shipped)) == shipped.read_text(encoding="utf-8")
    assert model_text("HEAD:rankers/learned.json") == model_text(str(shipped))


def test_a_reference_that_is_neither_a_file_nor_in_git_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="neither a file nor a git REV:PATH"):
        model_text("no-such-revision:rankers/learned.json")
