"""A warm, thread-safe javac: JVM workers running FrancJavac.java, one compilation task per unit.

Starting javac costs ~1-2 s per snippet; a warm JVM checks a unit in a few ms. Each unit
is compiled as its own task (a syntax error in one unit must not hide another's verdict) with
annotation processing off (``-proc:none``: processors would run code). A check reuses javac's
context (the JDK's symbol tables) between units and stops after flow analysis; compiling into
a directory (for running tests) is a full, fresh compile. The helper is built with
``javac`` on first use into ``~/.cache/franc/java/<hash>/`` (atomic rename, so concurrent first
uses are safe) and driven over stdin/stdout with length-prefixed UTF-8 strings.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import selectors
import shutil
import struct
import subprocess
import tempfile
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from franc.errors import ToolMissingError
from franc.java.syntax import java_class_name, syntax_errors
from franc.models import CompileResult

HELPER_SOURCE = Path(__file__).with_name("FrancJavac.java")
HELPER_CLASS = "FrancJavac"
INSTALL_HINT = "install a JDK 17+: apt-get install default-jdk-headless"
# The helper reuses javac's contexts through JavacTaskPool, which jdk.compiler does not export.
EXPORTS = ("--add-exports", "jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED")
# Deep nesting needs a big stack; a JVM that runs out of memory exits and is restarted.
# Only the C1 JIT (TieredStopAtLevel=1): javac's hot paths keep changing with each unit's
# code, so C2 kept recompiling them on the other core for thousands of units; C1 alone
# halved the JVM's CPU per unit (~3.8 vs ~8.8 ms over the first 1,000 units, ~1 vs ~2-3.5 ms
# after) with the same verdicts on 11,170 real units.
JVM_OPTIONS = ("-Xss64m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
               "-XX:TieredStopAtLevel=1", *EXPORTS)
DEFAULT_TIMEOUT = 20.0
#: How every message that says javac could not judge the code starts (a time-out, a dead
#: JVM, FrancJavac.java's "javac crashed"); javac's own diagnostics start with the file.
TOOL_FAILURE_PREFIX = "javac "


def is_tool_failure(error: str) -> bool:
    """Whether ``error`` says the compiler failed rather than the code (try it again)."""
    return error.startswith(TOOL_FAILURE_PREFIX)
# A JVM start plus javac's warm-up compile; generous because the machine may be loaded.
STARTUP_TIMEOUT = 180.0
READY = 0x4652414E  # FrancJavac.READY
MAX_UNIT_CHARS = 1_000_000
DEFAULT_FILE_STEM = "Unit"


def cache_root() -> Path:
    """``$FRANC_CACHE_DIR`` or ``$XDG_CACHE_HOME/franc`` or ``~/.cache/franc``, then ``java/``."""
    explicit = os.environ.get("FRANC_CACHE_DIR")
    if explicit:
        return Path(explicit) / "java"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "franc" / "java"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"'{name}' not found on PATH; {INSTALL_HINT}")
    return path


def build_helper(root: Path | None = None) -> Path:
    """Compile FrancJavac.java once per source version and JDK; return its class directory."""
    javac = _tool("javac")
    source = HELPER_SOURCE.read_bytes()
    key = hashlib.sha256(source + os.path.realpath(javac).encode()).hexdigest()[:16]
    root = root or cache_root()
    target = root / key
    if (target / f"{HELPER_CLASS}.class").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        done = subprocess.run(
            [javac, "-proc:none", *EXPORTS, "-d", str(staging), str(HELPER_SOURCE)],
            capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ToolMissingError(f"cannot build the javac helper: {done.stderr.strip()}")
        (staging / "empty").mkdir()
        try:
            staging.rename(target)  # atomic: the first concurrent builder wins
        except OSError:
            if not (target / f"{HELPER_CLASS}.class").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def unit_file_name(code: str) -> str:
    """javac needs a public class in a file of its name; other units may use any name."""
    return f"{java_class_name(code) or DEFAULT_FILE_STEM}.java"


def _unit_problem(code: str, name: str) -> str | None:
    """Why ``code`` cannot be handed to javac at all (too long, not encodable text), or None."""
    if len(code) > MAX_UNIT_CHARS:
        return f"{name}: error: unit longer than {MAX_UNIT_CHARS} characters"
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = code.count("\n", 0, exc.start) + 1
        return f"{name}:{line}: error: not valid Unicode text (undecodable byte or lone surrogate)"
    return None


def _pack(text: str) -> bytes:
    data = text.encode("utf-8", "replace")
    return struct.pack(">i", len(data)) + data


class _HelperDied(Exception):
    pass


class _HelperTimedOut(Exception):
    pass


class _JavacProcess:
    """One JVM running FrancJavac; used by one thread at a time."""

    def __init__(self, helper_dir: Path, java: str, fresh_tasks: bool = False):
        self._command = [java, *JVM_OPTIONS, f"-Dfranc.javac.fresh={str(fresh_tasks).lower()}",
                         "-cp", str(helper_dir), HELPER_CLASS, str(helper_dir / "empty")]
        self._cwd = helper_dir / "empty"
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        """The running JVM, started (and waited for until warm) when needed."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, cwd=self._cwd)
            assert self._proc.stdout is not None
            try:
                with _Reader(self._proc.stdout.fileno(), STARTUP_TIMEOUT) as reader:
                    (ready,) = struct.unpack(">i", reader.read(4))
            except _HelperTimedOut as exc:
                raise _HelperDied from exc
            if ready != READY:
                raise _HelperDied
        return self._proc

    def compile(self, outdir: str, files: Sequence[tuple[str, str]],
                timeout: float) -> CompileResult:
        """Compile ``files`` as one task; restart the JVM once if it was found dead."""
        for attempt in (1, 2):
            try:
                return self._request(outdir, files, timeout)
            except _HelperTimedOut:
                self.stop()
                return CompileResult(False, [f"{TOOL_FAILURE_PREFIX}timed out after {timeout:g} s"])
            except _HelperDied:
                self.stop()
                if attempt == 2:
                    return CompileResult(
                        False, [f"{TOOL_FAILURE_PREFIX}helper JVM died or did not start"])
        raise AssertionError("unreachable")

    def _request(self, outdir: str, files: Sequence[tuple[str, str]],
                 timeout: float) -> CompileResult:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        payload = [_pack(outdir), struct.pack(">i", len(files))]
        for name, source in files:
            payload += [_pack(name), _pack(source)]
        try:
            proc.stdin.write(b"".join(payload))
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _HelperDied from exc
        with _Reader(proc.stdout.fileno(), timeout) as reader:
            ok, count = struct.unpack(">ii", reader.read(8))
            errors = []
            for _ in range(count):
                (length,) = struct.unpack(">i", reader.read(4))
                errors.append(reader.read(length).decode("utf-8", "replace"))
        return CompileResult(bool(ok), errors)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # the helper exits on end of input
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None


