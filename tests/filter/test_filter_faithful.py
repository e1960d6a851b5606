"""The filter never changes what a correct completion means.

A human-eval-style completion continues the prompt: prompt + completion is the program a
harness runs. For correct programs of many shapes (helpers, constants and classes after the
body, tests and prints after it, no docstring), every heuristic alone and the whole chain
must keep a program that compiles and returns the same values. Indentation variants that
real models produce (first line at column 0, tabs, mixed tabs and spaces, 2-space indent,
a dedented body, CRLF line ends, trailing whitespace) are generated from the same correct
programs and must be filtered to code that behaves like the original.

The fixtures are trusted test code: the test executes them (the pipeline never does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from franc.filter import StaticFilter
from franc.filter import python as py
from franc.filter.base import FilterContext
from franc.filter.chain import load_chain
from franc.models import Task


@dataclass(frozen=True)
class Program:
    name: str
    prompt: str
    completion: str
    entry_point: str
    calls: tuple[tuple[Any, ...], ...]
    access: str = ""  # the expression that names what to call, if not the entry point


DOC = '    """Tell whether s reads the same backwards."""\n'
PROGRAMS = (
    Program("helper-after-body", "def is_palindrome(s: str) -> bool:\n" + DOC,
            "    return _clean(s) == _clean(s)[::-1]\n\n\n"
            "def _clean(s):\n    return s.replace(' ', '').lower()\n",
            "is_palindrome", (("Never odd or even",), ("abc",))),
    Program("constant-after-body", "def scale(x: int) -> int:\n    \"\"\"x times FACTOR.\"\"\"\n",
            "    return x * FACTOR\n\n\nFACTOR = 3\n", "scale", ((2,), (-1,))),
    Program("class-after-body", "def area(w: float, h: float) -> float:\n    \"\"\"Area.\"\"\"\n",
            "    return Rect(w, h).area()\n\n\nclass Rect:\n    def __init__(self, w, h):\n"
            "        self.w, self.h = w, h\n\n    def area(self):\n"
            "        return self.w * self.h\n",
            "area", ((2.0, 3.0),)),
    Program("tests-after-body", "def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
            "    return a + b\n\n\nprint(add(1, 2))\nassert add(2, 2) == 4\n\n"
            "def check(candidate):\n    assert candidate(1, 1) == 2\n\ncheck(add)\n\n"
            "if __name__ == '__main__':\n    print(add(3, 4))\n", "add", ((1, 2), (5, -5))),
    Program("no-docstring", "def add(a, b):\n", "    return a + b\n\nprint(add(1, 2))",
            "add", ((1, 2),)),
    Program("nested-blocks", "def count_up(xs: list) -> int:\n    \"\"\"Count positives.\"\"\"\n",
            "    total = 0\n    for x in xs:\n        if x > 0:\n            total += 1\n"
            "        else:\n            pass\n    return total\n", "count_up",
            (([1, -2, 3],), ([],))),
    Program("multiline-string", "def banner(name: str) -> str:\n    \"\"\"A banner.\"\"\"\n",
            "    text = '''Hello\n  {}\nbye'''\n    return text.format(name)\n", "banner",
            (("Ann",),)),
    Program("nested-helper", "def twice_all(xs: list) -> list:\n    \"\"\"Doubled.\"\"\"\n",
            "    def twice(x):\n        return 2 * x\n"
            "    return [twice(x)\n            for x in xs]\n",
            "twice_all", (([1, 2],),)),
    Program("generator-with-helper-after", "def evens(n: int):\n    \"\"\"Even numbers.\"\"\"\n",
            "    for i in range(n):\n        if _even(i):\n            yield i\n\n\n"
            "def _even(i):\n    return i % 2 == 0\n", "evens", ((5,),)),
    Program("method-in-class", "class Box:\n    def size(self, xs: list) -> int:\n"
            "        \"\"\"How many.\"\"\"\n", "        return len(xs)\n", "size", (([1, 2],),),
            "Box().size"),
)


def run(program_text: str, program: Program) -> list[Any]:
    """Execute a trusted fixture program and call its entry point on every input."""
    namespace: dict[str, Any] = {"__name__": "fixture"}
    exec(compile(program_text, "<fixture>", "exec"), namespace)
    function = eval(program.access or program.entry_point, namespace)
    calls = program.calls
    results = []
    for args in calls:
        value = function(*args)
        results.append(list(value) if hasattr(value, "__next__") else value)
    return results


def expected(program: Program) -> list[Any]:
    return run(program.prompt + program.completion, program)


def task(program: Program) -> Task:
    return Task(f"faithful/{program.name}", program.prompt, "python",
                entry_point=program.entry_point)


def assert_same_behaviour(program: Program, filtered: str) -> None:
    assert py.compile_error(filtered) is None, filtered
    assert run(filtered, program) == expected(program), filtered


STEPS = load_chain("python").steps


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_every_heuristic_keeps_a_correct_program_correct(program: Program) -> None:
    """Each step, on what the steps before it made of a correct completion, leaves a
    program that compiles and behaves the same (from add-prompt on: before it, the
    completion is not a program yet)."""
    code = program.completion
    merged = False
    for step in STEPS:
        code = step.heuristic.apply(code, FilterContext(task(program), step.params))
        merged = merged or step.heuristic.id == "add-prompt"
        if merged:
            assert_same_behaviour(program, code)
    assert merged


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("step", [s for s in STEPS if s.heuristic.id != "remove-extra-functions"],
                         ids=lambda s: s.heuristic.id)
def test_each_heuristic_alone_keeps_the_concatenation_correct(program: Program,
                                                               step: Any) -> None:
    """Alone, on the plain concatenation. (remove-extra-functions runs after
    remove-trailing-code: alone, it may drop a ``check`` function that test code calls.)"""
    context = FilterContext(task(program), step.params)
    assert_same_behaviour(program, step.heuristic.apply(program.prompt + program.completion,
                                                        context))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_the_chain_keeps_a_correct_completion_correct(program: Program) -> None:
    with StaticFilter("python") as static_filter:
        candidate = static_filter.run(task(program), program.completion)
    assert candidate.compiles, candidate.errors
    assert_same_behaviour(program, candidate.code)


def test_helpers_after_the_body_stay_at_top_level_and_tests_are_dropped() -> None:
    with StaticFilter("python") as static_filter:
        helper = static_filter.run(task(PROGRAMS[0]), PROGRAMS[0].completion).code
        tests = static_filter.run(task(PROGRAMS[3]), PROGRAMS[3].completion).code
    assert "\ndef _clean(s):\n" in helper  # at column 0, not nested after the return
    assert tests == PROGRAMS[3].prompt + "    return a + b\n"


def test_readme_rank_example_without_docstring_is_indented_by_four() -> None:
    prompt_task = Task("readme", "def add(a, b):\n", "python")
    with StaticFilter("python") as static_filter:
        candidates = [static_filter.run(prompt_task, raw) for raw in
                      ("    return a +", "    return a + b\n\nprint(add(1, 2))")]
    assert candidates[1].code == "def add(a, b):\n    return a + b\n"
    assert not candidates[0].compiles


# --- indentation shapes real models produce (item "Beyond the 47 files") ---------------------

def _body_lines(program: Program) -> tuple[list[str], str]:
    """The completion's body lines (up to the first top-level line) and the rest."""
    lines = program.completion.splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if line.strip() and not line[0].isspace()),
               len(lines))
    return lines[:end], "".join(lines[end:])


