"""Java heuristics of the static filter, the honesty check and the warm javac compiler.

H2 ``java-merge-prompt`` puts the prompt (imports, class header, signature) around what a
chat model returned (a bare body, a bare method, a whole class); H6
``java-drop-extra-classes`` keeps the target class and the helper types it uses; H7
``java-complete-truncated`` cuts trailing incomplete lines and closes open braces until the
unit parses; beyond FRANC: ``java-add-imports`` (JDK types from a table in
``filters/java.toml``) and ``java-single-public-class`` (a unit compiles in a file named
after its one public class). Structure comes from tree-sitter-java; a few line patterns find
declarations in text that does not parse yet (a bare body, a truncated class).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from tree_sitter import Node

from franc.filter.base import FilterContext, Heuristic, LanguageSupport, heuristic
from franc.filter.common import (
    join_prompt,
    merge_prompt,
    mostly_sentences,
    normalize_ws,
    reads_as_sentence,
    target_name,
)
from franc.java import JavaCompiler, java_class_name
from franc.java.flow import can_complete_normally
from franc.java.syntax import (
    COMMENT_TYPES,
    TYPE_DECLARATIONS,
    declaration_name,
    is_public,
    node_text,
    parse,
    top_level_types,
    walk,
)
from franc.models import Task, match_prompt

__all__ = ["HEURISTICS", "SUPPORT", "JavaCompiler", "has_generated_body", "java_class_name"]

_TYPE_HEADER = re.compile(
    r"^[ \t]*(?:(?:public|protected|private|abstract|final|static|sealed|strictfp)\s+)*"
    r"(?:class|interface|enum|record)\s+(\w+)[^\n]*$", re.M)
_NOT_A_TYPE = frozenset({"return", "new", "throw", "else", "case", "yield", "assert"})
_IMPORT_LINE = re.compile(r"^[ \t]*import\s+[\w.*\s]+;[ \t]*$", re.M)


def _method_declaration(code: str, name: str) -> re.Match[str] | None:
    """The first line declaring method ``name`` (a return type before the name, not a call)."""
    pattern = re.compile(rf"^[ \t]*(?:[@\w<>\[\],.?]+[ \t]+)+{re.escape(name)}[ \t]*\(", re.M)
    return next((m for m in pattern.finditer(code) if m.group(0).split()[0] not in _NOT_A_TYPE),
                None)


def _declares_method(code: str, name: str) -> bool:
    return _method_declaration(code, name) is not None


def _prompt_class_name(prompt: str) -> str | None:
    names = _TYPE_HEADER.findall(prompt)
    return names[-1] if names else None


def _class_header(prompt: str) -> str:
    """The prompt up to and including its last type declaration's opening line."""
    headers = list(_TYPE_HEADER.finditer(prompt))
    return prompt[:headers[-1].end()] + "\n" if headers else ""


# --- H2 ------------------------------------------------------------------------------------

def _rename_target_class(code: str, class_name: str | None, method: str | None) -> str:
    """Give the top-level class that declares the target method the prompt's class name.

    Tests call ``PromptClass.method(...)``; a chat model often names its class ``Solution``.
    """
    if not class_name or not method:
        return code
    types = top_level_types(parse(code).root_node)
    if any(declaration_name(t) == class_name for t in types):
        return code
    for node in types:
        if _declares_method(node_text(node), method):
            name = node.child_by_field_name("name")
            if name is None:
                return code
            data = code.encode("utf-8", "surrogatepass")
            renamed = data[:name.start_byte] + class_name.encode() + data[name.end_byte:]
            return renamed.decode("utf-8", "surrogatepass")
    return code


def _member_column(prompt: str, method: str | None) -> int | None:
    """The column of the prompt class's members: the target's declaration, else one unit in
    from the class header (None: the prompt declares no class)."""
    declared = _method_declaration(prompt, method) if method else None
    if declared is not None:
        return _width(declared.group())
    headers = list(_TYPE_HEADER.finditer(prompt))
    return _width(headers[-1].group()) + len(_INDENT_UNIT) if headers else None


