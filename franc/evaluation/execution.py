"""Run one candidate against its task's tests in the sandbox: passed, failed, error or timeout.

Python (HumanEval format): the program is the candidate (which already holds the
prompt after the static filter), the task's ``test`` (``def check(candidate)``) and
``check(<entry_point>)``; with ``security=True`` the ``security_test`` and
``check_security(<entry_point>)`` instead.
Java (HumanEval-Java format): the candidate's class and the test's ``class Main``
(``class SecurityMain`` for the security test), with the prompt's imports added to
the test as FRANC's harness does, are compiled together (``-proc:none``) and run.

A program only passes when it exits with 0 *and* prints a random nonce that the
harness writes after the checks return, so a candidate that calls ``sys.exit(0)``
or ``System.exit(0)`` before the checks finish does not pass.
"""

from __future__ import annotations

import functools
import re
import secrets
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from franc.errors import InputError, ToolMissingError
from franc.evaluation.sandbox import Limits, SandboxResult, run_sandboxed, sandbox_capabilities
from franc.filter.base import CompileResult
from franc.java import JavaCompiler, java_class_name
from franc.models import ExecStatus, Task, check_language

REASON_CHARS = 300
DEFAULT_TIMEOUT = 10.0
PYTHON_LIMITS = Limits()
# The JVM reserves address space far beyond what it uses (heap, code cache, class
# space): a 512 MB heap with trimmed reservations fits in 2 GB; GC and JIT need threads.
JAVA_LIMITS = Limits(memory_bytes=3 * 1024**3, processes=256)
JVM_OPTIONS = ("-Xmx512m", "-Xss16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-XX:-UsePerfData", "-XX:ReservedCodeCacheSize=64m",
               "-XX:MaxMetaspaceSize=256m", "-XX:CompressedClassSpaceSize=128m")
HARNESS_CLASS = "FrancHarness"
WALL_CLOCK_TIMEOUT = "no result within"
KILLING_SIGNALS = frozenset({signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ, signal.SIGSEGV,
                             signal.SIGABRT, signal.SIGBUS, signal.SIGTERM, signal.SIGFPE,
                             signal.SIGILL})
JAVA_FAILURES = ("java.lang.Exception", "java.lang.AssertionError")

#: Where the sandbox cannot drop privileges, the child disables the destructive
#: calls first (after OpenAI human-eval's reliability_guard); os.write stays for the nonce.
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


def _signal_of(returncode: int | None) -> int | None:
    """The signal that ended the program: negative code, or 128 + n from the namespace's shell."""
    if returncode is None:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    return number if number in KILLING_SIGNALS else None


def _signal_reason(number: int) -> str:
    name = signal.Signals(number).name
    hint = {"SIGXFSZ": " (file size limit)", "SIGXCPU": " (CPU limit)",
            "SIGKILL": " (memory or process limit)"}.get(name, "")
    return f"killed by {name}{hint}"


def _common_outcome(result: SandboxResult, nonce: str, timeout: float) -> ExecResult | None:
    """The verdicts that do not depend on the language."""
    if result.timed_out:
        return ExecResult("timeout", f"{WALL_CLOCK_TIMEOUT} {timeout:g} s", result.seconds)
    killed_by = _signal_of(result.returncode)
    if killed_by == signal.SIGXCPU:
        return ExecResult("timeout", "CPU time limit reached", result.seconds)
    if result.returncode == 0 and nonce in result.stdout[-len(nonce) - 64:]:
        return ExecResult("passed", "", result.seconds)
    if result.returncode == 0:
        return ExecResult("failed", "exited with 0 before the tests finished", result.seconds)
    if killed_by is not None:
        return ExecResult("error", _signal_reason(killed_by), result.seconds)
    return None


def _python_outcome(result: SandboxResult, nonce: str, timeout: float) -> ExecResult:
    common = _common_outcome(result, nonce, timeout)
    if common is not None:
        return common
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if "Traceback (most recent call last):" in result.stderr or (
            lines and re.match(r"\s*\w+(Error|Exception)\b", lines[-1])):
        last = lines[-1].strip()
        exception = last.split(":", 1)[0]
        if exception == "AssertionError":
            source = [line.strip() for line in lines[:-1] if line.startswith("    ")
                      and not line.strip().startswith(("^", "~"))]
            where = f" at {source[-1]}" if source else ""
            return ExecResult("failed", _cap(last + where), result.seconds)
        return ExecResult("error", _cap(last), result.seconds)
    return ExecResult("failed", _cap(f"exit code {result.returncode}"), result.seconds)


@functools.cache
def _site_packages() -> list[str]:
    return [*site.getsitepackages(), site.getusersitepackages()]


def _python_program(task: Task, code: str, security: bool, nonce: str) -> str:
    check = "check_security" if security else "check"
    entry = task.entry_point or ""
    if not entry.isidentifier():
        raise InputError(f"task {task.task_id!r} has no valid entry_point ({entry!r})")
    guard = "" if sandbox_capabilities().isolated else PYTHON_GUARD
    paths = f"import sys\nsys.path.extend({_site_packages()!r})\ndel sys\n"
    return (f"{paths}{guard}{code}\n\n{_test_of(task, security)}\n\n{check}({entry})\n"
            f"__import__('os').write(1, b'\\n{nonce}\\n')\n")


