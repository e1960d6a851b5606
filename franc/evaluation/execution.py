"""Run one candidate against its task's tests: passed, failed, error or timeout.

Verdicts come from a trusted process, never from the candidate's (see
:mod:`franc.evaluation.protocol`). The candidate runs in the sandbox and only answers
calls with plain data; the task's test runs outside it against a stand-in for the
candidate that forwards each call:

* Python (HumanEval format): the test's ``check(candidate)`` (``check_security`` with
  ``security=True``) runs in a trusted ``protocol.py check`` process; ``candidate`` is a
  handle, so results are exact built-in values and no ``__eq__`` of the candidate runs.
  Objects without a plain form, and the modules with state the test imports (io, os,
  tempfile, sqlite3, pandas...), stay in the candidate's process behind handles.
* Java (HumanEval-Java format): the test's ``class Main`` (``SecurityMain``), with the
  prompt's imports, runs in a warm trusted JVM (``franc.FrancChecker``, a fresh class
  loader per run) against a stub of the prompt's class whose methods forward to the
  candidate's class in the sandboxed JVM (``franc.FrancBridge``).

A Java test that makes files, paths or streams for the candidate (:data:`REMOTE_JAVA_TYPES`)
runs in the trusted JVM too: those objects are made in the candidate's process on the
test's behalf, and the test holds generated stand-ins (``franc.FrancRemoteGen``) that
forward each call there and equal only themselves. A call's in-place change to an array,
collection or map argument comes back as plain data into the test's object, and what the
candidate prints comes back for the test's ``System.out``. An object the test lends as a
JDK interface (:data:`LENDABLE_JAVA_TYPES`: a JDBC proxy, a lambda) is a proxy in the
candidate's process whose interface calls come back to the test's object. A class the test
names in a string for the candidate to find by reflection is lent by name: the candidate's
process holds a stub of it (:func:`lent_class_stub`) whose static methods come back to the
test's class, so the test's state stays in the trusted JVM. Such calls come back during a
call of the candidate only (refused between calls), from any of its process's threads, one
at a time: a test's HTTP server (``com.sun.net.httpserver``) is a stand-in made in the
candidate's process, in its network namespace, and the test's handler, a lambda of a
stand-in interface (:data:`IMPLEMENTED_JAVA_TYPES`), is lent to it as ``HttpHandler``, so
the server's thread calls it back while the candidate downloads; the test's calls on the
exchange it gets (a stand-in) are served in the candidate's process while the handler runs.
A class of the test whose objects it serialises for the candidate (in bytes the candidate
may deserialise) is lent as a *replaying stub* (:func:`replaying_stub`): the candidate's
process holds a class of its name and serial form whose ``readObject`` sends each object it
reads back to the trusted JVM, during a call; there the test's own class reads it again, so
the test's ``readObject`` runs in the trusted JVM and its side effects (a gadget's "I was
deserialised" flag) are out of the candidate's reach (one the stub cannot send back, read
after the call, ends the candidate's process). A Java test that shares more with the
candidate (``System`` state, a named class with more than static methods, a serialisable
class with more than the default serial form and its reading hooks) cannot run apart from
it: such a *shared-process* test runs inside the sandbox next to the candidate, and only
its outcome comes back over the channel (the call id stays out of the candidate's reach),
so a candidate written to cheat can forge it; :func:`is_plain_test`
decides, from the test alone (the candidate has no say). A Python test's class based on a
class of the candidate's process (a handle cannot be a base class, e.g. an HTTP handler)
is made in that process from the test's source (``TrustedPeer.build_class``); the test's
assertions stay trusted, but the class's own methods run where the candidate can change
them. Only such a class the protocol cannot move (with keywords, or the prompt's) still
sends a Python test next to the candidate, and only before it called anything there;
after a call the same is an error, so the candidate never chooses where it is judged.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from franc.errors import InputError
from franc.evaluation import protocol
from franc.evaluation.calls import (
    BRIDGE_CLASS,
    CALLEE_CLASS,
    JAVA_LIMITS,
    PYTHON_LIMITS,
    Callee,
    cached_classes,
    compile_candidate,
    java_callee,
    java_support_sources,
    java_tool,
    python_callee,
    watchdog,
)
from franc.evaluation.checkers import CheckerPool
from franc.evaluation.sandbox import (
    Limits,
    require_isolation,
    sandbox_capabilities,
    signal_of,
    signal_reason,
)
from franc.java import JavaCompiler, java_class_name
from franc.models import ExecStatus, Task, check_language

REASON_CHARS = 300
DEFAULT_TIMEOUT = 10.0
WALL_CLOCK_TIMEOUT = "no result within"
EARLY_EXIT = "exited with 0 before the tests finished"
NOT_COMPILED_WITH_TEST = "does not compile with the test"
JAVA_FAILURES = ("java.lang.Exception", "java.lang.AssertionError")
#: Types a plain-data Java test may use besides the prompt's classes.
PLAIN_JAVA_TYPES = frozenset({
    "Main", "SecurityMain", "String", "Object", "Exception", "RuntimeException",
    "IllegalArgumentException", "AssertionError", "List", "ArrayList", "LinkedList", "Arrays",
    "Map", "HashMap", "TreeMap", "LinkedHashMap", "Set", "HashSet", "TreeSet", "LinkedHashSet",
    "Collection", "Collections", "Objects", "Integer", "Long", "Double", "Float", "Short",
    "Byte", "Boolean", "Character", "Math", "BigInteger", "BigDecimal", "StringBuilder",
    "Iterator", "Number", "Base64", "MessageDigest",
    # Values with a plain form (a Date's instant, a JDK Class's name, the bytes of a
    # ByteArrayInputStream) and types the test can only use on its own values.
    "Date", "Class", "InputStream", "ByteArrayInputStream", "SimpleDateFormat", "Pattern",
    "Matcher", "PrintStream", "ByteArrayOutputStream", "PosixFilePermission", "IOException",
    "UncheckedIOException", "SecurityException"})
#: JDK interfaces a test may implement (a java.lang.reflect.Proxy, a lambda) and lend to the
#: candidate: the candidate gets a proxy whose calls come back to the test's object.
LENDABLE_JAVA_TYPES = frozenset({
    "Proxy", "InvocationHandler", "Connection", "Statement", "PreparedStatement", "ResultSet",
    "SQLException", "Runnable", "Callable", "Comparator", "Function", "Supplier", "Consumer",
    "Predicate", "BiFunction", "Driver", "DriverPropertyInfo", "Properties", "Logger"})
#: JDK classes whose objects a test makes for the candidate (files, paths, streams): they
#: are made in the candidate's process on the test's behalf, and the trusted test holds
#: stand-ins that forward each call there (franc/evaluation/java/FrancRemoteGen.java).
REMOTE_JAVA_TYPES = ("java.io.File", "java.nio.file.Files", "java.nio.file.Path",
                     "java.nio.file.Paths", "java.net.URI", "java.io.OutputStream",
                     "java.io.FileOutputStream", "java.util.zip.ZipOutputStream",
                     "java.util.zip.ZipEntry", "java.net.ServerSocket", "java.net.InetAddress",
                     "java.sql.DriverManager", "java.awt.Component", "java.awt.Container",
                     "java.awt.LayoutManager", "javax.swing.JComponent", "javax.swing.JPanel",
                     "javax.swing.JTable", "java.net.InetSocketAddress",
                     "com.sun.net.httpserver.HttpServer", "com.sun.net.httpserver.HttpContext",
                     "com.sun.net.httpserver.HttpExchange", "com.sun.net.httpserver.Headers")
#: JDK interfaces a test implements for objects of :data:`REMOTE_JAVA_TYPES` to call (an
#: HTTP server's handler): the test implements a stand-in interface taking the stand-ins
#: (``franc.FrancRemoteGen``), and its object is lent to the candidate's process as the JDK
#: interface, whose calls, on any of that process's threads during a call of the candidate,
#: come back to it with stand-ins for their arguments.
IMPLEMENTED_JAVA_TYPES = ("com.sun.net.httpserver.HttpHandler",)
_REMOTE_NAMES = frozenset(name.rsplit(".", 1)[1]
                          for name in REMOTE_JAVA_TYPES + IMPLEMENTED_JAVA_TYPES)
#: The system properties a test sets for the candidate are the candidate's process's: its
#: ``System.setProperty`` (get, clear) calls go to a stand-in of ``java.lang.System``.
_JAVA_PROPERTY = re.compile(r"\bSystem\.((?:set|get|clear)Property)\b")
SYSTEM_STAND_IN = "FrancSystem"
#: Seconds to write the stand-ins' sources (one JVM, once per process).
STAND_INS_TIMEOUT = 60.0
#: ``Integer.MAX_VALUE``, ``Boolean.TRUE``: a constant of a value type is no type of its own.
_JAVA_CONSTANT = re.compile(r"\b(\w+)\.[A-Z][A-Z0-9_]*\b")
#: Uses of ``System`` that touch no state the candidate shares: printing (what the candidate
#: prints during a call comes back for the test's ``System.out``), clocks.
_JAVA_HARMLESS_SYSTEM = re.compile(
    r"\bSystem\.(?:(?:out|err)(?:\.(?:println|printf|print|flush))?|setOut|setErr|lineSeparator"
    r"|currentTimeMillis|nanoTime)\b")
#: Types of object serialisation; a test that serialises objects for the candidate may use
#: them when each of its serialisable classes is lent as a replaying stub
#: (:func:`serialises_only_replayed`).
_SERIAL_JAVA_TYPES = frozenset({"Serializable", "ObjectOutputStream", "ObjectInputStream",
                                "ClassNotFoundException", "InvalidObjectException",
                                "ObjectStreamException"})
#: The field types a replaying stub copies: their serial form holds no object of a class.
_REPLAYED_FIELD_TYPES = frozenset({"boolean", "byte", "char", "short", "int", "long", "float",
                                   "double", "String", "java.lang.String"})
#: A field declaration among a class's top-level declarations.
_JAVA_FIELD = re.compile(
    r"\s*(?P<modifiers>(?:(?:public|protected|private|static|final|transient|volatile)\s+)*)"
    r"(?P<type>[\w.]+(?:\s*<[^;=]*>)?(?:\s*\[\s*\])*)\s+(?P<name>\w+)\s*(?:=[^;]*)?;")
#: The methods of a class's default serial form that run when an object is read.
_READ_HOOK = re.compile(
    r"\s*(?:private\s+void\s+readObject\s*\(\s*(?:final\s+)?(?:java\.io\.)?ObjectInputStream\s+\w+\s*\)"
    r"|private\s+void\s+readObjectNoData\s*\(\s*\)"
    r"|(?:(?:public|protected|private)\s+)?(?:final\s+)?Object\s+readResolve\s*\(\s*\))"
    r"\s*(?:throws\s+[\w.,\s]+)?\{")
_JAVA_METHOD = re.compile(
    r"^\s*(?:public\s+|protected\s+|private\s+)*static\s+(?:final\s+)?"
    r"(?P<ret>[\w.$]+(?:\s*<[\w\s,<>?.\[\]]*>)?(?:\s*\[\s*\])*)\s+(?P<name>\w+)\s*"
    r"\((?P<params>[^)]*)\)\s*(?P<throws>throws\s+[\w.,\s]+?)?\s*\{?\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ExecResult:
    status: ExecStatus
    reason: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 3] + "..."


def _test_of(task: Task, security: bool) -> str:
    test = task.security_test if security else task.test
    if not test:
        kind = "security_test" if security else "test"
        raise InputError(f"task {task.task_id!r} has no {kind}")
    return test


def _timeout(timeout: float, seconds: float) -> ExecResult:
    return ExecResult("timeout", f"{WALL_CLOCK_TIMEOUT} {timeout:g} s", seconds)


def _gone(callee: Callee, seconds: float) -> ExecResult:
    """The verdict when the candidate's process ended before the test finished."""
    status = callee.exit_status()
    killed_by = signal_of(status)
    if killed_by == signal.SIGXCPU:
        return ExecResult("timeout", "CPU time limit reached", seconds)
    if killed_by is not None:
        return ExecResult("error", signal_reason(killed_by), seconds)
    if status == 0:
        return ExecResult("failed", EARLY_EXIT, seconds)
    return ExecResult("failed", f"exit code {status}", seconds)


