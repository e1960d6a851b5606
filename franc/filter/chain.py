"""The heuristic chain named by a TOML policy, and :class:`StaticFilter`, which runs it.

A chain file (``filters/python.toml``, ``filters/java.toml`` or any path) names a
language and an ordered list of ``[[step]]`` tables: ``id`` picks a heuristic
from the language's registry (``franc.filter.common`` + the language module's
``HEURISTICS``), every other key is a parameter passed to it.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from franc.errors import FrancError, InputError
from franc.filter import common
from franc.filter.base import Compiler, FilterContext, Heuristic, LanguageSupport
from franc.models import (
    Candidate,
    Language,
    PromptKind,
    Task,
    check_language,
    prompt_line_span,
)
from franc.policy import locate
from franc.policy.schema import PolicyModel, validate_policy

#: The error a candidate gets when its target keeps nothing the model wrote.
EMPTY_BODY = "empty body"


def language_support(language: str) -> LanguageSupport:
    """The language module's ``SUPPORT``, imported on first use (Python users never load Java)."""
    check_language(language)
    try:
        module = importlib.import_module(f"franc.filter.{language}")
    except ImportError as exc:  # pragma: no cover - only while a language is being written
        raise FrancError(f"no static-filter support for {language}: {exc}") from exc
    return module.SUPPORT


def registry(support: LanguageSupport) -> dict[str, Heuristic]:
    """Heuristic id -> heuristic, for one language (the common ones first)."""
    found: dict[str, Heuristic] = {}
    for item in (*common.HEURISTICS, *support.heuristics):
        if item.id in found:
            raise FrancError(f"two {support.language} heuristics share the id {item.id!r}")
        found[item.id] = item
    return found


@dataclass(frozen=True)
class Step:
    heuristic: Heuristic
    params: Mapping[str, Any] = field(default_factory=dict)


class HeuristicFailure(FrancError):
    """A heuristic raised on one candidate; the batch goes on without it."""

    def __init__(self, heuristic_id: str, cause: BaseException):
        self.heuristic_id = heuristic_id
        super().__init__(f"heuristic {heuristic_id} failed: {type(cause).__name__}: {cause}")


@dataclass(frozen=True)
class Chain:
    language: str
    steps: tuple[Step, ...]
    source: str

    @property
    def ids(self) -> list[str]:
        return [step.heuristic.id for step in self.steps]

    @property
    def repair_rounds(self) -> int:
        """How often rejected candidates go through the after-compile steps (their
        ``max_rounds`` parameter; 0 without such steps)."""
        return max((int(step.params.get("max_rounds", 1)) for step in self.steps
                    if step.heuristic.after_compile), default=0)

    def apply(self, task: Task, code: str,
              errors: Sequence[str] | None = None) -> tuple[str, list[str]]:
        """Run every step in order; return the code and the ids of the steps that changed it.

        Without ``errors`` the steps before the compile check run, with them (the
        compiler's messages) the after-compile steps.
        """
        applied: list[str] = []
        after_compile = errors is not None
        for step in self.steps:
            if step.heuristic.after_compile != after_compile:
                continue
            try:
                changed = step.heuristic.apply(
                    code, FilterContext(task, step.params, tuple(errors or ())))
            except Exception as exc:
                raise HeuristicFailure(step.heuristic.id, exc) from exc
            if not isinstance(changed, str):
                raise HeuristicFailure(step.heuristic.id, TypeError("did not return a string"))
            if changed != code:
                applied.append(step.heuristic.id)
                code = changed
        # A source file ends with one newline; heuristics that cut may leave none, and
        # linters would then flag every filtered candidate (pylint C0304).
        return (code.rstrip("\n") + "\n" if code.strip() else code), applied


