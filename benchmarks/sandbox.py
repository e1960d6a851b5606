"""Sandbox throughput and verdicts, this checkout vs an older FRANC, side by side.

Both run the same `franc label` command on the same distinct compilable filtered
candidates (HumanEval; every ``--stride``-th one, so that many tasks are covered), one
after the other, ``--rounds`` times alternating, so the load of a shared machine hits
both alike; the ratio is the figure to read. Writes benchmarks/results/sandbox.md.

The "before" FRANC is the commit before the isolation (7dc82d6): ``--compare-with 7dc82d6``
imports its tree (``git archive``) first in this interpreter; other older commits compare the
same way, into a results file of their own (``--before``, ``--after``, ``--section``). A
commit whose dependencies this venv lacks needs a venv of its own, given as ``--old-python``:

    mkdir -p /tmp/franc-OLD && git archive OLD | tar -x -C /tmp/franc-OLD
    python3 -m venv /tmp/franc-OLD/.venv && /tmp/franc-OLD/.venv/bin/pip install -e /tmp/franc-OLD
    python -m benchmarks.sandbox --old-python /tmp/franc-OLD/.venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.functional import CPU_LIMITS, TIMEOUTS, filtered_candidates
from benchmarks.report import REFERENCE, table, write_section
from benchmarks.server import extract_commit
from franc.datasets import load_suggestions, load_tasks
from franc.evaluation.sandbox import sandbox_capabilities
from franc.jsonl import read_jsonl, write_jsonl

#: Models whose answers pass many of their tests (passing runs make every call).
MODEL = {"python": "codegen-2B-mono", "java": "gpt3.5"}


JVM_FLAGS_NOTE = """
### The candidate's JVM start-up