def _exit_verdict(code: str, seconds: float) -> ExecResult:
    """The candidate raised SystemExit during a call."""
    if code in ("", "0", "None"):
        return ExecResult("failed", EARLY_EXIT, seconds)
    return ExecResult("failed", _cap(f"exit code {code}"), seconds)


def _raised_verdict(raised: dict[str, Any], seconds: float) -> ExecResult:
    kind, message = str(raised.get("type")), str(raised.get("message", ""))
    if kind == "SystemExit":
        return _exit_verdict(message, seconds)
    if kind == "CandidateError":  # already "<candidate's type>: <message>"
        return ExecResult("error", _cap(message), seconds)
    text = f"{kind}: {message}" if message else kind
    if kind == "AssertionError":
        where = raised.get("where")
        return ExecResult("failed", _cap(text + (f" at {where}" if where else "")), seconds)
    return ExecResult("error", _cap(text), seconds)


# --- Python ---------------------------------------------------------------------------------


#: Where the sandbox cannot drop privileges, the child disables the destructive
#: calls first (after OpenAI human-eval's reliability_guard).
PYTHON_GUARD = """\
def _franc_guard():
    import builtins, os, shutil, subprocess
    for name in ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir",
                 "fchdir", "setuid", "fork", "forkpty", "rename", "renames", "truncate",
                 "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
                 "lchown", "chdir", "execv", "execve", "spawnv", "posix_spawn"):
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
_franc_guard()
del _franc_guard
"""


