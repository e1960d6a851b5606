"""Run one untrusted program in isolation: the only place FRANC executes candidate code.

Each run gets a fresh temporary directory, a wall-clock timeout, resource limits
(CPU, memory, file size, processes, open files), a scrubbed environment, closed
stdin, its own session, and capped output. Where the machine allows it (root with
util-linux ``unshare``/``setpriv``), the program also runs in an empty network
namespace (no network, not even 127.0.0.1) and a PID namespace (the kernel kills
whatever it leaves behind when it exits) under a uid of its own, so that nothing
outside its directory is writable (without a PID namespace every process of that
uid is killed after the run). Elsewhere :func:`sandbox_capabilities`
says what is missing, a warning is logged once, and callers add an in-process
guard (see ``franc.evaluation.execution``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Runs get uid ``UID_BASE + <native thread id>``: unique among concurrent runs of
#: all processes (thread ids share the pid space), so RLIMIT_NPROC is a per-run
#: limit and "kill every process of this uid" touches only this run's leftovers.
UID_BASE = 1_000_000
#: Bytes kept from the start and from the end of stdout / stderr each.
HEAD_BYTES = 32 * 1024
TAIL_BYTES = 4 * 1024
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
PIDNS_OPTIONS = ("--pid", "--fork", "--kill-child")
KILLING_SIGNALS = frozenset({signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ, signal.SIGSEGV,
                             signal.SIGABRT, signal.SIGBUS, signal.SIGTERM, signal.SIGFPE,
                             signal.SIGILL})


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run (per process, except ``processes``: per run)."""

    timeout: float = 10.0
    #: CPU seconds per process; None: the timeout's (a loop then dies by the wall clock).
    cpu_seconds: int | None = None
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 64
    open_files: int = 256


@dataclass(frozen=True)
class SandboxCapabilities:
    """What isolation this machine allows beyond rlimits and a fresh directory."""

    netns: bool
    #: A PID namespace: when the program exits, the kernel kills all it left behind.
    pidns: bool
    uid: bool
    #: The interpreter is unreachable for an unprivileged uid (e.g. under /root):
    #: the uid keeps CAP_DAC_READ_SEARCH (read anything, write nothing).
    read_all: bool
    unshare: str | None
    setpriv: str | None
    prlimit: str | None
    kill: str | None

    @property
    def isolated(self) -> bool:
        return self.netns and self.uid

    def describe(self) -> str:
        parts = [f"network namespace: {'yes' if self.netns else 'no'}",
                 f"PID namespace: {'yes' if self.pidns else 'no'}",
                 f"unprivileged uid: {'yes' if self.uid else 'no'}"]
        if self.read_all:
            parts.append("uid keeps CAP_DAC_READ_SEARCH to reach the interpreter")
        return "; ".join(parts)


@dataclass(frozen=True)
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float


def _probe(argv: Sequence[str]) -> bool:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                              cwd="/", env={"PATH": SAFE_PATH}, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _namespace_init() -> list[str]:
    """The first process in the new namespaces: brings up ``lo``, runs the program, and
    exits with its status (128 + signal number when a signal killed it).

    Tests may start their own server on 127.0.0.1 (SOEval's HTTP tasks); the
    namespace still has no route anywhere else. The shell waits instead of exec'ing
    because ``unshare --fork`` turns a child's death by signal into exit code 1.
    """
    ip = shutil.which("ip", path="/usr/sbin:/sbin:" + SAFE_PATH)
    loopback = f"{ip} link set lo up 2>/dev/null; " if ip else ""
    return ["/bin/sh", "-c", f'{loopback}"$@"; exit $?', "sh"]


def _uid_prefix(uid: int, read_all: bool, setpriv: str) -> list[str]:
    prefix = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    if read_all:
        prefix += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return [*prefix, "--"]


