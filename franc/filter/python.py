"""Python heuristics of the static filter, the prompt-kind check and the compile check.

The structure they read (logical lines, segments, the target, needed names) comes from
:mod:`franc.filter.python_structure`; the honesty rule is :mod:`franc.filter.python_honesty`.
"""

from __future__ import annotations

import ast
import keyword
import re
import symtable
import sys
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from franc.filter import common
from franc.filter.base import CompileResult, FilterContext, Heuristic, LanguageSupport, heuristic
from franc.filter.python_honesty import has_generated_body
from franc.filter.python_structure import (
    BUILTIN_NAMES,
    CLOSER,
    DEFINITION,
    LogicalLine,
    Segment,
    compile_error,
    find_def,
    needed_names,
    referenced_names,
    scan,
    segments,
    target_function,
)
from franc.models import Task, match_prompt

__all__ = ["HEURISTICS", "SUPPORT", "PythonCompiler", "compile_error", "has_generated_body",
           "prompt_is_code", "scan", "target_function"]

# ---------------------------------------------------------------------------------------------
# H4/H5: code after the target
# ---------------------------------------------------------------------------------------------

def _after_target_plan(code: str, task: Task) -> tuple[list[Segment], set[int]] | None:
    """Top-level segments and the indices of those after the target that are kept.

    Kept: imports, definitions and assignments the kept code refers to (helpers the
    model wrote after the target, constants and modules it uses). An import nothing
    uses is dropped: run, it can only fail (a module the model made up). A star
    import binds unknown names and is kept. A later definition named like a builtin
    (``len``, ``max``) is not what the target calls: the target was written first,
    against the builtin; the model then ran on with code of its own.
    """
    name = target_function(task)
    if not name:
        return None
    scanned = scan(code)
    target = find_def(code, name, scanned)
    if target is None:
        return None
    parts = segments(code, scanned)
    owner = next((i for i, s in enumerate(parts) if s.start <= target.start < s.end), None)
    if owner is None or owner == len(parts) - 1:
        return None
    kept = {i for i in range(owner + 1, len(parts))
            if parts[i].is_import() and parts[i].imported() is None}
    # A later definition of the target's own name would shadow the answer: never wanted.
    unwanted = {name, *BUILTIN_NAMES}
    wanted = needed_names(code[parts[owner].start:parts[owner].end]) - unwanted
    changed = True
    while changed:
        changed = False
        for i in range(owner + 1, len(parts)):
            part = parts[i]
            provides: set[str]
            if part.is_definition():
                provides = {part.defined() or ""}
            else:
                provides = (part.imported() or set()) if part.is_import() else part.assigned()
            if i not in kept and provides & wanted:
                kept.add(i)
                wanted |= needed_names(code[part.start:part.end]) - unwanted
                changed = True
    return parts[owner + 1:], {i - owner - 1 for i in kept}


def _drop_after_target(code: str, task: Task, *, definitions: bool) -> str:
    plan = _after_target_plan(code, task)
    if plan is None:
        return code
    after, kept = plan
    drop = [s for i, s in enumerate(after)
            if i not in kept and s.is_definition() == definitions]
    for part in reversed(drop):
        code = code[:part.start] + code[part.end:]
    return code.rstrip() + "\n" if drop else code


@heuristic("remove-extra-functions",
           "H4: drop functions/classes after the target that the target does not use")
def remove_extra_functions(code: str, context: FilterContext) -> str:
    return _drop_after_target(code, context.task, definitions=True)


@heuristic("remove-trailing-code",
           "H5: drop top-level code after the target (__main__ blocks, prints, tests, asserts)")
def remove_trailing_code(code: str, context: FilterContext) -> str:
    return _drop_after_target(code, context.task, definitions=False)


# ---------------------------------------------------------------------------------------------
# Prose around code (chat models without fences)
# ---------------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"^[A-Za-z]\S*(?:[ \t]+\S+){3,}$")
_STATEMENT_START = re.compile(
    r"(?:def|class|import|from|return|if|elif|else|for|while|with|try|except|finally|raise"
    r"|assert|async|await|print|lambda|yield|del|global|nonlocal|pass|break|continue)\b")


def is_prose(line: str) -> bool:
    """A sentence of at least four words that is not a Python statement."""
    text = line.strip()
    return (bool(_SENTENCE.match(text)) and not _STATEMENT_START.match(text)
            and compile_error(text) is not None)


