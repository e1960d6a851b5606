"""What the workers' findings cache saves: analysis of real requests, side by side.

Each request is one HumanEval prompt's 10 real candidates after the static filter. Per
request, in one run, alternating: the plain warm analyzers; the caching analyzers on a
request they have not seen (only duplicates within the request are saved); and the same
request again (an IDE asking again on the next keystroke). Writes
``benchmarks/results/findings_cache.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from benchmarks.report import REFERENCE, load_average, table, write_section
from benchmarks.server import FILES, requests_for
from franc.analysis import Analyzers
from franc.filter import StaticFilter
from franc.models import Task
from franc.server.findings_cache import CachingAnalyzers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    if not REFERENCE.is_dir():
        sys.exit("../shared/reference is absent")
    started_load = load_average()
    bodies = requests_for("python", args.requests)
    plain, caching = Analyzers("python"), CachingAnalyzers("python")
    for analyzer in (*plain.analyzers, *caching.analyzers):
        analyzer.warm_up()
    seconds: dict[str, list[float]] = {"plain": [], "caching, first time": [],
                                       "caching, asked again": []}
    distinct = total = 0
    with StaticFilter("python") as static_filter:
        for number, body in enumerate(bodies):
            task = Task(f"request{number}", body["prompt"], "python")
            filtered = static_filter.run_many(
                [(task, i, raw) for i, raw in enumerate(body["candidates"])])
            compilable = [c.code for c in filtered if c.compiles]
            distinct += len(set(compilable))
            total += len(compilable)
            # Plain and caching take turns going first (astroid's caches are process-wide).
            order = [("plain", plain), ("caching, first time", caching)][::1 - 2 * (number % 2)]
            for name, analyzers in (*order, ("caching, asked again", caching)):
                begun = time.perf_counter()
                analyzers.run(filtered, {task.task_id: task})
                seconds[name].append(time.perf_counter() - begun)
    plain.close()
    caching.close()
    base = statistics.mean(seconds["plain"])
    rows = [[name, len(values), f"{statistics.mean(values) * 1000:.1f}",
             f"{statistics.median(values) * 1000:.1f}",
             f"{(base - statistics.mean(values)) * 1000:.1f}",
             f"{base / statistics.mean(values):.2f}x"]
            for name, values in seconds.items()]
    write_section("findings_cache", "Findings cache in the server's workers",
                  f"Python analyzers (bandit, pylint) warm in one process, {args.requests} "
                  f"requests of 10 real candidates ({FILES['python']}) after the static filter; "
                  f"{total} compilable candidates, {distinct} distinct ({total - distinct} "
                  "duplicates within their request). The three conditions run in turn on each "
                  "request, plain and caching taking turns going first, after the analyzers' "
                  f"warm-up. Load average (1/5/15 min) at the start: {started_load}; at the end: "
                  f"{load_average()} (shared machine: compare the ratios).\n\n"
                  + table(["analysis", "requests", "mean ms", "median ms",
                           "ms saved per request (mean)", "plain / this"], rows))


if __name__ == "__main__":
    main()
