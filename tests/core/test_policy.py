from __future__ import annotations

from pathlib import Path

import pytest

from franc.errors import InputError
from franc.policy import available, choice_help, locate, shipped_dir


def test_shipped_folders_are_the_top_level_policy_folders() -> None:
    root = Path(__file__).resolve().parents[2]
    for kind in ("filters", "rankers", "repair_prompts"):
        assert shipped_dir(kind) == (root / kind).resolve()  # type: ignore[arg-type]


def test_locate_by_path(tmp_path: Path) -> None:
    own = tmp_path / "mine.toml"
    own.write_text("")
    assert locate("filters", str(own)) == own


def test_locate_unknown_name_lists_what_exists() -> None:
    with pytest.raises(InputError, match="no filters policy 'does-not-exist'"):
        locate("filters", "does-not-exist")


def test_available_lists_every_shipped_policy_of_a_kind_and_no_data_file() -> None:
    assert {"behaviour", "examples", "learned", "quality"} <= set(available("rankers"))
    assert "learned" in available("rankers") and "learned.md" not in available("rankers")
    templates = available("repair_prompts")
    assert {"P1", "P2", "P3", "P3S", "chat"} <= set(templates)
    assert "hints" not in templates  # the templates' data, not a template
    assert "README" not in templates


def test_a_policy_options_help_names_the_shipped_policies_of_its_kind() -> None:
    text = choice_help("rankers", "the ranker")
    assert all(name in text for name in available("rankers"))
    assert "hints" not in choice_help("repair_prompts", "the repair template")
