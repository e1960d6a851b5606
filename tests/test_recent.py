"""The least-recently-used map shared by the server's caches and the rankers' result cache."""

from __future__ import annotations

from franc.recent import Recent


def test_the_least_recently_used_key_goes_first_and_a_read_counts_as_use() -> None:
    recent: Recent[int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # "b" is now the least recently used
    recent.put("c", 3)
    assert "b" not in recent and recent.get("a") == 1 and recent.get("c") == 3
    assert len(recent) == 2


def test_a_missing_key_is_none_and_clear_forgets_everything() -> None:
    recent: Recent[int] = Recent(2)
    assert recent.get("a") is None
    recent.put("a", 0)
    assert recent.get("a") == 0
    recent.clear()
    assert len(recent) == 0 and "a" not in recent