@heuristic("strip-prose", "drop the sentences a chat model wrote before its code")
def strip_prose(code: str, context: FilterContext) -> str:
    lines = code.splitlines(keepends=True)
    first_code = next((i for i, line in enumerate(lines)
                       if line.strip() and not is_prose(line)), None)
    if not first_code or compile_error(code) is None:
        return code
    leading = [line for line in lines[:first_code] if line.strip()]
    if not leading or not all(is_prose(line) for line in leading):
        return code
    return "".join(lines[first_code:])


# ---------------------------------------------------------------------------------------------
# H2: prompt addition
# ---------------------------------------------------------------------------------------------

_DEFAULT_TAB_WIDTHS = (4, 8)


@dataclass(frozen=True)
class PromptShape:
    """What H2 needs to know about a prompt (computed once per prompt)."""

    head_units: tuple[str, ...]  # top-level statements before the target
    decorators: tuple[str, ...]  # the target's decorator lines
    body_indent: str  # the target body's indentation, in the prompt's own characters
    target: str | None
    target_indent: int = 0  # the column of the target's ``def``
    body_unit: str = "    "  # one block level: the body's indentation right of the ``def``


@lru_cache(maxsize=1024)  # once per prompt, not once per candidate
def prompt_shape(prompt: str, name: str | None) -> PromptShape:
    scanned = scan(prompt)
    target = find_def(prompt, name, scanned) if name else None
    if target is None:
        return PromptShape((), (), "    ", name)
    parts = segments(prompt, scanned)
    units = tuple(prompt[s.start:s.end] for s in parts if s.end <= target.line_start)
    owner = next((s for s in parts if s.start <= target.start < s.end), None)
    decorators: tuple[str, ...] = ()
    if owner is not None and target.indent == 0:
        decorators = tuple(line.strip() for line in prompt[owner.start:target.line_start]
                           .splitlines() if line.strip().startswith("@"))
    inner = next((line for line in scanned.lines if line.start > target.start), None)
    outer = prompt[target.line_start:target.start]
    indent = outer + "    "
    if inner is not None and inner.indent > target.indent:
        indent = prompt[inner.line_start:inner.start]
    unit = indent.removeprefix(outer) if indent.startswith(outer) else "    "
    return PromptShape(units, decorators, indent, name, target.indent, unit or "    ")


def _place_declaration(shape: PromptShape, code: str, missing: list[str]) -> str:
    if shape.decorators and shape.target:
        target = find_def(code, shape.target)
        if target is not None:
            above = code[:target.line_start].rstrip().splitlines()
            if not above or not above[-1].strip().startswith("@"):
                pad = " " * target.indent
                added = "".join(f"{pad}{d}\n" for d in shape.decorators)
                code = code[:target.line_start] + added + code[target.line_start:]
    head = "".join(unit if unit.endswith("\n") else unit + "\n" for unit in missing).rstrip()
    return head + "\n\n\n" + code.lstrip("\n") if head else code


def _syntax_reach(code: str) -> int:
    """How far ``code`` compiles: a large number when it compiles, else the error's line."""
    error = compile_error(code)
    if error is None:
        return 1 << 30
    return (error.lineno or 0) if isinstance(error, SyntaxError) else 0


# --- Body placement: which generated lines are the target's body, and where they go ----------

_ENDS_FLOW = re.compile(r"(?:return|raise)\b")
_MAIN_GUARD = re.compile(r"if\s+__name__\s*==")


def _physical_lines(code: str) -> list[str]:
    """The lines of ``code`` with their ends, numbered as the scanner numbers them (only
    ``\n`` ends a line; ``str.splitlines`` also splits at form feeds and the like)."""
    return re.split(r"(?<=\n)", code)


def _width(whitespace: str, tab_width: int) -> int:
    return len(whitespace.expandtabs(tab_width))


def _levels(widths: Sequence[int]) -> list[int]:
    """The block level of each line at ``widths``, read as Python's tokenizer does: deeper
    opens a level, shallower closes levels; the first line is level 0, and a line between
    two open levels joins the inner one (the tokenizer would reject it)."""
    stack = [widths[0]] if widths else []
    levels = []
    for width in widths:
        if width > stack[-1]:
            stack.append(width)
        while len(stack) > 1 and width <= stack[-2]:
            stack.pop()
        stack[-1] = min(stack[-1], width)
        levels.append(len(stack) - 1)
    return levels


