"""Handles: tests that share objects, files and interpreter state with the candidate run in
the trusted process and still pass honest candidates (issue 14). Each test here once had
to run next to the candidate in the sandbox."""

from __future__ import annotations

import pytest

from franc.evaluation.calls import PYTHON_LIMITS
from franc.evaluation.checkers import CheckerPool
from franc.evaluation.execution import _check_trusted, run_candidate
from franc.models import Task


def task(entry: str, test: str) -> Task:
    return Task(f"T/{entry}", f"def {entry}(*args):\n", "python", entry_point=entry, test=test)


def assert_honest_passes_and_wrong_fails(entry: str, test: str, honest: str, wrong: str) -> None:
    result = run_candidate(task(entry, test), honest)
    assert result.status == "passed", result.reason
    assert run_candidate(task(entry, test), wrong).status == "failed"


def test_a_stringio_the_test_makes_is_written_by_the_candidate() -> None:
    test = ("def check(candidate):\n    import io\n    out = io.StringIO()\n"
            "    candidate(out, 3)\n    assert out.getvalue() == 'a\\na\\na\\n'\n")
    assert_honest_passes_and_wrong_fails(
        "write_lines", test, "def write_lines(out, n):\n    out.write('a\\n' * n)\n",
        "def write_lines(out, n):\n    out.write('a\\n')\n")


def test_prints_captured_with_redirect_stdout() -> None:
    test = ("def check(candidate):\n    import contextlib, io\n    out = io.StringIO()\n"
            "    with contextlib.redirect_stdout(out):\n        candidate('ann')\n"
            "    assert out.getvalue() == 'hello ann\\n'\n")
    assert_honest_passes_and_wrong_fails(
        "greet", test, "def greet(name):\n    print('hello', name)\n",
        "def greet(name):\n    print('hi', name)\n")


def test_an_object_with_methods_the_candidate_returns() -> None:
    test = ("def check(candidate):\n    s = candidate()\n    s.push(1)\n    s.push(2)\n"
            "    assert len(s) == 2\n    assert s.pop() == 2\n    assert s.peek() == 1\n"
            "    assert not s.empty()\n    assert 1 in s\n    assert list(s) == [1]\n")
    honest = ("class Stack:\n    def __init__(self):\n        self.items = []\n"
              "    def push(self, x):\n        self.items.append(x)\n"
              "    def pop(self):\n        return self.items.pop()\n"
              "    def peek(self):\n        return self.items[-1]\n"
              "    def empty(self):\n        return not self.items\n"
              "    def __len__(self):\n        return len(self.items)\n"
              "    def __contains__(self, x):\n        return x in self.items\n"
              "    def __iter__(self):\n        return iter(self.items)\n"
              "def make_stack():\n    return Stack()\n")
    wrong = honest.replace("return self.items.pop()", "return self.items.pop(0)")
    assert_honest_passes_and_wrong_fails("make_stack", test, honest, wrong)


def test_a_file_the_test_writes_and_one_the_candidate_writes() -> None:
    test = ("def check(candidate):\n    import os, tempfile\n"
            "    with tempfile.TemporaryDirectory() as folder:\n"
            "        source = os.path.join(folder, 'in.txt')\n"
            "        with open(source, 'w') as handle:\n            handle.write('b\\na\\n')\n"
            "        target = os.path.join(folder, 'out.txt')\n"
            "        candidate(source, target)\n"
            "        assert open(target).read() == 'a\\nb\\n'\n")
    honest = ("def sort_file(source, target):\n    lines = sorted(open(source).read().split())\n"
              "    open(target, 'w').write(''.join(line + '\\n' for line in lines))\n")
    assert_honest_passes_and_wrong_fails("sort_file", test, honest,
                                         honest.replace("sorted(", "list("))


def test_a_callback_runs_in_the_test_and_sees_the_candidates_values() -> None:
    test = ("def check(candidate):\n    seen = []\n    candidate([3, 1, 2], seen.append)\n"
            "    assert seen == [1, 2, 3]\n")
    assert_honest_passes_and_wrong_fails(
        "each_sorted", test, "def each_sorted(xs, visit):\n    for x in sorted(xs):\n"
                             "        visit(x)\n",
        "def each_sorted(xs, visit):\n    for x in xs:\n        visit(x)\n")


