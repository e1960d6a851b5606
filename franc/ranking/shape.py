"""Static shape of a candidate: data flow and what it returns (text only, nothing runs).

The ``learned`` ranker compares these between the candidates of one task: a
candidate that reads the parameters the others read, loops and recurses as they
do and returns the same kind of value is more likely the common, right answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from franc.models import Language, Task

_RETURN = {"python": re.compile(r"^\s*return\b(?P<expr>[^\n#]*)", re.MULTILINE),
           "java": re.compile(r"\breturn\b(?P<expr>[^;]*);")}
_LOOP = {"python": re.compile(r"^\s*(for|while)\b|\bfor\b.+\bin\b", re.MULTILINE),
         "java": re.compile(r"\b(for|while)\s*\(|\.stream\(\)|\.forEach\(")}
_BOOL = re.compile(r"^(True|False|true|false|not\b|!)|==|!=|<=|>=|(?<![<-])[<>](?!>)|\band\b"
                   r"|\bor\b|&&|\|\||\bin\b|\.(?:equals|contains|isEmpty|startswith|endswith)\(")
_NUMBER = re.compile(r"^-?\d[\d_]*(\.\d*)?[LlFfDd]?$")
#: The kind a return annotation or Java return type asks for.
_ANNOTATED = {"bool": "bool", "boolean": "bool", "Boolean": "bool", "str": "str",
              "String": "str", "int": "number", "float": "number", "Integer": "number",
              "Double": "number", "Long": "number", "long": "number", "double": "number",
              "List": "list", "list": "list", "Tuple": "list", "tuple": "list"}


@dataclass(frozen=True)
class Shape:
    """What a candidate's generated code reads, how it computes and what it returns."""

    params_used: tuple[bool, ...]
    loops: bool
    recursive: bool
    returns: int
    #: Kinds of the values returned (bool, str, number, list, none, value).
    return_kinds: frozenset[str]

    @property
    def flow(self) -> tuple[object, ...]:
        """The data-flow signature two candidates share when they compute alike."""
        return (self.params_used, self.loops, self.recursive, min(self.returns, 3))


def return_kind(expr: str) -> str:
    expr = expr.strip().rstrip(";").strip()
    if not expr or expr in ("None", "null"):
        return "none"
    if expr[0] in "\"'" or expr.startswith(("f\"", "f'", "String.valueOf", "str(")) \
            or expr.endswith(".toString()"):
        return "str"
    if _NUMBER.match(expr) or expr.startswith(("len(", "sum(", "int(", "float(", "abs(")):
        return "number"
    if (expr[0] in "[(" and expr[-1] in "])" and (expr[0] == "[" or "," in expr)) \
            or expr.startswith(("list(", "sorted(", "new ArrayList", "Arrays.asList",
                                "List.of")):
        return "list"
    if _BOOL.search(expr):
        return "bool"
    return "value"


def parameters(task: Task | None) -> tuple[str, ...]:
    """The entry point's parameter names, from the prompt's declaration."""
    if task is None or not task.entry_point:
        return ()
    entry = re.escape(task.entry_point)
    match = re.search(rf"\b{entry}\s*\((?P<params>[^)]*)\)\s*(?:->[^:]*)?[:{{]", task.prompt)
    if not match:
        return ()
    names = []
    depth, current = 0, ""
    for char in match["params"] + ",":
        depth += char in "<[("
        depth -= char in ">])"
        if char == "," and depth == 0:
            part = current.split("=")[0].split(":")[0].strip().lstrip("*")
            if part:
                names.append(part.split()[-1])
            current = ""
        else:
            current += char
    return tuple(n for n in names if n not in ("self", "cls"))


def declared_return(task: Task | None) -> str | None:
    """The kind the prompt's return annotation (Python) or return type (Java) names."""
    if task is None or not task.entry_point:
        return None
    entry = re.escape(task.entry_point)
    found = re.search(rf"\b{entry}\s*\([^)]*\)\s*->\s*(?P<py>[\w.]+)", task.prompt) \
        or re.search(rf"(?P<java>[\w]+)(?:<[^>]*>)?(?:\[\])?\s+{entry}\s*\(", task.prompt)
    if not found:
        return None
    name = (found["py"] if found.groupdict().get("py") else found["java"]).split(".")[-1]
    return _ANNOTATED.get(name)


def shape(generated: str, tokens: Sequence[str], language: Language,
          params: Sequence[str], entry: str | None) -> Shape:
    names = set(tokens)
    returns = [return_kind(m["expr"]) for m in _RETURN[language].finditer(generated)]
    return Shape(params_used=tuple(p in names for p in params),
                 loops=bool(_LOOP[language].search(generated)),
                 recursive=bool(entry) and tokens.count(entry or "") > 0,
                 returns=len(returns), return_kinds=frozenset(returns))


def consistent_return(kinds: frozenset[str], declared: str | None) -> float:
    """1 when every literal kind returned fits the declared one (or nothing is declared)."""
    if declared is None:
        return 1.0
    literal = kinds - {"value"}
    if declared == "number":
        literal -= {"bool"}  # True/False are numbers to Python; Java would not compile
    return float(not literal or literal <= {declared})


def vote_shares(keys: Sequence[object | None]) -> list[float]:
    """Per candidate, the share of the other voting candidates with the same key
    (``None``: the candidate does not vote and gets 0)."""
    voters = [k for k in keys if k is not None]
    counts = Counter(voters)
    others = len(voters) - 1
    return [0.0 if k is None or others <= 0 else (counts[k] - 1) / others for k in keys]