class _Reader:
    """Exact reads from a pipe; each wait for data is bounded by ``timeout``."""

    def __init__(self, fd: int, timeout: float):
        self._fd = fd
        self._timeout = timeout
        self._selector = selectors.DefaultSelector()
        self._selector.register(fd, selectors.EVENT_READ)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._selector.close()

    def read(self, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            if not self._selector.select(self._timeout):
                raise _HelperTimedOut
            chunk = os.read(self._fd, remaining)
            if not chunk:
                raise _HelperDied
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


def _stop_all(processes: Iterable[_JavacProcess]) -> None:
    for process in processes:
        process.stop()


class JavaCompiler:
    """Warm javac for many units; thread-safe; restarts a dead JVM; close() stops every JVM.

    ``workers`` JVMs compile in parallel (default: 2, the machine's cores). Units that
    tree-sitter cannot parse are rejected without the JVM when ``prefilter`` is on.
    A check reuses javac's context and stops after flow analysis; ``fresh_tasks`` makes
    every check a fresh full compile instead (the old, slower way: benchmarks compare them).
    """

    def __init__(self, *, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 prefilter: bool = True, cache_dir: Path | None = None,
                 fresh_tasks: bool = False):
        self._java = _tool("java")
        self._helper_dir = build_helper(cache_dir)
        self.workers = max(1, workers or min(2, os.cpu_count() or 1))
        self.timeout = timeout
        self.prefilter = prefilter
        self._processes = [_JavacProcess(self._helper_dir, self._java, fresh_tasks)
                           for _ in range(self.workers)]
        self._idle: queue.Queue[_JavacProcess] = queue.Queue()
        for process in self._processes:
            self._idle.put(process)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="franc-javac")
        self._finalizer = weakref.finalize(self, _stop_all, list(self._processes))
        self._closed = False

    def __enter__(self) -> JavaCompiler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True)
            self._finalizer()

    def check(self, units: Sequence[str]) -> list[CompileResult]:
        """Compile each unit on its own (class files kept in memory and dropped)."""
        self._ensure_open()
        return list(self._pool.map(self._check_one, units)) if units else []

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("JavaCompiler is closed")

    def compile_to_dir(self, sources: Mapping[str, str], outdir: str | Path) -> CompileResult:
        """Compile ``sources`` (file name or class name -> code) together into ``outdir``."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        files = [(name if name.endswith(".java") else f"{name}.java", code)
                 for name, code in sources.items()]
        self._ensure_open()
        for name, code in files:
            problem = _unit_problem(code, name)
            if problem:
                return CompileResult(False, [problem])
        return self._pool.submit(self._run, str(out.resolve()), files).result()

    def _check_one(self, code: str) -> CompileResult:
        problem = _unit_problem(code, DEFAULT_FILE_STEM + ".java")
        if problem:
            return CompileResult(False, [problem])
        name = unit_file_name(code)
        if self.prefilter:
            errors = syntax_errors(code, name)
            if errors:
                return CompileResult(False, errors)
        return self._run("", [(name, code)])

    def _run(self, outdir: str, files: Sequence[tuple[str, str]]) -> CompileResult:
        self._ensure_open()
        process = self._idle.get()
        try:
            return process.compile(outdir, files, self.timeout)
        finally:
            self._idle.put(process)

    def jvm_pids(self) -> list[int]:
        """Process ids of the running JVMs (for tests and diagnostics)."""
        return [pid for pid in (p.pid for p in self._processes) if pid is not None]


def compile_fresh(sources: Mapping[str, str], outdir: str | Path, *, timeout: float = 60.0,
                  options: Sequence[str] = ()) -> CompileResult:
    """One fresh ``javac -proc:none`` run compiling ``sources`` (file name, possibly with a
    package directory, -> code) together into ``outdir``: the single entry point for every
    full compile outside the warm pool (tests to run, analyzers that need class files)."""
    javac = _tool("javac")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="franc-javac-src-") as scratch:
        paths = []
        for name, code in sources.items():
            file_name = name if name.endswith(".java") else f"{name}.java"
            problem = _unit_problem(code, file_name)
            if problem:
                return CompileResult(False, [problem])
            path = Path(scratch) / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code, encoding="utf-8")
            paths.append(str(path))
        try:
            done = subprocess.run([javac, "-proc:none", "-nowarn", "-encoding", "UTF-8",
                                   *options, "-d", str(out), *sorted(paths)],
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return CompileResult(False, [f"{TOOL_FAILURE_PREFIX}timed out"])
    errors = [line.replace(scratch + os.sep, "") for line in done.stderr.splitlines()
              if ": error:" in line]
    return CompileResult(done.returncode == 0, errors or done.stderr.splitlines()[:3])
