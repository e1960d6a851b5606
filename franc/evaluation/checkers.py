"""Warm trusted checkers: processes that run tests' assertions against proxied candidates.

Starting a Python (or a JVM) per test run costs as much as the run itself, so each
labelling worker leases a long-lived checker process and hands it, per job, the two
ends of a sandboxed candidate's channel: a ``protocol.py checker`` for Python tests
(descriptors over ``SCM_RIGHTS``), a ``franc.FrancChecker`` JVM for Java tests. A
checker runs no candidate code; one that overruns its job's time is killed, never reused.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from franc.errors import ToolMissingError
from franc.evaluation import protocol
from franc.evaluation.calls import JVM_OPTIONS, cached_classes, java_support_sources, java_tool

PROTOCOL_FILE = protocol.__file__
CHECKER_CLASS = "franc.FrancChecker"
#: Seconds to compile the checker's classes the first time (then cached).
CHECKER_COMPILE_TIMEOUT = 60.0


class Checker:
    """One warm Python checker process (``protocol.py checker``)."""

    def __init__(self) -> None:
        self.sock, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                self.command(), stdin=theirs.fileno(), stdout=theirs.fileno(),
                stderr=subprocess.DEVNULL, start_new_session=True, cwd="/")
        finally:
            theirs.close()

    def command(self) -> list[str]:
        return [os.path.realpath(sys.executable), "-I", "-S", "-B", PROTOCOL_FILE, "checker"]

    def send(self, job: dict[str, Any], read_fd: int, write_fd: int) -> None:
        """The job, with the channel's descriptors passed over the socket (SCM_RIGHTS)."""
        data = json.dumps(job).encode("utf-8", "surrogatepass")
        socket.send_fds(self.sock, [protocol.HEADER.pack(len(data))], [read_fd, write_fd])
        self.sock.sendall(data)

    def run(self, job: dict[str, Any], read_fd: int, write_fd: int,
            timeout: float) -> dict[str, Any]:
        """The verdict of ``job`` on the channel (``read_fd``, ``write_fd``); raises
        TimeoutError after ``timeout`` s and ChannelClosed if the checker died."""
        self.sock.settimeout(timeout)
        try:
            self.send(job, read_fd, write_fd)
            header = protocol.receive_exactly(self.sock, protocol.HEADER.size)
            (size,) = protocol.HEADER.unpack(header)
            verdict = json.loads(protocol.receive_exactly(self.sock, size))
        except (BrokenPipeError, ConnectionError) as exc:
            raise protocol.ChannelClosed(f"the checker died ({exc})") from None
        if not isinstance(verdict, dict):
            raise protocol.ChannelClosed("the checker sent no verdict")
        return verdict

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self.sock.close()


class JavaChecker(Checker):
    """One warm trusted JVM (``franc.FrancChecker``) that runs Java tests' classes against
    the sandboxed candidate. A JVM cannot receive descriptors, so it opens FRANC's two
    ends of the channel through ``/proc/<FRANC's pid>/fd/`` (the same pipes)."""

    def command(self) -> list[str]:
        classes = cached_classes(java_support_sources("FrancPlain", "FrancRemote", "FrancChecker"),
                                 CHECKER_COMPILE_TIMEOUT, None)
        if classes is None:
            raise ToolMissingError("cannot compile FRANC's Java checker classes")
        return [java_tool("java"), *JVM_OPTIONS, "-cp", str(classes), CHECKER_CLASS]

    def send(self, job: dict[str, Any], read_fd: int, write_fd: int) -> None:
        ours = f"/proc/{os.getpid()}/fd"
        data = json.dumps({**job, "answers": f"{ours}/{read_fd}",
                           "requests": f"{ours}/{write_fd}"}).encode("utf-8", "surrogatepass")
        self.sock.sendall(protocol.HEADER.pack(len(data)) + data)


class CheckerPool:
    """Idle checkers for reuse; thread-safe. Close it (or use ``with``) when done."""

    def __init__(self) -> None:
        self._idle: dict[str, list[Checker]] = {"python": [], "java": []}
        self._busy: list[Checker] = []
        self._closed = False
        self._lock = threading.Lock()

    def __enter__(self) -> CheckerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def lease(self, language: str = "python") -> Iterator[Checker]:
        """A checker of ``language``'s tests for one job; back to the pool only if the job
        finished normally."""
        with self._lock:
            if self._closed:
                raise protocol.ChannelClosed("the checkers were closed (the run was stopped)")
            idle = self._idle[language]
            checker = idle.pop() if idle else None
        checker = checker or (JavaChecker() if language == "java" else Checker())
        with self._lock:
            self._busy.append(checker)
            if self._closed:  # closed while this one started
                checker.process.kill()
        finished = False
        try:
            yield checker
            finished = checker.process.poll() is None
        finally:
            with self._lock:
                self._busy.remove(checker)
                keep = finished and not self._closed
                if keep:
                    self._idle[language].append(checker)
            if not keep:
                checker.close()

    def close(self) -> None:
        """Close the idle checkers and kill the busy ones, so that a run still waiting on
        one (Ctrl-C while labelling) ends now, not at its time-out; their leases close them."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {language: [] for language in self._idle}
            busy = list(self._busy)
        for checker in busy:
            with contextlib.suppress(ProcessLookupError):
                checker.process.kill()
        for checker in (c for checkers in idle.values() for c in checkers):
            checker.close()