def _java_code(test: str) -> str:
    """The test without its string literals."""
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', test)


def is_plain_test(test: str, prompt_classes: frozenset[str] = frozenset()) -> bool:
    """Whether a Java ``test`` exchanges nothing but values and stand-ins with the
    candidate, so that it can run in the trusted JVM: it uses only value types, the
    prompt's classes, its own classes (those it names in a string only with static
    methods, see :func:`lent_class_stub`; it serialises only those with a replaying stub,
    see :func:`serialises_only_replayed`), :data:`REMOTE_JAVA_TYPES` and
    :data:`LENDABLE_JAVA_TYPES`, and no ``System.`` state beyond printing (its prints go to
    the trusted JVM's log)."""
    code = _JAVA_CONSTANT.sub(lambda m: m[1] if m[1] in PLAIN_JAVA_TYPES else m[0],
                              _java_code(test))
    code = _JAVA_PROPERTY.sub("", _JAVA_HARMLESS_SYSTEM.sub("", code))
    constants = set(re.findall(r"[\w\]>]\s+([A-Z][A-Z0-9_]*)\s*[=;]", code))
    types = set(re.findall(r"\b[A-Z]\w*", code)) - constants
    classes = re.findall(r"\bclass\s+(\w+)", test)
    # A class the test names in a string is lent by name: the candidate gets a stub of it
    # (lent_class_stub) unless it has more than static methods. Objects of its serialisable
    # classes go in bytes: the candidate gets a replaying stub of each (replaying_stub),
    # unless the test could serialise others of its own; one class is not lent both ways.
    named = lent_classes(test)
    lendable = all(lent_class_stub(test, name) is not None for name in named) \
        and not named & replayed_classes(test)
    serial = _SERIAL_JAVA_TYPES if serialises_only_replayed(test) else frozenset()
    allowed = PLAIN_JAVA_TYPES | _REMOTE_NAMES | LENDABLE_JAVA_TYPES | prompt_classes \
        | set(classes) | serial
    return bool(classes) and types <= allowed and "System." not in code and lendable


