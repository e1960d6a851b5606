"""Loader cost on every reference file: format detection + checked reading vs a bare json.loads.

For each file in ``../shared/reference/benchmarks`` and ``suggestions``: the format
detected, the tasks or candidates read, and the time of ``load_tasks`` /
``load_suggestions`` (detection, type checks, errors with line numbers) side by side
with the plain way (``json.loads`` of every line, no checks). Then the export round
trip on every HumanEval file: our static filter's candidates -> humaneval / evalplus /
bigcode -> loaders, checking that what comes back is what went out and that
``prompt + completion`` (what human-eval runs) compiles wherever the candidate does.
Writes its section to benchmarks/results/.

    python -m benchmarks.loaders [--repeat N] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.report import REFERENCE, reference_missing, table, write_section
from franc.datasets import load_suggestions, load_tasks, suggestion_format, task_format
from franc.datasets.export import completion, export, select
from franc.filter.chain import StaticFilter, language_support


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_rows(repeat: int) -> tuple[list[list[object]], float, float]:
    rows: list[list[object]] = []
    ours_total = plain_total = 0.0
    files = sorted((REFERENCE / "benchmarks").glob("*.jsonl"))
    files += sorted((REFERENCE / "suggestions").glob("*.jsonl.gz"))
    for path in files:
        is_prompts = path.parent.name == "benchmarks"
        if is_prompts:
            format_id = task_format(path).id
            count = len(load_tasks(path))
            ours = best_seconds(partial(load_tasks, path), repeat)
        else:
            format_id = suggestion_format(path).id
            count = sum(map(len, load_suggestions(path).values()))
            ours = best_seconds(partial(load_suggestions, path), repeat)
        plain = best_seconds(partial(plain_read, path), repeat)
        ours_total += ours
        plain_total += plain
        rows.append([path.name, format_id, count, ours * 1000, plain * 1000, ours / plain])
    return rows, ours_total, plain_total


def round_trip_rows(language: str, limit: int | None) -> list[list[object]]:
    """Our filter's output of each HumanEval file, exported and read back.

    ``prompt + completion`` is what human-eval runs; it must compile wherever the
    filtered candidate compiles, also when the filter rewrote the prompt part.
    """
    tasks = load_tasks(REFERENCE / "benchmarks" / f"HumanEval_{language}.jsonl")
    by_id = {t.task_id: t for t in tasks}
    rows: list[list[object]] = []
    files = sorted((REFERENCE / "suggestions").glob(f"HumanEval_{language}_*.jsonl.gz"))
    compiler = language_support(language).make_compiler()
    try:
        for path in files[:limit]:
            items = [(by_id[task_id], index, text)
                     for task_id, texts in load_suggestions(path).items()
                     for index, text in enumerate(texts)]
            with StaticFilter(language) as static_filter:
                candidates = static_filter.run_many(items)
            expected = {task_id: [c.code for c in group]
                        for task_id, group in select(candidates).items()}
            with tempfile.TemporaryDirectory() as work:
                out = Path(work)
                start = time.perf_counter()
                export(candidates, "evalplus", out / "evalplus.jsonl")
                export(candidates, "humaneval", out / "samples.jsonl", tasks)
                export(candidates, "bigcode", out / "generations.json", tasks)
                evalplus = load_suggestions(out / "evalplus.jsonl")
                samples = load_suggestions(out / "samples.jsonl")
                bigcode = load_suggestions(out / "generations.json", tasks=tasks)
                seconds = time.perf_counter() - start
            compilable = [c for c in candidates if c.compiles]
            joined = [by_id[c.task_id].prompt + completion(by_id[c.task_id], c.code)[0]
                      for c in compilable]
            joined_ok = sum(result.ok for result in compiler.check(joined))
            cut = sum(completion(by_id[c.task_id], c.code)[1] for c in compilable)
            rows.append([
                path.name, len(candidates), len(compilable),
                cut / max(len(compilable), 1), joined_ok / max(len(compilable), 1),
                evalplus == expected, sum(map(len, samples.values())) == len(candidates),
                {k: v for k, v in bigcode.items() if v} == expected, seconds])
    finally:
        compiler.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument("--limit", type=int, help="round trips on the first N files per language")
    args = parser.parse_args()
    if reference_missing():
        return 1
    rows, ours_total, plain_total = load_rows(args.repeat)
    body = table(["file", "format detected", "tasks / candidates", "ours ms", "plain ms",
                  "ours / plain"], rows)
    body += (f"\n\nAll {len(rows)} files: ours {ours_total:.2f} s, plain json.loads "
             f"{plain_total:.2f} s (ratio {ours_total / plain_total:.2f}; best of "
             f"{args.repeat}).\n\n")
    header = ["file", "candidates", "compile after filter", "code starts with prompt",
              "prompt+completion compiles", "evalplus same", "humaneval count same",
              "bigcode same", "export+load s"]
    for language in ("python", "java"):
        body += f"\n\nRound trip of our filter's output, HumanEval {language}:\n\n"
        body += table(header, round_trip_rows(language, args.limit))
    write_section("loaders", "Loaders and export round trips (reference files)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