def _defines_name_used_above(code: str, heads: Sequence[LogicalLine], i: int) -> bool:
    """True when head ``i`` (or the definition it decorates) defines a name the heads
    before it use: that is top-level code the body calls, not a nested definition."""
    following = (h.text(code) for h in heads[i:])
    defined = next((d for text in following if not text.startswith("@")
                    for d in [DEFINITION.match(text)]), None)
    if defined is None:
        return False
    name = defined.group(1) or defined.group(2)
    return name in referenced_names(code[heads[0].start:heads[i].line_start])


def _dedented_body_end(code: str, heads: Sequence[LogicalLine], widths: Sequence[int]) -> int:
    """Where a body generated at its function's column ends: at the first statement at
    that column after a ``return``/``raise`` at it (unreachable in the body, so the
    model's top-level code), at a ``__main__`` guard, or at a definition of a name the
    body above uses (a helper the model put after the function)."""
    ended = False
    for i, head in enumerate(heads):
        if widths[i] > widths[0]:
            continue
        text = head.text(code)
        if i and (ended or _MAIN_GUARD.match(text) or _defines_name_used_above(code, heads, i)):
            return i
        ended = ended or bool(_ENDS_FLOW.match(text))
    return len(heads)


def _body_readings(code: str, target_indent: int,
                   tab_width: int) -> list[tuple[Sequence[LogicalLine], list[int]]]:
    """Ways to read the start of generated ``code`` as the target's body: its statements
    (logical lines) and their block levels, most plausible first.

    - indented right of the ``def``: the lines up to the first one left of the first;
    - first line at or left of the ``def``'s column, the next ones right of it (an output
      whose first line lost its indentation): the first line joins the level of the next
      ones, up to the first line back at its column;
    - the first line's column as the body's (a dedented body): the lines up to where the
      body ends (:func:`_dedented_body_end`), else all of them.
    """
    heads = scan(code).lines
    if not heads:
        return []
    widths = [_width(code[h.line_start:h.start], tab_width) for h in heads]
    if widths[0] > target_indent:
        left = next((i for i in range(1, len(heads)) if widths[i] < widths[0]), len(heads))
        return [(heads[:left], _levels(widths[:left]))]
    outside = next((i for i in range(1, len(heads)) if widths[i] <= widths[0]), len(heads))
    readings: list[tuple[Sequence[LogicalLine], list[int]]] = []
    if outside > 1:
        rest = widths[1:outside]
        readings.append((heads[:outside], _levels([min(rest), *rest])))
    end = _dedented_body_end(code, heads, widths)
    readings.append((heads[:end], _levels(widths[:end])))
    if end < len(heads):
        readings.append((heads, _levels(widths)))
    return readings


def _reindented(code: str, heads: Sequence[LogicalLine], levels: Sequence[int],
                shape: PromptShape, tab_width: int) -> str:
    """``code`` with each statement of ``heads`` indented to the prompt's body
    indentation plus its level. Continuation lines and comments move with the statement
    above them (a comment left of the body stays); lines inside strings never move."""
    new_indent = {head.lineno: shape.body_indent + shape.body_unit * level
                  for head, level in zip(heads, levels, strict=True)}
    string_lines = scan(code).string_lines
    first_width = _width(code[heads[0].line_start:heads[0].start], tab_width)
    lines = _physical_lines(code)
    shift = 0
    for number in range(heads[0].lineno, min(heads[-1].last_lineno, len(lines)) + 1):
        line = lines[number - 1]
        text = line.lstrip(" \t")
        if number in string_lines or not text.strip():
            continue
        width = _width(line[:len(line) - len(text)], tab_width)
        if number in new_indent:
            shift = _width(new_indent[number], tab_width) - width
            lines[number - 1] = new_indent[number] + text
        elif not (text.startswith("#") and width < first_width):
            lines[number - 1] = " " * max(0, width + shift) + text
    return "".join(lines)


def _continue_body(head: str, code: str, shape: PromptShape,
                   tab_widths: Sequence[int] = _DEFAULT_TAB_WIDTHS) -> str:
    """``head`` (ending inside the target function) continued by generated ``code``.

    The plain concatenation is what a human-eval-style harness runs: when the generated
    code starts inside the function, it is kept when it compiles, and on ties. Otherwise
    the generated lines that are the body (only those: top-level code after it stays at
    top level) are re-indented under the prompt, read with each tab width, and the
    reading that compiles farthest wins. Generated code that starts at or left of the
    ``def`` leaves the function without a statement of the model's as concatenated (a
    body that lost its indentation): there a reading wins ties.
    """
    code = code.replace("\r\n", "\n")
    joined = common.join_prompt(head, code)
    heads = scan(code).lines
    inside = bool(heads) and _width(code[heads[0].line_start:heads[0].start],
                                    8) > shape.target_indent
    if inside and compile_error(joined) is None:
        return joined
    readings = [common.join_prompt(head, _reindented(code, statements, levels, shape, width))
                for width in tab_widths
                for statements, levels in _body_readings(code, shape.target_indent, width)]
    variants = [joined, *readings] if inside else [*readings, joined]
    return max(variants, key=_syntax_reach)  # the first best wins on ties


