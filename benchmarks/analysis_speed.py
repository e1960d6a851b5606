"""Python analysis per snippet, amortised over ``franc analyze`` on the reference files.

Every Python reference file is filtered once (this tree's filter), all filtered candidates go
into one JSONL file, and ``franc analyze`` (bandit + pylint, its default workers) runs over it
as a user would run it: the process start, the warm-up of each worker and the analysis, per
compilable snippet. ``--compare-with REF`` runs the ``franc analyze`` of an older commit (its
tree extracted with ``git archive``) on the same file, the runs alternating old/new
``--repeat`` times, and writes ``benchmarks/results/analysis_speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import (
    REFERENCE,
    ROOT,
    load_average,
    reference_missing,
    table,
    write_section,
)
from benchmarks.server import extract_commit


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def franc(tree: Path, *args: str) -> None:
    """Run ``python -m franc ARGS`` with the package of ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-m", "franc", *args], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def filtered_reference(folder: Path, pattern: str) -> tuple[Path, int]:
    """The Python reference files matching ``pattern`` filtered into one JSONL file, and its
    compilable count."""
    combined = folder / "filtered.jsonl"
    with combined.open("w", encoding="utf-8") as out:
        for suggestions in sorted((REFERENCE / "suggestions").glob(f"{pattern}.jsonl.gz")):
            part = folder / f"{suggestions.name.removesuffix('.jsonl.gz')}.jsonl"
            benchmark = suggestions.name.split("_python_")[0] + "_python.jsonl"
            franc(ROOT, "filter", "--language", "python", "--suggestions", str(suggestions),
                  "--prompts", str(REFERENCE / "benchmarks" / benchmark),
                  "--workers", "2", "-q", "-o", str(part))
            out.write(part.read_text(encoding="utf-8"))
    compilable = sum(bool(json.loads(line).get("compiles"))
                     for line in combined.read_text(encoding="utf-8").splitlines())
    return combined, compilable


def analyse(tree: Path, candidates: Path, output: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``franc analyze`` run (CPU: it and its workers)."""
    cpu, start = children_cpu(), time.perf_counter()
    franc(tree, "analyze", "--language", "python", "--candidates", str(candidates),
          "--workers", "2", "-o", str(output))
    return time.perf_counter() - start, children_cpu() - cpu


def findings_of(analysed: Path) -> list[list[str]]:
    """Each candidate's findings, sorted (findings on one line and column may come in any
    order)."""
    return [sorted(json.dumps(finding, sort_keys=True) for finding in row.get("findings") or [])
            for row in map(json.loads, analysed.read_text(encoding="utf-8").splitlines())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare-with", metavar="REF", required=True)
    parser.add_argument("--repeat", type=int, default=2, help="old/new runs each")
    parser.add_argument("--files", default="*_python_*",
                        help="glob of the reference suggestion files (default: all Python)")
    args = parser.parse_args()
    if reference_missing():
        sys.exit(1)
    started_load = load_average()
    with tempfile.TemporaryDirectory(prefix="franc-analysis-speed-") as scratch:
        folder = Path(scratch)
        old_tree = folder / "old"
        old_tree.mkdir()
        commit = extract_commit(args.compare_with, old_tree)
        candidates, compilable = filtered_reference(folder, args.files)
        trees = {f"old ({commit})": old_tree, "new (working tree)": ROOT}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        outputs = {name: folder / f"analyzed-{i}.jsonl" for i, name in enumerate(trees)}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                runs[name].append(analyse(tree, candidates, outputs[name]))
                print(name, runs[name][-1], flush=True)
        old_out, new_out = outputs.values()
        same = findings_of(old_out) == findings_of(new_out)
    best = {name: (min(w for w, _ in measured), min(c for _, c in measured))
            for name, measured in runs.items()}
    rows: list[list[object]] = [
        [name, compilable, len(runs[name]), f"{wall:.1f}", f"{cpu:.1f}",
         f"{wall / compilable * 1000:.2f}", f"{cpu / compilable * 1000:.2f}",
         f"{cpu / compilable * 1000 / 2:.2f}"] for name, (wall, cpu) in best.items()]
    (old_wall, old_cpu), (new_wall, new_cpu) = best.values()
    rows.append(["ratio old / new", "", "", f"{old_wall / new_wall:.2f}x",
                 f"{old_cpu / new_cpu:.2f}x", f"{old_wall / new_wall:.2f}x",
                 f"{old_cpu / new_cpu:.2f}x", f"{old_cpu / new_cpu:.2f}x"])
    write_section(
        "analysis_speed", "Python analysis per snippet: `franc analyze` over the reference files",
        f"The reference files `{args.files}` filtered, then one `franc analyze --workers 2` "
        "(bandit + pylint) over all their candidates, start-up and warm-up included; old and "
        "new runs "
        f"alternate, best of {args.repeat} each. Load average (1/5/15 min) at the start: "
        f"{started_load}; at the end: {load_average()}. The machine was shared: compare the "
        "ratios; CPU time (the command and its workers) is less inflated by other jobs than "
        f"wall time. Same findings in both outputs: {'yes' if same else 'NO'}.\n\n"
        + table(["analysis", "compilable snippets", "runs", "wall s", "CPU s",
                 "wall ms/snippet", "CPU ms/snippet", "CPU ms/snippet / 2 cores"], rows))


if __name__ == "__main__":
    main()
