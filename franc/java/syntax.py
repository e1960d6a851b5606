"""Java structure through tree-sitter-java: parse, syntax errors, the public class's name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache

import tree_sitter_java
from tree_sitter import Language, Node, Parser, Tree

TYPE_DECLARATIONS = frozenset({
    "class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
    "annotation_type_declaration",
})
COMMENT_TYPES = frozenset({"line_comment", "block_comment"})
MAX_REPORTED_SYNTAX_ERRORS = 5


@cache
def _language() -> Language:
    return Language(tree_sitter_java.language())


def encode(code: str) -> bytes:
    """The bytes tree-sitter parses; lone surrogates pass, so hostile text never fails here."""
    return code.encode("utf-8", "surrogatepass")


def parse(code: str | bytes) -> Tree:
    """Parse ``code``. The filter's heuristics, the compiler's checks and the Java rules
    parse the same text again and again (3 of 4 parses of a /v1/rank request repeat a
    recent one), so the last trees are kept by text; no caller edits a tree."""
    return _parse_bytes(code if isinstance(code, bytes) else encode(code))


@lru_cache(maxsize=64)
def _parse_bytes(data: bytes) -> Tree:
    # A fresh parser per parse (cheap) keeps this thread-safe.
    return Parser(_language()).parse(data)


def _error_nodes(node: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes, outermost first, without descending into them."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            yield current
        elif current.has_error:
            stack.extend(reversed(current.children))


def syntax_errors(code: str, file_name: str = "Unit.java") -> list[str]:
    """javac-style messages (``File.java:LINE: error: ...``) for the parse errors of ``code``."""
    messages = []
    for node in _error_nodes(parse(code).root_node):
        line = node.start_point.row + 1
        if node.is_missing:
            messages.append(f"{file_name}:{line}: error: syntax error: missing '{node.type}'")
        else:
            text = node.text.decode("utf-8", "replace") if node.text else ""
            first = text.strip().splitlines()[0][:40] if text.strip() else "end of input"
            messages.append(f"{file_name}:{line}: error: syntax error near '{first}'")
        if len(messages) == MAX_REPORTED_SYNTAX_ERRORS:
            break
    return messages


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it (depth first, last child first)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def has_syntax_error(code: str) -> bool:
    return parse(code).root_node.has_error


def top_level_types(root: Node) -> list[Node]:
    return [child for child in root.children if child.type in TYPE_DECLARATIONS]


def node_text(node: Node | None) -> str:
    """The source text of ``node`` ("" for none)."""
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def declaration_name(node: Node) -> str | None:
    return node_text(node.child_by_field_name("name")) or None


def is_public(node: Node) -> bool:
    modifiers = next((c for c in node.children if c.type == "modifiers"), None)
    return modifiers is not None and any(c.type == "public" for c in modifiers.children)


def java_class_name(code: str) -> str | None:
    """The public top-level type's name (javac wants it as file name), else the first one's."""
    types = top_level_types(parse(code).root_node)
    public = [t for t in types if is_public(t)]
    for node in public or types:
        name = declaration_name(node)
        if name:
            return name
    return None