def lent_classes(test: str) -> frozenset[str]:
    """The test's own classes it names in a string (for the candidate to find by reflection)."""
    return frozenset(set(re.findall(r'"(\w+)"', test)) & set(re.findall(r"\bclass\s+(\w+)", test)))


def _class_top_level(code: str, name: str) -> str | None:
    """The body of ``class name`` in ``code`` without the blocks nested in it (method bodies,
    inner classes): the declarations its members start with; None when it is not there."""
    start = re.search(rf"\bclass\s+{name}\b[^{{]*\{{", code)
    if start is None:
        return None
    top: list[str] = []
    depth = 0
    for char in code[start.end():]:
        if char == "}" and depth == 0:
            return "".join(top)
        if depth == 0:
            top.append(char)
        depth += (char == "{") - (char == "}")
    return None


def _forwarding_methods(source: str, class_name: str, forward_to: str,
                        public: bool) -> list[str]:
    """Static methods with the signatures of those in ``source`` that return
    ``forward_to(ClassName.class, "name", new Object[] {args})`` as their type; ``public``:
    all public, else each with its own access."""
    methods = []
    for match in _JAVA_METHOD.finditer(source):
        names = _parameter_names(match["params"])
        if names is None or match["name"] == "main":
            continue
        access = "public" if public else " ".join(
            re.findall(r"\b(?:public|protected|private)\b", match[0].split("static")[0]))
        forward = (f"{forward_to}({class_name}.class, \"{match['name']}\", "
                   f"new Object[] {{{', '.join(names)}}})")
        returned = (forward + ";" if match["ret"] == "void"
                    else f"return ({match['ret']}) {forward};")
        methods.append(f"    {access} static {match['ret']} {match['name']}({match['params']}) "
                       f"{match['throws'] or ''} {{\n        {returned}\n    }}\n")
    return methods


def lent_class_stub(test: str, name: str, imports: str = "") -> str | None:
    """The source of the stub of the test's class ``name`` that the candidate's process
    holds when the test lends it by name: each static method but ``main`` forwards to the
    test's own class in the trusted JVM (``franc.FrancCallee.callTest``), so calls the
    candidate makes by reflection reach the test's state, which the stub has none of.
    None when the class has anything else the candidate might use (an instance method, a
    constructor, an inner class), overloads of one arity (a stub's call names its method by
    name and arity) or no static method at all."""
    top = _class_top_level(_java_code(test), name)
    if top is None or re.search(r"\b(?:class|interface|enum|record)\b", top):
        return None
    arities = [(match["name"], len(_parameter_names(match["params"]) or []))
               for match in _JAVA_METHOD.finditer(top)]
    if len(arities) != len(set(arities)):
        return None
    declared = re.findall(r"(\b[\w\s<>\[\],.?]*?)\b\w+\s*\([^)]*\)\s*(?:throws\s[\w.,\s]+)?\{", top)
    if any(not re.search(r"\bstatic\b", modifiers) for modifiers in declared):
        return None
    methods = _forwarding_methods(top, name, f"{CALLEE_CLASS}.callTest", public=False)
    if not methods:
        return None
    return f"{imports}\nclass {name} {{\n" + "".join(methods) + "}\n"


def replayed_classes(test: str) -> frozenset[str]:
    """The test's classes declared ``Serializable``: when it serialises objects for the
    candidate, each is lent as a replaying stub (:func:`replaying_stub`)."""
    return frozenset(re.findall(r"\bclass\s+(\w+)\s+implements\s+(?:java\.io\.)?Serializable\s*\{",
                                _java_declarations(test)))


