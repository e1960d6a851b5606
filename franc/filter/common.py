"""Language-independent heuristics and the prompt-merge helpers both languages use.

H1 ``extract-code-block`` keeps the fenced block a chat model wrapped in prose;
H3 ``cut-end-markers`` drops everything from an end-of-generation marker on.
:func:`merge_prompt` is the skeleton of H2 (prompt addition): each language
module supplies what a declaration of the target looks like, the prompt's
top-level units before the target, and how to indent a bare body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from franc.filter.base import FilterContext, Heuristic, heuristic
from franc.models import Task, match_prompt

# An opening fence: ``` with an optional info string (language tag); a closing fence: bare ```.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n`]*$", re.M)
_CLOSING_FENCE = re.compile(r"^[ \t]*```[ \t]*$", re.M)
_WS = re.compile(r"\s+")

DEFAULT_END_MARKERS: tuple[str, ...] = ("\n```\n", "</code>", "<|endoftext|>", "<EOS>",
                                        "<|file_separator|>")


def normalize_ws(text: str) -> str:
    """``text`` with every run of whitespace removed (for repeat detection)."""
    return _WS.sub("", text)


def significant_lines(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


_PLAIN_WORD = re.compile(r"[(\"']?[A-Za-z][a-z]*(?:'[a-z]+)?[)\"']?[,.:!?]?")
_MARKDOWN_FENCE = re.compile(r"[ \t]*```")


def reads_as_sentence(line: str, keywords: frozenset[str] = frozenset()) -> bool:
    """True when ``line`` reads as natural language: three or more tokens, seven in ten of
    them plain words, none of ``;{}=``, not starting with a keyword of the language. A
    Markdown fence line counts too (it is no code either)."""
    if _MARKDOWN_FENCE.match(line):
        return True
    tokens = line.split()
    if len(tokens) < 3 or tokens[0] in keywords or any(c in line for c in ";{}="):
        return False
    words = sum(1 for token in tokens if _PLAIN_WORD.fullmatch(token))
    return words * 10 >= len(tokens) * 7


def mostly_sentences(lines: Sequence[str], is_sentence: Callable[[str], bool]) -> bool:
    """True when at least half of ``lines`` (a prompt's lines outside comments and strings)
    are sentences: such a prompt is an instruction, not code to continue."""
    sentences = sum(1 for line in lines if is_sentence(line))
    return sentences > 0 and sentences * 2 >= len(lines)


def target_name(task: Task) -> str | None:
    """The function/method the prompt asks for: the entry point, else the last declared name."""
    if task.entry_point:
        return task.entry_point
    prompt = task.prompt
    # Python: the last top-level def (a nested def belongs to it), else any def;
    # Java and the like: the last ``name(...) {`` declaration.
    names = (re.findall(r"^(?:async\s+)?def\s+(\w+)", prompt, re.M)
             or re.findall(r"\bdef\s+(\w+)", prompt)
             or re.findall(r"\b(\w+)\s*\([^()]*\)\s*(?:throws\s+[\w.,\s]+)?\{", prompt))
    return names[-1] if names else None


# --- H1 ------------------------------------------------------------------------------------

def fenced_blocks(text: str) -> list[tuple[int, str]]:
    """``(start offset of the opening fence, content)`` of every ``` block, in order.

    A block with no closing fence runs to the end of the text (a generation cut by
    the token limit).
    """
    blocks: list[tuple[int, str]] = []
    position = 0
    while (opening := _FENCE.search(text, position)) is not None:
        body_start = opening.end() + 1
        closing = _CLOSING_FENCE.search(text, body_start)
        end = closing.start() if closing else len(text)
        blocks.append((opening.start(), text[body_start:end]))
        position = closing.end() if closing else len(text)
    return blocks


def _is_completion_style(prefix: str, prompt: str) -> bool:
    """True when the text before the first fence already holds the prompt's code.

    A completion model repeats the prompt and may later emit a stray ``` (an
    end marker, H3's job); a chat model writes prose before its first fence.
    """
    first = next(iter(significant_lines(prompt)), None)
    return first is not None and first in significant_lines(prefix)


@heuristic("extract-code-block", "H1: keep the fenced code block a chat model wrapped in prose")
def extract_code_block(code: str, context: FilterContext) -> str:
    blocks = [(start, body) for start, body in fenced_blocks(code) if body.strip()]
    if not blocks or _is_completion_style(code[:blocks[0][0]], context.task.prompt):
        return code
    name = target_name(context.task)
    if name:
        word = re.compile(rf"\b{re.escape(name)}\b")
        for _, body in blocks:
            if word.search(body):
                return body
    return blocks[0][1]


# --- H3 ------------------------------------------------------------------------------------

@heuristic("cut-end-markers", "H3: drop everything from an end-of-generation marker onward")
def cut_end_markers(code: str, context: FilterContext) -> str:
    markers: Sequence[str] = context.params.get("markers", DEFAULT_END_MARKERS)
    # Never cut inside a repeated prompt: search after it when the code starts with it.
    start = match_prompt(context.task.prompt, code).end
    padded = code + "\n"  # so that "\n```\n" also matches a fence on the very last line
    cut = min((i for m in markers if m and (i := padded.find(m, start)) != -1), default=-1)
    return code[:cut] if cut != -1 and cut < len(code) else code


# --- H2 skeleton ---------------------------------------------------------------------------

def resume_repeated_tail(prompt: str, code: str) -> str | None:
    """Prepend the prompt's head when ``code`` repeats the prompt from some line on.

    E.g. the model repeated the signature and docstring but not the imports. The
    first repeated line must carry code (not just a bracket or quote), and the
    repeat must run to the end of the prompt or of the code.
    """
    prompt_lines = prompt.splitlines(keepends=True)
    code_lines = code.lstrip("\n").splitlines()
    if not code_lines:
        return None
    first = code_lines[0].strip()
    if len(re.sub(r"[\W_]", "", first)) < 3:
        return None
    for i, line in enumerate(prompt_lines):
        if i == 0 or line.strip() != first:
            continue
        tail = prompt_lines[i:]
        span = min(len(tail), len(code_lines))
        if [t.rstrip() for t in tail[:span - 1]] == [c.rstrip() for c in code_lines[:span - 1]]:
            return join_prompt("".join(prompt_lines[:i]), code.lstrip("\n"))
    return None


def missing_units(units: Sequence[str], code: str) -> list[str]:
    """The prompt units (imports, globals, helpers) that ``code`` does not already contain."""
    have = normalize_ws(code)
    return [unit for unit in units if normalize_ws(unit) and normalize_ws(unit) not in have]


def join_prompt(prompt: str, continuation: str) -> str:
    """``prompt`` followed by ``continuation`` on a new line."""
    if not prompt:
        return continuation
    return prompt + ("" if prompt.endswith("\n") else "\n") + continuation


def merge_prompt(prompt: str, code: str, *, declares_target: Callable[[str], bool],
                 head_units: Sequence[str], place_declaration: Callable[[str, list[str]], str],
                 place_body: Callable[[str], str]) -> str:
    """H2: put the prompt in front of ``code`` without duplicating what the model repeated.

    - the whole prompt repeated (completion models): ``code`` unchanged;
    - the prompt repeated from some line on: the missing head is prepended;
    - the target re-declared (a bare function/class, a fenced block's content):
      ``place_declaration(code, missing head units)`` adds what the model left out;
    - anything else is a bare body: ``place_body(code)`` indents it under the prompt.
    """
    if not prompt.strip() or match_prompt(prompt, code).end:
        return code
    resumed = resume_repeated_tail(prompt, code)
    if resumed is not None:
        return resumed
    if declares_target(code):
        return place_declaration(code, missing_units(head_units, code))
    return place_body(code)


HEURISTICS: tuple[Heuristic, ...] = (extract_code_block, cut_end_markers)