def test_an_object_of_the_tests_class_is_lent_to_the_candidate() -> None:
    test = ("class Account:\n    def __init__(self):\n        self.balance = 10\n"
            "    def withdraw(self, amount):\n        self.balance -= amount\n"
            "        return self.balance\n"
            "def check(candidate):\n    account = Account()\n    candidate(account, 3)\n"
            "    assert account.balance == 4\n")
    assert_honest_passes_and_wrong_fails(
        "withdraw_twice", test,
        "def withdraw_twice(account, amount):\n    account.withdraw(amount)\n"
        "    account.withdraw(amount)\n",
        "def withdraw_twice(account, amount):\n    account.withdraw(amount)\n")


def test_input_patched_by_the_test_answers_the_candidates_input() -> None:
    test = ("def check(candidate):\n    import builtins\n    original = builtins.input\n"
            "    answers = iter(['4', '5'])\n"
            "    builtins.input = lambda prompt='': next(answers)\n    try:\n"
            "        assert candidate() == 9\n    finally:\n        builtins.input = original\n")
    assert_honest_passes_and_wrong_fails(
        "add_two", test, "def add_two():\n    return int(input()) + int(input())\n",
        "def add_two():\n    return int(input()) * 2\n")


def test_a_database_the_test_fills() -> None:
    test = ("def check(candidate):\n    import sqlite3\n    conn = sqlite3.connect(':memory:')\n"
            "    conn.execute('CREATE TABLE t (name TEXT)')\n"
            "    conn.executemany('INSERT INTO t VALUES (?)', [('b',), ('a',)])\n"
            "    assert candidate(conn) == ['a', 'b']\n")
    honest = ("def names(conn):\n"
              "    return [r[0] for r in conn.execute('SELECT name FROM t ORDER BY name')]\n")
    assert_honest_passes_and_wrong_fails("names", test, honest,
                                         honest.replace(" ORDER BY name", ""))


def test_a_record_with_named_fields_keeps_them() -> None:
    test = ("def check(candidate):\n    p = candidate(1, 2)\n    assert (p.x, p.y) == (1, 2)\n"
            "    assert p == (1, 2)\n")
    honest = ("import collections\nPoint = collections.namedtuple('Point', 'x y')\n"
              "def point(x, y):\n    return Point(x, y)\n")
    assert_honest_passes_and_wrong_fails("point", test, honest,
                                         honest.replace("Point(x, y)", "Point(y, x)"))


@pytest.mark.parametrize("returned", ["numpy.array([1, 2, 3])", "collections.Counter('aab')"])
def test_results_with_a_plain_form_compare_by_it(returned: str) -> None:
    expected = "[1, 2, 3]" if "numpy" in returned else "{'a': 2, 'b': 1}"
    test = f"def check(candidate):\n    assert candidate() == {expected}\n"
    code = f"import collections, numpy\ndef make():\n    return {returned}\n"
    result = run_candidate(task("make", test), code)
    assert result.status == "passed", result.reason


def judged_in_the_trusted_process(entry: str, test: str, code: str) -> bool:
    with CheckerPool() as checkers:
        return _check_trusted(task(entry, test), code, test, "check", entry, PYTHON_LIMITS,
                              False, checkers) is not None


#: The test bases a class on io.StringIO, the candidate's (an HTTP handler is the same case):
#: its class uses a variable of its enclosing function, a module, ``super()``, a decorator.
SUBCLASS_TEST = ("def tagged(cls):\n    cls.tag = 't'\n    return cls\n"
                 "def check(candidate):\n    import io, json\n    suffix = '!'\n"
                 "    @tagged\n"
                 "    class Loud(io.StringIO):\n        def shout(self):\n"
                 "            return json.dumps(super().getvalue().upper() + suffix)\n"
                 "    out = Loud()\n    candidate(out)\n    assert out.shout() == '\"HI!\"'\n"
                 "    assert out.tag == 't'\n")


def test_a_class_the_test_bases_on_the_candidates_class_is_made_in_its_process() -> None:
    honest, wrong = "def say(out):\n    out.write('hi')\n", "def say(out):\n    out.write('ho')\n"
    assert_honest_passes_and_wrong_fails("say", SUBCLASS_TEST, honest, wrong)
    assert judged_in_the_trusted_process("say", SUBCLASS_TEST, honest)


def test_a_subclass_with_keywords_still_shares_the_candidates_process() -> None:
    # A metaclass keyword is not moved: the test runs next to the candidate, as before.
    test = SUBCLASS_TEST.replace("(io.StringIO)", "(io.StringIO, metaclass=type)")
    honest = "def say(out):\n    out.write('hi')\n"
    assert not judged_in_the_trusted_process("say", test, honest)
    assert run_candidate(task("say", test), honest).status == "passed"
