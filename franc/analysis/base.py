"""The contract every analyzer follows, and the guards that keep a batch alive.

An analyzer maps a batch of compilable code strings to one list of
:class:`~franc.models.Finding` per string. Whatever goes wrong on one string (a
crash inside the tool, a time-out, a ``RecursionError`` on deeply nested code)
becomes a failure finding (:meth:`~franc.models.Finding.failure`) for that string
only; the rest of the batch is analysed normally.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from franc.analysis.settings import PolicyRef
from franc.models import FAILURE_RULE, Finding, Language

COMPILE_RULE = "compile-error"
DEFAULT_TIMEOUT = 10.0
#: CPU seconds between the repeats of a time limit's signal (see :func:`time_limit`).
RETRY_SECONDS = 0.05


class AnalyzerTimeout(BaseException):
    """Raised inside an analyzer that ran past its limit.

    A BaseException so that tools which catch ``Exception`` internally (pylint
    turns checker crashes into messages) cannot swallow it.
    """


@dataclass(frozen=True)
class RuleInfo:
    """What a report (SARIF, an editor) shows about one rule of one tool."""

    rule_id: str
    name: str
    description: str
    help_uri: str | None = None
    cwe: int | None = None


#: The rules FRANC itself reports (not a tool's findings).
FRANC_RULES: dict[str, RuleInfo] = {
    FAILURE_RULE: RuleInfo(FAILURE_RULE, "AnalyzerError",
                           "An analyzer crashed or timed out on this code, so it was not checked."),
    COMPILE_RULE: RuleInfo(COMPILE_RULE, "CompileError",
                           "The code does not compile (Python compile(), javac -proc:none)."),
}


class Analyzer:
    """One quality tool for one language, warm between batches.

    Subclasses set ``id`` and ``language`` and implement :meth:`analyze_batch`.
    ``unavailable()`` says why an optional external tool cannot run here
    (``None`` when it can); such analyzers are skipped with that note.
    """

    id: ClassVar[str]
    language: ClassVar[Language]
    description: ClassVar[str] = ""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout

    @classmethod
    def unavailable(cls, policy: PolicyRef = None) -> str | None:
        return None

    @classmethod
    def configured(cls, policy: PolicyRef = None, timeout: float = DEFAULT_TIMEOUT) -> Analyzer:
        """This analyzer with its settings from ``policy``'s ``[analysis.<id>]`` table (see
        :mod:`franc.analysis.settings`); analyzers without settings ignore it."""
        return cls(timeout=timeout)

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        raise NotImplementedError

    @classmethod
    def rule_info(cls, rule_id: str) -> RuleInfo | None:
        """Name, help text and CWE of one of this tool's rules (``None``: unknown here)."""
        return None

    def warm_up(self) -> None:
        """Pay first-use costs before the first batch (long-lived users such as the server)."""

    def close(self) -> None:
        """Release processes or caches held between batches."""


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, AnalyzerTimeout):
        return str(exc) or "timed out"
    if isinstance(exc, RecursionError):
        return "code nested too deeply to analyse (RecursionError)"
    if isinstance(exc, MemoryError):
        return "ran out of memory"
    if isinstance(exc, SyntaxError):
        return f"could not parse: {exc.msg} (line {exc.lineno})"
    return f"crashed: {type(exc).__name__}: {exc}"[:300]


@contextmanager
def time_limit(seconds: float | None, what: str = "analysis") -> Iterator[None]:
    """Raise :class:`AnalyzerTimeout` in this thread after ``seconds`` of CPU time.

    CPU time, not wall-clock time: the in-process analyzers only compute, and on a
    loaded machine a wall-clock limit would fail healthy work. Uses the process's
    profiling interval timer, which only the main thread can receive; in other
    threads (a server's thread pool) the body runs without a limit.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = f"{what} timed out after {seconds:g} s of CPU time"
    fired = threading.Event()

    def expire(signum: int, frame: object) -> None:
        fired.set()
        raise AnalyzerTimeout(message)

    previous = signal.signal(signal.SIGPROF, expire)
    # The timer fires again every RETRY_SECONDS until the body ends: an exception raised
    # while Python runs a weakref callback or a __del__ is printed and dropped, not raised.
    signal.setitimer(signal.ITIMER_PROF, seconds, RETRY_SECONDS)
    try:
        yield
    except Exception as exc:
        if fired.is_set():  # the time-out, caught and turned into another error on the way
            raise AnalyzerTimeout(message) from exc
        raise
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    if fired.is_set():  # every time-out was dropped somewhere: the body still ran past it
        raise AnalyzerTimeout(message)


def guarded(tool: str, analyze_one: Callable[[str], list[Finding]], code: str,
            timeout: float | None) -> list[Finding]:
    """Run ``analyze_one(code)`` under a time limit; any failure becomes a finding."""
    try:
        with time_limit(timeout, tool):
            return analyze_one(code)
    except (Exception, AnalyzerTimeout) as exc:
        return [Finding.failure(tool, describe_error(exc))]