def _strings_free(program: Program) -> bool:
    return "'''" not in program.completion and '"""' not in program.completion


def _reindent(unit: str, first_at_column_0: bool = False, base_levels: int = 1
              ) -> Callable[[Program], str]:
    """A variant with every body line re-indented: ``unit`` per level, ``base_levels`` for
    the body itself (0: a dedented body), optionally the first line at column 0."""
    def make(program: Program) -> str:
        body, rest = _body_lines(program)
        indent = len(program.prompt.splitlines()[-1]) - len(program.prompt.splitlines()[-1]
                                                            .lstrip())
        out = []
        for i, line in enumerate(body):
            text = line.lstrip(" ")
            levels = (len(line) - len(text) - indent) // 4 + base_levels if text.strip() else 0
            out.append(("" if first_at_column_0 and i == 0 else unit * levels) + text)
        return "".join(out) + rest
    return make


def _mixed(program: Program) -> str:
    """Body lines indented with a tab for the first level and 4 spaces for the next ones
    (an editor that mixes them), the first line at column 0 (GPT-3.5's shape)."""
    body, rest = _body_lines(program)
    out = []
    for i, line in enumerate(body):
        text = line.lstrip(" ")
        levels = (len(line) - len(text)) // 4 if text.strip() else 0
        out.append(text if i == 0 else "\t" + "    " * (levels - 1) + text if levels else text)
    return "".join(out) + rest


