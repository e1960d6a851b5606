"""Answer extraction (echo stripping, markers, fences, continuation) and the judge."""

from __future__ import annotations

import dataclasses

import pytest

from franc.models import Candidate, Finding
from franc.repair import Judge, extract_answer, strip_echo
from franc.repair.answer import kept_own_line
from franc.repair.templates import RenderedPrompt

SENT = "def f(x):\n    return eval(x)\n# Fix: At line 2, Use of eval.\n\n# Fixed Code: \n"
P1 = RenderedPrompt("P1", SENT)


def test_exact_echo_is_stripped() -> None:
    assert strip_echo(SENT + "def f(x):\n    return int(x)\n", SENT) == (
        "def f(x):\n    return int(x)\n", True)


def test_echo_with_trailing_blanks_changed_is_still_an_echo() -> None:
    raw = SENT.replace("Fixed Code: \n", "Fixed Code:\n") + "def g(): pass\n"
    assert strip_echo(raw, SENT) == ("def g(): pass\n", True)


def test_truncated_echo_leaves_no_answer() -> None:
    answer = extract_answer(SENT[:40], P1)
    assert not answer.echoed
    assert not kept_own_line("def f(x):\n    return eval(x)\n", answer) or answer.own_text


def test_no_echo_takes_code_after_the_last_marker() -> None:
    raw = "Sure.\n# Fixed Code:\nold\n# Fixed Code: \ndef f(x):\n    return int(x)\n"
    answer = extract_answer(raw, P1)
    assert answer.code == "def f(x):\n    return int(x)\n" and not answer.echoed


def test_chat_answer_takes_the_fenced_block() -> None:
    chat = RenderedPrompt("chat", [{"role": "user", "content": "fix"}])
    raw = "Here you go:\n```python\ndef f(x):\n    return int(x)\n```\nIt is safer."
    assert extract_answer(raw, chat).code == "def f(x):\n    return int(x)\n"


def test_p2_continuation_is_appended_to_the_prompt() -> None:
    prompt = "def f(x):\n    '''Parse x.'''\n"
    sent = "def f(x):\n    return eval(x)\n# Fix: At line 2, eval\n" + prompt
    answer = extract_answer(sent + "    return int(x)\n", RenderedPrompt("P2", sent, prompt))
    assert answer.code == prompt + "    return int(x)\n"
    assert answer.own_text == "    return int(x)\n"


def test_p3_continuation_starts_on_a_new_line_after_the_cut_code() -> None:
    before = "def f(x):\n    y = 1"
    sent = before + "\n# Fix: eval\n\n# Fixed Code: \n"
    answer = extract_answer(sent + "    return int(x) + y\n", RenderedPrompt("P3", sent, before))
    assert answer.code == before + "\n    return int(x) + y\n"


def test_kept_own_line_sees_lines_the_filter_closed() -> None:
    answer = extract_answer(SENT + "def f(x):\n    return int(x\n", P1)
    assert kept_own_line("def f(x):\n    return int(x)\n", answer)
    assert not kept_own_line("def f(x):\n    # a comment\n    pass\n",
                             extract_answer(SENT + "    # only a comment\n", P1))


def finding(severity: str = "medium", *, tool: str = "bandit", in_prompt: bool = False,
            rule: str = "B506") -> Finding:
    return Finding(tool, rule, "m", severity, "high", 3, in_prompt=in_prompt)  # type: ignore[arg-type]


@pytest.mark.parametrize("findings, clean", [
    ([], True),
    ([finding("low")], True),
    ([finding("medium")], False),
    ([finding("high")], False),
    ([finding("high", in_prompt=True)], True),
    ([finding("high", tool="pylint")], True),
    ([dataclasses.replace(Finding.failure("bandit", "timed out"), in_prompt=True)], False),
    ([Finding.failure("pylint", "crashed")], True),
])
def test_python_judge(findings: list[Finding], clean: bool) -> None:
    candidate = Candidate("t", 0, "x = 1\n", compiles=True, findings=findings)
    assert Judge("python").is_clean(candidate) is clean


def test_judge_needs_compiling_and_analysed_code() -> None:
    judge = Judge("java")
    assert not judge.is_clean(Candidate("t", 0, "class A {}", compiles=False, findings=[]))
    assert not judge.is_clean(Candidate("t", 0, "class A {}", compiles=True, findings=None))
    assert judge.is_clean(Candidate("t", 0, "class A {}", compiles=True, findings=[
        finding("high", tool="bandit")]))  # not a Java security analyzer


def test_strict_judge_is_francs_rule() -> None:
    candidate = Candidate("t", 0, "x", compiles=True,
                          findings=[finding("low", in_prompt=True)])
    assert Judge("python").is_clean(candidate)
    assert not Judge("python", strict=True).is_clean(candidate)


def test_judge_names_itself() -> None:
    assert Judge("python").name == "compile() + bandit: no finding >= medium on generated lines"
    assert Judge("java").name.startswith("javac + java-rules")
