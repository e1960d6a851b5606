"""The opt-in ``examples`` ranker: run the prompt's own examples on each candidate.

This is the only ranker that executes candidate code, and it does so only
through the evaluation sandbox (:mod:`franc.evaluation.execution`). Examples
are parsed from the prompt's docstring: ``>>> f(x)`` followed by the expected
line, ``f(x) == y``, ``f(x) -> y``, ``f(x) ➞ y``, ``f(x) => y`` and
``Example: f(x) ... output: y``. Python only: HumanEval-Java's Javadoc
examples are its tests, so running them would grade candidates on the answers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from franc.models import Candidate, Task
from franc.parallel import default_workers
from franc.ranking.rankers import Ranker

_ARROW = re.compile(r"^(?P<call>.+?)\s*(?:==|->|➞|=>|⟹|returns?|should return|"
                    r"[Oo]utput\s*:)\s*(?P<expected>.+?)\s*\.?$")
_PASSED = re.compile(r"examples passed (\d+)/(\d+)")


@dataclass(frozen=True)
class Example:
    call: str
    expected: str


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def _calls_entry(call: str, entry_point: str) -> bool:
    return re.search(rf"\b{re.escape(entry_point)}\s*\(", call) is not None


def parse_examples(task: Task) -> list[Example]:
    """The examples of ``task``'s docstring that name its entry point (deduplicated)."""
    entry = task.entry_point
    if task.language != "python" or not entry:
        return []
    found: list[Example] = []
    lines = [re.sub(r"^[rRuU]?(\"\"\"|''')", "", line.strip()).strip()
             for line in task.prompt.splitlines()]
    for number, line in enumerate(lines):
        if line.startswith(">>>"):
            call = line[3:].strip()
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if following and not following.startswith(">>>"):
                found.append(Example(call, following))
            continue
        text = re.sub(r"^(?:[Ee]xamples?\s*\d*\s*:|[Ff]or example\s*:?|[-*•])\s*", "", line)
        text = re.sub(r"^[Ii]nput\s*:\s*", "", text)
        match = _ARROW.match(text)
        if match:
            found.append(Example(match["call"].strip().rstrip(","),
                                 match["expected"].strip().rstrip(",")))
    unique = {(e.call, e.expected): e for e in found
              if _calls_entry(e.call, entry) and _is_expression(e.call)
              and _is_expression(e.expected)}
    return list(unique.values())


def examples_test(examples: Sequence[Example]) -> str:
    """A HumanEval-style ``check`` that counts the examples passed and asserts all did."""
    pairs = ",\n        ".join(f"({e.call!r}, {e.expected!r})" for e in examples)
    return f"""
def check(candidate):
    import math
    def same(a, b):
        if isinstance(a, float) or isinstance(b, float):
            try:
                return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
            except TypeError:
                return False
        return a == b
    passed = 0
    cases = [
        {pairs}
    ]
    for call, expected in cases:
        try:
            if same(eval(call, globals()), eval(expected, globals())):
                passed += 1
        except Exception:
            pass
    assert passed == len(cases), f"examples passed {{passed}}/{{len(cases)}}"
"""


class ExamplesRanker(Ranker):
    """Share of the prompt's examples each compilable candidate passes (in the sandbox)."""

    kind = "examples"

    def __init__(self, name, language=None, *, timeout: float = 5.0, workers: int | None = None):
        super().__init__(name, language)
        self.timeout = timeout
        self.workers = workers or default_workers()

    def passed_share(self, task: Task, examples: Sequence[Example],
                     candidate: Candidate) -> float:
        from franc.evaluation.execution import run_candidate  # lazy: the sandbox

        probe = replace(task, test=examples_test(examples), security_test=None)
        result = run_candidate(probe, candidate.code, language="python", timeout=self.timeout)
        if result.passed:
            return 1.0
        counted = _PASSED.search(result.reason)
        return int(counted[1]) / int(counted[2]) if counted else 0.0

    def parts(self, task, candidates):
        examples = parse_examples(task) if task is not None else []
        runnable = [c for c in candidates if c.compiles] if examples else []
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            shares = dict(zip((id(c) for c in runnable),
                              pool.map(lambda c: self.passed_share(task, examples, c), runnable),
                              strict=True))
        return [{"examples": shares.get(id(c), 0.0)} for c in candidates]