VARIANTS: dict[str, Callable[[Program], str]] = {
    "first-line-at-column-0": _reindent("    ", first_at_column_0=True),
    "tabs": _reindent("\t"),
    "tabs-first-line-at-column-0": _reindent("\t", first_at_column_0=True),
    "mixed-tabs-and-spaces-first-line-at-column-0": _mixed,
    "two-space-indent": _reindent("  "),
    "two-space-first-line-at-column-0": _reindent("  ", first_at_column_0=True),
    "dedented-body": _reindent("    ", base_levels=0),
    "body-too-deep": _reindent("    ", base_levels=2),
    "crlf": lambda program: program.completion.replace("\n", "\r\n"),
    "trailing-whitespace": lambda program: re.sub(r"\n", " \t\n", program.completion),
}
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_indentation_variants_of_a_correct_body_are_recovered(program: Program,
                                                              variant: str) -> None:
    if variant == "crlf" or _strings_free(program):
        raw = VARIANTS[variant](program)
    else:
        pytest.skip("re-indenting a multi-line string would change its value")
    with StaticFilter("python") as static_filter:
        candidate = static_filter.run(task(program), raw)
    assert candidate.compiles, (raw, candidate.code, candidate.errors)
    assert_same_behaviour(program, candidate.code)


def merge_prompt(prompt: str, raw: str, entry_point: str) -> str | None:
    """The ``add_prompt`` heuristic alone on ``raw`` under a Python ``prompt``."""
    return py.add_prompt.apply(raw, FilterContext(Task("t", prompt, "python",
                                                       entry_point=entry_point)))


def test_a_dedented_body_keeps_a_helper_it_calls_at_top_level() -> None:
    prompt = "def total(xs: list) -> int:\n    \"\"\"Sum.\"\"\"\n"
    raw = ("result = 0\nfor x in xs:\n    result += _value(x)\nreturn result\n\n\n"
           "def _value(x):\n    return x\n")
    merged = merge_prompt(prompt, raw, "total")
    assert merged == (prompt + "    result = 0\n    for x in xs:\n        result += _value(x)\n"
                      "    return result\n\n\ndef _value(x):\n    return x\n")


def test_a_dedented_body_keeps_a_nested_definition_it_calls_later_inside() -> None:
    prompt = "def total(xs: list) -> int:\n    \"\"\"Sum.\"\"\"\n"
    raw = "def value(x):\n    return x\nreturn sum(value(x) for x in xs)\n"
    merged = merge_prompt(prompt, raw, "total")
    assert merged == (prompt + "    def value(x):\n        return x\n"
                      "    return sum(value(x) for x in xs)\n")


def test_lines_inside_a_string_are_never_reindented() -> None:
    prompt = "def text() -> str:\n    \"\"\"A text.\"\"\"\n"
    raw = "value = '''a\n  b'''\n    return value\n"
    merged = merge_prompt(prompt, raw, "text")
    assert merged == prompt + "    value = '''a\n  b'''\n    return value\n"


def test_body_placement_numbers_lines_as_the_scanner_does() -> None:
    """A form feed is no line end for the scanner (``str.splitlines`` would split there),
    and trailing blank lines after an unterminated docstring are lines too."""
    prompt = "def f(x):\n    \"\"\"Doc.\"\"\"\n"
    task_f = Task("ff", prompt, "python", entry_point="f")
    merged = py.add_prompt.apply("y = x\x0c + 1\n    return y\n", FilterContext(task_f))
    assert merged == prompt + "    y = x\x0c + 1\n    return y\n"
    code = prompt + "        def g():\n            \"\"\"never closed\n\n\n"
    assert isinstance(py.align_body.apply(code, FilterContext(task_f)), str)


def test_a_dedented_body_that_compiles_as_top_level_code_goes_into_the_function() -> None:
    """Concatenated, a body at column 0 compiles as module code and leaves the function
    empty (a chat model's output that lost its indentation): it is the body."""
    prompt = "def scale(xs: list, k: int) -> list:\n    '''\n    Scale xs by k.\n    '''"
    raw = "result = [x * k for x in xs]\n    \nfor i in range(len(result)):\n    result[i] += 0\n"
    merged = merge_prompt(prompt, raw, "scale")
    assert merged == prompt + ("\n    result = [x * k for x in xs]\n    \n"
                               "    for i in range(len(result)):\n        result[i] += 0\n")
