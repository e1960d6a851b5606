"""``franc lsp``: FRANC's findings as editor diagnostics, over stdio.

Open Python and Java documents are checked on open, on change (debounced)
and on save: the real compile check, then the analyzers. One analysis runs per
document at a time (an edit made meanwhile is analysed next; the ones it
replaces are dropped), the analyzers of a language serve one document at a
time, and a document over the size limit gets one diagnostic saying so. Code actions offer
the static filter's fix (close truncated code, cut trailing junk) and, when a
generator is configured, a repair through the model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from franc.models import EXTENSIONS, Candidate, Finding, Language, Task
from franc.stages import Stages

if TYPE_CHECKING:
    from franc.filter import StaticFilter
    from franc.filter.base import CompileResult

SEVERITY = {"high": types.DiagnosticSeverity.Error,
            "medium": types.DiagnosticSeverity.Warning,
            "low": types.DiagnosticSeverity.Information}
LANGUAGE_IDS: dict[str, Language] = {"python": "python", "java": "java"}
REPAIR_COMMAND = "franc.repairWithModel"
#: Larger documents are not analysed (pylint's cost and memory grow fast with size: a
#: 0.7 MB document took over a minute and ~1 GB).
MAX_DOCUMENT_CHARS = 100_000


def document_language(uri: str, language_id: str | None) -> Language | None:
    if language_id in LANGUAGE_IDS:
        return LANGUAGE_IDS[language_id]
    return EXTENSIONS.get(PurePosixPath(uri).suffix)


def cwe_link(cwe: int | None) -> types.CodeDescription | None:
    if cwe is None:
        return None
    return types.CodeDescription(href=f"https://cwe.mitre.org/data/definitions/{cwe}.html")


def finding_diagnostic(finding: Finding, lines: list[str]) -> types.Diagnostic:
    line = max(0, min(finding.line - 1, len(lines) - 1)) if lines else 0
    end = len(lines[line]) if lines else 0
    code = f"{finding.rule_id} CWE-{finding.cwe}" if finding.cwe else finding.rule_id
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=line, character=max(0, finding.column)),
                          end=types.Position(line=line, character=end)),
        message=finding.message, severity=SEVERITY[finding.severity], code=code,
        code_description=cwe_link(finding.cwe), source=f"franc/{finding.tool}")


def compile_diagnostic(error: str) -> types.Diagnostic:
    """A compile error as a diagnostic; errors that name a line are placed on it."""
    line = 0
    for token in error.replace(":", " ").split():
        if token.isdigit():
            line = max(0, int(token) - 1)
            break
    return types.Diagnostic(range=types.Range(start=types.Position(line=line, character=0),
                                              end=types.Position(line=line, character=0)),
                            message=error, severity=types.DiagnosticSeverity.Error,
                            source="franc/compile")


def too_large_diagnostic(size: int, limit: int) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=0, character=0)),
        message=f"document too large for FRANC to analyse ({size} characters; the limit is "
                f"{limit}, set with --max-chars)",
        severity=types.DiagnosticSeverity.Information, source="franc")


@dataclass
class DocumentChecker:
    """The warm compile check and analyzers, one set per language, built on first use.

    A language's stages serve one document at a time: pylint's linter and astroid's caches
    are not thread-safe (two documents at once gave a false "pylint crashed")."""

    max_chars: int = MAX_DOCUMENT_CHARS
    stages: dict[Language, Stages] = field(default_factory=dict)
    locks: dict[Language, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _compiles(self, stages: Stages, text: str) -> CompileResult:
        # Built by Stages.build here, so the filter is a StaticFilter with its compiler.
        return cast("StaticFilter", stages.filter).compiler.check([text])[0]

    def _stages(self, language: Language) -> tuple[threading.Lock, Stages]:
        with self._guard:
            if language not in self.stages:
                self.stages[language] = Stages.build(language)
                self.locks[language] = threading.Lock()
            return self.locks[language], self.stages[language]

    def check(self, uri: str, language: Language, text: str) -> list[types.Diagnostic]:
        if len(text) > self.max_chars:
            return [too_large_diagnostic(len(text), self.max_chars)]
        lock, stages = self._stages(language)
        with lock:
            result = self._compiles(stages, text)
            if not result.ok:
                return [compile_diagnostic(error) for error in result.errors]
            candidate = Candidate(task_id=uri, index=0, code=text, compiles=True)
            task = Task(task_id=uri, prompt="", language=language)
            [analyzed] = stages.analyzed(task, [candidate])
        lines = text.splitlines()
        return [finding_diagnostic(f, lines) for f in analyzed.findings or []]

    def fix(self, uri: str, language: Language, text: str) -> tuple[str, list[str]] | None:
        """The static filter's fix, offered only when it makes broken code compile."""
        if len(text) > self.max_chars:
            return None
        lock, stages = self._stages(language)
        with lock:
            if self._compiles(stages, text).ok:
                return None
            task = Task(task_id=uri, prompt="", language=language)
            [fixed] = stages.filtered(task, [text])
        return (fixed.code, fixed.heuristics) if fixed.compiles and fixed.code != text else None

    def close(self) -> None:
        for stages in self.stages.values():
            stages.close()


