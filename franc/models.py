"""The small dataclasses the pipeline stages pass to each other.

Stage outputs are written as JSON lines; ``to_json`` keeps only the fields a
stage has filled in, so that each command adds its own fields to the line it read
(``franc filter`` writes exactly task_id, index, code, heuristics, compiles,
errors; ``franc analyze`` adds findings; ``franc label`` adds label, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from franc.errors import InputError

Language = Literal["python", "java"]
LANGUAGES: tuple[Language, ...] = ("python", "java")
Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
ExecStatus = Literal["passed", "failed", "error", "timeout"]


def check_language(language: str) -> Language:
    """Return ``language`` if FRANC supports it, else raise a clear error."""
    if language not in LANGUAGES:
        raise InputError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return language


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


@dataclass(frozen=True)
class Finding:
    """One analyzer message, the same shape for every tool."""

    tool: str
    rule_id: str
    message: str
    severity: Level
    confidence: Level
    line: int
    column: int = 0
    cwe: int | None = None
    in_prompt: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


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


@dataclass(frozen=True)
class CompileResult:
    """A compiler's verdict on one compilation unit: ``ok``, or its error messages."""

    ok: bool
    errors: list[str] = field(default_factory=list)