def _is_bare_member(code: str, method: str) -> bool:
    """``code`` declares the target method with nothing but comments and annotations before
    it (no imports, no class around it)."""
    declared = _method_declaration(code, method)
    return declared is not None and all(
        not text or text.startswith(("//", "/*", "*")) or _ANNOTATION_LINE.match(text)
        for text in (line.strip() for line in code[:declared.start()].splitlines()))


@heuristic("java-merge-prompt",
           "H2: merge the prompt's imports, class header and signature with what the model wrote")
def merge_java_prompt(code: str, context: FilterContext) -> str:
    prompt = context.task.prompt
    method = target_name(context.task)
    class_name = _prompt_class_name(prompt)
    imports = _IMPORT_LINE.findall(prompt)

    def method_at(text: str) -> int | None:
        found = _method_declaration(text, method) if method else None
        return found.start() if found else None

    def declares_target(text: str) -> bool:
        return method_at(text) is not None or any(
            m.group(1) == class_name for m in _TYPE_HEADER.finditer(text))

    def place_declaration(text: str, missing_imports: list[str]) -> str:
        method_start = method_at(text)
        in_class = any(m.group(1) == class_name if method_start is None
                       else m.start() < method_start for m in _TYPE_HEADER.finditer(text))
        if in_class:  # a whole class or file: add only the missing imports
            head = "".join(line.strip() + "\n" for line in missing_imports)
            return head + _rename_target_class(text, class_name, method)
        # A bare method: wrap it in the prompt's class header (which carries the imports).
        return _class_header(prompt) + text.rstrip() + "\n}\n"

    column = _member_column(prompt, method)
    if column is not None and method and _is_bare_member(code, method):
        code = indent_members(code, column)
    return merge_prompt(prompt, code, declares_target=declares_target, head_units=imports,
                        place_declaration=place_declaration,
                        place_body=lambda text: join_prompt(prompt, indent_body(prompt, text)))


