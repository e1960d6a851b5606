"""Warm trusted checkers: processes that run tests' assertions against proxied candidates.

Starting a Python per test run costs as much as the run itself, so each labelling
worker leases a long-lived ``protocol.py checker`` process and hands it, per job, the
two ends of a sandboxed candidate's channel (``SCM_RIGHTS`` over a Unix socket). A
checker that overruns its job's time is killed, never reused.
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

from franc.evaluation import protocol

PROTOCOL_FILE = protocol.__file__


class Checker:
    """One warm checker process."""

    def __init__(self) -> None:
        self.sock, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [os.path.realpath(sys.executable), "-I", "-S", "-B", PROTOCOL_FILE, "checker"],
                stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, cwd="/")
        finally:
            theirs.close()

    def run(self, job: dict[str, Any], read_fd: int, write_fd: int,
            timeout: float) -> dict[str, Any]:
        """The verdict of ``job`` on the channel (``read_fd``, ``write_fd``); raises
        TimeoutError after ``timeout`` s and ChannelClosed if the checker died."""
        data = json.dumps(job).encode("utf-8", "surrogatepass")
        self.sock.settimeout(timeout)
        try:
            socket.send_fds(self.sock, [protocol.HEADER.pack(len(data))], [read_fd, write_fd])
            self.sock.sendall(data)
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


class CheckerPool:
    """Idle checkers for reuse; thread-safe. Close it (or use ``with``) when done."""

    def __init__(self) -> None:
        self._idle: list[Checker] = []
        self._lock = threading.Lock()

    def __enter__(self) -> CheckerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def lease(self) -> Iterator[Checker]:
        """A checker for one job; back to the pool only if the job finished normally."""
        with self._lock:
            checker = self._idle.pop() if self._idle else None
        checker = checker or Checker()
        finished = False
        try:
            yield checker
            finished = checker.process.poll() is None
        finally:
            if finished:
                with self._lock:
                    self._idle.append(checker)
            else:
                checker.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for checker in idle:
            checker.close()
