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


def test_values_beyond_the_weight_budget_push_out_the_oldest() -> None:
    recent: Recent[str] = Recent(10, weigh=len, budget=5)
    recent.put("a", "xx")
    recent.put("b", "yy")
    recent.put("a", "x")  # re-weighed, not counted twice: 3 of 5
    recent.put("c", "zz")  # 5 of 5: all kept
    assert [recent.get(key) for key in "abc"] == ["x", "yy", "zz"]
    recent.put("d", "www")  # 8: the least recently used ("a", then "b") go
    assert "a" not in recent and "b" not in recent and recent.get("d") == "www"
    recent.put("e", "v" * 6)  # heavier than the whole budget: nothing is kept
    assert len(recent) == 0


def test_without_a_budget_only_the_count_bounds_it() -> None:
    recent: Recent[str] = Recent(2, weigh=len)
    recent.put("a", "x" * 1000)
    recent.put("b", "y" * 1000)
    assert len(recent) == 2
