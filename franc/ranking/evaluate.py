"""Evaluate rankers against execution labels with ranx.

Labels are graded: 0 does not compile, 1 compiles but fails the tests, 2 passes
the functional tests (and, with a security test, fails it), 3 passes all.
Per ranker we report ranx metrics: graded ones (NDCG, DCG) over the graded labels,
averaged over the prompts with at least one label above 0 (as FRANC's figures do);
binary ones (precision, MRR, ...) with "passes" (label >= 2) as relevant, averaged
over the prompts where some candidate passes (counting "compiles" as relevant made
every ranker but ``original`` score 1.000). A metric with ranx's ``-lN`` suffix
(``precision@1-l1``) names its relevance level itself and uses the graded labels.
Beside them: the top-1 pass rate (share of *all* prompts whose first candidate
passes), the oracle (some candidate passes), the unbiased pass@k of the model's
samples (Chen et al. 2021; it does not depend on the ranker) and the share of the
gap between the original order's top-1 and the oracle that a ranker closes.
Significance: ``ranx.compare`` with a paired test over prompts.
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from franc.errors import InputError, ToolMissingError
from franc.jsonl import read_jsonl
from franc.languages import PASS_LABEL
from franc.models import Candidate, Language, Task, check_language
from franc.parallel import map_chunks
from franc.ranking.rankers import get_ranker

DEFAULT_METRICS = ("ndcg@10", "precision@1", "mrr")
TOP1 = "top1_pass"
#: ranx's metrics; the graded ones use the labels as gains, the others count "passes" as relevant.
GRADED_METRICS = frozenset({"ndcg", "ndcg_burges", "dcg", "dcg_burges"})
BINARY_METRICS = frozenset({"hits", "hit_rate", "precision", "recall", "f1", "r-precision",
                            "mrr", "map", "bpref", "rbp"})
_METRIC = re.compile(r"^(?P<name>[a-z_-]+?)(?:\.\d+)?(?:@(?P<k>\d+))?(?:-l(?P<level>\d+))?$")
#: The k of the unbiased pass@k reported beside the top-1 pass rate.
PASS_AT_K = (1, 10)
EXECUTORS = ("process", "ray")

#: ranker -> query id -> candidate indexes, best first.
Orders = dict[str, dict[str, list[int]]]


@dataclass
class LabeledFile:
    """The labeled candidates of one file (one model on one benchmark)."""

    name: str
    language: Language
    candidates: list[Candidate]


@dataclass
class Evaluation:
    """Scores of several rankers on one file or a pool of files."""

    name: str
    language: str
    tasks: int
    ndcg_tasks: int
    oracle: float
    scores: dict[str, dict[str, float]]
    #: ranker -> other ranker -> metric -> p-value (paired test over prompts).
    p_values: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    stat_test: str = "student"
    latex: str = ""
    #: k -> unbiased pass@k of the candidates (the model's samples), whatever the ranker.
    pass_at_k: dict[int, float] = field(default_factory=dict)
    #: Prompts some candidate passes (the prompts the binary metrics average over).
    pass_tasks: int = 0

    def gap_closed(self, ranker: str, baseline: str = "original") -> float | None:
        base = self.scores[baseline][TOP1]
        if self.oracle <= base:
            return None
        return (self.scores[ranker][TOP1] - base) / (self.oracle - base)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "tasks": self.tasks,
                "ndcg_tasks": self.ndcg_tasks, "pass_tasks": self.pass_tasks,
                "oracle": self.oracle,
                "pass_at_k": {f"pass@{k}": v for k, v in self.pass_at_k.items()},
                "scores": self.scores,
                "gap_closed": {r: self.gap_closed(r) for r in self.scores
                               if "original" in self.scores},
                "p_values": self.p_values, "stat_test": self.stat_test}


def ranker_label(spec: str) -> tuple[str, str]:
    """``NAME=PATH`` names a ranker loaded from PATH; a bare spec names itself."""
    if "=" in spec:
        label, _, path = spec.partition("=")
        return label, path
    return (Path(spec).stem if Path(spec).suffix else spec), spec


def check_metrics(metrics: Sequence[str]) -> list[str]:
    """The metrics if ranx knows them all; else an :class:`InputError` naming the first unknown."""
    for metric in metrics:
        match = _METRIC.match(metric)
        name = match["name"] if match else ""
        if name not in GRADED_METRICS | BINARY_METRICS:
            raise InputError(f"unknown metric {metric!r}; expected NAME[@K][-lLEVEL] with NAME "
                             f"one of {', '.join(sorted(GRADED_METRICS | BINARY_METRICS))}")
    return list(metrics)


def is_graded(metric: str) -> bool:
    """Graded metrics and metrics naming their own relevance level use the graded labels."""
    match = _METRIC.match(metric)
    return bool(match and (match["name"] in GRADED_METRICS or match["level"]))


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator of Chen et al. (2021): 1 - C(n - c, k) / C(n, k) for n
    samples of which c pass; with fewer than k samples, k is n (all samples drawn)."""
    k = min(k, n)
    if k <= 0:
        return 0.0
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def mean_pass_at_k(labels: Mapping[str, Mapping[int, int]], k: int) -> float:
    """pass@k averaged over the prompts (every candidate a sample)."""
    if not labels:
        return 0.0
    return sum(pass_at_k(len(row), sum(v >= PASS_LABEL for v in row.values()), k)
               for row in labels.values()) / len(labels)


