"""The structure of Python code for the filter: logical lines, top-level segments, the
target function, the names code needs, and the ``compile()`` check.

Structure comes from two sources: a small scanner that splits code into logical
lines (it understands strings, brackets, comments and line continuations, and
keeps going through truncated or broken code, where a parser gives up or
guesses), and tree-sitter-python for the names a function refers to.
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache

import tree_sitter_python
from tree_sitter import Language, Parser, Query, QueryCursor, Tree

from franc.filter import common
from franc.models import Task

# ---------------------------------------------------------------------------------------------
# Logical-line scanner
# ---------------------------------------------------------------------------------------------

# One match per token; a string is one token, closed or not (an unclosed triple-quoted
# string runs to the end of the code, an unclosed one-line string to the end of its line).
# Spaces join the code around them: the fewer tokens, the faster the scan.
# Possessive quantifiers: a string that never closes fails in linear time.
_TOKEN = re.compile(r"""
    (?P<triple>'''(?:[^'\\]++|\\.|'(?!''))*+'''|\"\"\"(?:[^"\\]++|\\.|"(?!""))*+\"\"\")
  | (?P<open_triple>(?:'''|\"\"\").*)
  | (?P<single>'(?:[^'\\\n]++|\\.)*+'|"(?:[^"\\\n]++|\\.)*+")
  | (?P<open_single>['"][^\n]*)
  | (?P<comment>\#[^\n]*)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<comma>,)
  | (?P<cont>\\\r?\n)
  | (?P<newline>\n)
  | (?P<code>[^'"\#()\[\]{}\\\n,]+|\\)
""", re.X | re.S)
_SPACE = " \t\f\r"
CLOSER = {"(": ")", "[": "]", "{": "}"}
_MAX_TRACKED_DEPTH = 32


@dataclass(frozen=True)
class LogicalLine:
    start: int  # offset of its first token
    end: int  # offset just past its last character (before the newline)
    line_start: int  # offset of the physical line it starts on
    indent: int
    lineno: int  # 1-based physical line number of ``start``
    last_lineno: int

    def text(self, code: str) -> str:
        return code[self.start:self.end]


@dataclass(frozen=True)
class Scan:
    lines: tuple[LogicalLine, ...]
    open_brackets: str  # unclosed openers at the end, outermost first
    open_string: str | None  # the quote of a string still open at the end
    # Where the last complete element inside open brackets ends (after a ``,`` or an
    # opener), with the brackets open there: cutting there and closing keeps every
    # complete element of a list or call the token limit cut short.
    last_element_end: tuple[int, str] | None = None
    # Physical line numbers (1-based) that begin inside a string: their leading
    # whitespace is part of the string's value, not indentation.
    string_lines: frozenset[int] = frozenset()


@lru_cache(maxsize=32)  # the chain's steps scan the same text several times
def scan(code: str) -> Scan:
    """Split ``code`` into logical lines; never fails, whatever the input."""
    lines: list[LogicalLine] = []
    brackets: list[str] = []
    open_string: str | None = None
    start = -1  # where the logical line being read starts (-1: none yet)
    element_end: tuple[int, str] | None = None
    string_lines: set[int] = set()
    lineno, start_lineno = 1, 1
    for match in _TOKEN.finditer(code):
        kind, pos, end = match.lastgroup, match.start(), match.end()
        if kind == "code":
            if start == -1:
                text = match.group()
                first = len(text) - len(text.lstrip(_SPACE))
                if first < len(text):  # not only spaces: the logical line starts here
                    start, start_lineno = pos + first, lineno
            continue
        if kind in ("newline", "cont"):
            if kind == "newline" and not brackets and start != -1:
                lines.append(_logical(code, start, pos, start_lineno, lineno))
                start = -1
            lineno += 1
            continue
        if kind == "comment":
            continue
        if start == -1:
            start, start_lineno = pos, lineno
        if kind == "open":
            brackets.append(match.group())
        elif kind == "close":
            if brackets:
                brackets.pop()
            continue
        elif kind != "comma":  # a string, closed or not
            if kind == "open_triple" or (kind == "open_single" and end == len(code)):
                open_string = match.group()[:3 if kind == "open_triple" else 1]
            newlines = code.count("\n", pos, end)
            string_lines.update(range(lineno + 1, lineno + 1 + newlines))
            lineno += newlines
            continue
        if 0 < len(brackets) <= _MAX_TRACKED_DEPTH:  # after an opener or a comma
            element_end = (end, "".join(brackets))
    if start != -1:
        lines.append(_logical(code, start, len(code.rstrip()), start_lineno, lineno))
    return Scan(tuple(lines), "".join(brackets), open_string, element_end,
                frozenset(string_lines))


def _logical(code: str, start: int, end: int, lineno: int, last_lineno: int) -> LogicalLine:
    line_start = code.rfind("\n", 0, start) + 1
    indent = len(code[line_start:start].expandtabs(8))
    return LogicalLine(start, end, line_start, indent, lineno, last_lineno)


# ---------------------------------------------------------------------------------------------
# Top-level segments and the target function
# ---------------------------------------------------------------------------------------------

DEFINITION = re.compile(r"(?:async\s+)?def\s+(\w+)|class\s+(\w+)")
_ASSIGNED = re.compile(r"^\s*([\w\s,()\[\]*]+?)\s*(?::[^=]*)?=(?!=)")
_IMPORT = re.compile(r"(?:import|from)\s")
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Segment:
    """One top-level statement (with its decorators and the lines under it)."""

    start: int  # offset of the physical line it starts on
    end: int  # offset where the next segment starts (or the end of the code)
    head: str  # its first logical line after decorators

    def defined(self) -> str | None:
        match = DEFINITION.match(self.head)
        return (match.group(1) or match.group(2)) if match else None

    def is_definition(self) -> bool:
        return DEFINITION.match(self.head) is not None

    def is_import(self) -> bool:
        return _IMPORT.match(self.head) is not None

    def assigned(self) -> set[str]:
        match = _ASSIGNED.match(self.head)
        return set(re.findall(r"\w+", match.group(1))) if match else set()

    def imported(self) -> set[str] | None:
        """The names an import binds; None when unknown (``*``, or not parseable)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                statement = ast.parse(self.head).body[0]
        except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
            return None
        if not isinstance(statement, ast.Import | ast.ImportFrom):
            return None
        names = {alias.asname or alias.name.split(".")[0] for alias in statement.names}
        return None if "*" in names else names


def segments(code: str, scanned: Scan | None = None) -> list[Segment]:
    """The top-level statements of ``code``; decorators belong to what they decorate."""
    scanned = scanned or scan(code)
    result: list[Segment] = []
    start: int | None = None
    head: str | None = None
    for line in scanned.lines:
        if line.indent != 0:
            continue
        text = line.text(code)
        if start is None:
            start = line.line_start
        elif head is not None:
            result.append(Segment(start, line.line_start, head))
            start = line.line_start
        head = None if text.startswith("@") else text
    if start is not None:
        result.append(Segment(start, len(code), head or ""))
    return result


def find_def(code: str, name: str, scanned: Scan | None = None, *,
             max_indent: int | None = None) -> LogicalLine | None:
    """The first logical line of ``code`` that defines function ``name`` (at most
    ``max_indent`` columns deep, when given)."""
    pattern = re.compile(rf"(?:async\s+)?def\s+{re.escape(name)}\b")
    scanned = scanned or scan(code)
    return next((line for line in scanned.lines if pattern.match(code, line.start)
                 and (max_indent is None or line.indent <= max_indent)), None)


def block_end(code: str, scanned: Scan, header: LogicalLine) -> int:
    """Offset where the block opened by ``header`` ends (its last line's end)."""
    end = header.end
    for line in scanned.lines:
        if line.start <= header.start:
            continue
        if line.indent <= header.indent:
            break
        end = line.end
    return end


def target_function(task: Task) -> str | None:
    """The function the candidate must implement (see :func:`common.target_name`).

    A name that the prompt only defines nested inside another function (a helper
    the prompt gives, which no test can call) stands for that enclosing function.
    """
    return _enclosing_target(task.prompt, common.target_name(task))


@lru_cache(maxsize=1024)
def _enclosing_target(prompt: str, name: str | None) -> str | None:
    scanned = scan(prompt)
    found = find_def(prompt, name, scanned) if name else None
    if found is None or found.indent == 0:
        return name
    outer = [line for line in scanned.lines if line.indent == 0 and line.start < found.start]
    match = DEFINITION.match(outer[-1].text(prompt)) if outer else None
    return match.group(1) if match and match.group(1) else name


@cache
def _language() -> Language:
    return Language(tree_sitter_python.language())


@cache
def _identifier_query() -> Query:
    return Query(_language(), "(identifier) @name")


def parse(code: str) -> Tree:
    """``code``'s tree-sitter tree; a fresh parser per call (cheap) keeps this thread-safe,
    and lone surrogates pass, so hostile text never fails here."""
    return Parser(_language()).parse(code.encode("utf-8", "surrogatepass"))


def referenced_names(code: str) -> set[str]:
    """Every identifier tree-sitter finds in ``code`` (not in strings or comments)."""
    tree = parse(code)
    nodes = QueryCursor(_identifier_query()).captures(tree.root_node).get("name", [])
    return {node.text.decode("utf-8", "replace") for node in nodes if node.text}


def needed_names(code: str) -> set[str]:
    """The module-level names ``code`` (top-level statements) needs from around it.

    Names a function binds itself (parameters, locals) are not needed; from code
    that does not parse, every identifier counts (tree-sitter).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = symtable.symtable(code, "<segment>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return referenced_names(code)
    needed = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced()}
    pending = list(table.get_children())
    while pending:
        child = pending.pop()
        needed |= {symbol.get_name() for symbol in child.get_symbols() if symbol.is_global()}
        pending.extend(child.get_children())
    return needed


@lru_cache(maxsize=32)  # the same text is checked by several steps and the final check
def compile_error(code: str) -> Exception | None:
    """The error ``compile()`` raises for ``code``, or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return exc
    return None
