"""Python quality findings from pylint, in-process and batched.

pylint's start-up (loading checkers, building astroid's models of the standard
library) dwarfs the cost of one snippet, so many candidates are linted in one
``Run`` and the process stays warm. The candidates are linted from memory: pylint
is given fixed placeholder files (it insists on paths) whose sources the linter
takes from the batch, so a batch costs no file writes, folder creation or removal
(~8 ms of disk latency per batch on a loaded machine).
Which message categories count is policy: the ``[analysis.pylint]`` table of the
filter policy (``filters/python.toml`` or the chain given, see :mod:`franc.analysis.settings`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated

import astroid
from pydantic import PositiveInt, StringConstraints, field_validator
from pylint.checkers import BaseChecker, BaseRawFileChecker, BaseTokenChecker
from pylint.exceptions import UnknownMessageError
from pylint.lint import PyLinter, Run
from pylint.message.message_definition_store import MessageDefinitionStore
from pylint.reporters import CollectingReporter
from pylint.utils import ASTWalker

from franc.analysis.base import (
    DEFAULT_TIMEOUT,
    Analyzer,
    AnalyzerTimeout,
    RuleInfo,
    describe_error,
    time_limit,
)
from franc.analysis.settings import PolicyRef, analysis_table
from franc.models import Finding, Level
from franc.policy.schema import PolicyModel, validate_policy

SEVERITY: dict[str, Level] = {"fatal": "high", "error": "high", "warning": "medium",
                              "refactor": "low", "convention": "low", "info": "low"}
CONFIDENCE: dict[str, Level] = {"HIGH": "high", "CONTROL_FLOW": "medium", "INFERENCE": "medium",
                                "UNDEFINED": "medium", "INFERENCE_FAILURE": "low"}
CATEGORY_LETTERS = {"fatal": "F", "error": "E", "warning": "W", "refactor": "R",
                    "convention": "C", "info": "I"}
#: Messages meaning "pylint could not analyse this file", reported as analyzer errors.
TOOL_FAILURES = frozenset({"fatal", "astroid-error", "parse-error", "syntax-error",
                           "method-check-failed"})
#: Checks that compare files with each other: in a batch of candidates they would
#: report one candidate against another, so they are always off.
CROSS_FILE_CHECKS = ("duplicate-code", "cyclic-import")
#: A message id's first letter -> the folder of its page in pylint's documentation.
DOC_CATEGORIES = {"C": "convention", "R": "refactor", "W": "warning", "E": "error", "F": "fatal",
                  "I": "information"}
#: Extra seconds a batch may take per candidate before it is split up.
BATCH_SECONDS_PER_CANDIDATE = 0.5


#: CPU seconds the warm-up may spend per module it pre-builds.
WARM_UP_SECONDS_PER_MODULE = 2.0


#: A dotted module name (``xml.etree.ElementTree``).
ModuleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")]


class PylintSettings(PolicyModel):
    """The ``[analysis.pylint]`` table of a filter policy."""

    categories: tuple[str, ...] = ("fatal", "error", "warning", "refactor", "convention")
    disable: tuple[str, ...] = ()
    batch_size: PositiveInt = 100
    #: Modules whose astroid models a long-lived analyzer builds before its first batch.
    warm_modules: tuple[ModuleName, ...] = ()

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, categories: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(categories) - set(CATEGORY_LETTERS)
        if unknown:
            raise ValueError(f"unknown categories {sorted(unknown)}; "
                             f"expected some of {sorted(CATEGORY_LETTERS)}")
        return categories

    @classmethod
    def from_policy(cls, policy: PolicyRef = None) -> PylintSettings:
        """Read ``[analysis.pylint]`` from a filter policy (see :mod:`franc.analysis.settings`)."""
        table, path = analysis_table("python", "pylint", policy)
        return validate_policy(cls, table, path or "pylint defaults", "analysis.pylint")

    def arguments(self) -> list[str]:
        off = [letter for name, letter in CATEGORY_LETTERS.items() if name not in self.categories]
        on = [CATEGORY_LETTERS[name] for name in self.categories]
        return ["--persistent=n", "--score=n", "--reports=n", "--jobs=1",
                f"--enable={','.join(on)}",
                f"--disable={','.join([*off, *self.disable, *CROSS_FILE_CHECKS])}"]


class PylintAnalyzer(Analyzer):
    id = "pylint"
    language = "python"
    description = "pylint messages (categories from filters/python.toml), batched in-process"

    def __init__(self, timeout: float = 10.0, settings: PylintSettings | None = None, *,
                 reuse_linter: bool = True):
        super().__init__(timeout)
        self.settings = settings or PylintSettings.from_policy()
        self._arguments = self.settings.arguments()
        self._own_dir = tempfile.TemporaryDirectory(prefix="franc-pylint-rc-")
        # An empty rcfile keeps a user's or project's pylintrc out of the verdicts.
        rcfile = Path(self._own_dir.name) / "pylintrc"
        rcfile.write_text("", "utf-8")
        self._arguments.append(f"--rcfile={rcfile}")
        # pylint writes a bug-report file for every crash into the user's cache;
        # keep those in our own folder and drop them after each batch.
        self._crash_file = Path(self._own_dir.name) / "crash.txt"
        # Empty placeholder files, one per position in a batch, written once; the linter
        # reads each batch's sources from ``_sources`` (placeholder path -> code).
        self._placeholders = Path(self._own_dir.name) / "candidates"
        self._placeholders.mkdir()
        self._sources: dict[str, str] = {}
        linter = type("FrancLinter", (InMemoryLinter,), {
            "crash_file_path": str(self._crash_file), "sources": self._sources})
        self._run = type("FrancRun", (Run,), {"LinterClass": linter})
        # Building a linter (loading ~50 checkers, parsing the options) costs ~50 ms, more than
        # linting a few candidates: one linter serves every batch until a crash or time-out
        # may have left it half-way through a module.
        self.reuse_linter = reuse_linter
        self._linter: PyLinter | None = None

    @classmethod
    def configured(cls, policy: PolicyRef = None,
                   timeout: float = DEFAULT_TIMEOUT) -> PylintAnalyzer:
        return cls(timeout, PylintSettings.from_policy(policy))

    def warm_up(self) -> None:
        """Build the linter and astroid's models of the policy's ``warm_modules`` now, by
        linting a module that imports them all, then resolve each module's public names: a
        candidate that uses one of them later finds it built (the first use of a module
        otherwise costs up to ~0.5 s; numpy's names come from ~15 submodules, which
        ``import numpy`` alone does not build)."""
        modules = self.settings.warm_modules
        source = "".join(f"import {name}\n" for name in modules) or "WARM = 1\n"
        # A failed warm-up only costs speed; each batch still reports its own failures.
        with contextlib.suppress(Exception, AnalyzerTimeout):
            self._lint([source], self.timeout + WARM_UP_SECONDS_PER_MODULE * len(modules))
        for name in modules:
            with contextlib.suppress(Exception, AnalyzerTimeout), \
                    time_limit(WARM_UP_SECONDS_PER_MODULE, f"warming {name}"):
                _resolve_public_names(name)

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        size = max(1, self.settings.batch_size)
        results: list[list[Finding]] = []
        for start in range(0, len(codes), size):
            batch = codes[start:start + size]
            limit = self.timeout + BATCH_SECONDS_PER_CANDIDATE * len(batch)
            try:
                found = self._lint(batch, limit)
            except (Exception, AnalyzerTimeout) as exc:
                if len(batch) == 1:
                    results.append([Finding.failure(self.id, describe_error(exc))])
                else:  # find the candidate that broke the batch: lint each alone
                    results.extend(self.analyze_batch_one_by_one(batch))
                continue
            crashed = {i for i, findings in enumerate(found)
                       if any(f.is_failure for f in findings)}
            if crashed and len(batch) > 1:
                # A crash leaves pylint's checkers half-way through a module, and that
                # state leaks into the next file: lint the others again without it.
                others = [i for i in range(len(batch)) if i not in crashed]
                for i, redone in zip(others, self.analyze_batch([batch[i] for i in others]),
                                     strict=True):
                    found[i] = redone
            results.extend(found)
        return results

    def analyze_batch_one_by_one(self, codes: Sequence[str]) -> list[list[Finding]]:
        results = []
        for code in codes:
            try:
                results.extend(self._lint([code], self.timeout))
            except (Exception, AnalyzerTimeout) as exc:
                results.append([Finding.failure(self.id, describe_error(exc))])
        return results

    def _lint(self, codes: Sequence[str], limit: float) -> list[list[Finding]]:
        sources = {self._placeholder(i): code for i, code in enumerate(codes)}
        reporter = CollectingReporter()
        # pylint prints tracebacks of its own crashes; they become findings instead.
        quiet = io.StringIO()
        try:
            with time_limit(limit, f"pylint on {len(codes)} candidate(s)"), \
                    contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
                self._check(sources, reporter)
        except BaseException:
            self._linter = None
            raise
        finally:
            self._sources.clear()
            _forget_modules_under(str(self._placeholders))
            # pylint memoises this method with an unbounded functools.cache keyed by the
            # store, so every Run's linter would stay alive (~35 KB per candidate).
            MessageDefinitionStore.get_message_definitions.cache_clear()
            self._crash_file.unlink(missing_ok=True)
        by_path: dict[str, list[Finding]] = {path: [] for path in sources}
        for message in reporter.messages:
            findings = by_path.get(message.abspath)
            if findings is not None:
                findings.append(self._finding(message))
        # The message breaks ties: inference may list the same no-member twice (os.path as
        # posixpath and ntpath) in an order that varies from run to run.
        results = [sorted(found, key=lambda f: (f.line, f.column, f.rule_id, f.message))
                   for found in by_path.values()]
        if any(f.is_failure for found in results for f in found):
            self._linter = None
        return results

    def _placeholder(self, position: int) -> str:
        path = self._placeholders / f"candidate_{position:04d}.py"
        if not path.exists():
            path.touch()
        return str(path)

    def _check(self, sources: dict[str, str], reporter: CollectingReporter) -> None:
        """Lint ``sources`` (placeholder path -> code) into ``reporter``: the first call
        builds the linter, later ones reuse it."""
        self._sources.update(sources)
        paths = list(sources)
        if self._linter is None or not self.reuse_linter:
            self._linter = self._run([*self._arguments, *paths], reporter=reporter,
                                     exit=False).linter
        else:
            self._linter.set_reporter(reporter)
            self._linter.check(paths)

    def _finding(self, message: object) -> Finding:
        line = getattr(message, "line", None) or 1
        if message.symbol in TOOL_FAILURES:  # type: ignore[attr-defined]
            return Finding.failure(self.id, _failure_reason(message), line)
        return Finding(tool=self.id, rule_id=message.symbol,  # type: ignore[attr-defined]
                       message=message.msg,  # type: ignore[attr-defined]
                       severity=SEVERITY.get(message.category, "low"),  # type: ignore[attr-defined]
                       confidence=CONFIDENCE.get(message.confidence.name, "medium"),  # type: ignore[attr-defined]
                       line=line, column=getattr(message, "column", 0) or 0)

    def close(self) -> None:
        self._own_dir.cleanup()

    @classmethod
    def rule_info(cls, rule_id: str) -> RuleInfo | None:
        try:
            [definition, *_] = _message_store().get_message_definitions(rule_id)
        except UnknownMessageError:
            return None
        category = DOC_CATEGORIES.get(definition.msgid[0], "warning")
        return RuleInfo(rule_id, definition.symbol,
                        definition.description.strip() or definition.msg,
                        f"https://pylint.readthedocs.io/en/stable/user_guide/messages/"
                        f"{category}/{definition.symbol}.html")


class InMemoryLinter(PyLinter):
    """A linter that reads the files it is given from ``sources`` (path -> code) rather
    than from disk, and prepares its checkers and their AST walker once (the enabled
    messages never change after the options are read; a candidate's pragmas only act
    within its own file)."""

    sources: dict[str, str]

    _prepared: list[BaseChecker] | None = None
    #: The walker of the prepared checkers: building one costs ~2 ms a batch (``dir()`` of
    #: ~40 checkers), more than linting a short candidate.
    _walker: ASTWalker | None = None

    def get_ast(self, filepath: str, modname: str, data: str | None = None
                ) -> astroid.nodes.Module | None:
        return super().get_ast(filepath, modname, self.sources.get(filepath, data))

    def register_checker(self, checker: BaseChecker) -> None:
        super().register_checker(checker)
        self._prepared = None  # a checker that joins later runs from the next batch on
        self._walker = None

    def prepare_checkers(self) -> list[BaseChecker]:
        if self._prepared is None:
            self._prepared = super().prepare_checkers()
            self._walker = None
        return list(self._prepared)

    @contextlib.contextmanager
    def _astroid_module_checker(self) -> Iterator[Callable[[astroid.nodes.Module], bool | None]]:
        """pylint's own (open the checkers, lint, close them), with the walker kept."""
        prepared = self.prepare_checkers()
        if self._walker is None:
            self._walker = ASTWalker(self)
            for checker in prepared:
                self._walker.add_checker(checker)
        walker = self._walker
        walker.nbstatements = 0
        for checker in prepared:
            checker.open()
        yield functools.partial(
            self.check_astroid_module, walker=walker,
            tokencheckers=[c for c in prepared if isinstance(c, BaseTokenChecker)],
            rawcheckers=[c for c in prepared if isinstance(c, BaseRawFileChecker)])
        self.stats.statement = walker.nbstatements
        for checker in reversed(prepared):
            checker.close()


