"""Values for the type hints the plain generator does not know (``dict[str, int]``,
``tuple[int, int]``, ``list[list[int]]``, ``Optional[str]``...), drawn with hypothesis.

The annotation is read from its syntax, never evaluated (it is the user's prompt), and
turned into a hypothesis strategy with small sizes and small numbers: the candidates run
on every value, so a million-element list or a 10**30 loop bound only costs time.
Drawing is deterministic (``derandomize``), so a ranking repeats. hypothesis is imported
only when such a hint occurs (its import takes about a second).
"""

from __future__ import annotations

import ast
from typing import Any

#: Sizes and bounds of the drawn values.
MAX_SIZE = 5
SMALL_INT = 20
_SCALARS = frozenset({"int", "float", "str", "bool", "None"})
#: Element types that admit any value (``List[Any]``): mixed small values of every kind,
#: the inputs that tell a filter by type from a pass-through. Alone (``x: Any``) they say
#: nothing the examples or the parameter's name would not say better.
_ANY = frozenset({"Any", "object"})
_ONE = {"list": "list", "List": "list", "Sequence": "list", "Iterable": "list",
        "set": "set", "Set": "set", "frozenset": "set", "FrozenSet": "set",
        "Optional": "optional"}
_TWO = {"dict": "dict", "Dict": "dict", "Mapping": "dict"}
_MANY = {"tuple": "tuple", "Tuple": "tuple", "Union": "union"}


def _base(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == "typing":
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def supported(annotation: str) -> bool:
    """Whether values can be drawn for ``annotation`` (without importing hypothesis)."""
    try:
        node = ast.parse(annotation, mode="eval").body
        return _base(node) not in _ANY and _check(node)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _check(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _check(node.left) and _check(node.right)
    if not isinstance(node, ast.Subscript):
        return _base(node) in _SCALARS | _ANY
    base = _base(node.value)
    inner = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if base in _ONE:
        return len(inner) == 1 and _check(inner[0])
    if base in _TWO:
        return len(inner) == 2 and all(map(_check, inner))
    if base in _MANY:
        inner = [e for e in inner if not (isinstance(e, ast.Constant) and e.value is ...)]
        return bool(inner) and all(map(_check, inner))
    return False


def _strategy(node: ast.expr) -> Any:
    import hypothesis.strategies as st  # lazy: about a second to import

    if isinstance(node, ast.Constant):
        return st.none()
    if isinstance(node, ast.BinOp):
        return st.one_of(_strategy(node.left), _strategy(node.right))
    if not isinstance(node, ast.Subscript):
        scalars = {"int": st.integers(-SMALL_INT, SMALL_INT),
                   "float": st.floats(-SMALL_INT, SMALL_INT, allow_nan=False).map(
                       lambda x: round(x, 2)),
                   "str": st.text("abcAB 01", max_size=MAX_SIZE + 3),
                   "bool": st.booleans(), "None": st.none()}
        if _base(node) in _ANY:
            return st.one_of(*scalars.values(), st.lists(scalars["int"], max_size=3),
                             st.dictionaries(scalars["str"], scalars["int"], max_size=2))
        return scalars[_base(node)]
    base = _base(node.value)
    ellipsis = isinstance(node.slice, ast.Tuple) and any(
        isinstance(e, ast.Constant) and e.value is ... for e in node.slice.elts)
    inner = [_strategy(e) for e in (node.slice.elts if isinstance(node.slice, ast.Tuple)
                                    else [node.slice])
             if not (isinstance(e, ast.Constant) and e.value is ...)]
    kind = _ONE.get(base) or _TWO.get(base) or _MANY[base]
    if kind == "list" or (kind == "tuple" and ellipsis):
        return st.lists(inner[0], max_size=MAX_SIZE)
    if kind == "set":
        return st.sets(inner[0], max_size=MAX_SIZE)
    if kind == "optional":
        return st.one_of(st.none(), inner[0])
    if kind == "dict":
        return st.dictionaries(inner[0], inner[1], max_size=MAX_SIZE)
    if kind == "union":
        return st.one_of(*inner)
    return st.tuples(*inner)


def drawn_values(annotation: str, count: int) -> list[Any]:
    """``count`` values of ``annotation`` (at most; simplest first), the same every time;
    [] when it is not :func:`supported`."""
    if not supported(annotation):
        return []
    from hypothesis import HealthCheck, Phase, given, settings

    strategy = _strategy(ast.parse(annotation, mode="eval").body)
    values: list[Any] = []

    @settings(database=None, derandomize=True, max_examples=count, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    collect()
    return values[:count]
