from __future__ import annotations

from collections.abc import Sequence

from franc.parallel import map_chunks


def square_all(chunk: Sequence[int]) -> list[int]:
    return [x * x for x in chunk]


def test_results_keep_input_order_across_workers() -> None:
    items = list(range(50))
    assert map_chunks(square_all, items, workers=2, chunk_size=7, progress=False) == [
        x * x for x in items]


def test_single_worker_runs_in_process() -> None:
    assert map_chunks(square_all, [3], workers=1, progress=False) == [9]
