"""Java security and quality rules of our own, over tree-sitter-java syntax trees.

FRANC ran SpotBugs (a JVM per snippet, ~2 s each). These rules cover the
FindSecBugs/SpotBugs findings that turn up in generated code. Each is a small
function decorated with :func:`rule`, which carries its id, CWE, severity,
confidence and whether it is about security (as bandit's ``@test.test_id`` does),
and is listed in :data:`RULES`. They look at one compilation unit's syntax only
(no types, no data flow beyond one method), so each rule states its confidence
honestly. A new rule: a ``@rule(...)`` function yielding ``(node, message)``,
a positive and a negative case in tests/analysis/test_java_rules.py, and its
name in :data:`RULES`.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from tree_sitter import Node

from franc.analysis.base import Analyzer, RuleInfo, describe_error, guarded
from franc.java.syntax import encode, node_text, parse
from franc.models import Finding, Level

Hit = tuple[Node, str]


class Unit:
    """One parsed compilation unit with the lookups the rules share."""

    def __init__(self, code: str):
        self.source = encode(code)
        self.root = parse(self.source).root_node
        self.by_type: dict[str, list[Node]] = defaultdict(list)
        stack = [self.root]
        while stack:  # iterative: deeply nested code must not exhaust Python's stack
            node = stack.pop()
            self.by_type[node.type].append(node)
            stack.extend(reversed(node.children))

    def nodes(self, *types: str) -> Iterator[Node]:
        for node_type in types:
            yield from self.by_type.get(node_type, ())

    @cached_property
    def text_all(self) -> str:
        return self.source.decode("utf-8", errors="replace")

    @cached_property
    def string_names(self) -> frozenset[str]:
        """Names declared with type ``String`` anywhere in the unit (fields, locals, parameters)."""
        names: set[str] = set()
        for node in self.nodes("local_variable_declaration", "field_declaration"):
            if _type_name(node.child_by_field_name("type")) == "String":
                names.update(node_text(d.child_by_field_name("name"))
                             for d in node.children if d.type == "variable_declarator")
        for node in self.nodes("formal_parameter"):
            if _type_name(node.child_by_field_name("type")) == "String":
                names.add(node_text(node.child_by_field_name("name")))
        return frozenset(names)


def _type_name(node: Node | None) -> str:
    """Simple name of a type node (``java.util.Random`` -> ``Random``; generics dropped)."""
    name = node_text(node).split("<", 1)[0]
    return name.rsplit(".", 1)[-1].strip()


def call_name(call: Node) -> str:
    return node_text(call.child_by_field_name("name"))


def call_object(call: Node) -> str:
    return node_text(call.child_by_field_name("object"))


def arguments(node: Node) -> list[Node]:
    args = node.child_by_field_name("arguments")
    return [a for a in args.named_children if not _is_comment(a)] if args is not None else []


def _is_comment(node: Node) -> bool:
    return node.type in ("line_comment", "block_comment")


def enclosing(node: Node, *types: str) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type not in types:
        parent = parent.parent
    return parent


def method_of(node: Node) -> Node | None:
    return enclosing(node, "method_declaration", "constructor_declaration", "lambda_expression")


LITERALS = frozenset({"string_literal", "text_block", "character_literal",
                      "decimal_integer_literal", "hex_integer_literal", "octal_integer_literal",
                      "binary_integer_literal",
                      "decimal_floating_point_literal", "hex_floating_point_literal", "true",
                      "false", "null_literal"})
CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
TRANSPARENT = frozenset({"binary_expression", "parenthesized_expression",
                         "array_creation_expression", "array_initializer", "dimensions_expr"})


def leaves(node: Node) -> list[Node]:
    """Operands of an expression tree of ``+``, parentheses and array literals (iteratively)."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.type in TRANSPARENT:
            stack.extend(c for c in current.named_children if not _is_comment(c))
        else:
            found.append(current)
    return found


def is_constant(node: Node) -> bool:
    """Literals, constants in UPPER_CASE, and expressions built only from them."""
    for leaf in leaves(node):
        if leaf.type in LITERALS or leaf.type in ("integral_type", "type_identifier"):
            continue
        name = leaf.child_by_field_name("field") if leaf.type == "field_access" else leaf
        if name is not None and name.type == "identifier" and CONSTANT_NAME.match(node_text(name)):
            continue
        return False
    return True


