"""Repair prompt templates: Jinja2 files in ``repair_prompts/`` (completion models) and
TOML files with a ``system`` and a ``user`` Jinja2 message (chat models).

A template is named by a path or by a shipped name; ``<name>_<language>`` is tried
before ``<name>`` so a language can override a shared template. The fields a
template may use are documented in ``repair_prompts/README.md``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ConfigDict, Field, model_validator

from franc.errors import InputError
from franc.generation.base import Prompt
from franc.languages import LANGUAGE_FACTS, facts
from franc.models import Candidate, Finding, Task
from franc.policy import REPAIR_HINTS, available, locate, shipped_dir
from franc.policy.schema import PolicyModel, validate_policy

HINTS_FILE = f"{REPAIR_HINTS}.toml"


def available_templates() -> list[str]:
    """Names of the shipped templates."""
    return available("repair_prompts")


class FixHints(PolicyModel):
    """``hints.toml``: a ``default`` hint and, per tool (as in ``Finding.tool``), a table of
    rule id (or ``default``) -> one-line hint. Every value is a string."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, dict[str, str]] = Field(init=False)

    default: str = ""

    def hint(self, finding: Finding) -> str:
        """The fix hint of a finding's rule (rule, then tool default, then default)."""
        tool = (self.model_extra or {}).get(finding.tool, {})
        return tool.get(finding.rule_id) or tool.get("default") or self.default


@cache
def load_hints(path: Path) -> FixHints:
    """The fix hints of ``path``; a malformed file or a value that is no string is an
    :class:`InputError` naming the file and the key."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not TOML: {exc}", source=str(path)) from exc
    return validate_policy(FixHints, data, path)


@dataclass(frozen=True)
class RenderedPrompt:
    """What is sent to the model, and the code a completion model continues.

    ``continues`` is the code the model's continuation is appended to (FRANC's P2:
    the task prompt; P3: the code before the first flagged line); empty when the
    answer is expected to be a whole program (P1, chat).
    """

    template: str
    prompt: Prompt
    continues: str = ""


@dataclass(frozen=True)
class RepairTemplate:
    name: str
    path: Path
    language: str

    @property
    def chat(self) -> bool:
        return self.path.suffix == ".toml"

    def fields(self, task: Task, candidate: Candidate,
               findings: Sequence[Finding]) -> dict[str, Any]:
        hints = load_hints(shipped_dir("repair_prompts") / HINTS_FILE)
        # The analyzer's order, as FRANC wrote its "Fix:" lines.
        views = [{**asdict(f), "hint": hints.hint(f)} for f in findings]
        generated = [v for v in views if not v["in_prompt"]] or views
        lines = candidate.code.split("\n")
        cut = min((v["line"] for v in generated), default=len(lines) + 1)
        keep = max(cut, candidate.prompt_line_count(task) + 1)
        return {"code": candidate.code.removesuffix("\n"), "prompt": task.prompt,
                "language": self.language, "language_title": facts(self.language).title,
                "comment": facts(self.language).comment, "task_id": task.task_id,
                "findings": views, "generated": generated,
                "code_before_cut": "\n".join(lines[:cut - 1]),
                "code_before_cut_keep_prompt": "\n".join(lines[:keep - 1]).removesuffix("\n")
                + "\n"}

    def render(self, task: Task, candidate: Candidate,
               findings: Sequence[Finding]) -> RenderedPrompt:
        values = self.fields(task, candidate, findings)
        try:
            if self.chat:
                messages = [{"role": role, "content": _environment().from_string(text)
                             .render(values).strip()}
                            for role, text in _chat_parts(self.path).items()]
                return RenderedPrompt(self.name, messages)
            module = _environment().from_string(self.path.read_text(encoding="utf-8")) \
                .make_module(values)
        except jinja2.TemplateError as exc:
            raise InputError(f"template error: {exc}", source=str(self.path),
                             line=getattr(exc, "lineno", None)) from exc
        continues_field = str(getattr(module, "continues", ""))
        if continues_field and continues_field not in values:
            raise InputError(f"'continues' names an unknown field {continues_field!r}",
                             source=str(self.path))
        return RenderedPrompt(self.name, str(module),
                              values[continues_field] if continues_field else "")


@cache
def _environment() -> jinja2.Environment:
    # keep_trailing_newline: FRANC's prompts end with "Fixed Code: \n"; StrictUndefined:
    # a misspelt field is an error, not an empty string.
    return jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                              autoescape=False)


class ChatTemplate(PolicyModel):
    """A chat template file: a ``user`` message and an optional ``system`` one (Jinja2)."""

    system: str | None = None
    user: str | None = None

    @model_validator(mode="after")
    def _has_user(self) -> ChatTemplate:
        if not self.user:
            raise ValueError("a chat template needs a 'user' (and optional 'system') string")
        return self


def _chat_parts(path: Path) -> dict[str, str]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not TOML: {exc}", source=str(path)) from exc
    template = validate_policy(ChatTemplate, data, path)
    return {role: text for role, text in template.model_dump().items() if text}


def load_template(name_or_path: str | Path, language: str) -> RepairTemplate:
    """A template by path, or by shipped name (``<name>_<language>`` first)."""
    if language not in LANGUAGE_FACTS:
        raise InputError(f"unknown language {language!r} for a repair template")
    path: Path | None = None
    if not Path(name_or_path).suffix:
        try:
            path = locate("repair_prompts", f"{name_or_path}_{language}")
        except InputError:
            path = None
    path = path or locate("repair_prompts", name_or_path)
    if path.name == HINTS_FILE:
        raise InputError("hints.toml holds fix hints, not a template", source=str(path))
    name = Path(name_or_path).stem if Path(name_or_path).suffix else str(name_or_path)
    return RepairTemplate(name=name, path=path, language=language)
