"""``franc lsp``: FRANC's findings as editor diagnostics, over stdio.

Open Python and Java documents are checked on open, on change (debounced)
and on save: the real compile check, then the analyzers. Code actions offer
the static filter's fix (close truncated code, cut trailing junk) and, when a
generator is configured, a repair through the model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from franc.models import EXTENSIONS, Candidate, Finding, Language, Task

SEVERITY = {"high": types.DiagnosticSeverity.Error,
            "medium": types.DiagnosticSeverity.Warning,
            "low": types.DiagnosticSeverity.Information}
LANGUAGE_IDS: dict[str, Language] = {"python": "python", "java": "java"}
REPAIR_COMMAND = "franc.repairWithModel"


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


@dataclass
class DocumentChecker:
    """The warm compile check and analyzers, one set per language, built on first use."""

    stages: dict[Language, tuple] = field(default_factory=dict)

    def _stages(self, language: Language) -> tuple:
        if language not in self.stages:
            from franc.analysis import Analyzers
            from franc.filter import StaticFilter

            self.stages[language] = (StaticFilter(language), Analyzers(language))
        return self.stages[language]

    def check(self, uri: str, language: Language, text: str) -> list[types.Diagnostic]:
        static_filter, analyzers = self._stages(language)
        result = static_filter.compiler.check([text])[0]
        if not result.ok:
            return [compile_diagnostic(error) for error in result.errors]
        candidate = Candidate(task_id=uri, index=0, code=text, compiles=True)
        task = Task(task_id=uri, prompt="", language=language)
        [analyzed] = analyzers.run([candidate], {uri: task})
        lines = text.splitlines()
        return [finding_diagnostic(f, lines) for f in analyzed.findings or []]

    def fix(self, uri: str, language: Language, text: str) -> tuple[str, list[str]] | None:
        """The static filter's fix, offered only when it makes broken code compile."""
        static_filter, _ = self._stages(language)
        if static_filter.compiler.check([text])[0].ok:
            return None
        task = Task(task_id=uri, prompt="", language=language)
        fixed = static_filter.run(task, text)
        return (fixed.code, fixed.heuristics) if fixed.compiles and fixed.code != text else None

    def close(self) -> None:
        for static_filter, analyzers in self.stages.values():
            static_filter.close()
            analyzers.close()


def whole_document(text: str) -> types.Range:
    lines = text.split("\n")
    return types.Range(start=types.Position(line=0, character=0),
                       end=types.Position(line=len(lines), character=0))


def build_server(checker: DocumentChecker | None = None, debounce_seconds: float = 0.3,
                 repair: Callable[[Language, str], str | None] | None = None) -> LanguageServer:
    """The language server; ``repair`` (language, code) -> fixed code enables the model action."""
    server = LanguageServer("franc", "0.1.0")
    checker = checker or DocumentChecker()
    pending: dict[str, asyncio.Task[None]] = {}

    def language_of(uri: str) -> Language | None:
        document = server.workspace.get_text_document(uri)
        return document_language(uri, document.language_id)

    async def publish(uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        language = language_of(uri)
        if language is None:
            return
        text = server.workspace.get_text_document(uri).source
        diagnostics = await asyncio.to_thread(checker.check, uri, language, text)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))

    def schedule(uri: str, delay: float) -> None:
        if (previous := pending.get(uri)) is not None:
            previous.cancel()
        pending[uri] = asyncio.ensure_future(publish(uri, delay))

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
