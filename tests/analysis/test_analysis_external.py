"""Optional external tools: skipped with a clear note when they cannot run here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from franc.analysis import Analyzers
from franc.analysis.external import FindBugsAnalyzer, SemgrepAnalyzer


def test_semgrep_without_the_tool_or_rules_is_skipped_with_a_reason() -> None:
    reason = SemgrepAnalyzer.unavailable()
    if reason is None:
        pytest.skip("semgrep and local rules are available here")
    assert "semgrep" in reason and "skipped" in reason
    with Analyzers("python", ["bandit", "semgrep"]) as analyzers:
        assert analyzers.names == ["bandit"]
        assert analyzers.skipped == {"semgrep": reason}


def test_findbugs_missing_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "not installed" in (FindBugsAnalyzer.unavailable() or "")


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_findbugs_that_cannot_read_modern_classes_is_detected(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Debian's findbugs 3.1 on JDK 17 prints exactly this and finds nothing.
    fake = tmp_path / "findbugs"
    fake.write_text("#!/bin/sh\necho 'The following classes needed for analysis were missing:'\n"
                    "echo '  Resource not found: java/lang/Object.class'\n")
    fake.chmod(0o755)
    javac_dir = Path(shutil.which("javac") or "").resolve().parent
    monkeypatch.setenv("PATH", f"{tmp_path}:{javac_dir}")
    reason = FindBugsAnalyzer.unavailable() or ""
    assert "cannot read this JDK's classes" in reason