def _place_body(prompt: str, shape: PromptShape, code: str,
                tab_widths: Sequence[int]) -> str:
    if shape.target is None:  # a script prompt: the code continues it at top level
        return common.join_prompt(prompt, textwrap.dedent(code.strip("\n")) + "\n")
    return _continue_body(prompt, code, shape, tab_widths)


@heuristic("add-prompt", "H2: merge the prompt in front of a body, function or fragment")
def add_prompt(code: str, context: FilterContext) -> str:
    prompt = context.task.prompt
    shape = prompt_shape(prompt, target_function(context.task))
    name = shape.target
    tab_widths = context.params.get("tab_widths", _DEFAULT_TAB_WIDTHS)

    def declares_target(text: str) -> bool:
        # Deeper than the prompt's ``def``, a def of that name is something else's (a
        # helper class's method of the same name).
        return name is not None and find_def(text, name, max_indent=shape.target_indent) is not None

    return common.merge_prompt(
        prompt, code, declares_target=declares_target, head_units=shape.head_units,
        place_declaration=lambda text, missing: _place_declaration(shape, text, missing),
        place_body=lambda text: _place_body(prompt, shape, text, tab_widths))


# ---------------------------------------------------------------------------------------------
# Indentation, closing and truncation
# ---------------------------------------------------------------------------------------------

_LEADING = re.compile(r"^[ \t]+", re.M)


def _expand_leading_tabs(line: str, tab_width: int) -> str:
    text = line.lstrip(" \t")
    return line[:len(line) - len(text)].expandtabs(tab_width) + text


@heuristic("fix-indentation", "replace tab indentation by spaces when tabs and spaces are mixed")
def fix_indentation(code: str, context: FilterContext) -> str:
    leading = _LEADING.findall(code)
    if not any("\t" in lead for lead in leading) or all("\t" in lead for lead in leading):
        return code
    # A tab may stand for 4 columns or (Python's own rule, old code) up to the next
    # multiple of 8: keep the width under which the code, body aligned, compiles farthest.
    widths = context.params.get("tab_widths", [context.params.get("tab_width", 4)])
    string_lines = scan(code).string_lines
    lines = _physical_lines(code)
    variants = ["".join(line if number in string_lines else _expand_leading_tabs(line, int(width))
                        for number, line in enumerate(lines, start=1))
                for width in widths]
    return max(variants,  # first best wins on ties
               key=lambda variant: _syntax_reach(_aligned_body(variant, context.task) or variant))


def _aligned_body(code: str, task: Task,
                  tab_widths: Sequence[int] = _DEFAULT_TAB_WIDTHS) -> str | None:
    """``code``, which repeats the prompt, with the generated body placed under the prompt's
    target (see :func:`_continue_body`); None when the code does not continue the prompt's
    target on a new line."""
    shape = prompt_shape(task.prompt, target_function(task))
    if shape.target is None:
        return None
    floor = match_prompt(task.prompt, code).end
    if not floor or not code.startswith("\n", floor):
        return None
    return _continue_body(code[:floor + 1], code[floor + 1:], shape, tab_widths)


@heuristic("align-body",
           "move a body generated deeper or shallower than the prompt's docstring under it")
def align_body(code: str, context: FilterContext) -> str:
    aligned = _aligned_body(code, context.task,
                            context.params.get("tab_widths", _DEFAULT_TAB_WIDTHS))
    return aligned if aligned is not None and _syntax_reach(aligned) > _syntax_reach(code) else code


_LONE_QUOTE = re.compile(r"^[ \t]*(?:\"\"\"|''')[ \t]*$", re.M)


@heuristic("drop-stray-quote",
           "drop a lone triple quote the model wrote after the prompt and never closed")
