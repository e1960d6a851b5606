"""Language-neutral heuristics (H1, H3) and the prompt-merge helpers."""

from __future__ import annotations

from franc.filter import common
from franc.filter.base import FilterContext
from franc.models import Task

PROMPT = "import math\n\n\ndef area(r: float) -> float:\n    '''Area of a circle.'''\n"
TASK = Task("t/1", PROMPT, "python", entry_point="area")


def ctx(task: Task = TASK, **params: object) -> FilterContext:
    return FilterContext(task, params)


# --- H1 -------------------------------------------------------------------------------------

def test_extract_code_block_keeps_the_fenced_code_of_a_chat_answer() -> None:
    raw = ("Here is the function:\n\n```python\ndef area(r):\n    return math.pi * r * r\n```\n"
           "It uses math.pi.")
    expected = "def area(r):\n    return math.pi * r * r\n"
    assert common.extract_code_block.apply(raw, ctx()) == expected


def test_extract_code_block_prefers_the_block_that_mentions_the_target() -> None:
    raw = ("Install it first:\n```bash\npip install numpy\n```\nThen:\n```\ndef area(r):\n"
           "    return 3.14 * r * r\n```\n")
    assert common.extract_code_block.apply(raw, ctx()).startswith("def area(r):")


def test_extract_code_block_takes_an_unclosed_block_to_the_end() -> None:
    raw = "Sure:\n```python\ndef area(r):\n    return r"
    assert common.extract_code_block.apply(raw, ctx()) == "def area(r):\n    return r"


def test_extract_code_block_leaves_completion_output_and_plain_code_alone() -> None:
    completion = (PROMPT + "    return math.pi * r ** 2\n```\nSome trailing chatter\n"
                  "```py\nx = 1\n```\n")
    assert common.extract_code_block.apply(completion, ctx()) == completion
    plain = "def area(r):\n    return r\n"
    assert common.extract_code_block.apply(plain, ctx()) == plain


# --- H3 -------------------------------------------------------------------------------------

def test_cut_end_markers_drops_everything_from_the_first_marker() -> None:
    raw = PROMPT + "    return 1.0\n<|endoftext|>\nimport os\n</code>junk"
    assert common.cut_end_markers.apply(raw, ctx()) == PROMPT + "    return 1.0\n"


def test_cut_end_markers_treats_a_closing_fence_on_the_last_line_as_a_marker() -> None:
    raw = PROMPT + "    return 1.0\n```"
    assert common.cut_end_markers.apply(raw, ctx()) == PROMPT + "    return 1.0"


def test_cut_end_markers_uses_the_configured_markers_only() -> None:
    raw = PROMPT + "    return 1.0\n# END\nprint(1)\n<EOS>"
    assert common.cut_end_markers.apply(raw, ctx(markers=["# END"])) == PROMPT + "    return 1.0\n"
    assert common.cut_end_markers.apply("x = 1\n", ctx()) == "x = 1\n"


def test_cut_end_markers_never_cuts_inside_a_repeated_prompt() -> None:
    prompt = "def f():\n    '''Ends with <EOS> in the docstring.'''\n"
    task = Task("t/2", prompt, "python", entry_point="f")
    raw = prompt + "    return 1\n<EOS>tail"
    assert common.cut_end_markers.apply(raw, ctx(task)) == prompt + "    return 1\n"


# --- helpers --------------------------------------------------------------------------------

def test_target_name_prefers_entry_point_then_last_top_level_def() -> None:
    assert common.target_name(TASK) == "area"
    nested = Task("t", "def outer(a):\n    def inner(b):\n        pass\n    '''doc'''", "python")
    assert common.target_name(nested) == "outer"
    java = Task("t", "class A {\n    public static int twice(int x) {\n", "java")
    assert common.target_name(java) == "twice"
    assert common.target_name(Task("t", "# just a comment", "python")) is None


def test_merge_prompt_keeps_a_repeated_prompt_with_trimmed_spaces_and_a_continued_line() -> None:
    def merge(prompt: str, code: str) -> str:
        return common.merge_prompt(prompt, code, declares_target=lambda _: False, head_units=[],
                                   place_declaration=lambda text, _: "declaration",
                                   place_body=lambda text: "body")

    assert merge(PROMPT, PROMPT + "    return 1\n") == PROMPT + "    return 1\n"
    assert merge("x = 1  \n# go to", "x = 1\n# go to the shop\n") == "x = 1\n# go to the shop\n"
    assert merge(PROMPT, "return r\n") == "body"


def test_cut_end_markers_finds_a_prompt_repeated_with_trimmed_spaces() -> None:
    prompt = 'def f():\n    """Print <EOS> markers."""\n'
    task = Task("t", prompt, "python")
    code = prompt.replace("\n", "  \n", 1) + "    return 1\n<EOS>junk"
    assert common.cut_end_markers.apply(code, ctx(task)) == code.removesuffix("<EOS>junk")
    # Code that does not repeat the prompt is searched from its start.
    assert common.cut_end_markers.apply("x = '<EOS>'", ctx(task)) == "x = '"


def test_resume_repeated_tail_prepends_the_missing_head() -> None:
    code = "def area(r: float) -> float:\n    '''Area of a circle.'''\n    return r\n"
    assert common.resume_repeated_tail(PROMPT, code) == "import math\n\n\n" + code
    assert common.resume_repeated_tail(PROMPT, "return r\n") is None
    # a line of punctuation is not evidence of a repeat
    assert common.resume_repeated_tail("a = (\n)\n", ")\nb = 1\n") is None


def test_missing_units_and_join_prompt() -> None:
    assert common.missing_units(["import math\n", "X = 1\n"], "import  math\nx = 2") == ["X = 1\n"]
    assert common.join_prompt("a = 1", "b = 2") == "a = 1\nb = 2"
    assert common.join_prompt("a = 1\n", "b = 2") == "a = 1\nb = 2"
    assert common.join_prompt("", "b") == "b"


def test_merge_prompt_dispatches_on_what_the_model_repeated() -> None:
    calls: list[str] = []

    def merge(code: str) -> str:
        return common.merge_prompt(
            PROMPT, code, declares_target=lambda text: "def area" in text,
            head_units=["import math\n"],
            place_declaration=lambda text, missing: calls.append("decl") or "".join(missing) + text,
            place_body=lambda text: calls.append("body") or PROMPT + text)

    assert merge(PROMPT + "    return 1\n") == PROMPT + "    return 1\n"
    assert merge("def area(r):\n    return 1\n") == "import math\ndef area(r):\n    return 1\n"
    assert merge("    return 1\n") == PROMPT + "    return 1\n"
    assert calls == ["decl", "body"]
