"""Parameter types read from how the candidates use their parameters (Python).

When the prompt gives neither type hints nor examples, the candidates' code still says
what they expect: ``s.split()`` takes a string, ``range(n)`` an integer, ``sum(xs)`` a
list of numbers, ``for g in grades: if g >= 3.7`` a list of floats. Each candidate votes
once per parameter for each kind of use it makes (so one verbose candidate does not
outvote the others); the kind most candidates agree on wins. Nothing is executed: the
code is only parsed.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Sequence

#: Methods only one kind of value has (``count``, ``index``: both str and list).
STR_METHODS = frozenset({
    "lower", "upper", "split", "strip", "lstrip", "rstrip", "isdigit", "isalpha", "isalnum",
    "isupper", "islower", "isspace", "isnumeric", "isdecimal", "replace", "startswith",
    "endswith", "find", "rfind", "swapcase", "capitalize", "title", "encode", "zfill",
    "splitlines", "partition", "casefold", "center", "ljust", "rjust", "format"})
LIST_METHODS = frozenset({"append", "sort", "pop", "extend", "remove", "insert", "copy",
                          "reverse", "clear"})
DICT_METHODS = frozenset({"keys", "values", "items", "get", "setdefault", "update"})
#: Built-ins whose argument is of one kind.
INT_FUNCTIONS = frozenset({"range", "bin", "hex", "oct", "chr"})
STR_FUNCTIONS = frozenset({"ord"})
NUMBERS_FUNCTIONS = frozenset({"sum"})
SEQUENCE_FUNCTIONS = frozenset({"sorted", "reversed", "set", "enumerate", "zip", "list",
                                "max", "min", "len", "any", "all", "tuple"})
#: A parameter only measured, indexed, sliced or iterated: inputs of both kinds.
EITHER_SEQUENCE = "str|list[int]"
_ARITHMETIC = (ast.Add, ast.Mult, ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _constant_kind(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
        if isinstance(node.value, str):
            return "str"
        if isinstance(node.value, int):
            return "int"
        if isinstance(node.value, float):
            return "float"
    return None


def uses(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, set[str]]:
    """Per name used in ``function``, the kinds of use: ``str``, ``int``, ``float``,
    ``list``, ``dict``, ``sequence`` and ``element:<kind>`` (what its elements were used
    as, from ``for x in name`` loops and comprehensions)."""
    found: dict[str, set[str]] = {}
    loops: list[tuple[str, str]] = []  # (loop variable, the name it iterates)

    def mark(node: ast.AST, kind: str) -> None:
        name = _name(node)
        if name is not None:
            found.setdefault(name, set()).add(kind)

    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            callee = node.func
            if isinstance(callee, ast.Attribute):
                method = callee.attr
                kind = ("str" if method in STR_METHODS else "list" if method in LIST_METHODS
                        else "dict" if method in DICT_METHODS else None)
                if kind:
                    mark(callee.value, kind)
            elif isinstance(callee, ast.Name) and node.args:
                for kinds, kind in ((INT_FUNCTIONS, "int"), (STR_FUNCTIONS, "str"),
                                    (NUMBERS_FUNCTIONS, "numbers"),
                                    (SEQUENCE_FUNCTIONS, "sequence")):
                    if callee.id in kinds:
                        for argument in node.args:
                            mark(argument, kind)
        elif isinstance(node, ast.BinOp):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                kind = _constant_kind(other)
                if kind == "str" and isinstance(node.op, ast.Add | ast.Mod) and side is node.left:
                    mark(side, "str")
                elif kind in ("int", "float") and isinstance(node.op, _ARITHMETIC):
                    mark(side, kind)
                elif isinstance(node.op, ast.Div | ast.FloorDiv | ast.Sub):
                    mark(side, "number")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            ordering = all(isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE | ast.Eq
                                      | ast.NotEq) for op in node.ops)
            constants = {k for k in map(_constant_kind, sides) if k}
            if ordering and len(constants) == 1:
                for side in sides:
                    mark(side, next(iter(constants)))
        elif isinstance(node, ast.Subscript):
            mark(node.value, "sequence")
        elif isinstance(node, ast.For | ast.comprehension):
            mark(node.iter, "sequence")
            target, source = _name(node.target), _name(node.iter)
            if target and source:
                loops.append((target, source))
    for target, source in loops:
        for kind in found.get(target, set()) & {"str", "int", "float", "numbers", "list"}:
            found.setdefault(source, set()).add(f"element:{kind}")
    return found


def _entry(code: str, entry: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return next((node for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                 and node.name == entry), None)


def decide(votes: Counter[str]) -> str:
    """One of the generator's type names from a parameter's votes; ``?``: no clear kind."""
    scalar = {k: votes[k] for k in ("str", "int", "float", "number")}
    collection = {k: votes[k] for k in ("list", "numbers", "dict")}
    if votes["dict"] and votes["dict"] >= max(scalar.values()) and \
            votes["dict"] >= votes["list"] + votes["numbers"]:
        return "?"  # mappings are not generated
    if votes["str"] and votes["str"] >= max(v for k, v in scalar.items() if k != "str") and \
            votes["str"] >= max(collection.values()):
        return "str"
    sequence = votes["list"] + votes["numbers"] + votes["sequence"]
    number = votes["int"] + votes["float"] + votes["number"]
    if sequence and (votes["list"] + votes["numbers"] or sequence > number):
        element = {k: votes[f"element:{k}"] for k in ("str", "int", "float")}
        element["int"] += votes["numbers"]
        if not votes["list"] and not any(element.values()):
            return EITHER_SEQUENCE  # only measured, indexed or sliced: a string or a list
        best = max(element, key=lambda k: (element[k], k == "int"))
        return f"list[{best}]"
    if number:
        return "float" if votes["float"] > votes["int"] else "int"
    return "?"


def infer_types(codes: Iterable[str], entry: str, params: Sequence[str]) -> tuple[str, ...]:
    """Each parameter's type as the candidates use it (``?`` where they do not say)."""
    votes: list[Counter[str]] = [Counter() for _ in params]
    for code in codes:
        function = _entry(code, entry)
        if function is None:
            continue
        own = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
        if len(own) != len(params):
            continue
        found = uses(function)
        for k, name in enumerate(own):
            votes[k].update(found.get(name, set()))
    return tuple(decide(v) for v in votes)