class StepTable(PolicyModel):
    """One ``[[step]]``: the heuristic's ``id``; every other key is its parameter."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ChainPolicy(PolicyModel):
    """A chain file: its language, its steps, and the analyzers' ``[analysis.*]`` tables
    (validated by :mod:`franc.analysis.settings` when an analyzer reads them)."""

    language: Language | None = None
    step: tuple[StepTable, ...] = ()
    analysis: Mapping[str, Mapping[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_steps(self) -> ChainPolicy:
        if not self.step:
            raise ValueError("no [[step]] tables: a chain lists its heuristics as "
                             "[[step]] id = ...")
        for number, table in enumerate(self.step, start=1):
            if table.id is None:
                raise ValueError(f"step {number} has no string 'id'")
        return self


def load_chain(language: str, chain: str | Path | None = None) -> Chain:
    """Load a chain by shipped name (``"python"``) or path; default: ``filters/<language>.toml``."""
    language = check_language(language)
    path = locate("filters", chain if chain is not None else language)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"chain file is not UTF-8 ({exc.reason})", source=source) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", source=source) from exc
    policy = validate_policy(ChainPolicy, data, source)
    if policy.language not in (None, language):
        raise InputError(f"chain is for language {policy.language!r}, not {language!r}",
                         source=source)
    known = registry(language_support(language))
    parsed: list[Step] = []
    for number, table in enumerate(policy.step, start=1):
        if table.id not in known:
            raise InputError(f"step {number}: unknown {language} heuristic {table.id!r}; "
                             f"known: {', '.join(sorted(known))}", source=source)
        parsed.append(Step(known[table.id], table.params))
    return Chain(language, tuple(parsed), source)


class StaticFilter:
    """Repair raw candidates with a heuristic chain, then check them with a real compiler.

    ``fix`` only rewrites; ``run``/``run_many`` also apply the honesty rule (a
    target that keeps nothing the model wrote is ``empty body``, never compilable)
    and compile. One failing candidate never aborts a batch. Close it (or use it
    as a context manager) to release the warm compiler it started; a ``compiler``
    passed in (to share one between filters) belongs to the caller and stays open.
    Candidates longer than :attr:`max_chars` are refused one by one, not filtered.
    """

    max_chars: int = 1_000_000

    def __init__(self, language: str, chain: str | Path | None = None, *,
                 compiler: Compiler | None = None):
        self.language = check_language(language)
        self.chain = load_chain(language, chain)
        self.support = language_support(language)
        self._compiler: Compiler | None = compiler
        self._owns_compiler = compiler is None

    def prompt_kind(self, task: Task) -> PromptKind:
        """``instruction`` for a prompt in natural language, else ``code``.

        The one place that decides: an instruction is never merged into the candidates
        (they are filtered and judged as whole programs), code is continued by them.
        """
        return "code" if self.support.prompt_is_code(task.prompt) else "instruction"

    def _judged(self, task: Task) -> tuple[Task, PromptKind]:
        """The task the heuristics and the honesty rule see, and the prompt's kind."""
        kind = self.prompt_kind(task)
        return (replace(task, prompt="") if kind == "instruction" else task), kind

    def fix(self, task: Task, raw: str) -> tuple[str, list[str]]:
        """The repaired code and the ids of the heuristics that changed it (no compile check)."""
        return self.chain.apply(self._judged(task)[0], raw)

    def run(self, task: Task, raw: str, index: int = 0) -> Candidate:
        return self.run_many([(task, index, raw)])[0]

    def run_many(self, items: Sequence[tuple[Task, int, str]]) -> list[Candidate]:
        """Fix every candidate, then compile all the honest ones in one batch."""
        candidates: list[Candidate] = []
        to_compile: list[int] = []
        judged = [self._judged(task) for task, _, _ in items]
        for (task, kind), (_, index, raw) in zip(judged, items, strict=True):
            candidate = Candidate(task_id=task.task_id, index=index, code=raw, prompt_kind=kind)
            if len(raw) > self.max_chars:
                candidate.errors = [f"candidate too large ({len(raw)} characters; "
                                    f"the limit is {self.max_chars})"]
                candidates.append(candidate)
                continue
            try:
                candidate.code, candidate.heuristics = self.chain.apply(task, raw)
                if self.support.has_generated_body(candidate.code, task):
                    to_compile.append(len(candidates))
                else:
                    candidate.errors = [EMPTY_BODY]
            except Exception as exc:
                if isinstance(exc, FrancError) and not isinstance(exc, HeuristicFailure):
                    raise
                candidate.errors = [str(exc) if isinstance(exc, HeuristicFailure)
                                    else f"honesty check failed: {type(exc).__name__}: {exc}"]
            candidates.append(candidate)
        if to_compile:
            results = self.compiler.check([candidates[i].code for i in to_compile])
            for i, result in zip(to_compile, results, strict=True):
                candidates[i].compiles = result.ok
                candidates[i].errors = list(result.errors)
            self._repair_rejected([(judged[i][0], candidates[i]) for i in to_compile
                                   if not candidates[i].compiles])
        # The prompt the chain merged (none for an instruction) opens the final code: record
        # its span once, so that no later stage has to work out which lines the model wrote.
        for (task, _), candidate in zip(judged, candidates, strict=True):
            candidate.prompt_span = prompt_line_span(task.prompt, candidate.code)
        return candidates

    def _repair_rejected(self, rejected: list[tuple[Task, Candidate]]) -> None:
        """Give candidates the compiler rejected to the after-compile steps and compile again.

        A revision counts only if it compiles and still keeps a statement the model
        wrote; otherwise the candidate stays as it was before the first revision.
        """
        # Revisions under way: (task, candidate, code, heuristics, the compiler's errors).
        pending = [(task, c, c.code, c.heuristics, c.errors) for task, c in rejected]
        for _ in range(self.chain.repair_rounds):
            retry = []
            for task, candidate, code, heuristics, errors in pending:
                try:
                    changed, applied = self.chain.apply(task, code, errors)
                    honest = changed != code and self.support.has_generated_body(changed, task)
                except Exception:
                    continue  # keep the compiler's verdict on the unrevised code
                if honest:
                    retry.append((task, candidate, changed,
                                  heuristics + [a for a in applied if a not in heuristics]))
            if not retry:
                return
            results = self.compiler.check([code for _, _, code, _ in retry])
            pending = []
            for (task, candidate, code, heuristics), result in zip(retry, results, strict=True):
                if result.ok:
                    candidate.code, candidate.heuristics = code, heuristics
                    candidate.compiles, candidate.errors = True, []
                else:
                    pending.append((task, candidate, code, heuristics, list(result.errors)))

    @property
    def compiler(self) -> Compiler:
        """The language's compiler, started on first use and kept warm until :meth:`close`."""
        if self._compiler is None:
            self._compiler = self.support.make_compiler()
        return self._compiler

    def close(self) -> None:
        if self._compiler is not None and self._owns_compiler:
            self._compiler.close()
        self._compiler = None

    def __enter__(self) -> StaticFilter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
