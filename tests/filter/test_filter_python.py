"""Python heuristics (input -> expected output, positive and negative), honesty, compile check."""

from __future__ import annotations

import pytest

from franc.filter import python as py
from franc.filter.base import FilterContext
from franc.models import Task

PROMPT = ('from typing import List\n\n\ndef total(xs: List[int]) -> int:\n'
          '    """Sum of xs.\n    >>> total([1, 2])\n    3\n    """\n')
TASK = Task("t/1", PROMPT, "python", entry_point="total")
FLASK = ("from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/x')\n"
         "def handler():\n    '''\n    Return the x argument.\n    '''")
FLASK_TASK = Task("t/2", FLASK, "python")


def ctx(task: Task = TASK, **params: object) -> FilterContext:
    return FilterContext(task, params)


def apply(name: str, code: str, task: Task = TASK, **params: object) -> str:
    heuristic = next(h for h in py.HEURISTICS if h.id == name)
    return heuristic.apply(code, ctx(task, **params))


# --- scanner ----------------------------------------------------------------------------------

def test_scan_splits_logical_lines_through_strings_brackets_and_continuations() -> None:
    code = 'x = (1,\n     2)\ns = """a\nb"""\ny = 1 + \\\n    2\n# note\nif x:\n    pass\n'
    scanned = py.scan(code)
    assert [line.text(code).split()[0] for line in scanned.lines] == ["x", "s", "y", "if", "pass"]
    assert [line.indent for line in scanned.lines] == [0, 0, 0, 0, 4]
    assert scanned.open_brackets == "" and scanned.open_string is None


def test_scan_reports_what_is_left_open_at_the_end() -> None:
    assert py.scan("f(a, [1, 2").open_brackets == "(["
    assert py.scan("def f():\n    '''doc").open_string == "'''"
    assert py.scan("x = 'abc").open_string == "'"


def test_scan_reads_strings_as_the_tokenizer_does() -> None:
    # A one-line string left open ends with its line; the next line is code again.
    code = "x = 'abc\ny = 1\n"
    scanned = py.scan(code)
    assert [line.text(code) for line in scanned.lines] == ["x = 'abc", "y = 1"]
    assert scanned.open_string is None
    # A backslash continues a one-line string; a triple-quoted one spans lines. The lines
    # that begin inside a string are marked: their leading spaces are the string's.
    code = "s = 'a\\\n  b'\nt = '''\n  c\n'''\n  # only a comment\n"
    scanned = py.scan(code)
    assert [line.text(code)[:5] for line in scanned.lines] == ["s = '", "t = '"]
    assert scanned.string_lines == {2, 4, 5}
    # The last complete element inside open brackets, with the brackets open there.
    code = "f(1, [2, 3"
    assert py.scan(code).last_element_end == (code.rindex(",") + 1, "([")
    assert py.scan("   \t\n").lines == ()


def test_scan_of_runs_of_quotes_and_backslashes() -> None:
    assert py.scan("'" * 4).open_string == "'''"  # a triple quote, then one inside it
    assert py.scan("'" * 6).open_string is None  # an empty triple-quoted string
    assert py.scan("'" * 100_001).open_string == "'''"
    scanned = py.scan("\\" * 100_001)
    assert scanned.open_string is None and len(scanned.lines) == 1
    # The first backslash continues a string that the next line's quote closes; the last
    # string stays open only to the end of its line.
    scanned = py.scan("x = '\\\n" * 3)
    assert scanned.open_string is None and scanned.string_lines == {2}


# --- strip-prose ------------------------------------------------------------------------------

def test_strip_prose_drops_sentences_before_unfenced_code() -> None:
    raw = "Sure! Here is the code you asked for:\n\ndef total(xs):\n    return sum(xs)\n"
    assert apply("strip-prose", raw) == "def total(xs):\n    return sum(xs)\n"


def test_strip_prose_keeps_code_that_compiles_or_starts_with_code() -> None:
    code = "def total(xs):\n    return sum(xs)\n\nThis is how it works and why.\n"
    assert apply("strip-prose", code) == code
    assert apply("strip-prose", "print('a b c d')\n") == "print('a b c d')\n"


# --- add-prompt (H2) --------------------------------------------------------------------------