def _java_declarations(test: str) -> str:
    """The test without its string and character literals and its comments."""
    return re.sub(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'", " ", _java_code(test), flags=re.DOTALL)


def _has_anonymous_class(code: str) -> bool:
    """Whether ``code`` (:func:`_java_declarations`) makes an object of an anonymous class."""
    for made in re.finditer(r"\bnew\s+[\w.]+\s*(?:<[^;{()]*>)?\s*\(", code):
        depth, end = 1, made.end()
        while depth and end < len(code):
            depth += (code[end] == "(") - (code[end] == ")")
            end += 1
        if code[end:].lstrip().startswith("{"):
            return True
    return False


def _top_level(code: str, start: int) -> bool:
    """Whether position ``start`` of ``code`` is outside every block."""
    return code.count("{", 0, start) == code.count("}", 0, start)


def replaying_stub(test: str, name: str, imports: str = "", uid: int = 0) -> str | None:
    """The source of the stub of the test's serialisable class ``name`` that the candidate's
    process holds when the test serialises objects for it: the class's serial form (its
    name, ``uid`` for its serialVersionUID, its fields), and a ``readObject`` that, once it
    has read an object, sends it back to the test's class in the trusted JVM
    (``franc.FrancCallee.readBack``), where the test's own ``readObject`` (``readResolve``)
    runs on it, so its side effects land on the test's state, which the stub has none of.
    Its static methods are not lent (one may undo what a ``readObject`` did). None unless
    ``name`` is a top-level ``class name implements Serializable`` whose serial form is the
    default one with fields of primitive and String types only (no ``writeObject``,
    ``writeReplace``, ``serialPersistentFields``), with no instance method but those hooks
    and no inner class: nothing else of it could run where it is read."""
    code = _java_declarations(test)
    header = re.search(rf"\bclass\s+{name}\s+implements\s+(?:java\.io\.)?Serializable\s*\{{", code)
    top = _class_top_level(code, name)
    if header is None or top is None or not _top_level(code, header.start()) \
            or re.search(r"\b(?:class|interface|enum|record)\b", top):
        return None
    fields = []
    for piece in re.findall(r"[^;{]*[;{]", top):
        field = _JAVA_FIELD.fullmatch(piece)
        if piece.endswith(";") and field is not None:
            if field["name"] == "serialPersistentFields":
                return None
            if not re.search(r"\b(?:static|transient)\b", field["modifiers"]):
                if field["type"] not in _REPLAYED_FIELD_TYPES or "," in piece:
                    return None
                fields.append(f"    {field['type']} {field['name']};\n")
        elif not (re.fullmatch(r"\s*(?:static\s*)?\{", piece) or _READ_HOOK.fullmatch(piece)
                  or _JAVA_METHOD.fullmatch(piece)
                  or re.fullmatch(rf"\s*(?:(?:public|protected|private)\s+)?{name}\s*\([^)]*\)"
                                  r"\s*(?:throws\s+[\w.,\s]+)?\{", piece)):
            return None
    return (f"{imports}\nclass {name} implements java.io.Serializable {{\n"
            f"    private static final long serialVersionUID = {uid}L;\n" + "".join(fields)
            + "    private void readObject(java.io.ObjectInputStream in)\n"
            "            throws java.io.IOException, ClassNotFoundException {\n"
            f"        in.defaultReadObject();\n        {CALLEE_CLASS}.readBack(this);\n"
            "    }\n}\n")


def serialises_only_replayed(test: str) -> bool:
    """Whether every object of the test's own classes that it could serialise for the
    candidate is of a class lent as a replaying stub: its classes are top-level, each
    with a replaying stub or with no supertype, and it has no anonymous class, no other
    ``Serializable`` type and no ``Externalizable`` one, and reads no serial form itself
    (``new ObjectInputStream``: the candidate's bytes are never read in the trusted JVM)."""
    code = _java_declarations(test)
    replayed = replayed_classes(test)
    for declared in re.finditer(r"\b(class|interface|enum|record)\s+(\w+)([^{]*)\{", code):
        if declared[1] != "class" or not _top_level(code, declared.start()) or (
                declared[3].strip() and replaying_stub(test, declared[2]) is None):
            return False
    return len(re.findall(r"\bSerializable\b", code)) == len(replayed) \
        and not _has_anonymous_class(code) \
        and not re.search(r"\b(?:Externalizable|new\s+ObjectInputStream)\b", code)


@functools.cache
def _serial_uids(test_classes: Path, names: frozenset[str]) -> dict[str, int] | None:
    """The serialVersionUID of each of the test's classes ``names``, compiled in
    ``test_classes`` (the JDK's ``serialver``, which loads them without running them);
    None when it failed."""
    try:
        done = subprocess.run([java_tool("serialver"), "-classpath", str(test_classes),
                               *sorted(names)], capture_output=True, text=True,
                              timeout=STAND_INS_TIMEOUT, check=True, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return None
    uids = {found: int(uid) for found, uid in
            re.findall(r"^(\w+):\s*private static final long serialVersionUID = (-?\d+)L;",
                       done.stdout, re.MULTILINE)}
    return uids if set(uids) == names else None


def uses_stand_ins(test: str) -> bool:
    """Whether a Java test makes objects of :data:`REMOTE_JAVA_TYPES` (files, paths...) or
    sets system properties for the candidate."""
    code = _java_code(test)
    return bool(set(re.findall(r"\b[A-Z]\w*", code)) & _REMOTE_NAMES) \
        or _JAVA_PROPERTY.search(code) is not None


@functools.cache
def _stand_in_sources(java: str) -> tuple[tuple[str, str], ...] | None:
    """(simple name, source) of the stand-ins for :data:`REMOTE_JAVA_TYPES`, written by
    ``franc.FrancRemoteGen`` from this JDK's own classes; None when that failed."""
    classes = cached_classes(java_support_sources("FrancPlain", "FrancRemote", "FrancRemoteGen"),
                             STAND_INS_TIMEOUT, None)
    if classes is None:
        return None
    try:
        done = subprocess.run([java, "-cp", str(classes), "franc.FrancRemoteGen",
                               *REMOTE_JAVA_TYPES, f"java.lang.System={SYSTEM_STAND_IN}",
                               *(f"@{name}" for name in IMPLEMENTED_JAVA_TYPES)],
                              capture_output=True,
                              timeout=STAND_INS_TIMEOUT, check=True, cwd="/")
        return tuple(sorted(json.loads(done.stdout).items()))
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def with_stand_ins(sources: dict[str, str]) -> dict[str, str] | None:
    """``sources`` (the test and the stub, in the unnamed package) with the stand-ins,
    whose simple names shadow the on-demand imports: the qualified names of
    :data:`REMOTE_JAVA_TYPES` and their single-type imports are rewritten to them, and
    ``System.setProperty`` (get, clear) to the candidate's own."""
    stand_ins = _stand_in_sources(java_tool("java"))
    if stand_ins is None:
        return None
    rewritten = {}
    for name, source in sources.items():
        for qualified in REMOTE_JAVA_TYPES + IMPLEMENTED_JAVA_TYPES:
            source = re.sub(rf"^\s*import\s+{re.escape(qualified)}\s*;[ \t]*$", "", source,
                            flags=re.MULTILINE)
            source = re.sub(rf"\b{re.escape(qualified)}\b", qualified.rsplit(".", 1)[1], source)
        rewritten[name] = _JAVA_PROPERTY.sub(rf"{SYSTEM_STAND_IN}.\1", source)
    return rewritten | {f"{name}.java": source for name, source in stand_ins}


def _python_code(code: str) -> str:
    return code if sandbox_capabilities().isolated else PYTHON_GUARD + code


def _trusted_verdict(callee: Callee, checkers: CheckerPool, language: str,
                     job: dict[str, Any], timeout: float) -> dict[str, Any] | ExecResult:
    """A warm trusted checker of ``language`` judges ``job`` against the sandboxed callee:
    its verdict, or the result when the checker timed out or died first."""
    read_fd, write_fd = callee.hand_over()
    try:
        with checkers.lease(language) as checker:
            return checker.run(job, read_fd, write_fd, timeout)
    except TimeoutError:
        return _timeout(timeout, callee.process.elapsed)
    except protocol.ChannelClosed as exc:
        return ExecResult("error", _cap(f"the test runner failed: {exc}"),
                          callee.process.elapsed)


def _check_trusted(task: Task, code: str, test: str, check: str, entry: str,
                   limits: Limits, unsafe: bool, checkers: CheckerPool) -> ExecResult | None:
    """``check`` in a trusted process against the proxied candidate; None when the test
    passes a value with no plain form to the candidate (it must share the process)."""
    job = {"prompt": task.prompt, "test": test, "check": check, "entry": entry}
    with python_callee(_python_code(code), limits, unsafe) as callee:
        verdict = _trusted_verdict(callee, checkers, "python", job, limits.timeout)
        if isinstance(verdict, ExecResult):
            return verdict
        seconds = callee.process.elapsed
        if verdict.get("status") == "shared":
            return None
        if verdict.get("status") == "gone":
            callee.close_channel()
            if seconds >= limits.timeout:  # ended by a limit after its wall clock ran out
                return _timeout(limits.timeout, seconds)
            return _gone(callee, seconds)
    if verdict.get("status") == "passed":
        return ExecResult("passed", "", seconds)
    if verdict.get("status") == "exit":
        return _exit_verdict(str(verdict.get("message", "")), seconds)
    return _raised_verdict(verdict, seconds)


def _check_shared(callee: Callee, request: dict[str, Any], timeout: float) -> ExecResult:
    """Run a shared-process test inside the sandbox; only its outcome comes back."""
    with watchdog(callee.process, timeout) as fired:
        try:
            answer = callee.channel().request(request)
        except (protocol.ChannelClosed, OSError):
            seconds = callee.process.elapsed
            if fired.is_set():
                return _timeout(timeout, seconds)
            callee.close_request()
            return _gone(callee, seconds)
    seconds = callee.process.elapsed
    if "raised" in answer and isinstance(answer["raised"], dict):
        return _raised_verdict(answer["raised"], seconds)
    if "value" in answer:
        return ExecResult("passed", "", seconds)
    return ExecResult("error", _cap(f"unexpected answer {answer}"), seconds)


def run_python(task: Task, code: str, *, timeout: float = DEFAULT_TIMEOUT,
               security: bool = False, cpu_limit: int | None = None,
               unsafe_no_isolation: bool = False,
               checkers: CheckerPool | None = None) -> ExecResult:
    test = _test_of(task, security)
    check = "check_security" if security else "check"
    entry = task.entry_point or ""
    if not entry.isidentifier():
        raise InputError(f"task {task.task_id!r} has no valid entry_point ({entry!r})")
    limits = replace(PYTHON_LIMITS, timeout=timeout, cpu_seconds=cpu_limit)
    with contextlib.ExitStack() as stack:
        pool = checkers or stack.enter_context(CheckerPool())
        verdict = _check_trusted(task, code, test, check, entry, limits,
                                 unsafe_no_isolation, pool)
    if verdict is not None:
        return verdict
    with python_callee(_python_code(code), limits, unsafe_no_isolation) as callee:
        return _check_shared(callee, {"test": test, "check": check, "entry": entry}, timeout)


# --- Java -----------------------------------------------------------------------------------


def prompt_imports(prompt: str) -> str:
    """The ``import`` lines of a Java prompt (FRANC's harness adds them to the test class)."""
    return "".join(line + "\n" for line in prompt.splitlines()
                   if line.strip().startswith("import ") and line.strip().endswith(";"))


def _parameter_names(params: str) -> list[str] | None:
    """The names in a Java parameter list (``List<Map<K, V>> a, int[] b`` -> a, b)."""
    names, depth, current = [], 0, ""
    for char in params + ",":
        depth += char == "<"
        depth -= char == ">"
        if char == "," and depth == 0:
            if current.strip():
                words = current.replace("...", "[] ").split()
                if not words or not words[-1].isidentifier():
                    return None
                names.append(words[-1])
            current = ""
        else:
            current += char
    return names


def java_stub(prompt: str) -> tuple[str, str] | None:
    """(class name, source) of a stand-in for the prompt's class whose static methods
    forward each call to the sandboxed candidate; None when the prompt has no such class."""
    class_name = java_class_name(prompt)
    if class_name is None:
        return None
    methods = _forwarding_methods(prompt, class_name, f"{BRIDGE_CLASS}.call", public=True)
    if not methods:
        return None
    return class_name, (f"{prompt_imports(prompt)}\nclass {class_name} {{\n"
                        + "".join(methods) + "}\n")


def java_sources(task: Task, code: str, security: bool) -> dict[str, str]:
    """File name -> source of the candidate and the test class (a shared-process run)."""
    test_class = "SecurityMain" if security else "Main"
    candidate_file = f"{java_class_name(code) or 'Candidate'}.java"
    if candidate_file == f"{test_class}.java":
        candidate_file = "Candidate.java"
    return {candidate_file: code,
            f"{test_class}.java": prompt_imports(task.prompt) + _test_of(task, security)}


def _compile_failure(compiled: Any, seconds: float = 0.0) -> ExecResult:
    first = compiled.errors[0] if compiled.errors else "javac failed"
    return ExecResult("error", _cap(f"{NOT_COMPILED_WITH_TEST}: {first}"), seconds)


def _bridge_verdict(thrown: str, callee: Callee, seconds: float) -> ExecResult:
    """The verdict from what the trusted JVM's test threw (``Type: message``)."""
    first = next((line for line in thrown.splitlines() if line.strip()), "")
    match = re.match(r"(\S+?)(?::\s*(.*))?$", first)
    if match is None:
        return ExecResult("error", _cap(f"the test runner failed: {first}"), seconds)
    exception, message = match.group(1), match.group(2) or ""
    if exception.endswith("FrancBridge$CandidateGone"):
        if message.startswith("missing method"):
            return ExecResult("error", _cap(f"{NOT_COMPILED_WITH_TEST}: {message}"), seconds)
        return _gone(callee, seconds)
    status: ExecStatus = "failed" if exception in JAVA_FAILURES else "error"
    return ExecResult(status, _cap(f"{exception}: {message}" if message else exception), seconds)


def _java_trusted(test_classes: Path, test_class: str, lent: dict[str, list[str]],
                  classes: Path, class_name: str, limits: Limits, unsafe: bool,
                  checkers: CheckerPool) -> ExecResult:
    """The test's classes in a warm trusted JVM against the sandboxed candidate's JVM
    (``lent``: the test's classes it lends by name, "lent", and as replaying stubs,
    "replayed", whose stubs are in ``classes``)."""
    with java_callee(classes, class_name, limits, unsafe) as callee:
        verdict = _trusted_verdict(callee, checkers, "java",
                                   {"classes": str(test_classes), "test": test_class, **lent},
                                   limits.timeout)
        if isinstance(verdict, ExecResult):
            return verdict
        seconds = callee.process.elapsed
        if verdict.get("passed") is True:
            return ExecResult("passed", "", seconds)
        callee.close_channel()
        return _bridge_verdict(str(verdict.get("thrown", "")), callee, seconds)


def _declared_types(source: str) -> set[str]:
    return set(re.findall(r"\b(?:class|interface|enum|record)\s+(\w+)", source))


def _drop_test_classes(classes: Path, test: str, code: str) -> None:
    """Remove the test's own class files (compiled with the candidate only to check that
    they compile together): the sandboxed candidate never sees its test."""
    for name in _declared_types(test) - _declared_types(code):
        for path in [classes / f"{name}.class", *classes.glob(f"{name}$*.class")]:
            path.unlink(missing_ok=True)


def _lent_class_stubs(test: str, lent: frozenset[str], replayed: frozenset[str], imports: str,
                      test_classes: Path, timeout: float,
                      compiler: JavaCompiler | None) -> Path | None:
    """The compiled stubs of the classes the test lends by name and as replaying stubs (with
    the serialVersionUIDs of its classes in ``test_classes``), with the callee's classes
    they call (compiled once per task); None when they do not compile."""
    uids = _serial_uids(test_classes, replayed) if replayed else {}
    if uids is None:
        return None
    stubs = {f"{name}.java": lent_class_stub(test, name, imports) or "" for name in lent}
    stubs |= {f"{name}.java": replaying_stub(test, name, imports, uids[name]) or ""
              for name in replayed}
    return cached_classes(stubs | java_support_sources("FrancPlain", "FrancRemote", "FrancCallee"),
                          timeout, compiler)


def run_java(task: Task, code: str, *, timeout: float = DEFAULT_TIMEOUT, security: bool = False,
             compiler: JavaCompiler | None = None, cpu_limit: int | None = None,
             unsafe_no_isolation: bool = False,
             checkers: CheckerPool | None = None) -> ExecResult:
    """Compile with the warm ``compiler`` when given (else one javac), run in the sandbox."""
    test_class = "SecurityMain" if security else "Main"
    test = _test_of(task, security)
    limits = replace(JAVA_LIMITS, timeout=timeout, cpu_seconds=cpu_limit)
    stub = java_stub(task.prompt)
    with tempfile.TemporaryDirectory(prefix="franc-javac-") as scratch:
        # Compiled with its test, as a shared run needs and as before the sandbox: a
        # candidate whose signature the test cannot call does not compile with the test.
        classes = Path(scratch) / "classes"
        compiled = compile_candidate(java_sources(task, code, security), classes, timeout,
                                     compiler)
        if not compiled.ok:
            return _compile_failure(compiled)
        if stub is not None and is_plain_test(test, frozenset({stub[0]})):
            # The test's side depends only on the task: compiled once, reused.
            own = {f"{test_class}.java": prompt_imports(task.prompt) + test,
                   f"{stub[0]}.java": stub[1]}
            sides = with_stand_ins(own) if uses_stand_ins(test) else own
            test_classes = None if sides is None else cached_classes(
                sides | java_support_sources("FrancPlain", "FrancRemote", "FrancBridge"),
                timeout, compiler)
            lent, replayed = lent_classes(test), replayed_classes(test)
            lent_stubs = _lent_class_stubs(test, lent, replayed, prompt_imports(task.prompt),
                                           test_classes, timeout, compiler) \
                if (lent or replayed) and test_classes is not None else None
            if test_classes is not None and (lent_stubs is not None or not lent | replayed):
                _drop_test_classes(classes, test, code)
                if lent_stubs is not None:
                    shutil.copytree(lent_stubs, classes, dirs_exist_ok=True)
                with contextlib.ExitStack() as stack:
                    pool = checkers or stack.enter_context(CheckerPool())
                    return _java_trusted(test_classes, test_class,
                                         {"lent": sorted(lent), "replayed": sorted(replayed)},
                                         classes, stub[0], limits, unsafe_no_isolation, pool)
        class_name = java_class_name(code) or "Candidate"
        with java_callee(classes, class_name, limits, unsafe_no_isolation) as callee:
            verdict = _check_shared(callee, {"test": test_class}, timeout)
    if verdict.status == "error" and verdict.reason.startswith(("java.lang.Exception",
                                                                "java.lang.AssertionError")):
        return replace(verdict, status="failed")
    return verdict


def run_candidate(task: Task, code: str, *, language: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, security: bool = False,
                  compiler: JavaCompiler | None = None, cpu_limit: int | None = None,
                  unsafe_no_isolation: bool = False,
                  checkers: CheckerPool | None = None) -> ExecResult:
    """Run ``code`` against ``task``'s test (or its security test) in the sandbox.

    ``timeout``: wall-clock seconds. ``cpu_limit``: CPU seconds per process (default:
    the timeout); a tighter CPU limit makes endless loops cheap on a loaded machine.
    ``checkers``: warm trusted checkers to reuse (else one is started here).
    Without isolation on this machine it raises
    :class:`~franc.evaluation.sandbox.SandboxUnavailable` unless ``unsafe_no_isolation``.
    """
    language = check_language(language or task.language)
    require_isolation(unsafe_no_isolation)
    if language == "python":
        return run_python(task, code, timeout=timeout, security=security, cpu_limit=cpu_limit,
                          unsafe_no_isolation=unsafe_no_isolation, checkers=checkers)
    return run_java(task, code, timeout=timeout, security=security, compiler=compiler,
                    cpu_limit=cpu_limit, unsafe_no_isolation=unsafe_no_isolation,
                    checkers=checkers)