The candidate's JVM starts with `calls.JVM_OPTIONS` (C1 only, serial GC, no perf data,
trimmed reservations). Measured alternatives (CPU ms per start + one call of a small
static method through `franc.FrancCallee`, outside the sandbox, 2 x 10 starts each at load
14-17, `/usr/bin/time` over a loop of `java FLAGS -cp callee.jar:. franc.FrancCallee Problem
< request`): current flags 74-76; plus an AppCDS dynamic archive of the harness and the JDK
classes it loads (`-XX:ArchiveClassesAtExit`, harness in a jar) 68-78, no gain beyond the
JDK's default CDS archive, which is already in use (`-Xshare:off` 106-120); full tiered
compilation 89; `-Xmx64m -Xss1m` 74-82; `-Xint` 58-62 (cheaper start, but a candidate that
computes would run interpreted: labels could change, not taken). The flags stay.
"""


#: An interpreter that runs a FRANC, and its environment (None: this process's).
Interpreter = tuple[str, dict[str, str] | None]


def label_run(interpreter: Interpreter, language: str, bench: Path, candidates: Path,
              out: Path, workers: int) -> tuple[float, dict[tuple[str, int], int]]:
    """Seconds of one `franc label` run and its labels by (task, index)."""
    python, env = interpreter
    command = [python, "-m", "franc", "label", "--language", language, "--prompts", str(bench),
               "--candidates", str(candidates), "-o", str(out), "--no-progress",
               "--workers", str(workers), "--timeout", str(TIMEOUTS[language]),
               "--cpu-limit", str(CPU_LIMITS[language])]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=tempfile.gettempdir(),
                   env=env)
    seconds = time.perf_counter() - started
    return seconds, {(row["task_id"], row["index"]): row["label"]
                     for _, row in read_jsonl(out)}


#: Row labels of the default comparison (the commit before the isolation vs now).
BEFORE_ISOLATION = "before (nonce in the candidate's process, no filesystem isolation)"
AFTER_ISOLATION = "after (bubblewrap, verdicts from a trusted process)"


def compare(language: str, count: int, stride: int, rounds: int, workers: int,
            old: Interpreter, names: tuple[str, str] = (BEFORE_ISOLATION, AFTER_ISOLATION)
            ) -> str:
    bench = REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl"
    tasks = {t.task_id: t for t in load_tasks(bench, language=language)}
    path = next((REFERENCE / "suggestions").glob(
        f"HumanEval_{language}_{MODEL[language]}_*.jsonl.gz"))
    ours = filtered_candidates(language, tasks, load_suggestions(path, tasks=tasks))
    distinct = list({(c.task_id, c.code): c for c in ours if c.compiles}.values())
    unique = distinct[::stride][:count]
    seconds = {"old": 0.0, "new": 0.0}
    labels: dict[str, dict[tuple[str, int], int]] = {}
    with tempfile.TemporaryDirectory(prefix="franc-bench-sandbox-") as folder:
        candidates = Path(folder) / "candidates.jsonl"
        write_jsonl(candidates, (c.to_json() for c in unique))
        for _ in range(rounds):
            for name, interpreter in (("old", old), ("new", (sys.executable, None))):
                took, labels[name] = label_run(interpreter, language, bench, candidates,
                                               Path(folder) / f"{name}.jsonl", workers)
                seconds[name] += took
    old_seconds, new_seconds = seconds["old"] / rounds, seconds["new"] / rounds
    old_labels, new_labels = labels["old"], labels["new"]
    n = len(unique)
    agree = sum(old_labels[k] == new_labels.get(k) for k in old_labels)
    passed = {name: sum(label >= 2 for label in found.values())
              for name, found in (("old", old_labels), ("new", new_labels))}
    differ = [f"{k[0]}#{k[1]}: {old_labels[k]} -> {new_labels.get(k)}"
              for k in old_labels if old_labels[k] != new_labels.get(k)]
    rows = [(names[0], n, old_seconds, f"{n / old_seconds:.2f}", passed["old"], "1.00x"),
            (names[1], n, new_seconds, f"{n / new_seconds:.2f}", passed["new"],
             f"{old_seconds / new_seconds:.2f}x")]
    body = table(("sandbox", "runs", "seconds", "runs/s", "passed", "speed vs before"), rows)
    body += (f"\n\n{language}: {n} distinct compilable filtered candidates of {path.name} "
             f"(every {stride}th, {len({c.task_id for c in unique})} tasks), "
             f"seconds averaged over {rounds} alternating rounds, "
             f"`franc label --workers {workers}` (timeout {TIMEOUTS[language]:g} s, CPU limit "
             f"{CPU_LIMITS[language]} s), CLI start-up included. Labels agree on {agree}/{n}"
             + (f"; they differ on {', '.join(differ[:8])}" if differ else "") + ".")
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    older = parser.add_mutually_exclusive_group(required=True)
    older.add_argument("--old-python", help="an interpreter with the older FRANC installed")
    older.add_argument("--compare-with", metavar="REF",
                       help="the FRANC of an older commit (its tree extracted with git archive, "
                            "imported first by this interpreter), e.g. main")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--stride", type=int, default=5,
                        help="keep every n-th distinct candidate (spreads them over the tasks)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--language", choices=("python", "java"), action="append")
    parser.add_argument("--before", default=BEFORE_ISOLATION,
                        help="what the older FRANC is (its row's label)")
    parser.add_argument("--after", default=AFTER_ISOLATION, help="what this checkout is")
    parser.add_argument("--section", default="sandbox",
                        help="results file benchmarks/results/SECTION.md (another comparison "
                             "than the isolation's goes to a file of its own)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="franc-bench-old-") as scratch:
        if args.compare_with:
            extract_commit(args.compare_with, Path(scratch))
            old: Interpreter = (sys.executable, {**os.environ, "PYTHONPATH": scratch})
        else:
            old = (args.old_python, None)
        return write_comparison(args, old)


def write_comparison(args: argparse.Namespace, old: Interpreter) -> int:
    sections = []
    for language in args.language or ("python", "java"):
        load_before = os.getloadavg()
        body = compare(language, args.count, args.stride, args.rounds, args.workers,
                       old, (args.before, args.after))
        load_after = os.getloadavg()
        load = " / ".join(f"{a:.1f}-{b:.1f}" for a, b in zip(load_before, load_after,
                                                               strict=True))
        sections.append(f"### {language}\n\n{body}\n\nLoad average 1/5/15 min (start-end): "
                        f"{load}.\n")
    text = (f"Sandbox now: {sandbox_capabilities().describe()}.\n"
            "Java: the test side runs in a warm trusted JVM per worker; each candidate gets a "
            "fresh JVM in the sandbox.\n"
            "The machine is shared with other jobs: read the ratio between the two rows, "
            "measured one right after the other, not the absolute runs/s.\n\n"
            + "\n".join(sections))
    if args.section == "sandbox":
        write_section("sandbox", "Sandbox: throughput and verdicts before and after isolation "
                      "(issue 14)", text + JVM_FLAGS_NOTE)
    else:
        write_section(args.section, f"Sandbox: {args.after} vs {args.before}", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