def test_add_prompt_leaves_a_repeated_prompt_alone() -> None:
    raw = PROMPT + "    return sum(xs)\n"
    assert apply("add-prompt", raw) == raw


def test_add_prompt_indents_a_bare_body_whose_first_line_lost_its_indentation() -> None:
    raw = "result = 0\n    for x in xs:\n        result += x\n    return result"
    assert apply("add-prompt", raw) == (
        PROMPT + "    result = 0\n    for x in xs:\n        result += x\n    return result")


def test_add_prompt_indents_a_dedented_body() -> None:
    raw = "if not xs:\n    return 0\nreturn sum(xs)\n"
    expected = PROMPT + "    if not xs:\n        return 0\n    return sum(xs)\n"
    assert apply("add-prompt", raw) == expected


def test_add_prompt_adds_imports_and_decorators_to_a_redeclared_function() -> None:
    raw = "def total(xs: List[int]) -> int:\n    return sum(xs)\n"
    assert apply("add-prompt", raw) == "from typing import List\n\n\n" + raw
    flask = "def handler():\n    return request.args.get('x')\n"
    merged = apply("add-prompt", flask, FLASK_TASK)
    assert merged.startswith("from flask import Flask, request\napp = Flask(__name__)\n")
    assert "@app.route('/x')\ndef handler():\n    return request.args.get('x')\n" in merged


def test_add_prompt_does_not_duplicate_what_the_model_repeated() -> None:
    raw = ("from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/x')\n"
           "def handler():\n    return 'x'\n")
    assert apply("add-prompt", raw, FLASK_TASK) == raw


def test_add_prompt_continues_a_script_prompt_at_top_level() -> None:
    task = Task("t/3", "import requests\n\n# Fetch the page", "python")
    merged = apply("add-prompt", "page = requests.get('https://example.com')\n", task)
    assert merged == "import requests\n\n# Fetch the page\npage = requests.get('https://example.com')\n"


# --- fix-indentation --------------------------------------------------------------------------

def test_fix_indentation_replaces_tabs_mixed_with_spaces() -> None:
    raw = PROMPT + "\tif xs:\n\t\treturn sum(xs)\n\treturn 0\n"
    fixed = apply("fix-indentation", raw)
    assert fixed == PROMPT + "    if xs:\n        return sum(xs)\n    return 0\n"
    assert py.compile_error(fixed) is None


def test_fix_indentation_reads_tabs_as_eight_columns_when_only_that_compiles() -> None:
    # Old code: a tab is one level, a tab and 4 spaces the next, two tabs the one after.
    raw = PROMPT + "\tfor x in xs:\n\t    if x:\n\t\treturn x\n\treturn 0\n"
    fixed = apply("fix-indentation", raw, tab_widths=[4, 8])
    assert fixed == PROMPT + ("        for x in xs:\n            if x:\n"
                              "                return x\n        return 0\n")
    assert py.compile_error(apply("align-body", fixed)) is None
    assert apply("fix-indentation", raw, tab_widths=[4]) == PROMPT + (
        "    for x in xs:\n        if x:\n        return x\n    return 0\n")


def test_fix_indentation_leaves_consistent_indentation_alone() -> None:
    tabs = "def f():\n\tif x:\n\t\treturn 1\n"
    assert apply("fix-indentation", tabs) == tabs
    assert apply("fix-indentation", PROMPT) == PROMPT


# --- align-body -------------------------------------------------------------------------------

def test_align_body_moves_a_body_generated_too_deep_or_too_shallow_under_the_docstring() -> None:
    deep = (PROMPT + "\n        if xs:\n            return sum(xs)\n  # note\n"
            "        return 0\n\nx = 1\n")
    assert apply("align-body", deep) == (
        PROMPT + "\n    if xs:\n        return sum(xs)\n  # note\n    return 0\n\nx = 1\n")
    shallow = PROMPT + "  return sum(xs)\n"
    assert apply("align-body", shallow) == PROMPT + "    return sum(xs)\n"


def test_align_body_leaves_aligned_code_top_level_code_and_block_prompts_alone() -> None:
    for code in (PROMPT + "    return sum(xs)\n", PROMPT + "\ndef other():\n    pass\n",
                 "def total(xs):\n        return 1\n"):
        assert apply("align-body", code) == code
    block = Task("t/9", "def f(xs):\n    for x in xs:\n", "python", entry_point="f")
    inside = block.prompt + "        print(x)\n"
    assert apply("align-body", inside, block) == inside


