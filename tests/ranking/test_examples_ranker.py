"""The opt-in examples ranker: parsing docstring examples and running them in the sandbox."""

from __future__ import annotations

from franc.models import Candidate, Task
from franc.ranking import get_ranker
from franc.ranking.examples import Example, parse_examples


def task(doc: str, entry: str = "f") -> Task:
    return Task("T/0", f'def {entry}(x):\n    """{doc}\n    """\n', "python", entry)


def test_parses_every_supported_example_shape():
    doc = """Double x.
    >>> f(1)
    2
    f(2) == 4
    f(3) -> 6
    f(4) ➞ 8
    Example: f(5) should return 10
    Input: f(6) Output: 12
    """
    assert parse_examples(task(doc)) == [
        Example("f(1)", "2"), Example("f(2)", "4"), Example("f(3)", "6"), Example("f(4)", "8"),
        Example("f(5)", "10"), Example("f(6)", "12")]


def test_ignores_prose_other_functions_and_unparsable_text():
    doc = """Returns the result -> something nice.
    g(1) == 2
    f(1) == the double of one
    """
    assert parse_examples(task(doc)) == []
    java = Task("J/0", "/** > f(1)\n 2 */", "java", "f")
    assert parse_examples(java) == []


def test_examples_ranker_puts_the_candidate_passing_the_examples_first():
    t = task(">>> f(1)\n    2\n    >>> f(3)\n    6")
    cands = [Candidate("T/0", 0, t.prompt + "    return x + 1\n", compiles=True, findings=[]),
             Candidate("T/0", 1, t.prompt + "    return x + x\n", compiles=True, findings=[]),
             Candidate("T/0", 2, t.prompt + "    return 6 if x == 3 else 0\n", compiles=True,
                       findings=[]),
             Candidate("T/0", 3, t.prompt + "    return (", compiles=False)]
    ranker = get_ranker("examples", "python")
    ranked = ranker.rank(t, cands)
    assert ranked[0].index == 1
    # x + 1 passes f(1) only: half the examples; the lookup passes f(3) only.
    shares = {c.index: c.score_parts["examples.examples"] for c in ranked}
    assert shares == {0: 0.5, 1: 1.0, 2: 0.5, 3: 0.0}