def is_built_string(node: Node, unit: Unit, depth: int = 0) -> bool:
    """A string assembled at run time: concatenation, ``format``/``concat``, a builder,
    or a local variable initialised or assigned from one of those."""
    if node.type in ("binary_expression", "parenthesized_expression"):
        return not is_constant(node)
    if node.type == "method_invocation":
        return call_name(node) in ("format", "concat", "formatted", "toString", "join", "replace")
    if node.type == "identifier" and depth < 3:
        method = method_of(node)
        scope = method if method is not None else unit.root
        name = node_text(node)
        for declarator in _descendants(scope, ("variable_declarator",)):
            value = declarator.child_by_field_name("value")
            if node_text(declarator.child_by_field_name("name")) == name and value is not None \
                    and is_built_string(value, unit, depth + 1):
                return True
        for assignment in _descendants(scope, ("assignment_expression",)):
            if node_text(assignment.child_by_field_name("left")) == name:
                operator = node_text(assignment.child_by_field_name("operator"))
                right = assignment.child_by_field_name("right")
                if operator == "+=" or (
                        right is not None and is_built_string(right, unit, depth + 1)):
                    return True
    return False


def _descendants(node: Node, types: tuple[str, ...]) -> Iterator[Node]:
    stack = list(node.children)
    while stack:
        current = stack.pop()
        if current.type in types:
            yield current
        stack.extend(current.children)


def string_value(node: Node) -> str | None:
    if node.type != "string_literal":
        return None
    return "".join(node_text(c) for c in node.named_children if c.type == "string_fragment")


@dataclass(frozen=True)
class JavaRule:
    id: str
    cwe: int
    severity: Level
    confidence: Level
    #: About security (a vulnerability) rather than code quality.
    security: bool
    description: str
    check: Callable[[Unit], Iterable[Hit]]


def rule(rule_id: str, *, cwe: int, severity: Level, confidence: Level, security: bool,
         description: str) -> Callable[[Callable[[Unit], Iterable[Hit]]], JavaRule]:
    """Decorator turning a ``unit -> (node, message)...`` function into a :class:`JavaRule`."""

    def wrap(check: Callable[[Unit], Iterable[Hit]]) -> JavaRule:
        return JavaRule(rule_id, cwe, severity, confidence, security, description, check)

    return wrap


# --- the rules ---------------------------------------------------------------------------

SQL_SINKS = frozenset({"execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch",
                       "prepareStatement", "prepareCall", "createQuery", "createNativeQuery",
                       "createSQLQuery", "queryForObject", "queryForList", "query", "update"})


@rule("sql-injection", cwe=89, severity="high", confidence="medium", security=True,
      description="SQL built by string concatenation passed to execute*/prepareStatement")
def sql_injection(unit: Unit) -> Iterator[Hit]:
    for call in unit.nodes("method_invocation"):
        args = arguments(call)
        if call_name(call) in SQL_SINKS and args and is_built_string(args[0], unit):
            yield call, (f"SQL text built at run time is passed to {call_name(call)}(); "
                         "use a PreparedStatement with ? parameters")


#: Programs that run their ``-c``/``/c`` argument as a shell script.
SHELLS = re.compile(r"^(?:.*[/\\])?(?:sh|bash|zsh|dash|ksh|cmd(?:\.exe)?|powershell(?:\.exe)?)$",
                    re.IGNORECASE)
SCRIPT_FLAGS = frozenset({"-c", "/c", "-command"})


def _argv(args: list[Node]) -> list[Node] | None:
    """The separate argument-vector elements of an exec/ProcessBuilder call: its arguments,
    or the elements of its one array literal / ``List.of`` / ``Arrays.asList``; None when the
    command is one string or an opaque value."""
    if len(args) > 1:
        return args
    if len(args) == 1 and args[0].type == "array_creation_expression":
        initializer = args[0].child_by_field_name("value")
        return [e for e in initializer.named_children if not _is_comment(e)] \
            if initializer is not None else None
    if len(args) == 1 and args[0].type == "method_invocation" \
            and call_name(args[0]) in ("of", "asList"):
        return arguments(args[0])
    return None