# --- remove-extra-functions (H4) / remove-trailing-code (H5) ----------------------------------

RUN_ON = (PROMPT + "    return helper(xs)\n\n\ndef helper(xs):\n    return sum(xs)\n\n\n"
          "def unrelated(a):\n    return a\n\n\nclass Junk:\n    pass\n\n\n"
          "LIMIT = 3\nimport os\nprint(total([1]))\nassert total([1]) == 1\n"
          "if __name__ == '__main__':\n    unrelated(1)\n")


def test_remove_extra_functions_drops_unused_functions_and_classes_after_the_target() -> None:
    result = apply("remove-extra-functions", RUN_ON)
    assert "def helper" in result and "def unrelated" not in result and "class Junk" not in result
    assert "print(total([1]))" in result  # trailing statements are H5's job


def test_remove_extra_functions_drops_a_later_definition_named_like_a_builtin() -> None:
    code = PROMPT + "    return len(xs)\n\n\ndef len(s):\n    n = 0\n"
    assert apply("remove-extra-functions", code) == PROMPT + "    return len(xs)\n"
    helper = PROMPT + "    return size(xs)\n\n\ndef size(s):\n    return len(s)\n"
    assert apply("remove-extra-functions", helper) == helper


def test_remove_extra_functions_keeps_code_before_the_target_and_needs_a_target() -> None:
    code = "def before():\n    pass\n\n\n" + PROMPT + "    return before()\n"
    assert apply("remove-extra-functions", code) == code
    orphan = "def other():\n    pass\n\ndef more():\n    pass\n"
    assert apply("remove-extra-functions", orphan) == orphan


def test_remove_trailing_code_drops_main_blocks_prints_and_asserts() -> None:
    result = apply("remove-trailing-code", RUN_ON)
    for dropped in ("print(", "assert ", "__main__", "LIMIT"):
        assert dropped not in result
    assert "import os" not in result  # nothing uses it
    assert "def unrelated" in result


def test_remove_trailing_code_drops_assignments_to_the_targets_own_locals() -> None:
    body = "    n = len(xs)\n    return sum(xs) + n\n"
    code = PROMPT + body + "\nxs = input()\nn = int(xs)\n"
    assert apply("remove-trailing-code", code) == PROMPT + body
    needs = PROMPT + "    return sum(xs) + N\n\nN = int('3')\n"
    assert apply("remove-trailing-code", needs) == needs


def test_remove_trailing_code_keeps_only_imports_the_kept_code_uses() -> None:
    code = (PROMPT + "    return int(np.sum(xs))\n\n\nimport config\nimport numpy as np\n"
            "from os.path import join as pjoin, exists\nfrom helpers import *\n")
    result = apply("remove-trailing-code", code)
    assert "import numpy as np" in result and "from helpers import *" in result
    assert "import config" not in result and "pjoin" not in result
    uses = PROMPT + "    return exists(xs)\n\nfrom os.path import join as pjoin, exists\n"
    assert apply("remove-trailing-code", uses) == uses


def test_remove_trailing_code_keeps_constants_the_target_uses() -> None:
    code = PROMPT + "    return min(sum(xs), LIMIT)\n\n\nLIMIT = 10\nprint(total([1]))\n"
    assert apply("remove-trailing-code", code) == (
        PROMPT + "    return min(sum(xs), LIMIT)\n\n\nLIMIT = 10\n")
    clean = PROMPT + "    return sum(xs)\n"
    assert apply("remove-trailing-code", clean) == clean


# --- close-unterminated / truncate-incomplete -------------------------------------------------

def test_close_unterminated_closes_brackets_and_strings_at_the_end() -> None:
    assert apply("close-unterminated", PROMPT + "    return sum([x for x in xs") == (
        PROMPT + "    return sum([x for x in xs])\n")
    assert apply("close-unterminated", PROMPT + "    s = 'abc") == PROMPT + "    s = 'abc'\n"
    closed = apply("close-unterminated", PROMPT + "    return 1\n    '''unfinished note")
    assert closed.endswith("'''unfinished note'''\n") and py.compile_error(closed) is None


def test_close_unterminated_keeps_complete_elements_of_a_cut_list() -> None:
    raw = PROMPT + "    table = [1, 2,\n             3 +"
    assert apply("close-unterminated", raw) == PROMPT + "    table = [1, 2,]\n"


