"""Turn a model's answer to a repair prompt into code for the static filter.

Completion models echo the whole repair prompt before the fixed code (and are often
cut off by the token limit while echoing); chat models answer with a whole program,
usually in a fenced block. The answer is the text after the echoed prompt (that is,
after its ``Fixed Code:`` marker), else after the last ``Fixed Code:`` marker, else
the first fenced block, else the whole text. When the template says which code
the model continues (P2: the task prompt; P3: the code before the first flagged
line), the continuation is appended to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from franc.repair.templates import RenderedPrompt

FIXED_CODE_MARKER = re.compile(r"^[ \t]*(?:#|//)?[ \t]*Fixed Code:[^\n]*\n?", re.MULTILINE)
FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)
COMMENT_LINE = re.compile(r"^\s*(#|//|/\*|\*|\*/)")
#: Closers the static filter may add to a cut-off line (brackets, quotes, colons).
TRAILING_CLOSERS = re.compile(r"[\s)\]}'\";:,]+$")


@dataclass(frozen=True)
class Answer:
    """``code`` goes to the static filter; ``own_text`` is what the model itself wrote."""

    code: str
    own_text: str
    echoed: bool


def strip_echo(raw: str, sent: str) -> tuple[str, bool]:
    """``(continuation, True)`` when ``raw`` starts by repeating ``sent``, trailing blanks
    of each line aside; else ``(raw, False)``."""
    if raw.startswith(sent):
        return raw[len(sent):], True
    sent_lines = sent.split("\n")
    raw_lines = raw.split("\n")
    if len(raw_lines) < len(sent_lines):
        return raw, False
    *whole, last = sent_lines
    if any(a.rstrip() != b.rstrip() for a, b in zip(whole, raw_lines, strict=False)):
        return raw, False
    tail = raw_lines[len(whole)]
    if not tail.startswith(last.rstrip()):
        return raw, False
    rest = tail[len(last):] if tail.startswith(last) else tail[len(last.rstrip()):]
    return "\n".join([rest, *raw_lines[len(whole) + 1:]]), True


def standalone_code(text: str) -> str:
    """The code of an answer that did not echo the prompt."""
    markers = list(FIXED_CODE_MARKER.finditer(text))
    if markers:
        text = text[markers[-1].end():]
    fence = FENCE.search(text)
    return fence.group(1) if fence else text


def _normal(line: str) -> str:
    return TRAILING_CLOSERS.sub("", line.strip())


def code_lines(text: str) -> set[str]:
    """The non-blank, non-comment lines of ``text``, stripped of closers the filter may add."""
    return {_normal(line) for line in text.split("\n")
            if line.strip() and not COMMENT_LINE.match(line)} - {""}


def extract_answer(raw: str, rendered: RenderedPrompt) -> Answer:
    if isinstance(rendered.prompt, str):
        continuation, echoed = strip_echo(raw, rendered.prompt)
    else:
        continuation, echoed = raw, False
    if not echoed:
        own = standalone_code(raw)
        return Answer(code=own, own_text=own, echoed=False)
    context = rendered.continues
    if context and isinstance(rendered.prompt, str) and not rendered.prompt.endswith(context) \
            and not context.endswith("\n"):
        # P3: the continuation starts on a fresh line after the "Fixed Code:" comment.
        context += "\n"
    return Answer(code=context + continuation, own_text=continuation, echoed=True)


def kept_own_line(code: str, answer: Answer) -> bool:
    """True when the filtered code keeps a code line the model wrote in its answer
    (the repair counterpart of the filter's honesty rule)."""
    own = code_lines(answer.own_text)
    return any(_normal(line) in own for line in code.split("\n"))
