from __future__ import annotations

from pathlib import Path

import pytest

from franc.errors import InputError
from franc.policy import locate, shipped_dir


def test_shipped_folders_are_the_top_level_policy_folders() -> None:
    root = Path(__file__).resolve().parents[2]
    for kind in ("filters", "rankers", "repair_prompts"):
        assert shipped_dir(kind) == (root / kind).resolve()  # type: ignore[arg-type]


def test_locate_by_path(tmp_path: Path) -> None:
    own = tmp_path / "mine.toml"
    own.write_text("")
    assert locate("filters", str(own), (".toml",)) == own


def test_locate_unknown_name_lists_what_exists() -> None:
    with pytest.raises(InputError, match="no filters policy 'does-not-exist'"):
        locate("filters", "does-not-exist", (".toml",))
