"""Static views of a candidate's code that the rankers share.

Everything here reads text only; nothing executes candidate code. The features compare
the *generated* part of a candidate: its code without anything copied from the task's
prompt (see :func:`generated_part`).
"""

from __future__ import annotations

import builtins
import io
import keyword
import re
import tokenize
import zlib

from franc.languages import facts
from franc.models import Language, Task

#: Java/Python tokens: identifiers, numbers, string and char literals, operators.
_TOKEN = re.compile(r"""
    "(?:[^"\\\n]|\\.)*" | '(?:[^'\\\n]|\\.)*'      # string / char literals
  | [A-Za-z_$][A-Za-z0-9_$]*                       # identifiers and keywords
  | \d[\w.]*                                       # numbers
  | [^\sA-Za-z0-9_$]                               # one operator character
""", re.VERBOSE)
_JAVA_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_JAVA_KEYWORDS = frozenset(re.findall(r"\S+", """
    abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int interface
    long native new package private protected public return short static strictfp super switch
    synchronized this throw throws transient try void volatile while var true false null String
    List Map Set ArrayList HashMap HashSet Integer Long Double Character Boolean Math Arrays
    Collections Object System out println length size get put add charAt substring equals
"""))
_PY_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | frozenset(re.findall(r"\S+", """
    len range str int float list dict set tuple sorted sum min max abs enumerate zip map filter
    any all isinstance print append extend pop join split strip lower upper keys values items
    replace count index reverse sort startswith endswith format
"""))
#: Bodies a model writes when it gives up; they compile but do nothing.
_TRIVIAL_STATEMENTS = re.compile(
    r"^\s*(pass|\.\.\.|return|return\s+(None|null|0|false|False|\"\"|''|\[\]|\{\})"
    r"|raise\s+NotImplementedError(\(.*\))?|throw\s+new\s+\w+\(.*\)|[{}]|[{}]\s*;?)\s*;?\s*$")


def generated_part(code: str, task: Task | None) -> str:
    """The code without anything copied from the task's prompt: the prompt is cut out where
    the code holds it verbatim, else every line that repeats a prompt line is dropped.

    Not the same question as :attr:`~franc.models.Candidate.prompt_span` (which lines the
    model wrote, as findings and repair read it): a signature and docstring a chat model
    wrote again are the model's lines, but copies of the prompt say nothing about a
    candidate's logic, so the similarity and size features leave them out.
    """
    if task is None or not task.prompt.strip():
        return code
    prompt = task.prompt.rstrip()
    at = code.find(prompt)
    if at >= 0:
        return code[:at] + code[at + len(prompt):]
    prompt_lines = {line.strip() for line in task.prompt.splitlines() if line.strip()}
    return "\n".join(line for line in code.splitlines() if line.strip() not in prompt_lines)


def declaration_tokens(task: Task | None) -> list[str] | None:
    """Tokens of the prompt's declaration of the target function, or None when the task
    names no entry point or its prompt declares it on no single line.

    Python: the ``def name(...)`` line; Java: the method header, without its ``{``.
    Doc comments and docstring examples (``>>> name(...)``, ``* name(...)``) are no
    declaration.
    """
    if task is None or not task.entry_point:
        return None
    call = re.compile(rf"\b{re.escape(task.entry_point)}\s*\(")
    for line in task.prompt.splitlines():
        text = line.strip()
        if not call.search(text):
            continue
        if task.language == "python" and text.startswith(("def ", "async def ")):
            return _TOKEN.findall(text)
        if task.language == "java" and not text.startswith(("*", "/", ">")) \
                and not text.endswith(";"):
            return _TOKEN.findall(text.rstrip("{ \t"))
    return None


def keeps_signature(code: str, declaration: list[str] | None) -> bool:
    """True when ``code`` declares the target function exactly as the prompt does (same
    name, parameters and types, spacing aside), or when there is no declaration to keep.

    A candidate that changed the prompt's signature cannot be called as the prompt
    promised; in a typed language the caller's code no longer compiles against it.
    """
    if not declaration:
        return True
    separator = "\x00"
    return (separator + separator.join(declaration) + separator
            in separator + separator.join(_TOKEN.findall(code)) + separator)


def _python_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    statement_start = True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER):
                continue
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                tokens.append({tokenize.NEWLINE: ";", tokenize.INDENT: "{",
                               tokenize.DEDENT: "}"}[tok.type])
                statement_start = True
                continue
            # A string standing alone as a statement is a docstring, not logic.
            if not (tok.type == tokenize.STRING and statement_start):
                tokens.append(tok.string)
            statement_start = False
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _TOKEN.findall(re.sub(r"#[^\n]*", "", text))
    return tokens


def code_tokens(text: str, language: Language) -> list[str]:
    """Tokens of ``text`` without comments and docstrings."""
    if language == "python":
        return _python_tokens(text)
    return _TOKEN.findall(_JAVA_COMMENT.sub(" ", text))


def normalise_identifiers(tokens: list[str], language: Language) -> list[str]:
    """Rename user identifiers by first occurrence (``v0``, ``v1``...).

    Two candidates that differ only in variable names then read the same;
    keywords, common library names and literals keep their spelling.
    """
    known = _PY_NAMES if language == "python" else _JAVA_KEYWORDS
    names: dict[str, str] = {}
    out: list[str] = []
    previous = ""
    for token in tokens:
        is_name = (token[0].isalpha() or token[0] in "_$") and token not in known
        # Attribute and method names after '.' belong to an API: keep them.
        if is_name and previous != ".":
            token = names.setdefault(token, f"v{len(names)}")
        out.append(token)
        previous = token
    return out


_STRING_LITERAL = {"python": re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"),
                   "java": re.compile(r"\"(?:[^\"\\\n]|\\.)*\"")}


def foreign_strings(tokens: list[str], prompt: str, language: Language) -> int:
    """How many string literals of two characters or more in ``tokens`` (a candidate's
    code without comments and docstrings) the prompt never shows. A prompt that names the
    strings to return (``"Yes"``, ``"NO"``, ``"db"``) wants those, not a variant a model
    made up."""
    literals = _STRING_LITERAL[language].findall(" ".join(tokens))
    return sum(len(literal) > 3 and literal[1:-1] not in prompt for literal in literals)


def repetition(text: str) -> float:
    """Share of the text that zlib can squeeze out: near 1 for a loop of repeated lines."""
    data = text.encode("utf-8", "replace")
    if len(data) < 64:
        return 0.0
    return max(0.0, 1.0 - len(zlib.compress(data, 9)) / len(data))


def duplicate_line_share(text: str) -> float:
    """Share of non-blank lines that repeat an earlier line verbatim."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return 0.0
    return 1.0 - len(set(lines)) / len(lines)


def statement_lines(text: str, language: Language) -> list[str]:
    """Non-blank, non-comment lines of ``text``."""
    comment = facts(language).comment
    return [line for line in text.splitlines()
            if line.strip() and not line.strip().startswith((comment, "*", "/*", '"""', "'''"))]


def is_trivial(text: str, language: Language) -> bool:
    """True when the generated text holds no real statement (pass, return None, a stub)."""
    lines = statement_lines(text, language)
    return all(_TRIVIAL_STATEMENTS.match(line) for line in lines)
