"""The language server's document checker, called as the server calls it: from threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from franc.lsp.server import DocumentChecker

INSECURE = ("import subprocess\n\n\ndef run(cmd):\n"
            "    return subprocess.call(cmd, shell=True)\n")


def module(functions: int) -> str:
    return "".join(f"def f{i}(a, b):\n    c = [x * a for x in range(b)]\n"
                   f"    if a > {i}:\n        return sum(c) + {i}\n    return len(c)\n\n\n"
                   for i in range(functions))


def test_a_document_over_the_limit_is_not_analysed() -> None:
    checker = DocumentChecker(max_chars=1000)
    try:
        [diagnostic] = checker.check("file:///big.py", "python", module(100))
        assert "too large" in diagnostic.message and "the limit is 1000" in diagnostic.message
        assert checker.fix("file:///big.py", "python", module(100) + "def g(:\n") is None
        assert not checker.stages  # nothing was even built
    finally:
        checker.close()


def test_documents_checked_from_two_threads_get_no_false_crash() -> None:
    # A big document (under the size limit) and small ones at once: without a lock, one
    # pylint used from several threads gave small documents a false "pylint crashed".
    checker = DocumentChecker()
    documents = [("file:///big.py", module(800) + INSECURE)] + [("file:///small.py",
                                                                 INSECURE)] * 12
    assert len(documents[0][1]) < checker.max_chars
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda item: checker.check(item[0], "python", item[1]),
                                    documents))
    finally:
        checker.close()
    for (uri, _), diagnostics in zip(documents, results, strict=True):
        messages = [d.message for d in diagnostics]
        assert not [m for m in messages if "crashed" in m], (uri, messages)
        assert any(d.code == "B602 CWE-78" for d in diagnostics), (uri, messages)
