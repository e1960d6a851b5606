"""Whether a candidate's target function can return nothing, read from its syntax tree.

Static and cheap: Python through :mod:`ast` (parsed, never run), Java through
tree-sitter. A function the model left unfinished (cut at its token limit, or
written without its final ``return``) falls off its end and returns None; a
prompt that never mentions None (or null) does not ask for that.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tree_sitter import Node

from franc.java import syntax
from franc.models import Language, Task

#: A prompt mentioning one of these may ask for no value back.
_NOTHING = {"python": re.compile(r"\bNone\b|\bOptional\b"),
            "java": re.compile(r"\bnull\b|\bvoid\b|\bOptional\b")}


def returns_none(code: str, task: Task | None, language: Language) -> bool:
    """True when ``task``'s target function in ``code`` can return None (Python: a bare
    ``return``, ``return None``, or control reaching the end of its body; Java: ``return;``
    or ``return null;``) although the prompt never mentions None (null, void, Optional).
    False when the task names no target, the prompt allows nothing back, or the code
    does not parse or does not define the target."""
    if task is None or not task.entry_point or _NOTHING[language].search(task.prompt):
        return False
    if language == "python":
        return _python_returns_none(code, task.entry_point)
    return _java_returns_none(code, task.entry_point)


def _python_returns_none(code: str, entry_point: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    targets = [node for node in tree.body if isinstance(node, (ast.FunctionDef,
                                                               ast.AsyncFunctionDef))
               and node.name == entry_point]
    if not targets:
        return False
    function = targets[-1]  # the last definition is the one a caller gets
    if any(isinstance(node, ast.Return) and (node.value is None or (
            isinstance(node.value, ast.Constant) and node.value.value is None))
           for node in _own_nodes(function)):
        return True
    return _python_completes(function.body)


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """The nodes of ``function``'s body, not those of nested functions or classes (their
    returns are not the target's)."""
    nodes, stack = [], list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        nodes.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return nodes


def _python_completes(body: list[ast.stmt]) -> bool:
    """True when control can reach the end of ``body`` (conservatively: a loop other than
    ``while True`` without ``break`` may always complete)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return _python_completes(last.body) or _python_completes(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _python_completes(last.body)
    if isinstance(last, ast.While):
        endless = isinstance(last.test, ast.Constant) and bool(last.test.value)
        return not endless or any(isinstance(node, ast.Break) for node in ast.walk(last))
    if isinstance(last, ast.Try):
        if last.finalbody and not _python_completes(last.finalbody):
            return False
        return (_python_completes(last.orelse or last.body)
                or any(_python_completes(handler.body) for handler in last.handlers))
    return True


def _java_returns_none(code: str, entry_point: str) -> bool:
    method = None
    for node in syntax.walk(syntax.parse(code).root_node):
        if node.type == "method_declaration" and \
                syntax.node_text(node.child_by_field_name("name")) == entry_point:
            method = node  # walk visits the last child first: keep the first in the text
    body = method.child_by_field_name("body") if method is not None else None
    if body is None:
        return False
    # javac rejects a value-returning method that can run off its end: only explicit
    # returns of nothing count (lambdas' and local classes' returns are theirs).
    own = [node for node in syntax.walk(body) if node.type == "return_statement"
           and not any(a.type in ("lambda_expression", "class_body")
                       for a in _ancestors(node, body))]
    return any(not node.named_children or node.named_children[0].type == "null_literal"
               for node in own)


def _ancestors(node: Node, stop: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None and parent != stop:
        yield parent
        parent = parent.parent
