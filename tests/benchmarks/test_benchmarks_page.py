"""BENCHMARKS.md is assembled from one current section per benchmark (benchmarks/results/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import page
from benchmarks.report import write_section


def write(results: Path, topic: str, title: str) -> None:
    (results / f"{topic}.md").write_text(f"## {title}\n\nMachine: m. Date: d.\n\n| a |\n|---|\n")


def test_sections_follow_the_fixed_order_and_unknown_topics_come_last(tmp_path: Path) -> None:
    write(tmp_path, "zz_new", "New")
    write(tmp_path, "server", "HTTP server")
    write(tmp_path, "static_filter_python", "Static filter")
    text = page.assemble(tmp_path)
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## Contents", "## Static filter", "## HTTP server", "## New"]
    assert "- [Static filter](#static-filter)" in text
    assert "- [HTTP server](#http-server)" in text


def test_missing_topics_are_skipped_and_repeated_titles_get_distinct_anchors(
        tmp_path: Path) -> None:
    write(tmp_path, "functional_python", "Pass rates: HumanEval")
    write(tmp_path, "functional_java", "Pass rates: HumanEval")
    text = page.assemble(tmp_path)
    assert "(#pass-rates-humaneval)" in text and "(#pass-rates-humaneval-1)" in text
    assert "sandbox" not in text.lower().split("## contents")[1].split("## pass")[0]


def test_a_results_file_without_its_heading_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "ranking.md").write_text("Machine: m\n")
    with pytest.raises(ValueError, match=r"ranking\.md"):
        page.assemble(tmp_path)


def test_write_section_replaces_the_topic_with_provenance(tmp_path: Path) -> None:
    write_section("loaders", "Loaders", "old table", results=tmp_path)
    path = write_section("loaders", "Loaders", "| new |", results=tmp_path)
    text = path.read_text()
    assert text.startswith("## Loaders\n\nMachine: ")
    assert "Date: " in text and "Command: `python " in text and "Load average" in text
    assert "old table" not in text and text.rstrip().endswith("| new |")


def test_every_committed_results_file_has_its_place_in_the_order() -> None:
    assert [p.stem for p in page.RESULTS.glob("*.md") if p.stem not in page.ORDER] == []


def test_benchmarks_md_is_the_assembled_page() -> None:
    assert page.PAGE.read_text(encoding="utf-8") == page.assemble(), (
        "BENCHMARKS.md is out of date: run `make bench-page`")
