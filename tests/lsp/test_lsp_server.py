"""End to end: a real LSP client talks to ``franc lsp`` over stdio."""

from __future__ import annotations

import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

INSECURE = ("import subprocess\n\n\ndef run(cmd):\n"
            "    return subprocess.call(cmd, shell=True)\n")
TRUNCATED = "def f(x):\n    y = [x,\n"
JAVA = ("class A {\n    int f(String s) {\n        try {\n            return s.length();\n"
        "        } catch (Exception e) {\n        }\n        return 0;\n    }\n}\n")


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "franc", "lsp", "--debounce", "0.05"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def open_document(client: LanguageClient, uri: str, language: str,
                        text: str) -> list[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


@pytest.mark.asyncio(loop_scope="function")
async def test_python_findings_become_diagnostics_with_cwe_links(client: LanguageClient) -> None:
    diagnostics = await open_document(client, "file:///tmp/run.py", "python", INSECURE)
    shell = [d for d in diagnostics if d.source == "franc/bandit" and d.code == "B602 CWE-78"]
    assert shell, diagnostics
    assert shell[0].severity == types.DiagnosticSeverity.Error
    assert shell[0].range.start.line == 4
    assert shell[0].code_description.href.endswith("/78.html")


@pytest.mark.asyncio(loop_scope="function")
async def test_truncated_code_gets_a_compile_error_and_a_fix(client: LanguageClient) -> None:
    uri = "file:///tmp/cut.py"
    diagnostics = await open_document(client, uri, "python", TRUNCATED)
    assert [d.source for d in diagnostics] == ["franc/compile"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))
    [fix] = actions
    new_text = fix.edit.changes[uri][0].new_text
    compile(new_text, "fixed", "exec")
    assert new_text.startswith("def f(x):")


@pytest.mark.asyncio(loop_scope="function")
async def test_java_rule_findings_and_change_reanalysis(client: LanguageClient) -> None:
    uri = "file:///tmp/A.java"
    diagnostics = await open_document(client, uri, "java", JAVA)
    assert any(d.source == "franc/java-rules" for d in diagnostics), diagnostics
    fixed = JAVA.replace("catch (Exception e) {\n        }",
                         "catch (IllegalStateException e) {\n            return -1;\n        }")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not [d for d in client.diagnostics[uri] if d.source == "franc/java-rules"]


def filler_functions(count: int) -> str:
    """A long, valid Python module (pylint has real work on each function)."""
    return "".join(f"def f{i}(a, b):\n    c = [x * a for x in range(b)]\n"
                   f"    if a > {i}:\n        return sum(c) + {i}\n    return len(c)\n\n\n"
                   for i in range(count))


@pytest.mark.asyncio(loop_scope="function")
async def test_a_huge_document_gets_one_diagnostic_saying_it_is_too_large(
        client: LanguageClient) -> None:
    huge = filler_functions(4000)  # ~0.4 MB
    diagnostics = await open_document(client, "file:///tmp/huge.py", "python", huge)
    [too_large] = diagnostics
    assert too_large.source == "franc"
    assert "too large" in too_large.message and str(len(huge)) in too_large.message
    # The server is not busy with it: a small document still gets its findings.
    small = await open_document(client, "file:///tmp/small.py", "python", INSECURE)
    assert any(d.code == "B602 CWE-78" for d in small)


@pytest.mark.asyncio(loop_scope="function")
async def test_documents_analysed_together_get_their_own_true_findings(
        client: LanguageClient) -> None:
    big = filler_functions(300) + INSECURE
    for uri, text in (("file:///tmp/big.py", big), ("file:///tmp/run2.py", INSECURE)):
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=text)))
    while {"file:///tmp/big.py", "file:///tmp/run2.py"} - set(client.diagnostics):
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    for uri in ("file:///tmp/big.py", "file:///tmp/run2.py"):
        diagnostics = client.diagnostics[uri]
        assert any(d.code == "B602 CWE-78" for d in diagnostics), (uri, diagnostics)
        assert not [d for d in diagnostics if "crashed" in d.message or "error" in str(d.code)]