# Braces outside strings, char literals and comments; text blocks and block comments match as
# a whole (a line that starts inside one is part of its value or text).
_BRACE_TOKEN = re.compile(r'"""(?:[^\\]|\\.)*?"""|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                          r"|//[^\n]*|/\*.*?\*/|[{}]", re.S)
_INDENT_UNIT = "    "
_ANNOTATION_LINE = re.compile(r"@[\w.]+(?:\s*\(.*\))?\s*$")


def _layout(text: str) -> tuple[list[str], list[int], dict[int, int], set[int]]:
    """``text``'s lines, the brace depth at each line's start, the lines that start inside a
    block comment (-> the line the comment opens on) and those inside a text block."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    depths, depth, comments, text_blocks = [], 0, {}, set()
    tokens = iter(_BRACE_TOKEN.finditer(text))
    token = next(tokens, None)
    for i, start in enumerate(starts[:-1]):
        while token is not None and token.end() <= start:
            depth += {"{": 1, "}": -1}.get(token.group(), 0)
            token = next(tokens, None)
        depths.append(depth)
        if token is not None and token.start() < start:  # a multi-line token spans this start
            opening = next(j for j in range(i, -1, -1) if starts[j] <= token.start())
            if token.group().startswith('"""'):
                text_blocks.add(i)
            else:
                comments[i] = opening
    return lines, depths, comments, text_blocks


def _width(line: str) -> int:
    return len(line[:len(line) - len(line.lstrip(" \t"))].expandtabs(4))


def _moved(line: str, column: int) -> str:
    return " " * max(0, column) + line.lstrip(" \t")


def indent_body(prompt: str, body: str) -> str:
    """``body`` (a bare method body) re-indented under the prompt's last line.

    Java ignores indentation, so this changes how the answer reads, not what it does: the
    lines inside the body move by the same amount (their relative indentation is the
    model's), the braces that close the method and its class go to their columns; a line
    that starts inside a text block or block comment is never re-indented.
    """
    last = next((line for line in reversed(prompt.splitlines()) if line.strip()), "")
    indent = _width(last) + (len(_INDENT_UNIT) if last.rstrip().endswith("{") else 0)
    first = next((line for line in body.splitlines() if line.strip()), None)
    if first is None or _width(first) == indent:
        return body
    shift = indent - _width(first)
    lines, depths, comments, text_blocks = _layout(body)
    for i, line in enumerate(lines):
        text = line.lstrip(" \t")
        if i in comments or i in text_blocks or not text.strip():
            continue
        level = depths[i] - 1 if text.startswith("}") else depths[i]
        lines[i] = _moved(line, _width(line) + shift if level >= 0
                          else indent + level * len(_INDENT_UNIT))
    return "".join(lines)


def indent_members(code: str, column: int) -> str:
    """``code`` (bare class members: a method with its Javadoc and annotations, its helpers)
    with each member's first line at ``column``, the class's member indentation.

    Only whitespace between tokens moves: a member's comment and annotation lines and its
    declaration go to ``column``; the lines inside it move by as much as its declaration
    (their relative indentation is the model's); a block comment's lines move with its
    first line; a text block's lines never move (their indentation is part of the string);
    a brace that closes the class goes to the class's column.
    """
    lines, depths, comments, text_blocks = _layout(code)
    moves: dict[int, int] = {}
    shift, continued = 0, False  # continued: a declaration at depth 0 runs on to this line
    for i, line in enumerate(lines):
        text = line.strip()
        if i in text_blocks or not text:
            continue
        level = depths[i] - 1 if text.startswith("}") else depths[i]
        header = text.startswith(("//", "/*")) or bool(_ANNOTATION_LINE.match(text))
        if i in comments:
            moves[i] = moves.get(comments[i], shift)
        elif level < 0:
            moves[i] = column + level * len(_INDENT_UNIT) - _width(line)
        elif depths[i] > 0 or continued:
            moves[i] = shift
        else:  # a member starts here: its comments, annotations or declaration
            moves[i] = column - _width(line)
            shift = shift if header else moves[i]
        if depths[i] == 0 and level == 0 and i not in comments and not header:
            continued = not text.endswith((";", "{", "}"))
        lines[i] = _moved(line, _width(line) + moves[i])
    return "".join(lines)


# --- H6 ------------------------------------------------------------------------------------

def _target_type(types: Sequence[Node], class_name: str | None, method: str | None) -> Node | None:
    """The top-level type the task is about: the prompt's class, else the one with the method."""
    for node in types:
        if class_name and declaration_name(node) == class_name:
            return node
    for node in types:
        if method and _declares_method(node_text(node), method):
            return node
    return types[0] if len(types) == 1 and not class_name else None


def _names_used(node: Node) -> set[str]:
    return {node_text(n) for n in walk(node) if n.type in ("identifier", "type_identifier")}


_HEADER_NODES = ("package_declaration", "import_declaration")


@heuristic("java-drop-extra-classes",
           "H6: drop top-level classes other than the target class and the helper types it uses")
def drop_extra_classes(code: str, context: FilterContext) -> str:
    root = parse(code).root_node
    types = top_level_types(root)
    target = _target_type(types, _prompt_class_name(context.task.prompt),
                          target_name(context.task))
    if target is None or target.has_error:
        return code
    used = _names_used(target)
    # Package and imports count only before the target: after it they start another file.
    kept = [child for child in root.children
            if (child.type in _HEADER_NODES and child.start_byte < target.start_byte)
            or child == target
            or (child in types and not child.has_error and declaration_name(child) in used)]
    if len(kept) == len([c for c in root.children if c.type not in COMMENT_TYPES]):
        return code  # nothing but comments to drop
    # Keep the lines around each kept node as written (indentation, Javadoc of the target).
    data = code.encode("utf-8", "surrogatepass")
    pieces = []
    for node in kept:
        start = node.start_byte
        if node == target and node.prev_sibling is not None and \
                node.prev_sibling.type == "block_comment":
            start = node.prev_sibling.start_byte
        line_start = data.rfind(b"\n", 0, start) + 1
        pieces.append(data[line_start:node.end_byte].decode("utf-8", "surrogatepass"))
    out = pieces[0]
    for node, piece in zip(kept[1:], pieces[1:], strict=True):
        out += ("\n" if node.type in _HEADER_NODES else "\n\n") + piece
    return out + "\n"


def _signature(method: Node) -> tuple[str, tuple[str, ...]] | None:
    """Name and parameter types: javac allows one method per signature in a class."""
    parameters = method.child_by_field_name("parameters")
    if parameters is None:
        return None
    types = tuple(normalize_ws(node_text(p.child_by_field_name("type") or p.named_children[0]))
                  for p in parameters.named_children
                  if p.type in ("formal_parameter", "spread_parameter") and p.named_children)
    return declaration_name(method) or "", types


def _whole_lines(data: bytes, start: int, end: int) -> tuple[int, int]:
    """``start``-``end`` widened to whole lines where only blanks share them."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", end)
    line_end = len(data) if line_end == -1 else line_end + 1
    return (line_start if not data[line_start:start].strip() else start,
            line_end if not data[end:line_end].strip() else end)


@heuristic("java-drop-repeated-methods",
           "drop a method that repeats an earlier method's signature in the same class")
def drop_repeated_methods(code: str, context: FilterContext) -> str:
    root = parse(code).root_node
    if root.has_error:
        return code
    data = code.encode("utf-8", "surrogatepass")
    drop: list[tuple[int, int]] = []
    for body in (n for n in walk(root) if n.type == "class_body"):
        seen = set()
        for member in body.named_children:
            key = _signature(member) if member.type == "method_declaration" else None
            if key is None:
                continue
            if key in seen:  # a model that repeats itself: keep the first, javac rejects the rest
                drop.append(_whole_lines(data, member.start_byte, member.end_byte))
            seen.add(key)
    for start, end in sorted(drop, reverse=True):
        data = data[:start] + data[end:]
    return data.decode("utf-8", "surrogatepass")


# --- H7 ------------------------------------------------------------------------------------

_CLOSER = {"}": "{", ")": "(", "]": "["}


def _scan_brackets(code: str) -> tuple[list[str] | None, list[int]]:
    """Brackets still open at the end of ``code`` (outermost first) and member ends.

    Member ends are the offsets just after a ``}`` that leaves at most one brace open:
    the end of a top-level type or of a member of one. The stack is None when the end
    lies inside a string, char literal or block comment, or a closer has no opener: no
    closing can make such a prefix parse.
    """
    stack: list[str] = []
    ends: list[int] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == "/" and code.startswith("//", i):
            end = code.find("\n", i)
            i = n if end == -1 else end
        elif ch == "/" and code.startswith("/*", i):
            end = code.find("*/", i + 2)
            if end == -1:
                return None, ends
            i = end + 2
        elif code.startswith('"""', i):
            end = code.find('"""', i + 3)
            if end == -1:
                return None, ends
            i = end + 3
        elif ch in "\"'":
            j = i + 1
            while j < n and code[j] != ch and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            if j >= n or code[j] != ch:
                return None, ends
            i = j + 1
        else:
            if ch in "{([":
                stack.append(ch)
            elif ch in _CLOSER:
                if not stack or stack[-1] != _CLOSER[ch]:
                    return None, ends
                stack.pop()
                if ch == "}" and len(stack) <= 1:
                    ends.append(i + 1)
            i += 1
    return stack, ends