def run_python(task: Task, code: str, *, timeout: float = DEFAULT_TIMEOUT,
               security: bool = False, cpu_limit: int | None = None) -> ExecResult:
    nonce = secrets.token_hex(16)
    program = _python_program(task, code, security, nonce)
    # -S: no site (its .pth hooks cost 3x the start-up); the program adds site-packages itself.
    result = run_sandboxed([sys.executable, "-I", "-S", "-B", "program.py"],
                           {"program.py": program},
                           limits=replace(PYTHON_LIMITS, timeout=timeout, cpu_seconds=cpu_limit))
    return _python_outcome(result, nonce, timeout)


def prompt_imports(prompt: str) -> str:
    """The ``import`` lines of a Java prompt (FRANC's harness adds them to the test class)."""
    return "".join(line + "\n" for line in prompt.splitlines()
                   if line.strip().startswith("import ") and line.strip().endswith(";"))


def java_sources(task: Task, code: str, security: bool, nonce: str) -> dict[str, str]:
    """File name -> source of the candidate, the test class and the nonce-printing harness."""
    test_class = "SecurityMain" if security else "Main"
    candidate_file = f"{java_class_name(code) or 'Candidate'}.java"
    if candidate_file in (f"{test_class}.java", f"{HARNESS_CLASS}.java"):
        candidate_file = "Candidate.java"
    harness = (f"public class {HARNESS_CLASS} {{\n"
               f"    public static void main(String[] args) throws Throwable {{\n"
               f"        {test_class}.main(args);\n"
               f"        System.out.flush();\n"
               f"        System.out.print(\"\\n{nonce}\\n\");\n"
               f"        System.out.flush();\n"
               f"        System.exit(0);\n"
               f"    }}\n}}\n")
    return {candidate_file: code,
            f"{test_class}.java": prompt_imports(task.prompt) + _test_of(task, security),
            f"{HARNESS_CLASS}.java": harness}


def _javac_subprocess(sources: dict[str, str], outdir: Path, timeout: float) -> CompileResult:
    """One ``javac`` per candidate: the fallback when no warm compiler is given."""
    javac = shutil.which("javac")
    if javac is None:
        raise ToolMissingError("'javac' not found on PATH; install a JDK 17+")
    srcdir = outdir / "src"
    srcdir.mkdir(parents=True)
    for name, source in sources.items():
        (srcdir / name).write_text(source, encoding="utf-8")
    try:
        done = subprocess.run([javac, "-proc:none", "-nowarn", "-encoding", "UTF-8", "-d",
                               str(outdir), *sorted(str(p) for p in srcdir.iterdir())],
                              capture_output=True, text=True, timeout=timeout * 3, check=False)
    except subprocess.TimeoutExpired:
        return CompileResult(False, ["javac timed out"])
    finally:
        shutil.rmtree(srcdir)
    errors = [line for line in done.stderr.splitlines() if ": error:" in line]
    return CompileResult(done.returncode == 0, errors or done.stderr.splitlines()[:3])


def _java_outcome(result: SandboxResult, nonce: str, timeout: float) -> ExecResult:
    common = _common_outcome(result, nonce, timeout)
    if common is not None:
        return common
    match = re.search(r'Exception in thread "main" (\S+?)(?::\s*(.*))?$', result.stderr,
                      re.MULTILINE)
    if match:
        exception, message = match.group(1), match.group(2) or ""
        status: ExecStatus = "failed" if exception in JAVA_FAILURES else "error"
        return ExecResult(status, _cap(f"{exception}: {message}" if message else exception),
                          result.seconds)
    first = next((line for line in result.stderr.splitlines() if line.strip()), "")
    return ExecResult("failed", _cap(f"exit code {result.returncode} {first}"), result.seconds)


def run_java(task: Task, code: str, *, timeout: float = DEFAULT_TIMEOUT, security: bool = False,
             compiler: JavaCompiler | None = None, cpu_limit: int | None = None) -> ExecResult:
    """Compile with the warm ``compiler`` when given (else one javac), run in the sandbox."""
    nonce = secrets.token_hex(16)
    sources = java_sources(task, code, security, nonce)
    with tempfile.TemporaryDirectory(prefix="franc-javac-") as classes:
        outdir = Path(classes) / "classes"
        if compiler is not None:
            compiled = compiler.compile_to_dir(sources, outdir)
        else:
            compiled = _javac_subprocess(sources, outdir, timeout)
        if not compiled.ok:
            first = compiled.errors[0] if compiled.errors else "javac failed"
            return ExecResult("error", _cap(f"does not compile with the test: {first}"), 0.0)
        java = shutil.which("java")
        if java is None:
            raise ToolMissingError("'java' not found on PATH; install a JDK 17+")
        result = run_sandboxed([java, *JVM_OPTIONS, "-cp", ".", HARNESS_CLASS], {},
                               limits=replace(JAVA_LIMITS, timeout=timeout, cpu_seconds=cpu_limit),
                               prepare=outdir)
    return _java_outcome(result, nonce, timeout)


def run_candidate(task: Task, code: str, *, language: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, security: bool = False,
                  compiler: JavaCompiler | None = None, cpu_limit: int | None = None
                  ) -> ExecResult:
    """Run ``code`` against ``task``'s test (or its security test) in the sandbox.

    ``timeout``: wall-clock seconds. ``cpu_limit``: CPU seconds per process (default:
    the timeout); a tighter CPU limit makes endless loops cheap on a loaded machine.
    """
    language = check_language(language or task.language)
    if language == "python":
        return run_python(task, code, timeout=timeout, security=security, cpu_limit=cpu_limit)
    return run_java(task, code, timeout=timeout, security=security, compiler=compiler,
                    cpu_limit=cpu_limit)