def language_of(path: Path, tasks: Mapping[str, Task], candidates: Sequence[Candidate],
                given: str | None) -> Language:
    if given:
        return check_language(given)
    for candidate in candidates:
        if candidate.task_id in tasks:
            return tasks[candidate.task_id].language
    name = path.name.lower()
    found = [lang for lang in ("java", "python") if lang in name]
    if len(found) == 1:
        return found[0]  # type: ignore[return-value]
    raise InputError("cannot tell the language of this file; pass --language or --prompts",
                     source=str(path))


def load_labeled(path: str | Path, tasks: Mapping[str, Task] | None = None,
                 language: str | None = None) -> LabeledFile:
    """Read ``franc label`` output; every candidate must carry a label."""
    path = Path(path)
    candidates: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for line, row in read_jsonl(path):
        candidate = Candidate.from_json(row, source=str(path), line=line)
        if not isinstance(candidate.label, int) or isinstance(candidate.label, bool) \
                or not 0 <= candidate.label <= 3:
            raise InputError(f"candidate {candidate.task_id}#{candidate.index} needs a label "
                             f"0-3 (run `franc label` first), got {candidate.label!r}",
                             source=str(path), line=line)
        key = (candidate.task_id, candidate.index)
        if key in seen:
            raise InputError(f"candidate {candidate.task_id}#{candidate.index} appears twice",
                             source=str(path), line=line)
        seen.add(key)
        candidates.append(candidate)
    if not candidates:
        raise InputError("no labeled candidates", source=str(path))
    name = path.name.removesuffix(".gz").removesuffix(".jsonl")
    return LabeledFile(name, language_of(path, tasks or {}, candidates, language), candidates)


def apply_qrels(labeled: LabeledFile, qrels_path: str | Path) -> None:
    """Override labels from a TREC qrels file (``task_id 0 index label``), read by ranx.

    A line ranx cannot read, or one naming a candidate that is not in the file, is an
    error naming the file and the line, not a silently ignored label.
    """
    from ranx import Qrels  # lazy: heavy import (numba)

    source = str(qrels_path)
    try:
        qrels = Qrels.from_file(source, kind="trec").to_dict()
    except OSError as exc:
        raise InputError(f"cannot read the qrels file: {exc.strerror or exc}", source=source
                         ) from exc
    except ValueError as exc:  # a line ranx cannot split or convert; also UnicodeDecodeError
        raise InputError(f"expected 'task_id 0 candidate_index label' ({exc})", source=source,
                         line=_qrels_line(qrels_path, lambda fields: not _trec_line(fields))
                         ) from exc
    by_key = {(c.task_id, str(c.index)): c for c in labeled.candidates}
    unknown = next((key for task_id, labels in qrels.items() for index in labels
                    if (key := (task_id, index)) not in by_key), None)
    if unknown is not None:
        raise InputError(f"label for unknown candidate {unknown[0]}#{unknown[1]} "
                         f"(not in {labeled.name})", source=source, line=_qrels_line(
                             qrels_path, lambda fields: (fields[:1] + fields[2:3]) == [*unknown]))
    for task_id, labels in qrels.items():
        for index, label in labels.items():
            by_key[task_id, index].label = int(label)


def _trec_line(fields: list[str]) -> bool:
    """True for the fields of a line ranx reads as qrels (four, the last an integer)."""
    if len(fields) != 4:
        return False
    try:
        int(fields[3])
    except ValueError:
        return False
    return True


