"""JLS 14.22 reachability for the common Java statements, over tree-sitter-java nodes.

The filter asks whether a method the model's output was cut off in can run off its end
(javac rejects a value-returning method that can): see ``java-complete-truncated``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from franc.java.syntax import COMMENT_TYPES, node_text, walk

_LOOPS = frozenset({"while_statement", "do_statement", "for_statement",
                    "enhanced_for_statement"})
_BREAK_SCOPES = _LOOPS | {"switch_expression"}
# Bodies a break or return inside cannot leave the statement being analysed through.
_OWN_SCOPES = frozenset({"lambda_expression", "class_body", "enum_body", "interface_body"})


def _is_constant_true(condition: Node | None) -> bool:
    """No condition (``for (;;)``) or a literal ``true``: JLS 14.22 treats the loop as endless."""
    if condition is None:
        return True
    while condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        condition = condition.named_children[0]
    return condition.type == "true"


def _label(node: Node) -> str | None:
    name = next((c for c in node.named_children if c.type == "identifier"), None)
    return node_text(name) if name is not None else None


def _breaks_out(statement: Node, label: str | None = None) -> bool:
    """A ``break`` inside ``statement`` leaves it (unlabelled: not caught by an inner loop
    or switch; labelled: names ``label``)."""
    stack = [(child, False) for child in statement.children]
    while stack:
        node, nested = stack.pop()
        if node.type in _OWN_SCOPES:
            continue
        if node.type == "break_statement":
            target = _label(node)
            if (target is None and not nested) or (target is not None and target == label):
                return True
        inner = nested or node.type in _BREAK_SCOPES
        stack.extend((child, inner) for child in node.children)
    return False


def _switch_completes(node: Node) -> bool:
    block = node.child_by_field_name("body")
    if block is None:
        return True
    groups = block.named_children
    has_default = any(c.type == "default" for g in groups for lbl in g.named_children
                      if lbl.type == "switch_label" for c in lbl.children)
    if not has_default or not groups or _breaks_out(node):
        return True
    if groups[-1].type == "switch_block_statement_group":  # old style: the last group falls out
        statements = [c for c in groups[-1].named_children if c.type != "switch_label"]
        return _sequence_completes(statements)
    return any(can_complete_normally(body) for rule in groups
               for body in rule.named_children[-1:] if body.type != "switch_label")


def _sequence_completes(statements: Sequence[Node]) -> bool:
    body = [s for s in statements if s.type not in COMMENT_TYPES]
    return not body or can_complete_normally(body[-1])


def can_complete_normally(statement: Node) -> bool:
    """JLS 14.22 for the common statements: can execution run past the end of ``statement``?

    Unknown statement kinds count as completing (the usual case).
    """
    kind = statement.type
    if kind in ("return_statement", "throw_statement", "break_statement",
                "continue_statement", "yield_statement"):
        return False
    if kind == "block":
        return _sequence_completes(statement.named_children)
    if kind == "if_statement":
        alternative = statement.child_by_field_name("alternative")
        consequence = statement.child_by_field_name("consequence")
        return alternative is None or consequence is None or \
            can_complete_normally(consequence) or can_complete_normally(alternative)
    if kind in ("while_statement", "for_statement"):
        return not _is_constant_true(statement.child_by_field_name("condition")) \
            or _breaks_out(statement)
    if kind == "do_statement":
        body = statement.child_by_field_name("body")
        endless = _is_constant_true(statement.child_by_field_name("condition"))
        return _breaks_out(statement) or (not endless and (
            body is None or can_complete_normally(body)
            or any(n.type == "continue_statement" for n in walk(body))))
    if kind == "labeled_statement":
        inner = statement.named_children[-1]
        return can_complete_normally(inner) or _breaks_out(inner, _label(statement))
    if kind in ("try_statement", "try_with_resources_statement"):
        finally_block = next((c.named_children[-1] for c in statement.named_children
                              if c.type == "finally_clause" and c.named_children), None)
        if finally_block is not None and not can_complete_normally(finally_block):
            return False
        blocks = [statement.child_by_field_name("body")] + [
            c.child_by_field_name("body") for c in statement.named_children
            if c.type == "catch_clause"]
        return any(can_complete_normally(b) for b in blocks if b is not None)
    if kind == "synchronized_statement":
        return can_complete_normally(statement.named_children[-1])
    if kind == "switch_expression":
        return _switch_completes(statement)
    return True