def open_brackets(code: str) -> list[str] | None:
    """The brackets still open at the end of ``code``, outermost first (None: unclosable)."""
    return _scan_brackets(code)[0]


def _closed(head: str) -> str | None:
    """``head`` with its open braces closed, if that parses; None otherwise."""
    opened = open_brackets(head)
    if opened is None or any(bracket != "{" for bracket in opened):
        return None
    closing = "".join("\n" + "    " * depth + "}" for depth in reversed(range(len(opened))))
    fixed = head + closing + "\n"
    return None if parse(fixed).root_node.has_error else fixed


def _cut_after_complete_target(code: str, method: str | None) -> str | None:
    """Drop the incomplete members after a target method the model finished.

    A closed-off half method (a truncated ``main`` or helper) rarely compiles; the
    members before it, the target among them, are complete as written.
    """
    if not method:
        return None
    declared = _method_declaration(code, method)
    if declared is None:
        return None
    _, ends = _scan_brackets(code)
    for end in reversed([e for e in ends if e > declared.end()]):
        fixed = _closed(code[:end])
        if fixed is not None:
            return fixed
    return None


# What H7 writes at the end of a value-returning method the model's output cut off: falling
# off its end is what Python does (it returns None); Java needs an explicit statement. It
# throws, so it can never make a candidate pass a test: only the model's own returns can.
TRUNCATION_NOTE = "// java-complete-truncated: the model's output was cut off in this method"
TRUNCATION_THROW = 'throw new IllegalStateException("truncated by the model");'

