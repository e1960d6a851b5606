"""Shared by the benchmark scripts: print a Markdown table and append it to BENCHMARKS.md
with the machine, the date and the command that produced it."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
REFERENCE = ROOT.parent / "shared" / "reference"


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()} ({platform.machine()}, {cores} cores, {memory_gib:.0f} GiB, "
            f"Python {platform.python_version()})")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def append_section(title: str, body: str) -> None:
    """Print ``body`` and append it to BENCHMARKS.md under ``title`` with provenance."""
    command = "python " + " ".join(shlex.quote(a) for a in [
        os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"\n## {title}\n\nMachine: {machine()}. Date: {stamp}. "
               f"Command: `{command}`.\n\n{body}\n")
    print(section)
    with BENCHMARKS_MD.open("a", encoding="utf-8") as handle:
        handle.write(section)
