"""The small dataclasses the pipeline stages pass to each other.

Stage outputs are written as JSON lines; ``to_json`` keeps only the fields a
stage has filled in, so that each command adds its own fields to the line it read
(``franc filter`` writes exactly task_id, index, code, heuristics, compiles,
errors, prompt_kind; ``franc analyze`` adds findings; ``franc label`` adds label, ...).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from franc.errors import InputError

Language = Literal["python", "java"]
LANGUAGES: tuple[Language, ...] = ("python", "java")
Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
ExecStatus = Literal["passed", "failed", "error", "timeout"]
# "code": the candidates continue the prompt; "instruction": the prompt is natural language,
# never merged into the candidates, which are judged as whole programs.
PromptKind = Literal["code", "instruction"]


def check_language(language: str) -> Language:
    """Return ``language`` if FRANC supports it, else raise a clear error."""
    if language not in LANGUAGES:
        raise InputError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return language  # type: ignore[return-value]


@dataclass(frozen=True)
class Task:
    """One prompt of a benchmark (HumanEval, SOEval, SecurityEval, a user's prompt)."""

    task_id: str
    prompt: str
    language: Language
    entry_point: str | None = None
    test: str | None = None
    canonical_solution: str | None = None
    security_test: str | None = None
    insecure_solution: str | None = None
    cwe: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


FindingKind = Literal["finding", "failure"]
#: How an analyzer failure (crash, time-out) shows in the ``tool``/``rule_id`` fields that
#: reports and JSON consumers read; code asks :attr:`Finding.is_failure` instead.
FAILURE_TOOL = "franc"
FAILURE_RULE = "analyzer-error"


@dataclass(frozen=True)
class Origin:
    """Which analyzer produced a finding, and whether it is a finding about the code or
    the analyzer's own failure (it crashed or timed out, so it cannot vouch for the code)."""

    analyzer: str
    kind: FindingKind = "finding"


@dataclass(frozen=True)
class Finding:
    """One analyzer message, the same shape for every tool.

    ``origin`` defaults to a finding of ``tool``; :meth:`failure` builds the finding that
    stands for an analyzer that could not analyse the code.
    """

    tool: str
    rule_id: str
    message: str
    severity: Level
    confidence: Level
    line: int
    column: int = 0
    cwe: int | None = None
    in_prompt: bool = False
    origin: Origin = None  # type: ignore[assignment]  # filled in by __post_init__

    def __post_init__(self) -> None:
        if self.origin is None:
            object.__setattr__(self, "origin", Origin(self.tool))

    @classmethod
    def failure(cls, analyzer: str, reason: str, line: int = 1) -> Finding:
        """The finding that stands for 'analyzer could not analyse this code'."""
        return cls(tool=FAILURE_TOOL, rule_id=FAILURE_RULE, message=f"{analyzer}: {reason}",
                   severity="low", confidence="low", line=max(1, line),
                   origin=Origin(analyzer, "failure"))

    @property
    def is_failure(self) -> bool:
        return self.origin.kind == "failure"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        if isinstance(kwargs.get("origin"), dict):
            kwargs["origin"] = Origin(**kwargs["origin"])
        elif "origin" not in kwargs and (kwargs.get("tool"), kwargs.get("rule_id")) == (
                FAILURE_TOOL, FAILURE_RULE):
            # Written before findings carried their origin: the message began with the tool.
            analyzer = str(kwargs.get("message", "")).split(":", 1)[0].split("/", 1)[0]
            kwargs["origin"] = Origin(analyzer, "failure")
        return cls(**kwargs)


@dataclass
class Candidate:
    """One completion of one task as it moves through the stages.

    ``index`` is the candidate's original position in the model's output, so the
    model's own order can always be recovered.
    """

    task_id: str
    index: int
    code: str
    heuristics: list[str] = field(default_factory=list)
    compiles: bool = False
    errors: list[str] = field(default_factory=list)
    # Added by later stages; None means "stage not run", never "nothing found".
    findings: list[Finding] | None = None
    label: int | None = None
    exec_status: ExecStatus | None = None
    exec_reason: str | None = None
    secure: bool | None = None
    rank: int | None = None
    score: float | None = None
    score_parts: dict[str, float] | None = None
    prompt_kind: PromptKind | None = None  # set by the static filter

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str | None = None,
                  line: int | None = None) -> Candidate:
        try:
            kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
            candidate = cls(**kwargs)
            if candidate.findings is not None:
                raw_findings: list[Any] = list(candidate.findings)
                candidate.findings = [Finding.from_json(f) for f in raw_findings]
        except (TypeError, KeyError) as exc:
            raise InputError(f"not a candidate: {exc}", source=source, line=line) from exc
        if not isinstance(candidate.code, str) or not isinstance(candidate.task_id, str):
            raise InputError("fields 'task_id' and 'code' must be strings",
                             source=source, line=line)
        return candidate

    def generated_findings(self) -> list[Finding]:
        """Findings on lines the model wrote (not on the user's prompt)."""
        return [f for f in self.findings or [] if not f.in_prompt]

    def security_findings(self, analyzers: Collection[str], min_severity: Level) -> list[Finding]:
        """What keeps this candidate from being called secure: findings of at least
        ``min_severity`` from ``analyzers`` on generated lines, and any failure of those
        analyzers (a crashed or timed-out analyzer cannot vouch for the code)."""
        threshold = LEVELS.index(min_severity)
        return [f for f in self.findings or [] if f.origin.analyzer in analyzers and (
            f.is_failure or (not f.in_prompt and LEVELS.index(f.severity) >= threshold))]


@dataclass(frozen=True)
class CompileResult:
    """A compiler's verdict on one compilation unit: ``ok``, or its error messages."""

    ok: bool
    errors: list[str] = field(default_factory=list)
