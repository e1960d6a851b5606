"""The honesty rule for Python: a target function must keep a statement the model wrote."""

from __future__ import annotations

import ast
import textwrap
import warnings
from functools import lru_cache

from franc.filter import common
from franc.filter.python_structure import block_end, find_def, scan, target_function
from franc.models import Task


def _is_stub(statement: ast.stmt) -> bool:
    """``pass`` or a constant on its own (a docstring, ``...``, ``None``, ``0``): does nothing."""
    if isinstance(statement, ast.Pass):
        return True
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def has_generated_body(code: str, task: Task) -> bool:
    """True when the target function keeps at least one statement the model wrote."""
    name = target_function(task)
    prompt_target = find_def(task.prompt, name) if name else None
    if name is None or prompt_target is None:
        # A copy of a prompt line, wherever it stands, is no statement the model wrote (the
        # question _is_copied answers below), not where the prompt ends (match_prompt).
        prompt_lines = set(common.significant_lines(task.prompt))
        return any(line not in prompt_lines and not line.startswith("#")
                   for line in common.significant_lines(code))
    scanned = scan(code)
    target = find_def(code, name, scanned)
    if target is None:
        return False
    source = textwrap.dedent(code[target.line_start:block_end(code, scanned, target)])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in the model's strings
            function = ast.parse(source).body[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
        return True  # the compile check reports it
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return True
    copied = _prompt_statements(task.prompt, name)
    encoded = source.encode("utf-8", "surrogatepass")
    offsets = [0]
    for line in encoded.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    for statement in function.body:
        if _is_stub(statement) or statement.end_lineno is None or statement.end_col_offset is None:
            continue
        segment = encoded[offsets[statement.lineno - 1] + statement.col_offset:
                          offsets[statement.end_lineno - 1] + statement.end_col_offset]
        text = common.normalize_ws(segment.decode("utf-8", "replace"))
        if text and not _is_copied(text, copied):
            return True
    return False


@lru_cache(maxsize=1024)
def _prompt_statements(prompt: str, name: str) -> tuple[str, ...]:
    """The logical lines of the prompt's target body (normalized), e.g. a nested helper."""
    scanned = scan(prompt)
    target = find_def(prompt, name, scanned)
    if target is None:
        return ()
    return tuple(common.normalize_ws(line.text(prompt)) for line in scanned.lines
                 if line.start > target.start and line.indent > target.indent)


def _is_copied(text: str, copied: tuple[str, ...]) -> bool:
    """True when ``text`` is a run of consecutive logical lines of the prompt's body."""
    for i in range(len(copied)):
        joined = ""
        for line in copied[i:]:
            joined += line
            if joined == text:
                return True
            if not text.startswith(joined):
                break
    return False