def _qrels_line(path: str | Path, wrong: Callable[[list[str]], bool]) -> int | None:
    """The number of the first line of ``path`` whose fields are ``wrong`` (for an error)."""
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    return number
                if wrong(line.split()):
                    return number
    except OSError:
        pass  # the error names the file without a line
    return None


def group_tasks(candidates: Sequence[Candidate]) -> dict[str, list[Candidate]]:
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[candidate.task_id].append(candidate)
    return groups


#: One file's ranking work: the file, the rankers, its tasks, the outcome cache (or None).
RankJob = tuple[LabeledFile, Sequence[str], Mapping[str, Task], str | None]


def rank_file(job: RankJob) -> Orders:
    """Every ranker's order of every task of one file (the per-file unit of work)."""
    labeled, specs, tasks, cache = job
    orders: Orders = {}
    for spec in specs:
        label, source = ranker_label(spec)
        ranker = get_ranker(source, labeled.language, latency_guards=False, cache=cache)
        try:
            orders[label] = {
                task_id: [c.index for c in ranker.rank(tasks.get(task_id), list(group))]
                for task_id, group in group_tasks(labeled.candidates).items()}
        finally:
            ranker.close()
    return orders


def rank_jobs(jobs: Sequence[RankJob]) -> list[Orders]:
    """:func:`rank_file` over several jobs (a chunk of a process pool's work)."""
    return [rank_file(job) for job in jobs]


def rank_files(files: Sequence[LabeledFile], specs: Sequence[str],
               tasks: Mapping[str, Task] | None = None, *, executor: str = "process",
               workers: int | None = None, progress: bool = True,
               cache: str | Path | None = None) -> list[Orders]:
    """Rank every file with every ranker, one file per unit of work; ``cache``: the SQLite
    file where the rankers that run candidates keep their outcomes (see :func:`get_ranker`).

    ``process``: a local process pool. ``ray``: Ray tasks on the cluster named by
    ``RAY_ADDRESS`` or a local Ray instance; the results are identical.
    """
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    # Absolute: a worker need not share this process's working directory (Ray's may not).
    shared = None if cache is None else str(Path(cache).resolve())
    jobs: list[RankJob] = [
        (f, tuple(specs), {t: tasks[t] for t in {c.task_id for c in f.candidates}
                           if t in tasks} if tasks else {}, shared)
        for f in files]
    if executor == "process":
        return map_chunks(rank_jobs, jobs, workers=workers, chunk_size=1,
                          description="ranking files", progress=progress)
    try:
        import ray  # lazy: optional extra
    except ImportError as exc:
        raise ToolMissingError("--executor ray needs Ray: pip install 'franc-code[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), num_cpus=workers,
                 include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(rank_file)
    return ray.get([remote.remote(job) for job in jobs])


def _run(order: Mapping[str, list[int]], name: str):
    from ranx import Run  # lazy: heavy import (numba)

    # Scores from positions make the order exact: ranx never re-breaks ties.
    return Run.from_dict({q: {str(i): float(len(idx) - pos) for pos, i in enumerate(idx)}
                          for q, idx in order.items()}, name=name)


def score(name: str, language: str, labels: Mapping[str, Mapping[int, int]], orders: Orders,
          metrics: Sequence[str] = DEFAULT_METRICS, stat_test: str = "student") -> Evaluation:
    """Evaluate the rankers' ``orders`` against graded ``labels`` (query -> index -> label)."""
    from ranx import Qrels, compare  # lazy: heavy import (numba)

    for ranker, order in orders.items():
        for query, indexes in order.items():
            unknown = set(indexes) - set(labels.get(query, {}))
            if unknown:
                raise InputError(f"ranker {ranker!r} ranked candidates without a label: "
                                 f"{query}#{sorted(unknown)[0]}")
    metrics = check_metrics(metrics)
    graded = {q: {str(i): int(v) for i, v in row.items()} for q, row in labels.items()
              if any(v > 0 for v in row.values())}
    passing_all = {q: {str(i): int(v >= PASS_LABEL) for i, v in row.items()}
                   for q, row in labels.items()}
    passing = {q: row for q, row in passing_all.items() if any(row.values())}
    names = list(orders)
    scores: dict[str, dict[str, float]] = {r: {} for r in names}
    p_values: dict[str, dict[str, dict[str, float]]] = {r: defaultdict(dict) for r in names}
    latex = ""
    # (qrels, metrics, renames): graded metrics on the graded labels; binary ones with
    # "passes" as relevant over the prompts some candidate passes; the top-1 pass rate
    # (precision@1 over *all* prompts).
    groups: tuple[tuple[dict[str, dict[str, int]], list[str], dict[str, str]], ...] = (
        (graded, [m for m in metrics if is_graded(m)], {}),
        (passing, [m for m in metrics if not is_graded(m)], {}),
        (passing_all, ["precision@1"], {"precision@1": TOP1}))
    for qrels_dict, wanted, rename in groups:
        if not wanted:
            continue
        if not qrels_dict:
            for r in names:
                scores[r].update({rename.get(m, m): 0.0 for m in wanted})
            continue
        runs = [_run({q: orders[r][q] for q in qrels_dict}, r) for r in names]
        report = compare(Qrels.from_dict(qrels_dict), runs, metrics=wanted,
                         stat_test=stat_test, max_p=0.05, make_comparable=True)
        data = report.to_dict()
        latex = latex or report.to_latex()
        for r in names:
            for metric, value in data[r]["scores"].items():
                scores[r][rename.get(metric, metric)] = float(value)
            for other, per_metric in data[r]["comparisons"].items():
                for metric, p in per_metric.items():
                    p_values[r][other][rename.get(metric, metric)] = float(p)
    oracle = (sum(any(v >= PASS_LABEL for v in row.values()) for row in labels.values())
              / len(labels)) if labels else 0.0
    return Evaluation(name, language, len(labels), len(graded), oracle, scores,
                      {r: dict(v) for r, v in p_values.items()}, stat_test, latex,
                      {k: mean_pass_at_k(labels, k) for k in PASS_AT_K}, len(passing))


def labels_of(files: Sequence[LabeledFile], prefix: bool) -> dict[str, dict[int, int]]:
    """query id -> candidate index -> label; ``prefix`` keeps tasks of different files apart."""
    labels: dict[str, dict[int, int]] = defaultdict(dict)
    for f in files:
        for c in f.candidates:
            labels[f"{f.name}::{c.task_id}" if prefix else c.task_id][c.index] = int(c.label or 0)
    return dict(labels)


def prefixed(files: Sequence[LabeledFile], orders: Sequence[Orders]) -> Orders:
    pooled: Orders = defaultdict(dict)
    for f, order in zip(files, orders, strict=True):
        for ranker, per_task in order.items():
            pooled[ranker].update({f"{f.name}::{t}": idx for t, idx in per_task.items()})
    return dict(pooled)


@dataclass
class EvalReport:
    """Per-file evaluations and one pooled evaluation per language."""

    files: list[Evaluation]
    pooled: list[Evaluation]
    rankers: list[str]
    metrics: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"rankers": self.rankers, "metrics": self.metrics,
                "files": [e.to_json() for e in self.files],
                "pooled": [e.to_json() for e in self.pooled]}


