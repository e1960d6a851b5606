"""Syntax-tree views of a candidate that the static features read: the normalised tree of
its target function, which candidates that differ only in names, layout and comments share.

Everything is parsed with tree-sitter (Python and Java alike), never run. Parsing is
error tolerant, so a candidate that does not compile still gives a (partial) tree.
"""

from __future__ import annotations

import builtins
import keyword

from tree_sitter import Node

from franc.filter import python_structure
from franc.java import syntax as java_syntax
from franc.models import Language

_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
#: Python names a program uses without defining them: they keep their spelling.
_PY_KNOWN = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
_FUNCTIONS = {"python": "function_definition", "java": "method_declaration"}


def parse(code: str, language: Language) -> Node:
    """The root of ``code``'s tree-sitter tree."""
    if language == "java":
        return java_syntax.parse(code).root_node
    return python_structure.parse(code).root_node


def _text(node: Node | None) -> str:
    return java_syntax.node_text(node)


def _is_docstring(node: Node) -> bool:
    """A Python statement that is a string alone: a docstring, never logic."""
    return (node.type == "expression_statement" and node.named_child_count == 1
            and node.named_children[0].type in ("string", "concatenated_string"))


def _is_member_name(node: Node) -> bool:
    """An attribute or method name after ``.``: it belongs to an API, not to the program."""
    parent = node.parent
    if parent is None:
        return False
    for field in ("attribute", "field"):  # Python's x.attr, Java's x.field
        if parent.child_by_field_name(field) == node:
            return True
    return (parent.type == "method_invocation" and parent.child_by_field_name("object")
            is not None and parent.child_by_field_name("name") == node)


def normalised_tree(code: str | Node, language: Language) -> tuple[str, ...]:
    """The leaves of ``code``'s syntax tree (or of one node of it) without comments,
    docstrings or formatting, with user identifiers renamed by first occurrence (``v0``,
    ``v1``...): two programs that differ only in names, layout or comments give the same
    tuple."""
    names: dict[str, str] = {}
    leaves: list[str] = []
    stack = [parse(code, language) if isinstance(code, str) else code]
    while stack:
        node = stack.pop()
        if node.type in _COMMENTS or (language == "python" and _is_docstring(node)):
            continue
        if node.child_count:
            stack.extend(reversed(node.children))
            continue
        text = _text(node)
        if node.type == "identifier" and not _is_member_name(node) and not (
                language == "python" and text in _PY_KNOWN):
            text = names.setdefault(text, f"v{len(names)}")
        elif not node.is_named:
            text = node.type
        leaves.append(text)
    return tuple(leaves)


def target_tree(code: str, entry_point: str | None, language: Language) -> tuple[str, ...]:
    """:func:`normalised_tree` of the target function, or of the whole code when it defines
    no ``entry_point``: what a candidate's logic is, without the code around it (test
    calls, a ``main``) that differs from one candidate to the next."""
    root = parse(code, language)
    function = target_function(root, entry_point, language) if entry_point else None
    return normalised_tree(function if function is not None else root, language)


def target_function(root: Node, entry_point: str, language: Language) -> Node | None:
    """The definition of ``entry_point`` (Python: the last one, the one a caller gets;
    Java: the first method of that name)."""
    found = sorted((node for node in java_syntax.walk(root)
                    if node.type == _FUNCTIONS[language]
                    and _text(node.child_by_field_name("name")) == entry_point),
                   key=lambda node: node.start_byte)
    if not found:
        return None
    return found[-1] if language == "python" else found[0]