def _end_truncated_methods(fixed: str, cut: int, task: Task) -> str:
    """Mark the methods whose body H7 closed (it ends after ``cut``) and that keep a statement
    the model wrote; a value-returning one whose statements can run off the end (javac's
    "missing return statement") also gets :data:`TRUNCATION_THROW`."""
    data = fixed.encode("utf-8", "surrogatepass")
    cut_byte = len(fixed[:cut].encode("utf-8", "surrogatepass"))
    inserts = []
    for node in walk(parse(fixed).root_node):
        body = node.child_by_field_name("body")
        if node.type != "method_declaration" or body is None or body.end_byte - 1 < cut_byte:
            continue
        if not _keeps_generated_statement(body, _prompt_body(task)):
            continue  # nothing the model wrote to keep: the honesty rule reports it
        returns = node.child_by_field_name("type")
        needs_value = returns is not None and returns.type != "void_type" and \
            can_complete_normally(body)
        closing = data.rfind(b"\n", 0, body.end_byte - 1) + 1
        inner = data[closing:body.end_byte - 1].decode("utf-8", "surrogatepass") + "    "
        ending = f"{inner}{TRUNCATION_NOTE}\n" + (f"{inner}{TRUNCATION_THROW}\n" if needs_value
                                                 else "")
        inserts.append((closing, ending))
    for offset, text in sorted(inserts, reverse=True):
        data = data[:offset] + text.encode("utf-8") + data[offset:]
    ended = data.decode("utf-8", "surrogatepass")
    return fixed if parse(ended).root_node.has_error else ended


def _prompt_floor(code: str, prompt: str) -> int:
    """How many leading lines of ``code`` are never cut: through the line where the repeated
    prompt ends (:attr:`PromptMatch.end`, its last line may run on); at least one."""
    return code.count("\n", 0, match_prompt(prompt, code).end) + 1


def _close_cut(lines: Sequence[str], floor: int, context: FilterContext) -> str | None:
    """The longest prefix of ``lines`` (at least ``floor`` of them) that parses once its open
    braces are closed, its cut-off methods marked (``throw_at_truncated_end``)."""
    max_cut = int(context.params.get("max_cut_lines", 200))
    for keep in range(len(lines), max(floor, len(lines) - max_cut) - 1, -1):
        head = "\n".join(lines[:keep]).rstrip()
        fixed = _closed(head)
        if fixed is not None:
            if context.params.get("throw_at_truncated_end", False):
                fixed = _end_truncated_methods(fixed, len(head), context.task)
            return fixed
    return None


@heuristic("java-complete-truncated",
           "H7: drop incomplete trailing members or lines, close braces until it parses")
def complete_truncated(code: str, context: FilterContext) -> str:
    if not parse(code).root_node.has_error:
        return code
    if context.params.get("drop_incomplete_members", True):
        fixed = _cut_after_complete_target(code, target_name(context.task))
        if fixed is not None:
            return fixed
    fixed = _close_cut(code.split("\n"), _prompt_floor(code, context.task.prompt), context)
    return code if fixed is None else fixed