def test_close_unterminated_leaves_compiling_or_unfixable_code_alone() -> None:
    good = PROMPT + "    return sum(xs)\n"
    assert apply("close-unterminated", good) == good
    unfixable = PROMPT + "    x = = ("
    assert apply("close-unterminated", unfixable) == unfixable


def test_close_unterminated_drops_an_incomplete_first_element() -> None:
    assert apply("close-unterminated", PROMPT + "    return (1 +\n") == PROMPT + "    return ()\n"


def test_truncate_incomplete_cuts_to_the_last_complete_statement() -> None:
    raw = PROMPT + "    s = 0\n    for x in xs:\n        s += x\n    return s\n\nwhile True\n"
    expected = PROMPT + "    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    assert apply("truncate-incomplete", raw) == expected
    dangling = PROMPT + "    s = sum(xs)\n    if s > 1:\n"
    assert apply("truncate-incomplete", dangling) == PROMPT + "    s = sum(xs)\n"


def test_truncate_incomplete_never_cuts_into_the_prompt_and_leaves_good_code() -> None:
    raw = PROMPT + "    return = 1\n"
    assert apply("truncate-incomplete", raw).rstrip() == PROMPT.rstrip()
    good = PROMPT + "    return 1\n"
    assert apply("truncate-incomplete", good) == good


# --- honesty rule -----------------------------------------------------------------------------

@pytest.mark.parametrize("code, expected", [
    (PROMPT + "    return sum(xs)\n", True),
    (PROMPT, False),
    (PROMPT + "    pass\n", False),
    (PROMPT + "    ...\n", False),
    (PROMPT + "    None\n    0\n", False),  # constants on their own do nothing
    (PROMPT + "    None\n    return None\n", True),
    (PROMPT + '    """\n    """\n    """\n    """\n', False),
    ("def other(xs):\n    return 1\n", False),  # the target is gone
    ("def total(xs):\n    return sum(xs)\n", True),  # re-declared without the docstring
    (PROMPT + "    x = (\n", True),  # broken: left to the compile check
])
def test_has_generated_body(code: str, expected: bool) -> None:
    assert py.has_generated_body(code, TASK) is expected


def test_has_generated_body_ignores_statements_copied_from_the_prompt() -> None:
    prompt = "def outer(a):\n    def inner(b):\n        pass\n    '''Use inner.'''"
    task = Task("t/4", prompt, "python")
    assert not py.has_generated_body(prompt + "\n", task)
    assert py.has_generated_body(prompt + "\n    return inner(a)\n", task)


def test_has_generated_body_of_a_script_prompt_needs_new_code() -> None:
    task = Task("t/5", "import os\n# list the folder", "python")
    assert not py.has_generated_body("import os\n# list the folder\n# and print it\n", task)
    assert py.has_generated_body("import os\n# list the folder\nprint(os.listdir())\n", task)


# --- compile check ----------------------------------------------------------------------------

def test_python_compiler_reports_line_and_message() -> None:
    with py.PythonCompiler() as compiler:
        ok, bad, nul, outside = compiler.check(
            ["x = 1\n", "x = (\n", "x = 1\x00\n", "return 1\n"])
    assert ok.ok and ok.errors == []
    assert not bad.ok and bad.errors[0].startswith("line 1:")
    assert not nul.ok and nul.errors
    assert not outside.ok and "outside function" in outside.errors[0]


def test_a_short_statement_that_also_appears_in_the_docstring_is_generated() -> None:
    task = Task("t/6", 'def f(x):\n    """you should return an array"""\n', "python")
    assert py.has_generated_body('def f(x):\n    """you should return an array"""\n    return\n',
                                 task)


def test_strip_prose_needs_a_sentence_not_just_blank_lines() -> None:
    truncated = "\n" + PROMPT + "    return (\n"
    assert apply("strip-prose", truncated) == truncated


def test_remove_extra_functions_drops_a_later_definition_that_shadows_the_target() -> None:
    code = PROMPT + "    return sum(xs)\n\n\ndef total(xs):\n    '''Again.'''\n"
    assert apply("remove-extra-functions", code) == PROMPT + "    return sum(xs)\n"


