"""Optional real external tools behind the analyzer interface: FindBugs and Semgrep.

Neither is a dependency. Each says in ``unavailable()`` why it cannot run here
(not installed, cannot read this JDK's classes, no local rules), and
:class:`~franc.analysis.Analyzers` skips it with that note. They run as
subprocesses (one batch per run for Semgrep, one unit per run for FindBugs), so
they are much slower than the in-process analyzers; nothing needs the network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from franc.analysis.base import DEFAULT_TIMEOUT, Analyzer
from franc.analysis.settings import PolicyRef, analysis_table
from franc.java.compiler import compile_fresh, unit_file_name
from franc.models import Finding, Language, Level
from franc.policy.schema import PolicyModel, validate_policy

#: What Debian's findbugs 3.1 prints when it cannot read a modern JDK's runtime classes.
FINDBUGS_JDK_TROUBLE = ("Resource not found: java/lang/Object.class", "Unsupported class file")


class FindBugsAnalyzer(Analyzer):
    id = "findbugs"
    language = "java"
    description = "FindBugs (Debian package findbugs) on classes compiled with javac"

    @classmethod
    def unavailable(cls, policy: PolicyRef = None) -> str | None:
        if shutil.which("findbugs") is None:
            return "findbugs is not installed (Debian package 'findbugs'); skipped"
        if shutil.which("javac") is None:
            return "findbugs needs javac to compile the candidates; no JDK found"
        probe = _findbugs_output("public class Probe { int f() { return 1; } }", 60.0)
        if any(marker in probe for marker in FINDBUGS_JDK_TROUBLE):
            return ("findbugs cannot read this JDK's classes (it predates JDK 9 modules: "
                    "'Resource not found: java/lang/Object.class'); skipped")
        return None

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        return [self._analyze(code) for code in codes]

    def _analyze(self, code: str) -> list[Finding]:
        try:
            report = _findbugs_output(code, self.timeout, xml=True)
            root = ElementTree.fromstring(report[report.index("<?xml"):])
        except (OSError, ValueError, subprocess.SubprocessError, ElementTree.ParseError) as exc:
            return [Finding.failure(self.id, f"{type(exc).__name__}: {exc}"[:300])]
        findings = []
        for bug in root.iter("BugInstance"):
            line = next((int(s.get("start", "1")) for s in bug.iter("SourceLine")
                         if s.get("start")), 1)
            priority = int(bug.get("priority", "3"))
            findings.append(Finding(
                tool=self.id, rule_id=bug.get("type", "unknown"),
                message=(bug.findtext("LongMessage") or bug.findtext("ShortMessage") or "").strip(),
                severity=("high", "medium", "low")[min(priority, 3) - 1],
                confidence=("high", "medium", "low")[min(priority, 3) - 1], line=line,
                cwe=int(bug.get("cweid") or 0) or None))
        return findings


def _findbugs_output(code: str, timeout: float, xml: bool = False) -> str:
    """Compile one unit with javac and run findbugs on its classes; stdout+stderr."""
    with tempfile.TemporaryDirectory(prefix="franc-findbugs-") as folder:
        classes = Path(folder) / "classes"
        compiled = compile_fresh({unit_file_name(code): code}, classes, timeout=timeout,
                                 options=("-g",))
        if not compiled.ok:
            raise ValueError(f"javac failed: {(compiled.errors or ['?'])[0]}")
        command = ["findbugs", "-textui", *(["-xml:withMessages"] if xml else []), str(classes)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        return done.stdout + done.stderr


SEMGREP_LEVELS: dict[str, Level] = {"ERROR": "high", "WARNING": "medium", "INFO": "low",
                                    "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
CWE_NUMBER = re.compile(r"CWE-(\d+)")


class SemgrepAnalyzer(Analyzer):
    """Semgrep with local rules named in ``[analysis.semgrep] config`` of the language policy."""

    id = "semgrep"
    language: ClassVar[Language] = "python"
    description = "Semgrep with local rules, one subprocess per batch, metrics off"
    suffix = ".py"

    def __init__(self, timeout: float = 10.0, config: Path | None = None):
        super().__init__(timeout)
        self.config = config or _semgrep_config(self.language)

    @classmethod
    def configured(cls, policy: PolicyRef = None,
                   timeout: float = DEFAULT_TIMEOUT) -> SemgrepAnalyzer:
        return cls(timeout, _semgrep_config(cls.language, policy))

    @classmethod
    def unavailable(cls, policy: PolicyRef = None) -> str | None:
        if shutil.which("semgrep") is None:
            return "semgrep is not installed (pip install semgrep==1.100.0); skipped"
        if _semgrep_config(cls.language, policy) is None:
            return (f"semgrep needs local rules: set config in [analysis.semgrep] of "
                    f"filters/{cls.language}.toml or of the chain (registry rules need the "
                    f"network); skipped")
        return None

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        if not codes:
            return []
        with tempfile.TemporaryDirectory(prefix="franc-semgrep-") as folder:
            paths = []
            for i, code in enumerate(codes):
                path = Path(folder) / f"candidate_{i:04d}{self.suffix}"
                path.write_bytes(code.encode("utf-8", errors="surrogateescape"))
                paths.append(str(path.resolve()))
            try:
                done = subprocess.run(
                    ["semgrep", "scan", "--config", str(self.config), "--json", "--metrics=off",
                     "--disable-version-check", "--quiet", folder],
                    capture_output=True, text=True, check=False,
                    timeout=self.timeout + 0.5 * len(codes))
                report = json.loads(done.stdout)
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                return [[Finding.failure(self.id, f"{type(exc).__name__}: {exc}"[:300])]
                        for _ in codes]
        by_path: dict[str, list[Finding]] = {path: [] for path in paths}
        for result in report.get("results", []):
            extra = result.get("extra", {})
            metadata = extra.get("metadata", {})
            cwe = CWE_NUMBER.search(json.dumps(metadata.get("cwe", "")))
            finding = Finding(
                tool=self.id, rule_id=str(result.get("check_id", "unknown")).rsplit(".", 1)[-1],
                message=str(extra.get("message", "")).strip(),
                severity=SEMGREP_LEVELS.get(str(extra.get("severity", "")).upper(), "low"),
                confidence=SEMGREP_LEVELS.get(str(metadata.get("confidence", "")).upper(),
                                              "medium"),
                line=int(result.get("start", {}).get("line", 1)),
                column=max(0, int(result.get("start", {}).get("col", 1)) - 1),
                cwe=int(cwe.group(1)) if cwe else None)
            by_path.get(str(Path(result.get("path", "")).resolve()), []).append(finding)
        return [by_path[path] for path in paths]


class JavaSemgrepAnalyzer(SemgrepAnalyzer):
    id = "semgrep"
    language = "java"
    suffix = ".java"


class SemgrepSettings(PolicyModel):
    """The ``[analysis.semgrep]`` table: a local rules file or folder, relative to the policy."""

    config: str | None = None


def _semgrep_config(language: Language, policy: PolicyRef = None) -> Path | None:
    """The rules file or folder named in the policy (or the language's), if it exists."""
    table, source = analysis_table(language, "semgrep", policy)
    settings = validate_policy(SemgrepSettings, table, source or "semgrep defaults",
                               "analysis.semgrep")
    if not settings.config or source is None:
        return None
    path = Path(settings.config)
    path = path if path.is_absolute() else source.parent / path
    return path if path.exists() else None