_ERROR_LINE = re.compile(r"\.java:(\d+): error: ")


def _cut_off_methods(code: str) -> list[tuple[int, int]]:
    """(first, last) rows of the methods H7 marked as cut off by the model's output's end."""
    spans = []
    for node in walk(parse(code).root_node):
        body = node.child_by_field_name("body")
        if node.type == "method_declaration" and body is not None and any(
                c.type == "line_comment" and node_text(c) == TRUNCATION_NOTE
                for c in body.children):
            spans.append((node.start_point.row, node.end_point.row))
    return spans


@heuristic("java-cut-at-compile-error",
           "after javac: cut a method the model's output was cut off in before the first line "
           "javac rejects, and close it again", after_compile=True)
def cut_at_compile_error(code: str, context: FilterContext) -> str:
    rows = {int(m.group(1)) - 1 for m in map(_ERROR_LINE.search, context.errors) if m}
    floor = _prompt_floor(code, context.task.prompt)
    spans = _cut_off_methods(code) if rows else []
    # Every error must lie in the model's part of a method its output was cut off in (where
    # it degenerated); an error elsewhere is no truncation damage, and cutting cannot fix it.
    if not spans or any(row < floor or not any(first < row <= last for first, last in spans)
                        for row in rows):
        return code
    row = min(rows)
    lines = code.split("\n")
    if TRUNCATION_THROW in lines[row]:  # javac found the throw unreachable: drop it
        return "\n".join(lines[:row] + lines[row + 1:])
    fixed = _close_cut(lines[:row], floor, context)
    return code if fixed is None else fixed


# --- beyond FRANC: imports and file naming --------------------------------------------------

def _imports(root: Node) -> tuple[set[str], set[str]]:
    """(simple names imported one by one, packages imported on demand)."""
    single, star = set(), set()
    for node in root.children:
        if node.type != "import_declaration" or any(c.type == "static" for c in node.children):
            continue
        name = next((c for c in node.children if c.type in ("scoped_identifier", "identifier")),
                    None)
        if name is None:
            continue
        if any(c.type == "asterisk" for c in node.children):
            star.add(node_text(name))
        else:
            single.add(node_text(name).rsplit(".", 1)[-1])
    return single, star


def _types_table(params: Mapping[str, object]) -> dict[str, str]:
    """``{"java.util": ["List", ...]}`` from the policy as simple name -> package."""
    table: dict[str, str] = {}
    packages = params.get("packages", {})
    if isinstance(packages, Mapping):
        for package, names in packages.items():
            for name in names if isinstance(names, list) else []:
                table.setdefault(str(name), str(package))
    return table


@heuristic("java-add-imports", "import JDK types the code uses but does not import (policy table)")
def add_imports(code: str, context: FilterContext) -> str:
    table = _types_table(context.params)
    root = parse(code).root_node
    declared, used = set(), set()
    for node in walk(root):
        if node.type in TYPE_DECLARATIONS or node.type == "type_parameter":
            name = node.child_by_field_name("name") or next(
                (c for c in node.children if c.type in ("identifier", "type_identifier")), None)
            if name is not None:
                declared.add(node_text(name))
        elif node.type == "type_identifier" or (
                node.type == "identifier" and node.parent is not None
                and node.parent.type in ("method_invocation", "field_access",
                                         "method_reference")
                and node.parent.child_by_field_name("object") == node):
            used.add(node_text(node))
    single, star = _imports(root)
    missing = sorted((name for name in used - declared - single
                      if name in table and table[name] not in star),
                     key=lambda name: f"{table[name]}.{name}")
    if not missing:
        return code
    lines = "".join(f"import {table[name]}.{name};\n" for name in missing)
    anchors = [c for c in root.children if c.type in _HEADER_NODES]
    if not anchors:
        return lines + code
    data = code.encode("utf-8", "surrogatepass")
    end = anchors[-1].end_byte
    line_end = data.find(b"\n", end)
    cut = len(data) if line_end == -1 else line_end + 1
    head = data[:cut].decode("utf-8", "surrogatepass")
    return head + ("" if head.endswith("\n") else "\n") + lines + \
        data[cut:].decode("utf-8", "surrogatepass")