def test_a_nested_entry_point_stands_for_its_enclosing_function() -> None:
    prompt = "def outer(a):\n    def inner(b):\n        pass\n    '''Use inner.'''"
    assert py.target_function(Task("t", prompt, "python", entry_point="inner")) == "outer"
    method = "class A:\n    def run(self):\n        '''Run.'''"
    assert py.target_function(Task("t", method, "python", entry_point="run")) == "run"
    assert py.target_function(TASK) == "total"


# --- add-missing-imports ----------------------------------------------------------------------

def test_add_missing_imports_imports_standard_modules_the_code_reads_but_never_imports() -> None:
    code = ('"""Module."""\nfrom __future__ import annotations\n' + PROMPT
            + "    return int(math.fsum(xs)) + len(re.findall('1', str(xs)))\n")
    fixed = apply("add-missing-imports", code)  # only the function reads them: at the end
    assert fixed == code + "\n\nimport math\nimport re\n"
    assert py.compile_error(fixed) is None
    assert apply("add-missing-imports", code, exclude=["math", "re"]) == code
    # Read while the module loads (a constant, a class body): on top, below the docstring
    # and __future__ imports.
    loading = code + "\n\nPATTERN = re.compile('1')\n"
    assert apply("add-missing-imports", loading) == (
        '"""Module."""\nfrom __future__ import annotations\nimport math\nimport re\n'
        + PROMPT + "    return int(math.fsum(xs)) + len(re.findall('1', str(xs)))\n"
        "\n\nPATTERN = re.compile('1')\n")


def test_add_missing_imports_leaves_bound_unknown_and_broken_names_alone() -> None:
    for body in ("    import math\n    return math.floor(1.5)\n",  # imported in the function
                 "    string = str(xs)\n    return string.count('1')\n",  # a local variable
                 "    return numpy.sum(xs)\n",  # not in the standard library
                 "    return re\n",  # not used as a module
                 "    return re.sub(\n"):  # does not compile
        code = PROMPT + body
        assert apply("add-missing-imports", code) == code
    star = "from os.path import *\n" + PROMPT + "    return re.sub('a', 'b', xs)\n"
    assert apply("add-missing-imports", star) == star


# --- drop-stray-quote -------------------------------------------------------------------------

def test_drop_stray_quote_drops_a_reopened_docstring_quote_before_code() -> None:
    body = "    total = 0\n    for x in xs:\n        total += x\n    return total\n"
    fixed = apply("drop-stray-quote", PROMPT + "    '''\n" + body)
    assert fixed == PROMPT + body
    assert py.has_generated_body(fixed, TASK)


def test_drop_stray_quote_leaves_closed_strings_prose_and_the_prompt_alone() -> None:
    closed = PROMPT + '    """\n    More words.\n    """\n    return 0\n'
    prose = PROMPT + "    '''\n    More words about it, and more.\n"
    opened_in_prompt = Task("t/8", 'def f():\n    """\n', "python", entry_point="f")
    for code, task in ((closed, TASK), (prose, TASK),
                       (opened_in_prompt.prompt + "    return 1\n", opened_in_prompt)):
        assert apply("drop-stray-quote", code, task) == code


def test_drop_stray_quote_keeps_the_docstring_of_a_nested_definition() -> None:
    nested = PROMPT + "    def inner(a):\n        '''\n        return a\n"
    assert apply("drop-stray-quote", nested) == nested


def test_drop_stray_quote_only_drops_the_quote_that_opens_the_unterminated_string() -> None:
    code = (PROMPT + "    '''\n    Words here.\n    '''\n    total = sum(xs)\n    return total\n"
            "\n\ndef other():\n    '''\n")
    assert apply("drop-stray-quote", code) == code


def test_add_missing_imports_adds_policy_aliases_and_names() -> None:
    code = PROMPT + "    return int(np.sum(xs)) + reduce(lambda a, b: a + b, xs)\n"
    fixed = apply("add-missing-imports", code, aliases={"np": "numpy"},
                  names={"reduce": "functools"})
    assert fixed == code + "\n\nimport numpy as np\nfrom functools import reduce\n"
    assert apply("add-missing-imports", code) == code  # neither is a standard module
    bound = PROMPT + "    reduce = min\n    return reduce(xs)\n"
    assert apply("add-missing-imports", bound, names={"reduce": "functools"}) == bound