@functools.cache
def _message_store() -> MessageDefinitionStore:
    """Every message of pylint's default checkers (built once, ~0.4 s)."""
    linter = PyLinter()
    linter.load_default_plugins()
    return linter.msgs_store


def _resolve_public_names(module_name: str) -> None:
    """Infer each name ``from module_name import *`` would bind, which builds the
    submodules a package takes them from."""
    module = astroid.MANAGER.ast_from_module_name(module_name)
    for name in module.wildcard_import_names():
        with contextlib.suppress(astroid.AstroidError):
            next(module.igetattr(name), None)


def _failure_reason(message: object) -> str:
    symbol, text = message.symbol, message.msg  # type: ignore[attr-defined]
    if symbol in ("astroid-error", "fatal"):  # the text only points at a bug-report file
        return f"{symbol}: pylint crashed on this code"
    return f"{symbol}: {text}"[:300]


def _forget_modules_under(folder: str) -> None:
    """Drop the batch's candidate modules from astroid's process-wide cache.

    The standard library models stay (that is what makes later batches fast);
    the candidates' own modules would otherwise pile up in a long-lived process.
    """
    cache = astroid.MANAGER.astroid_cache
    for name in [name for name, module in cache.items()
                 if (getattr(module, "file", None) or "").startswith(folder)]:
        del cache[name]
