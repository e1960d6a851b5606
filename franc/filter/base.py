"""The contract every static-filter heuristic and compile check follows.

A heuristic is a small pure function ``(code, context) -> code`` with an id.
Each language module lists its heuristics in one tuple (``HEURISTICS``); the
chain that runs them, in order and with parameters, is named by a TOML policy
file in ``filters/`` (``filters/python.toml``, ``filters/java.toml``).
A heuristic that returns its input unchanged counts as "not applied".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from franc.models import CompileResult, Task


@dataclass(frozen=True)
class FilterContext:
    """What a heuristic may look at besides the code: the task and its parameters.

    ``errors`` holds the compiler's messages for an after-compile heuristic (else empty).
    """

    task: Task
    params: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


HeuristicFn = Callable[[str, FilterContext], str]


@dataclass(frozen=True)
class Heuristic:
    """``after_compile``: runs only on candidates the compiler rejected, with its messages."""

    id: str
    description: str
    apply: HeuristicFn
    after_compile: bool = False


def heuristic(id: str, description: str, *,
              after_compile: bool = False) -> Callable[[HeuristicFn], Heuristic]:
    """Decorator turning a ``(code, context) -> code`` function into a :class:`Heuristic`."""

    def wrap(fn: HeuristicFn) -> Heuristic:
        return Heuristic(id=id, description=description, apply=fn, after_compile=after_compile)

    return wrap


class Compiler(Protocol):
    """A real compile check of whole compilation units, batched."""

    def check(self, units: Sequence[str]) -> list[CompileResult]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class LanguageSupport:
    """What the static filter needs from one language module.

    ``has_generated_body(code, task)`` enforces the honesty rule: it is false when
    the target function/method of ``code`` keeps no statement the model wrote
    (only the prompt's signature and docstring, ``pass``, ``...`` or nothing).
    ``prompt_is_code(prompt)`` is false for a prompt written in natural language (an
    instruction), which the filter then never merges into the candidates.
    """

    language: str
    heuristics: tuple[Heuristic, ...]
    make_compiler: Callable[[], Compiler]
    has_generated_body: Callable[[str, Task], bool]
    prompt_is_code: Callable[[str], bool]