def whole_document(text: str) -> types.Range:
    lines = text.split("\n")
    return types.Range(start=types.Position(line=0, character=0),
                       end=types.Position(line=len(lines), character=0))


def build_server(checker: DocumentChecker | None = None, debounce_seconds: float = 0.3,
                 repair: Callable[[Language, str], str | None] | None = None) -> LanguageServer:
    """The language server; ``repair`` (language, code) -> fixed code enables the model action."""
    server = LanguageServer("franc", "0.1.0")
    checker = checker or DocumentChecker()
    # Per open document: the number of its latest edit, and the lock its analyses take
    # (never cancelled mid-analysis: the analysis thread would run on, unlocked).
    generations: dict[str, int] = {}
    analysing: dict[str, asyncio.Lock] = {}
    waiting: set[asyncio.Task[None]] = set()

    def language_of(uri: str) -> Language | None:
        document = server.workspace.get_text_document(uri)
        return document_language(uri, document.language_id)

    async def publish(uri: str, delay: float, generation: int) -> None:
        await asyncio.sleep(delay)
        lock = analysing.get(uri)
        if lock is None or generations.get(uri) != generation:
            return  # closed, or superseded by a later edit during the debounce
        async with lock:
            if generations.get(uri) != generation:
                return  # superseded while the previous analysis ran
            language = language_of(uri)
            if language is None:
                return
            text = server.workspace.get_text_document(uri).source
            diagnostics = await asyncio.to_thread(checker.check, uri, language, text)
        if generations.get(uri) == generation:
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))

    def schedule(uri: str, delay: float) -> None:
        generations[uri] = generation = generations.get(uri, 0) + 1
        analysing.setdefault(uri, asyncio.Lock())
        task = asyncio.ensure_future(publish(uri, delay, generation))
        waiting.add(task)
        task.add_done_callback(waiting.discard)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        schedule(params.text_document.uri, debounce_seconds)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        generations.pop(params.text_document.uri, None)
        analysing.pop(params.text_document.uri, None)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
    async def code_actions(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        language = language_of(uri)
        if language is None:
            return []
        text = server.workspace.get_text_document(uri).source
        actions = []
        fix = await asyncio.to_thread(checker.fix, uri, language, text)
        if fix is not None:
            fixed, heuristics = fix
            actions.append(types.CodeAction(
                title=f"FRANC: make it compile ({', '.join(heuristics)})",
                kind=types.CodeActionKind.QuickFix,
                edit=types.WorkspaceEdit(changes={uri: [
                    types.TextEdit(range=whole_document(text), new_text=fixed)]})))
        if repair is not None:
            actions.append(types.CodeAction(
                title="FRANC: ask the model to fix this", kind=types.CodeActionKind.QuickFix,
                command=types.Command(title="Ask the model to fix this", command=REPAIR_COMMAND,
                                      arguments=[uri])))
        return actions

    @server.command(REPAIR_COMMAND)
    async def repair_with_model(arguments: list[str]) -> bool:
        uri = arguments[0]
        language = language_of(uri)
        if repair is None or language is None:
            return False
        text = server.workspace.get_text_document(uri).source
        fixed = await asyncio.to_thread(repair, language, text)
        if not fixed or fixed == text:
            return False
        edit = types.WorkspaceEdit(changes={uri: [
            types.TextEdit(range=whole_document(text), new_text=fixed)]})
        server.workspace_apply_edit(types.ApplyWorkspaceEditParams(edit=edit))
        return True

    @server.feature(types.SHUTDOWN)
    def shutdown(_: None) -> None:
        checker.close()

    return server