def drop_stray_quote(code: str, context: FilterContext) -> str:
    """A model that 'reopens' the docstring after the prompt's closed one turns all the
    code it writes next into one unterminated string. Drop that quote line when it
    stands alone after the prompt, opens no docstring (is not right under a
    ``def``/``class`` header), is followed by a line of code (not prose), and its
    removal lets more of the code compile."""
    quote = scan(code).open_string
    if quote not in ('"""', "'''"):
        return code
    floor = match_prompt(context.task.prompt, code).end
    opener = next((match for match in _LONE_QUOTE.finditer(code, floor)
                   if match.group().strip() == quote and quote not in code[match.end():]), None)
    if opener is None or scan(code[:opener.start()]).open_string is not None:
        return code  # the open string starts elsewhere
    below = next((line.strip() for line in code[opener.end():].splitlines()
                  if line.strip() and not line.strip().startswith("#")), "")
    if code[:opener.start()].rstrip().endswith(":") or not _reads_as_code(below):
        return code
    dropped = code[:opener.start()] + code[opener.end() + 1:]
    return dropped if _syntax_reach(dropped) > _syntax_reach(code) else code


def _reads_as_code(line: str) -> bool:
    """True when ``line`` compiles as a statement (a block header given a body)."""
    return bool(line) and (compile_error(line) is None
                           or compile_error(line + "\n    pass") is None)


def _closers(code: str, brackets: str) -> str:
    closing = "".join(CLOSER[b] for b in reversed(brackets))
    # After a comment the closers go on a new line (legal inside brackets).
    return "\n" + closing if "#" in code[code.rfind("\n") + 1:] else closing


@heuristic("close-unterminated",
           "close a string, docstring or brackets left open by a cut-off generation")
def close_unterminated(code: str, context: FilterContext) -> str:
    scanned = scan(code)
    if not (scanned.open_string or scanned.open_brackets) or compile_error(code) is None:
        return code
    variants = []
    if scanned.open_string:
        closed = code.rstrip("\n").removesuffix("\\") + scanned.open_string
        variants.append(closed + _closers(closed, scan(closed).open_brackets))
    else:
        trimmed = code.rstrip()
        variants.append(trimmed + _closers(trimmed, scanned.open_brackets))
        if scanned.last_element_end is not None:
            offset, brackets = scanned.last_element_end
            trimmed = code[:offset].rstrip()
            variants.append(trimmed + _closers(trimmed, brackets))
    for closed in variants:
        if compile_error(closed + "\n") is None:
            return closed + "\n"
    return code


@heuristic("truncate-incomplete",
           "cut a generation that does not compile back to its last complete statement")
def truncate_incomplete(code: str, context: FilterContext) -> str:
    error = compile_error(code)
    if error is None or not isinstance(error, SyntaxError):
        return code
    scanned = scan(code)
    floor = match_prompt(context.task.prompt, code).end
    lines = [line for line in scanned.lines if line.start >= floor]
    limit = int(context.params.get("max_attempts", 64))
    for _ in range(limit):
        if not lines:
            return code
        lineno = error.lineno if isinstance(error, SyntaxError) and error.lineno else 1 << 30
        # Cut at the logical line holding the error (or the last one, for errors at the end).
        keep = [line for line in lines if line.last_lineno < lineno]
        if len(keep) == len(lines):
            keep = lines[:-1]
        lines = keep
        cut = lines[-1].end if lines else floor
        candidate = code[:cut].rstrip() + "\n"
        error = compile_error(candidate)
        if error is None:
            return candidate
    return code


# ---------------------------------------------------------------------------------------------
# Missing standard-library imports
# ---------------------------------------------------------------------------------------------

_STDLIB = frozenset(name for name in sys.stdlib_module_names if not name.startswith("_"))