def _command_problem(args: list[Node]) -> str | None:
    """Why this command runs attacker-controlled code, if it does. One string is a command
    line (exec splits it, so input adds arguments or, through a shell, commands); separate
    arguments are safe unless the program itself, or a shell's script, is not constant."""
    argv = _argv(args)
    if argv is None:
        constant = all(is_constant(a) for a in args)
        return None if constant else "a command built from non-constant input"
    if not argv:
        return None
    if not is_constant(argv[0]):
        return "a program named by non-constant input"
    program = string_value(argv[0]) or ""
    for flag, script in itertools.pairwise(argv[1:]):
        if SHELLS.match(program) and (string_value(flag) or "").lower() in SCRIPT_FLAGS \
                and not is_constant(script):
            return f"a {program} script built from non-constant input"
    return None


@rule("command-injection", cwe=78, severity="high", confidence="medium", security=True,
      description="Runtime.exec/ProcessBuilder running a command line, program or shell "
                  "script built from non-constant input")
def command_injection(unit: Unit) -> Iterator[Hit]:
    for call in unit.nodes("method_invocation"):
        if call_name(call) == "exec" and "Runtime" in call_object(call):
            problem = _command_problem(arguments(call))
            if problem:
                yield call, f"Runtime.exec() runs {problem}"
    for new in unit.nodes("object_creation_expression"):
        if _type_name(new.child_by_field_name("type")) == "ProcessBuilder":
            problem = _command_problem(arguments(new))
            if problem:
                yield new, f"ProcessBuilder runs {problem}"


WEAK_HASHES = frozenset({"MD2", "MD4", "MD5", "SHA", "SHA1", "SHA-1"})


@rule("weak-hash", cwe=328, severity="medium", confidence="high", security=True,
      description="MD5/SHA-1 message digests")
def weak_hash(unit: Unit) -> Iterator[Hit]:
    for call in unit.nodes("method_invocation"):
        args = arguments(call)
        name = call_name(call)
        if name == "getInstance" and call_object(call).endswith("MessageDigest") and args:
            algorithm = (string_value(args[0]) or "").upper()
            if algorithm in WEAK_HASHES:
                yield call, f"weak hash algorithm {algorithm}; use SHA-256 or better"
        elif call_object(call).endswith("DigestUtils") and re.match(r"(md[25]|sha1?)(Hex)?$", name):
            yield call, f"weak hash DigestUtils.{name}(); use sha256"


WEAK_CIPHERS = frozenset({"DES", "DESEDE", "TRIPLEDES", "RC2", "RC4", "ARCFOUR", "BLOWFISH"})
CIPHER_FACTORIES = ("Cipher", "KeyGenerator", "SecretKeyFactory")


@rule("weak-cipher", cwe=327, severity="high", confidence="high", security=True,
      description="DES/RC4/Blowfish ciphers or ECB mode")
def weak_cipher(unit: Unit) -> Iterator[Hit]:
    for call in unit.nodes("method_invocation"):
        args = arguments(call)
        if call_name(call) != "getInstance" or not args \
                or not call_object(call).endswith(CIPHER_FACTORIES):
            continue
        transformation = (string_value(args[0]) or "").upper()
        algorithm, *mode = transformation.split("/")
        if algorithm in WEAK_CIPHERS:
            yield call, f"weak cipher {algorithm}; use AES/GCM"
        elif call_object(call).endswith("Cipher") and (
                mode[:1] == ["ECB"] or (algorithm == "AES" and not mode)):
            yield call, f"cipher {transformation!r} uses ECB mode; use AES/GCM/NoPadding"


SECRET_CONTEXT = re.compile(r"token|passw|pwd|secret|salt|nonce|session|otp|credential|captcha"
                            r"|api_?key|private_?key", re.IGNORECASE)


@rule("insecure-random", cwe=330, severity="medium", confidence="medium", security=True,
      description="java.util.Random or Math.random for tokens, passwords, keys")