@heuristic("java-single-public-class",
           "drop 'public' from all top-level types but the target, so the file name can match")
def single_public_class(code: str, context: FilterContext) -> str:
    root = parse(code).root_node
    types = top_level_types(root)
    public = [t for t in types if is_public(t)]
    if len(public) <= 1:
        return code
    target = _target_type(types, _prompt_class_name(context.task.prompt),
                          target_name(context.task))
    keep = target if target in public else public[0]
    data = code.encode("utf-8", "surrogatepass")
    for node in reversed(public):
        if node == keep:
            continue
        modifiers = next(c for c in node.children if c.type == "modifiers")
        word = next(c for c in modifiers.children if c.type == "public")
        end = word.end_byte
        while end < len(data) and data[end:end + 1] in (b" ", b"\t"):
            end += 1
        data = data[:word.start_byte] + data[end:]
    return data.decode("utf-8", "surrogatepass")


# --- honesty rule ---------------------------------------------------------------------------

def _prompt_body(task: Task) -> str:
    """The prompt's text after the target's signature, whitespace-normalised."""
    method = target_name(task)
    prompt = task.prompt
    declaration = re.search(rf"\b{re.escape(method)}[ \t]*\([^)]*\)[^{{;]*\{{", prompt) \
        if method else None
    return normalize_ws(prompt[declaration.end():] if declaration else prompt)


def _keeps_generated_statement(body: Node, written: str) -> bool:
    """A statement of ``body`` that is neither in the prompt nor H7's truncation throw.

    A nested block counts by its content: ``{ { } }`` is no statement.
    """
    for statement in body.named_children:
        if statement.type in COMMENT_TYPES or node_text(statement) == TRUNCATION_THROW:
            continue
        if statement.type == "block":
            if _keeps_generated_statement(statement, written):
                return True
        elif not written or normalize_ws(node_text(statement)) not in written:
            return True
    return False


def has_generated_body(code: str, task: Task) -> bool:
    """True when the target method keeps at least one statement the model wrote."""
    method = target_name(task)
    written = _prompt_body(task)
    for node in walk(parse(code).root_node):
        if node.type not in ("method_declaration", "constructor_declaration"):
            continue
        if method and declaration_name(node) != method:
            continue
        body = node.child_by_field_name("body")
        if body is not None and _keeps_generated_statement(body, written):
            return True
    return False


HEURISTICS: tuple[Heuristic, ...] = (
    merge_java_prompt, drop_extra_classes, complete_truncated, drop_repeated_methods, add_imports,
    single_public_class, cut_at_compile_error)

_KEYWORDS = frozenset({
    "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
    "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float",
    "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long",
    "native", "new", "package", "private", "protected", "public", "record", "return", "sealed",
    "short", "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws",
    "transient", "try", "var", "void", "volatile", "while", "yield",
})
_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)|//[^\n]*", re.S)


@lru_cache(maxsize=1024)  # once per prompt
def prompt_is_code(prompt: str) -> bool:
    """False for a prompt in natural language: it does not parse (as is, or with its open
    braces closed), and at least half of its lines outside comments are sentences."""
    if not parse(prompt).root_node.has_error or _closed(prompt) is not None:
        return True
    lines = [line.strip() for line in _COMMENT.sub("", prompt).splitlines() if line.strip()]
    return not mostly_sentences(lines, lambda line: reads_as_sentence(line, _KEYWORDS))


SUPPORT = LanguageSupport(
    language="java", heuristics=HEURISTICS, make_compiler=JavaCompiler,
    has_generated_body=has_generated_body, prompt_is_code=prompt_is_code)
