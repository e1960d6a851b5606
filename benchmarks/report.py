"""Shared by the benchmark scripts: print a Markdown section and write it, with the machine,
the date, the command and the load that produced it, to ``benchmarks/results/<topic>.md``.
``python -m benchmarks.page`` assembles those files into BENCHMARKS.md."""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REFERENCE = ROOT.parent / "shared" / "reference"


def franc_table(name: str) -> dict[str, dict[str, str]]:
    """A table of FRANC's published figures (``../shared/reference/<name>``, CSV), by file."""
    with (REFERENCE / name).open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


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


def add_print_only(parser: argparse.ArgumentParser,
                   help: str = "print only, do not write benchmarks/results/") -> None:
    """The ``--no-append`` option every benchmark has."""
    parser.add_argument("--no-append", action="store_true", help=help)


def reference_missing() -> bool:
    """True (after saying so) when ``../shared/reference`` is absent."""
    if REFERENCE.is_dir():
        return False
    print(f"reference data not found at {REFERENCE}", file=sys.stderr)
    return True


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that runs this benchmark again: ``python -m benchmarks.<name> ARGS``."""
    argv = sys.argv if argv is None else argv
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    program = (f"-m {spec.name}" if spec is not None
               else shlex.quote(os.path.relpath(argv[0], ROOT)))
    return " ".join(["python", program, *(shlex.quote(a) for a in argv[1:])])


def load_average() -> str:
    """The 1/5/15-minute load averages, as the sections print them: ``1.2 / 3.4 / 5.6``."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def section(title: str, body: str, command: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"## {title}\n\nMachine: {machine()}. Date: {stamp}. Command: `{command}`. "
            f"Load average (1/5/15 min) at the end: {load_average()}.\n\n{body.strip()}\n")


def write_section(topic: str, title: str, body: str, results: Path = RESULTS) -> Path:
    """Print the section and make it the current result of ``topic`` (replacing the last)."""
    text = section(title, body, command_line())
    print(text)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{topic}.md"
    path.write_text(text, encoding="utf-8")
    return path