def insecure_random(unit: Unit) -> Iterator[Hit]:
    sources = [n for n in unit.nodes("object_creation_expression")
               if _type_name(n.child_by_field_name("type")) == "Random"]
    sources += [n for n in unit.nodes("method_invocation")
                if call_name(n) == "random" and call_object(n) == "Math"]
    for node in sources:
        scope = enclosing(node, "method_declaration", "class_declaration")
        if scope is not None and SECRET_CONTEXT.search(node_text(scope)):
            yield node, ("java.util.Random is predictable; use java.security.SecureRandom for "
                         "tokens, passwords and keys")


CREDENTIAL_NAME = re.compile(r"passw|pwd|secret|api_?key|access_?key|private_?key|token"
                             r"|credential", re.IGNORECASE)


@rule("hardcoded-credentials", cwe=798, severity="high", confidence="medium", security=True,
      description="passwords, keys and tokens written into the code")
def hardcoded_credentials(unit: Unit) -> Iterator[Hit]:
    pairs = [(d.child_by_field_name("name"), d.child_by_field_name("value"))
             for d in unit.nodes("variable_declarator")]
    pairs += [(a.child_by_field_name("left"), a.child_by_field_name("right"))
              for a in unit.nodes("assignment_expression")]
    for name, value in pairs:
        if value is not None and CREDENTIAL_NAME.search(node_text(name).rsplit(".", 1)[-1]) \
                and string_value(value):
            yield value, f"hard-coded credential in {node_text(name)!r}"
    for call in unit.nodes("method_invocation"):
        args = arguments(call)
        if call_name(call) == "getConnection" and len(args) >= 3 and string_value(args[2]):
            yield args[2], "hard-coded database password"
        elif re.match(r"set(Password|Secret|Token|ApiKey)$", call_name(call)) and args \
                and string_value(args[0]):
            yield args[0], f"hard-coded credential passed to {call_name(call)}()"


XML_FACTORIES = ("DocumentBuilderFactory", "SAXParserFactory", "XMLInputFactory",
                 "TransformerFactory", "SchemaFactory", "XMLReaderFactory")
XML_FACTORY_METHODS = frozenset({"newInstance", "newFactory", "newDefaultInstance",
                                 "createXMLReader"})
XML_PARSERS = frozenset({"SAXBuilder", "SAXReader"})
XML_HARDENING = ("disallow-doctype-decl", "external-general-entities", "FEATURE_SECURE_PROCESSING",
                 "SUPPORT_DTD", "ACCESS_EXTERNAL_DTD", "IS_SUPPORTING_EXTERNAL_ENTITIES",
                 "setExpandEntityReferences(false)")


@rule("xxe", cwe=611, severity="high", confidence="medium", security=True,
      description="XML parser factories without secure features")
def xxe(unit: Unit) -> Iterator[Hit]:
    if any(marker in unit.text_all for marker in XML_HARDENING):
        return
    for call in unit.nodes("method_invocation"):
        if call_name(call) in XML_FACTORY_METHODS and call_object(call).endswith(XML_FACTORIES):
            yield call, (f"{call_object(call)} without disabling DOCTYPEs/external entities "
                         "(XXE)")
    for new in unit.nodes("object_creation_expression"):
        if _type_name(new.child_by_field_name("type")) in XML_PARSERS:
            yield new, "XML parser without disabling external entities (XXE)"


@rule("unsafe-deserialization", cwe=502, severity="high", confidence="medium", security=True,
      description="ObjectInputStream.readObject on untrusted data")
def unsafe_deserialization(unit: Unit) -> Iterator[Hit]:
    if "ObjectInputStream" not in unit.text_all and "XMLDecoder" not in unit.text_all:
        return
    for call in unit.nodes("method_invocation"):
        if call_name(call) in ("readObject", "readUnshared") and not arguments(call):
            yield call, "deserialising untrusted data with readObject() can run arbitrary code"


FILE_TYPES = frozenset({"File", "FileInputStream", "FileOutputStream", "FileReader", "FileWriter",
                        "RandomAccessFile"})
PATH_CHECKS = re.compile(r"normalize\(|getCanonical|toRealPath|FilenameUtils|\"\.\.\"")


@rule("path-traversal", cwe=22, severity="medium", confidence="low", security=True,
      description="a method parameter used in a File/Paths path without normalising it")