def _parsed(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


_COMPREHENSIONS = frozenset({"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"})


def _unbound_globals(code: str) -> tuple[set[str], set[str]] | None:
    """Names some scope of ``code`` reads as globals that nothing in ``code`` binds, and
    those of them read while the module loads (not only inside a function body)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            top = symtable.symtable(code, "<candidate>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    bound = {s.get_name() for s in top.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_namespace()}
    read = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    at_load = set(read)
    pending = [(child, False) for child in top.get_children()]
    while pending:
        table, deferred = pending.pop()
        # A function body runs when called; a class body or comprehension runs in place.
        deferred = deferred or (table.get_type() == "function"
                                and table.get_name() not in _COMPREHENSIONS)
        for symbol in table.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                read.add(symbol.get_name())
                if not deferred:
                    at_load.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                bound.add(symbol.get_name())
        pending.extend((child, deferred) for child in table.get_children())
    unbound = read - bound - BUILTIN_NAMES
    return unbound, unbound & at_load


@heuristic("add-missing-imports",
           "import the standard-library modules the code uses (``re.sub``) but never imports")
def add_missing_imports(code: str, context: FilterContext) -> str:
    """The imports go at the end when only function bodies read the names (the code above,
    the user's prompt first, keeps its lines), else on top. Also, from the policy:
    ``aliases`` (``np = "numpy"``: ``np.`` read, never bound -> ``import numpy as np``)
    and ``names`` (``reduce = "functools"``: ``reduce`` read, never bound ->
    ``from functools import reduce``)."""
    # The symbol table first: most code reads no unbound name, and then needs no walk of
    # its syntax tree (two walks were a third of the filter's time).
    unbound, at_load = _unbound_globals(code) or (set(), set())
    tree = _parsed(code) if unbound else None
    if tree is None:
        return code
    nodes = list(ast.walk(tree))
    if any(isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
           for node in nodes):
        return code  # a star import may bind anything
    used_as_module = {node.value.id for node in nodes
                      if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    exclude = set(context.params.get("exclude", ()))
    aliases: dict[str, str] = dict(context.params.get("aliases", {}))
    names: dict[str, str] = dict(context.params.get("names", {}))
    modules = unbound & used_as_module
    imports = [(name, f"import {name}\n") for name in sorted((modules & _STDLIB) - exclude)]
    imports += [(name, f"import {aliases[name]} as {name}\n") for name in sorted(modules - _STDLIB)
                if name in aliases and aliases[name] not in exclude]
    imports += [(name, f"from {names[name]} import {name}\n") for name in sorted(unbound - modules)
                if name in names and names[name] not in exclude]
    if not imports:
        return code
    if not at_load & {name for name, _ in imports}:
        # Only function bodies read them: import at the end, which leaves the lines above
        # (the user's prompt first) where they were.
        return code.rstrip("\n") + "\n\n\n" + "".join(line for _, line in imports)
    # Below a module docstring and ``from __future__`` imports, which must come first.
    first = next((node for i, node in enumerate(tree.body)
                  if not (i == 0 and isinstance(node, ast.Expr)
                          and isinstance(node.value, ast.Constant)
                          and isinstance(node.value.value, str))
                  and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")),
                 None)
    lines = code.splitlines(keepends=True)
    at = len(lines) if first is None else first.lineno - 1
    return "".join(lines[:at]) + "".join(line for _, line in imports) + "".join(lines[at:])


_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"print"}


def _is_sentence(line: str) -> bool:
    return (common.reads_as_sentence(line, _KEYWORDS) and not line.startswith(("'", '"'))
            and not _reads_as_code(line))


@lru_cache(maxsize=1024)  # once per prompt
def prompt_is_code(prompt: str) -> bool:
    """False for a prompt in natural language: it does not compile, and at least half of
    its logical lines (their first lines; strings and comments are not lines) are
    sentences."""
    if compile_error(prompt) is None:
        return True
    lines = [line.text(prompt).split("\n", 1)[0] for line in scan(prompt).lines]
    return not common.mostly_sentences(lines, _is_sentence)


class PythonCompiler:
    """The real check: the interpreter's ``compile()`` (the code is never run)."""

    def check(self, units: Sequence[str]) -> list[CompileResult]:
        return [self._check(unit) for unit in units]

    @staticmethod
    def _check(unit: str) -> CompileResult:
        error = compile_error(unit)
        if error is None:
            return CompileResult(ok=True)
        if isinstance(error, SyntaxError):
            return CompileResult(ok=False, errors=[f"line {error.lineno}: {error.msg}"])
        return CompileResult(ok=False, errors=[f"{type(error).__name__}: {error}"])

    def close(self) -> None:
        """Nothing to release: ``compile()`` runs in-process."""

    def __enter__(self) -> PythonCompiler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


HEURISTICS: tuple[Heuristic, ...] = (
    strip_prose, add_prompt, fix_indentation, align_body, drop_stray_quote,
    remove_extra_functions, remove_trailing_code, close_unterminated, truncate_incomplete,
    add_missing_imports,
)

SUPPORT = LanguageSupport(language="python", heuristics=HEURISTICS,
                          make_compiler=PythonCompiler, has_generated_body=has_generated_body,
                          prompt_is_code=prompt_is_code)