@functools.cache
def sandbox_capabilities() -> SandboxCapabilities:
    """Detect once per process which isolation works here (and warn once if some does not)."""
    unshare = shutil.which("unshare", path=SAFE_PATH)
    setpriv = shutil.which("setpriv", path=SAFE_PATH)
    kill = shutil.which("kill", path=SAFE_PATH)
    netns = bool(unshare) and os.geteuid() == 0 and _probe([unshare, "--net", "--", "true"])
    pidns = netns and _probe([unshare, *PIDNS_OPTIONS, "--", "true"])  # type: ignore[list-item]
    uid = read_all = False
    if setpriv and kill and os.geteuid() == 0:
        probe_uid = UID_BASE + threading.get_native_id()
        check = [sys.executable, "-I", "-c", "pass"]
        uid = _probe([*_uid_prefix(probe_uid, False, setpriv), *check])
        if not uid:
            read_all = uid = _probe([*_uid_prefix(probe_uid, True, setpriv), *check])
    caps = SandboxCapabilities(netns=netns, pidns=pidns, uid=uid, read_all=read_all,
                               unshare=unshare, setpriv=setpriv, kill=kill,
                               prlimit=shutil.which("prlimit", path=SAFE_PATH))
    if not caps.isolated:
        log.warning("sandbox: weaker isolation on this machine (%s); falling back to resource "
                    "limits plus an in-process guard against destructive calls", caps.describe())
    return caps


def _rlimits(limits: Limits) -> tuple[tuple[int, str, int], ...]:
    """(resource, prlimit option, soft limit) of every limit a run gets."""
    cpu = limits.cpu_seconds if limits.cpu_seconds is not None else int(limits.timeout) + 2
    return ((resource.RLIMIT_CPU, "cpu", cpu),
            (resource.RLIMIT_AS, "as", limits.memory_bytes),
            (resource.RLIMIT_FSIZE, "fsize", limits.file_bytes),
            (resource.RLIMIT_NPROC, "nproc", limits.processes),
            (resource.RLIMIT_NOFILE, "nofile", limits.open_files),
            (resource.RLIMIT_CORE, "core", 0))


def _hard(which: int, soft: int) -> int:
    # CPU: SIGXCPU at the soft limit tells "too slow" apart from SIGKILL (memory, ...).
    return soft + 1 if which == resource.RLIMIT_CPU else soft


def _limit_child(limits: Limits) -> None:
    """Fallback without prlimit(1): set the limits between fork and exec (not thread-safe)."""
    for which, _, soft in _rlimits(limits):
        resource.setrlimit(which, (soft, _hard(which, soft)))


def _read_capped(path: Path) -> str:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size <= HEAD_BYTES + TAIL_BYTES:
            data = handle.read()
        else:
            head = handle.read(HEAD_BYTES)
            handle.seek(size - TAIL_BYTES)
            data = head + f"\n[... {size - HEAD_BYTES - TAIL_BYTES} bytes cut ...]\n".encode() \
                + handle.read()
    return data.decode("utf-8", errors="replace")


def _kill_uid(uid: int, caps: SandboxCapabilities) -> None:
    """Kill every process owned by ``uid``: a run's leftovers, even those outside its session.

    ``kill -9 -1`` run as that uid reaches exactly the processes the uid may signal,
    its own; twice, because a fork bomb may spawn while the signal is delivered.
    """
    assert caps.setpriv and caps.kill
    command = [*_uid_prefix(uid, False, caps.setpriv), caps.kill, "-9", "-1"]
    for _ in range(2):
        subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, cwd="/",
                       env={"PATH": SAFE_PATH}, check=False)


def signal_of(returncode: int | None) -> int | None:
    """The signal that ended the program: negative code, or 128 + n from the namespace's shell."""
    if returncode is None:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    return number if number in KILLING_SIGNALS else None