def path_traversal(unit: Unit) -> Iterator[Hit]:
    sinks = [n for n in unit.nodes("object_creation_expression")
             if _type_name(n.child_by_field_name("type")) in FILE_TYPES]
    sinks += [n for n in unit.nodes("method_invocation")
              if call_name(n) in ("get", "of") and call_object(n) in ("Paths", "Path")]
    for sink in sinks:
        method = enclosing(sink, "method_declaration", "constructor_declaration")
        if method is None or PATH_CHECKS.search(node_text(method.child_by_field_name("body"))):
            continue
        parameters = {node_text(p.child_by_field_name("name"))
                      for p in _descendants(method.child_by_field_name("parameters") or method,
                                            ("formal_parameter",))}
        used = {node_text(leaf) for arg in arguments(sink) for leaf in leaves(arg)
                if leaf.type == "identifier"}
        if parameters & used:
            yield sink, (f"file path built from parameter {sorted(parameters & used)[0]!r} "
                         "without normalising it (path traversal)")


@rule("trust-all", cwe=295, severity="high", confidence="high", security=True,
      description="TrustManager/HostnameVerifier that accepts everything")
def trust_all(unit: Unit) -> Iterator[Hit]:
    for method in unit.nodes("method_declaration"):
        name = node_text(method.child_by_field_name("name"))
        body = method.child_by_field_name("body")
        if body is None:
            continue
        statements = [s for s in body.named_children if not _is_comment(s)]
        if name in ("checkServerTrusted", "checkClientTrusted") and not statements:
            yield method, f"{name}() accepts every certificate (trust-all TrustManager)"
        elif name == "verify" and [node_text(s) for s in statements] == ["return true;"]:
            yield method, "HostnameVerifier.verify() accepts every host name"
    for call in unit.nodes("method_invocation"):
        if call_name(call) in ("setHostnameVerifier", "setDefaultHostnameVerifier"):
            for arg in arguments(call):
                body = arg.child_by_field_name("body") if arg.type == "lambda_expression" else None
                if body is not None and re.sub(r"[\s{};]|return", "", node_text(body)) == "true":
                    yield arg, "HostnameVerifier lambda accepts every host name"
    for identifier in unit.nodes("identifier", "type_identifier"):
        if node_text(identifier) in ("NoopHostnameVerifier", "ALLOW_ALL_HOSTNAME_VERIFIER"):
            yield identifier, f"{node_text(identifier)} disables host name verification"


@rule("empty-catch", cwe=390, severity="low", confidence="high", security=False,
      description="catch block without any statement")
def empty_catch(unit: Unit) -> Iterator[Hit]:
    for clause in unit.nodes("catch_clause"):
        body = clause.child_by_field_name("body")
        if body is not None and not [s for s in body.named_children if not _is_comment(s)]:
            yield clause, "empty catch block: the error is silently ignored"


GENERIC_EXCEPTIONS = frozenset({"Exception", "Throwable"})


@rule("catch-generic", cwe=396, severity="low", confidence="high", security=False,
      description="catching Exception or Throwable")
def catch_generic(unit: Unit) -> Iterator[Hit]:
    for clause in unit.nodes("catch_type"):
        for alternative in clause.named_children:
            if _type_name(alternative) in GENERIC_EXCEPTIONS:
                yield alternative, f"catching generic {node_text(alternative)}"


RESOURCE_TYPES = frozenset({"FileInputStream", "FileOutputStream", "FileReader", "FileWriter",
                            "BufferedReader", "BufferedWriter", "InputStreamReader",
                            "OutputStreamWriter", "PrintWriter", "PrintStream", "Scanner", "Socket",
                            "ServerSocket", "ObjectInputStream", "ObjectOutputStream",
                            "RandomAccessFile", "ZipFile", "JarFile", "DataInputStream",
                            "DataOutputStream", "BufferedInputStream", "BufferedOutputStream"})
RESOURCE_CALLS = frozenset({"getConnection", "createStatement", "prepareStatement", "prepareCall",
                            "executeQuery", "newBufferedReader", "newBufferedWriter",
                            "newInputStream", "newOutputStream", "openStream"})


@rule("unclosed-resource", cwe=772, severity="medium", confidence="medium", security=False,
      description="stream/reader/connection opened outside try-with-resources and never closed")
