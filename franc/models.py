"""The small dataclasses the pipeline stages pass to each other.

Stage outputs are written as JSON lines; ``to_json`` keeps only the fields a
stage has filled in, so that each command adds its own fields to the line it read
(``franc filter`` writes exactly task_id, index, code, heuristics, compiles,
errors, prompt_kind, prompt_span; ``franc analyze`` adds findings; ``franc label`` adds label, ...).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Collection
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from franc.errors import InputError

Language = Literal["python", "java"]
LANGUAGES: tuple[Language, ...] = ("python", "java")
#: Source file extensions and their language.
EXTENSIONS: dict[str, Language] = {".py": "python", ".java": "java"}
Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
ExecStatus = Literal["passed", "failed", "error", "timeout"]
# "code": the candidates continue the prompt; "instruction": the prompt is natural language,
# never merged into the candidates, which are judged as whole programs.
PromptKind = Literal["code", "instruction"]


def shape_problem(cls: type, data: Any) -> str | None:
    """What is wrong with ``data`` as the JSON form of dataclass ``cls`` (``None``: nothing).

    Checks that required fields are present and that every field has its annotated shape
    (``list[str]``, ``int | None``, a ``Literal``...), so a string where a list belongs is
    named instead of being read character by character.
    """
    if not isinstance(data, dict):
        return f"expected a JSON object, got {_json_type(data)}"
    for name, required, fits, shape in _field_checks(cls):
        if name not in data:
            if required:
                return f"missing field {name!r}"
        elif not fits(data[name]):
            return f"field {name!r} must be {shape}, got {_json_type(data[name])}"
    return None


Check = Callable[[Any], bool]


@functools.cache
def _field_checks(cls: type) -> tuple[tuple[str, bool, Check, str], ...]:
    """Per field of ``cls``: name, required, shape check, the shape in words (built once)."""
    hints = get_type_hints(cls)
    return tuple((f.name, f.default is MISSING and f.default_factory is MISSING,
                  _checker(hints[f.name]), _describe(hints[f.name], f.type))
                 for f in fields(cls))


def _checker(hint: Any) -> Check:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        options = tuple(_checker(option) for option in args)
        return lambda value: any(fits(value) for fits in options)
    if origin is Literal:
        return lambda value: value in args
    if origin is list or origin is tuple:  # JSON has only lists
        item = _checker(args[0]) if args else _anything
        return lambda value: isinstance(value, list) and all(map(item, value))
    if origin is dict:
        key, item = map(_checker, args)
        return lambda value: isinstance(value, dict) and all(
            key(k) and item(v) for k, v in value.items())
    if hint is type(None):
        return lambda value: value is None
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if is_dataclass(hint):  # checked by its own from_json
        return lambda value: isinstance(value, dict)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return _anything


def _anything(value: Any) -> bool:
    return True


def _describe(hint: Any, written: Any) -> str:
    """The annotation as written (``list[str]``); a Literal as its values."""
    optional = get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)
    options = [a for a in get_args(hint) if a is not type(None)] if optional else [hint]
    if len(options) == 1 and get_origin(options[0]) is Literal:
        return ("one of " + ", ".join(map(repr, get_args(options[0])))
                + (" or null" if optional else ""))
    return str(written)


def _json_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number",
             list: "a list", dict: "an object", type(None): "null"}
    shown = repr(value) if isinstance(value, str | int | float) and len(repr(value)) < 40 else ""
    return names.get(type(value), type(value).__name__) + (f" ({shown})" if shown else "")


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
        problem = shape_problem(cls, data)
        if problem:
            raise InputError(problem)
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
    #: Lines 1..prompt_span of ``code`` are the user's prompt, the rest the model wrote. Set
    #: by the static filter, which merged the prompt; None: not recorded (see
    #: :meth:`prompt_line_count` for the fallback).
    prompt_span: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str | None = None,
                  line: int | None = None) -> Candidate:
        """A candidate from one JSONL object; a missing field or a value of the wrong shape
        (a string where a list is expected) raises :class:`InputError` naming it."""
        problem = shape_problem(cls, data)
        if problem:
            raise InputError(f"not a candidate: {problem}", source=source, line=line)
        kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        candidate = cls(**kwargs)
        if candidate.findings is not None:
            raw_findings: list[Any] = list(candidate.findings)
            candidate.findings = []
            for number, raw in enumerate(raw_findings):
                try:
                    candidate.findings.append(Finding.from_json(raw))
                except InputError as exc:
                    raise InputError(f"findings[{number}]: {exc}", source=source,
                                     line=line) from exc
        return candidate

    def prompt_line_count(self, task: Task | None) -> int:
        """How many leading lines of ``code`` are the user's prompt: the span the static
        filter recorded; for a candidate that did not come through the filter (older JSONL,
        code checked as is) :func:`prompt_line_span` of the task's prompt, 0 without a task
        or for an instruction prompt (never merged into the code)."""
        if self.prompt_span is not None:
            return self.prompt_span
        if task is None or self.prompt_kind == "instruction":
            return 0
        return prompt_line_span(task.prompt, self.code)

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
class PromptMatch:
    """Where the user's prompt sits at the start of a candidate's code (:func:`match_prompt`)."""

    #: How many leading lines of the code are prompt lines (1-based last line, 0 if none).
    lines: int
    #: Offset in the code just past the whole prompt's last non-blank character; 0 when the
    #: code does not repeat the whole prompt first.
    end: int


def match_prompt(prompt: str, code: str) -> PromptMatch:
    """The one rule for which part of ``code`` is the user's ``prompt``.

    Lines are compared without trailing white space, after leading blank lines on either
    side (the filter and the model may trim those); the prompt's trailing blank lines need
    not be repeated.

    - ``lines`` is the longest common prefix of lines. A prompt line the model continued
      (``x = `` -> ``x = f()``) differs, so it counts as generated: the model wrote part
      of it. This is what the filter records as :attr:`Candidate.prompt_span`.
    - ``end`` is set when the code repeats the whole prompt, its last non-blank line possibly
      continued on the same line: the prompt's text ends there, and no heuristic may cut
      before it (prompt + completion is the floor), so the continued line is kept whole.
    """
    prompt_lines = prompt.splitlines()
    code_lines = code.splitlines(keepends=True)
    last = max((i for i, line in enumerate(prompt_lines) if line.strip()), default=-1)
    p = _first_non_blank(prompt_lines)
    c = _first_non_blank(code_lines)
    offset = sum(len(line) for line in code_lines[:c])
    span = end = 0
    while p < len(prompt_lines) and c < len(code_lines):
        wanted, got = prompt_lines[p].rstrip(), code_lines[c].rstrip()
        if p == last and got.startswith(wanted):
            end = offset + len(wanted)
        if wanted != got:
            break
        offset += len(code_lines[c])
        p += 1
        c += 1
        span = c
    return PromptMatch(lines=span, end=end)


def prompt_line_span(prompt: str, code: str) -> int:
    """How many leading lines of ``code`` are the user's prompt: :attr:`PromptMatch.lines`.

    The static filter records this on each candidate (:attr:`Candidate.prompt_span`) once
    it has merged the prompt; later stages read the recorded span.
    """
    return match_prompt(prompt, code).lines


def _first_non_blank(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if line.strip():
            return i
    return len(lines)


@dataclass(frozen=True)
class CompileResult:
    """A compiler's verdict on one compilation unit: ``ok``, or its error messages."""

    ok: bool
    errors: list[str] = field(default_factory=list)