def signal_reason(number: int) -> str:
    name = signal.Signals(number).name
    hint = {"SIGXFSZ": " (file size limit)", "SIGXCPU": " (CPU limit)",
            "SIGKILL": " (memory or process limit)"}.get(name, "")
    return f"killed by {name}{hint}"


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class SandboxedProcess:
    """A running sandboxed program; ``proc.stdin`` / ``proc.stdout`` are what the caller gave."""

    proc: subprocess.Popen[bytes]
    limits: Limits
    started: float
    stderr_path: Path
    stdout_path: Path | None
    timed_out: bool = False

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit status; None (and ``timed_out``) when ``timeout`` passed first."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            return None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def result(self) -> SandboxResult:
        return SandboxResult(
            returncode=None if self.timed_out else self.proc.returncode,
            stdout=_read_capped(self.stdout_path) if self.stdout_path else "",
            stderr=_read_capped(self.stderr_path), timed_out=self.timed_out,
            seconds=time.perf_counter() - self.started)


@contextlib.contextmanager
def sandboxed_process(argv: Sequence[str], files: Mapping[str, str | bytes], *,
                      limits: Limits = Limits(), env: Mapping[str, str] | None = None,
                      prepare: Path | None = None, stdin: int | None = None,
                      stdout: int | None = None) -> Iterator[SandboxedProcess]:
    """Start ``argv`` isolated in a fresh directory holding ``files`` (after copying
    ``prepare``'s contents); ``stdin`` / ``stdout``: descriptors to give it (else
    /dev/null and a capped capture file). On exit every process of the run is killed
    and the directory removed; the caller waits for the status it needs first."""
    caps = sandbox_capabilities()
    uid = UID_BASE + threading.get_native_id()
    with tempfile.TemporaryDirectory(prefix="franc-run-") as private:
        os.chmod(private, 0o711)  # the run's uid may pass through, not list or write
        workdir = Path(private) / "work"
        if prepare is not None:
            shutil.copytree(prepare, workdir)
        else:
            workdir.mkdir()
        for name, content in files.items():
            target = workdir / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if caps.uid:
            for path in (workdir, *workdir.rglob("*")):
                os.chown(path, uid, uid)
        child_env = {"PATH": SAFE_PATH, "HOME": str(workdir), "TMPDIR": str(workdir),
                     "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env or {})}
        command = list(argv)
        if caps.uid and caps.setpriv:
            command = _uid_prefix(uid, caps.read_all, caps.setpriv) + command
        if caps.prlimit:
            command = [caps.prlimit, *(f"--{option}={soft}:{_hard(which, soft)}"
                                       for which, option, soft in _rlimits(limits)),
                       "--", *command]
        if caps.netns and caps.unshare:
            command = [caps.unshare, "--net", *(PIDNS_OPTIONS if caps.pidns else ()), "--",
                       *_namespace_init(), *command]
        err_path = Path(private) / "stderr"
        out_path = Path(private) / "stdout" if stdout is None else None
        with open(err_path, "wb") as err, \
                (open(out_path, "wb") if out_path else contextlib.nullcontext()) as out:
            proc = subprocess.Popen(command, cwd=workdir, env=child_env,
                                    stdin=subprocess.DEVNULL if stdin is None else stdin,
                                    stdout=out if stdout is None else stdout, stderr=err,
                                    start_new_session=True,
                                    preexec_fn=None if caps.prlimit
                                    else functools.partial(_limit_child, limits))
        running = SandboxedProcess(proc, limits, time.perf_counter(), err_path, out_path)
        try:
            yield running
        finally:
            _kill_group(proc.pid)
            if caps.uid and not caps.pidns:
                _kill_uid(uid, caps)
            proc.wait()


def run_sandboxed(argv: Sequence[str], files: Mapping[str, str | bytes], *,
                  limits: Limits = Limits(), env: Mapping[str, str] | None = None,
                  prepare: Path | None = None) -> SandboxResult:
    """Write ``files`` into a fresh directory and run ``argv`` there, isolated.

    ``prepare``: an existing directory whose contents are copied in first (e.g.
    compiled classes). ``env`` adds to the scrubbed environment. The directory and
    every process the run started are gone when this returns.
    """
    with sandboxed_process(argv, files, limits=limits, env=env, prepare=prepare) as running:
        running.wait(limits.timeout)
        _kill_group(running.proc.pid)
        running.proc.wait()
        return running.result()