def unclosed_resource(unit: Unit) -> Iterator[Hit]:
    for declarator in unit.nodes("variable_declarator"):
        value = declarator.child_by_field_name("value")
        if value is None or declarator.parent is None \
                or declarator.parent.type != "local_variable_declaration":
            continue
        opens = (value.type == "object_creation_expression"
                 and _type_name(value.child_by_field_name("type")) in RESOURCE_TYPES) or (
                 value.type == "method_invocation" and call_name(value) in RESOURCE_CALLS)
        if not opens or "System.in" in node_text(value):
            continue
        name = node_text(declarator.child_by_field_name("name"))
        scope = node_text(method_of(declarator) or unit.root)
        if re.search(rf"\b{re.escape(name)}\s*\.\s*close\s*\(|return\s+{re.escape(name)}\b"
                     rf"|try\s*\(\s*{re.escape(name)}\b|=\s*{re.escape(name)}\s*;", scope):
            continue
        yield declarator, (f"resource {name!r} is never closed; open it in a "
                           "try-with-resources statement")


@rule("string-equality", cwe=597, severity="medium", confidence="high", security=False,
      description="strings compared with == or !=")
def string_equality(unit: Unit) -> Iterator[Hit]:
    for expression in unit.nodes("binary_expression"):
        operator = node_text(expression.child_by_field_name("operator"))
        if operator not in ("==", "!="):
            continue
        left = expression.child_by_field_name("left")
        right = expression.child_by_field_name("right")
        operands = [o for o in (left, right) if o is not None]
        literal = any(o.type == "string_literal" for o in operands)
        both_strings = all(o.type == "identifier" and node_text(o) in unit.string_names
                           for o in operands)
        if literal or both_strings:
            yield expression, f"strings compared with {operator}; use equals()"


@rule("system-exit", cwe=382, severity="medium", confidence="high", security=False,
      description="System.exit/halt outside main")
def system_exit(unit: Unit) -> Iterator[Hit]:
    for call in unit.nodes("method_invocation"):
        if call_name(call) in ("exit", "halt") and call_object(call) in (
                "System", "Runtime.getRuntime()"):
            method = enclosing(call, "method_declaration")
            if method is None or node_text(method.child_by_field_name("name")) != "main":
                yield call, f"{call_object(call)}.{call_name(call)}() shuts down the whole JVM"


RULES: tuple[JavaRule, ...] = (
    sql_injection,
    command_injection,
    weak_hash,
    weak_cipher,
    insecure_random,
    hardcoded_credentials,
    xxe,
    unsafe_deserialization,
    path_traversal,
    trust_all,
    empty_catch,
    catch_generic,
    unclosed_resource,
    string_equality,
    system_exit,
)


class JavaRulesAnalyzer(Analyzer):
    id = "java-rules"
    language = "java"
    description = f"{len(RULES)} security/quality rules over tree-sitter-java syntax trees"

    @classmethod
    def rule_info(cls, rule_id: str) -> RuleInfo | None:
        rule = next((r for r in RULES if r.id == rule_id), None)
        if rule is None:
            return None
        name = "".join(part.capitalize() for part in rule.id.split("-"))
        return RuleInfo(rule.id, name, rule.description, cwe=rule.cwe)

    def __init__(self, timeout: float = 10.0, rules: Sequence[JavaRule] = RULES):
        super().__init__(timeout)
        self.rules = tuple(rules)

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        return [guarded(self.id, self._analyze, code, self.timeout) for code in codes]

    def _analyze(self, code: str) -> list[Finding]:
        unit = Unit(code)
        findings: list[Finding] = []
        for rule in self.rules:
            try:
                findings.extend(
                    Finding(tool=self.id, rule_id=rule.id, message=message,
                            severity=rule.severity, confidence=rule.confidence,
                            line=node.start_point[0] + 1, column=node.start_point[1], cwe=rule.cwe)
                    for node, message in rule.check(unit))
            except Exception as exc:  # one broken rule must not hide the others
                findings.append(Finding.failure(self.id, f"rule {rule.id} {describe_error(exc)}"))
        return sorted(findings, key=lambda f: (f.line, f.column, f.rule_id))
