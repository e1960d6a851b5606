"""Static features of the candidates of one task, shared by ``quality`` and ``learned``.

Features come from the filter (compile status, heuristics applied), the
analyzers (findings on generated lines only), the text itself (repetition,
empty or trivial body, length) and the other candidates of the same task
(consensus). No feature needs the candidate to run.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from franc.errors import InputError
from franc.languages import LANGUAGE_FACTS
from franc.models import Candidate, Finding, Language, Task
from franc.ranking import code as codeview
from franc.ranking.shape import returns_none
from franc.ranking.structure import target_tree

#: The names and order of the feature vector (the learned model stores them too).
FEATURES: tuple[str, ...] = (
    "compiles",            # 1 when the filtered code compiles
    "heuristics",          # how many repair heuristics the filter applied (but ignored ones)
    # Counts enter as log(1 + count): the first findings matter most, and a candidate with
    # sixty lint errors must not sink below one that does not compile.
    "findings",            # log1p(sum of severity x confidence over generated-line findings)
    "security",            # log1p(sum of severity x confidence x CWE weight, findings with a CWE)
    "lint_errors",         # log1p(pylint/Java-rule errors: high severity, E/F messages)
    "lint_warnings",       # log1p(pylint/Java-rule warnings: medium severity)
    "analyzer_errors",     # log1p(analyzers that crashed or timed out on this candidate)
    "repetition",          # compressibility of the generated text (0..1)
    "duplicate_lines",     # share of generated lines repeating an earlier line
    "trivial_body",        # 1 when the generated text holds no real statement
    "keeps_signature",     # 1 when the code declares the target as the prompt does
    "log_lines",           # log(1 + generated statement lines)
    "consensus",           # mean similarity to the other compilable candidates
    "consensus_gap",       # consensus minus the best consensus in the task
    "consensus_renamed",   # consensus with user identifiers renamed by first occurrence
    "duplicates",          # share of other compilable candidates with identical tokens
    "position",            # the model's order, 0 = first
    "returns_none",        # 1 when the target can return None, which the prompt never mentions
    "consensus_tree",      # mean n-gram similarity of the target's normalised syntax tree
    "foreign_strings",     # log1p(string literals of the generated code the prompt never shows)
    "data_flow_findings",  # log1p(lint findings on values never used or code never run)
    "cluster_rank",        # rank of the candidate's cluster of equal normalised trees, 0 = largest
)

#: Lint messages (pylint symbols) about data flow: a value computed and never used, an
#: argument ignored, a statement without effect, code that never runs, a name read before
#: it is set, returns of a value on some paths only. Code doing what it set out to do
#: rarely shows them, unlike style messages (whitespace, naming, line length).
DATA_FLOW_RULES = frozenset({
    "unused-variable", "unused-argument", "pointless-statement", "pointless-string-statement",
    "expression-not-assigned", "unreachable", "used-before-assignment",
    "self-assigning-variable", "inconsistent-return-statements"})

CONSENSUS_METHODS = ("ngram", "difflib")
_LEVEL = {"low": 1.0, "medium": 2.0, "high": 3.0}


@dataclass(frozen=True)
class Weights:
    """How findings turn into numbers: severity, confidence and CWE weights."""

    severity: Mapping[str, float] = field(default_factory=lambda: dict(_LEVEL))
    confidence: Mapping[str, float] = field(
        default_factory=lambda: {"low": 0.5, "medium": 0.75, "high": 1.0})
    cwe: Mapping[int, float] = field(default_factory=dict)
    cwe_default: float = 1.0
    #: Tools whose messages count as lint errors/warnings.
    lint_tools: tuple[str, ...] = tuple(dict.fromkeys(
        tool for facts in LANGUAGE_FACTS.values() for tool in facts.lint_analyzers))
    #: Filter heuristics that do not count in the ``heuristics`` feature: those that only
    #: adapt the output's shape (a fence, prose, a bare body merged with the prompt) or cut
    #: the run-on tail a completion model writes up to its token limit.
    ignored_heuristics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ConsensusParams:
    """How candidates are compared: token n-grams (identifiers renamed or not), or
    ``difflib`` over the raw generated text (the plain baseline)."""

    max_n: int = 4
    normalise: bool = False
    method: str = "ngram"

    def __post_init__(self) -> None:
        if self.method not in CONSENSUS_METHODS:
            raise InputError(f"consensus method {self.method!r} not one of "
                             f"{', '.join(CONSENSUS_METHODS)}")


def _lint_level(finding: Finding) -> str | None:
    """Lint findings carry message symbols, not ids (``undefined-variable``, not E0602): the
    level is their severity, which pylint's analyzer takes from the message's category
    (error/fatal: high, warning: medium) and a Java rule declares."""
    return {"high": "error", "medium": "warning"}.get(finding.severity)


def finding_features(findings: Sequence[Finding], weights: Weights) -> dict[str, float]:
    """Counts over the findings on generated lines (prompt lines never count)."""
    parts = {"findings": 0.0, "security": 0.0, "lint_errors": 0.0, "lint_warnings": 0.0,
             "analyzer_errors": 0.0, "data_flow_findings": 0.0}
    for finding in findings:
        if finding.in_prompt:
            continue
        if finding.is_failure:
            parts["analyzer_errors"] += 1
            continue
        weight = (weights.severity.get(finding.severity, 1.0)
                  * weights.confidence.get(finding.confidence, 1.0))
        parts["findings"] += weight
        if finding.cwe is not None:
            parts["security"] += weight * weights.cwe.get(finding.cwe, weights.cwe_default)
        if finding.tool in weights.lint_tools:
            parts["data_flow_findings"] += finding.rule_id in DATA_FLOW_RULES
            level = _lint_level(finding)
            if level:
                parts[f"lint_{level}s"] += 1
    return parts


def ngram_profile(tokens: Sequence[str], max_n: int) -> list[Counter[tuple[str, ...]]]:
    # zip over shifted copies builds the n-gram tuples in C (~2.5x faster than slices); it
    # stops with the shortest copy, at the last whole n-gram.
    return [Counter(zip(*(tokens[shift:] for shift in range(n)), strict=False))
            for n in range(1, max_n + 1)]


def profile_similarity(a: list[Counter], b: list[Counter]) -> float:
    """Mean over n of the n-gram overlap F1 (BLEU-like, symmetric, 0..1)."""
    scores = []
    for grams_a, grams_b in zip(a, b, strict=True):
        total = grams_a.total() + grams_b.total()
        if total == 0:
            continue
        # Only the shared n-grams count; their set is taken in C.
        overlap = sum(min(grams_a[gram], grams_b[gram]) for gram in grams_a.keys() & grams_b.keys())
        scores.append(2.0 * overlap / total)
    return sum(scores) / len(scores) if scores else 0.0


def consensus_scores(token_lists: Sequence[Sequence[str] | None],
                     params: ConsensusParams,
                     texts: Sequence[str] | None = None) -> tuple[list[float], list[float]]:
    """Per candidate: mean similarity to the other comparable candidates, and the
    share of them with exactly the same tokens. ``None`` marks a candidate that
    does not take part (it does not compile, or it is trivial)."""
    members = [i for i, t in enumerate(token_lists) if t is not None]
    consensus = [0.0] * len(token_lists)
    duplicates = [0.0] * len(token_lists)
    if len(members) < 2:
        return consensus, duplicates
    if params.method == "difflib":
        def similarity(i: int, j: int) -> float:
            return difflib.SequenceMatcher(None, texts[i], texts[j]).ratio()  # type: ignore[index]
    else:
        profiles = {i: ngram_profile(token_lists[i], params.max_n) for i in members}  # type: ignore[arg-type]

        def similarity(i: int, j: int) -> float:
            return profile_similarity(profiles[i], profiles[j])
    sims: dict[tuple[int, int], float] = {}
    for pos, i in enumerate(members):
        for j in members[pos + 1:]:
            sims[i, j] = sims[j, i] = similarity(i, j)
    for i in members:
        others = [j for j in members if j != i]
        consensus[i] = sum(sims[i, j] for j in others) / len(others)
        duplicates[i] = sum(token_lists[i] == token_lists[j] for j in others) / len(others)
    return consensus, duplicates


def cluster_ranks(keys: Sequence[Hashable | None]) -> list[float]:
    """Per candidate: the dense rank, by size, of its cluster of equal ``keys`` (0 = the
    largest; clusters of one size share a rank), as a majority vote over equivalent
    programs ranks them; ``None`` marks a candidate that takes no part (one rank below the
    smallest cluster)."""
    sizes = Counter(key for key in keys if key is not None)
    ranked = sorted(set(sizes.values()), reverse=True)
    return [float(ranked.index(sizes[key]) if key is not None else len(ranked))
            for key in keys]


def task_features(language: Language, task: Task | None, candidates: Sequence[Candidate],
                  weights: Weights | None = None,
                  consensus: ConsensusParams | None = None,
                  needed: Collection[str] | None = None) -> list[dict[str, float]]:
    """One feature dict per candidate of one task: the features in ``needed`` (default: all
    of :data:`FEATURES`). A ranker asks only for those it reads: the syntax-tree features
    parse every candidate again, which the server's default ranker need not pay for."""
    weights = weights or Weights()
    consensus = consensus or ConsensusParams()
    wanted = set(FEATURES if needed is None else needed)
    with_trees = bool(wanted & {"consensus_tree", "cluster_rank"})
    rows: list[dict[str, float]] = []
    token_lists: list[list[str] | None] = []
    renamed_lists: list[list[str] | None] = []
    texts: list[str] = []
    trees: list[list[str] | None] = []
    declaration = codeview.declaration_tokens(task)
    entry_point = task.entry_point if task is not None else None
    for candidate in candidates:
        generated = codeview.generated_part(candidate.code, task)
        trivial = codeview.is_trivial(generated, language)
        row = {"compiles": float(candidate.compiles),
               "heuristics": float(sum(h not in weights.ignored_heuristics
                                       for h in candidate.heuristics)),
               **{name: math.log1p(value) for name, value in
                  finding_features(candidate.findings or [], weights).items()},
               "repetition": codeview.repetition(generated),
               "duplicate_lines": codeview.duplicate_line_share(generated),
               "trivial_body": float(trivial),
               "keeps_signature": float(codeview.keeps_signature(candidate.code, declaration)),
               "log_lines": math.log1p(len(codeview.statement_lines(generated, language))),
               "position": float(candidate.index)}
        if "returns_none" in wanted:  # parses the code again: a quarter of quality's time
            row["returns_none"] = float(candidate.compiles
                                        and returns_none(candidate.code, task, language))
        tokens = codeview.code_tokens(generated, language) if candidate.compiles and not trivial \
            else None
        if "foreign_strings" in wanted:
            row["foreign_strings"] = math.log1p(codeview.foreign_strings(
                tokens, task.prompt if task is not None else "", language)) if tokens else 0.0
        rows.append(row)
        texts.append(generated)
        trees.append(list(target_tree(candidate.code, entry_point, language))
                     if with_trees and tokens is not None else None)
        renamed = codeview.normalise_identifiers(tokens, language) \
            if tokens is not None and (consensus.normalise or "consensus_renamed" in wanted) \
            else None
        token_lists.append(renamed if consensus.normalise else tokens)
        renamed_lists.append(renamed)
    agreement, duplicates = consensus_scores(token_lists, consensus, texts)
    renamed_params = ConsensusParams(consensus.max_n, normalise=True)
    # With renaming already on, the ranker's own consensus is the renamed one: reuse it.
    renamed_agreement = agreement if consensus == renamed_params \
        or "consensus_renamed" not in wanted \
        else consensus_scores(renamed_lists, renamed_params, texts)[0]
    tree_agreement = consensus_scores(trees, ConsensusParams(consensus.max_n))[0]
    clusters = cluster_ranks([tuple(tree) if tree is not None else None for tree in trees])
    best = max(agreement, default=0.0)
    for row, score, dup, renamed_score, tree_score, cluster in zip(
            rows, agreement, duplicates, renamed_agreement, tree_agreement, clusters,
            strict=True):
        row["consensus_tree"] = tree_score
        row["cluster_rank"] = cluster
        row["consensus"] = score
        row["consensus_gap"] = score - best
        row["consensus_renamed"] = renamed_score
        row["duplicates"] = dup
    return [{name: row[name] for name in FEATURES if name in wanted} for row in rows]
