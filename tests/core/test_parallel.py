from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from rich.progress import TimeRemainingColumn

from franc.cli import main
from franc.parallel import (
    YOUNG_GENERATION_THRESHOLD,
    add_progress_flags,
    collect_garbage_in_bulk,
    map_chunks,
    note_console,
    progress_bar,
    show_progress,
)


def square_all(chunk: Sequence[int]) -> list[int]:
    return [x * x for x in chunk]


def test_results_keep_input_order_across_workers() -> None:
    items = list(range(50))
    assert map_chunks(square_all, items, workers=2, chunk_size=7, progress=False) == [
        x * x for x in items]


def test_single_worker_runs_in_process() -> None:
    assert map_chunks(square_all, [3], workers=1, progress=False) == [9]


def test_progress_bar_shows_an_eta() -> None:
    assert any(isinstance(column, TimeRemainingColumn) for column in progress_bar().columns)


def test_quiet_implies_no_progress_and_silences_notes() -> None:
    parser = argparse.ArgumentParser()
    add_progress_flags(parser)
    assert show_progress(parser.parse_args([]))
    assert not show_progress(parser.parse_args(["--no-progress"]))
    quiet = parser.parse_args(["-q"])
    assert not show_progress(quiet) and note_console(quiet).quiet
    assert not note_console(parser.parse_args(["--no-progress"])).quiet


def test_bulk_collection_lets_the_young_generation_grow_and_keeps_the_older_ones() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        collect_garbage_in_bulk()
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 10, 10)
    finally:
        gc.set_threshold(*before)


def young_threshold(chunk: Sequence[int]) -> list[int]:
    return [gc.get_threshold()[0] for _ in chunk]


def test_the_command_line_collects_in_bulk_and_its_workers_inherit_it() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert main(["datasets", "list"]) == 0
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
        assert map_chunks(young_threshold, [1, 2], workers=2, chunk_size=1,
                          progress=False) == [YOUNG_GENERATION_THRESHOLD] * 2
    finally:
        gc.set_threshold(*before)