def evaluate(files: Sequence[LabeledFile], rankers: Sequence[str],
             tasks: Mapping[str, Task] | None = None, *,
             metrics: Sequence[str] = DEFAULT_METRICS, stat_test: str = "student",
             executor: str = "process", workers: int | None = None,
             progress: bool = True, orders: Sequence[Orders] | None = None,
             cache: str | Path | None = None) -> EvalReport:
    """Rank every labeled file with every ranker and score the orders (``cache``: see
    :func:`rank_files`).

    ``orders`` (one per file) skips the ranking, for rankers evaluated
    elsewhere (the benchmark's leave-one-model-out learned ranker).
    """
    if not files:
        raise InputError("no labeled files to evaluate")
    metrics = check_metrics(metrics)
    names = [ranker_label(spec)[0] for spec in rankers]
    if len(set(names)) != len(names):
        raise InputError(f"ranker names repeat: {', '.join(names)}")
    orders = list(orders) if orders is not None else rank_files(
        files, rankers, tasks, executor=executor, workers=workers, progress=progress,
        cache=cache)
    per_file = [score(f.name, f.language, labels_of([f], prefix=False), order, metrics, stat_test)
                for f, order in zip(files, orders, strict=True)]
    pooled = []
    for language in sorted({f.language for f in files}):
        chosen = [i for i, f in enumerate(files) if f.language == language]
        subset = [files[i] for i in chosen]
        pooled.append(score(f"pooled {language} ({len(subset)} files)", language,
                            labels_of(subset, prefix=True),
                            prefixed(subset, [orders[i] for i in chosen]), metrics, stat_test))
    return EvalReport(per_file, pooled, names, [*metrics, TOP1])
