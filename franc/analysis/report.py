"""Findings as CI and editor tools expect them: SARIF 2.1.0, text lines, a baseline, a gate.

``franc analyze`` analyses *subjects*: source files named on the command line, or the
candidates of a JSONL file. Each subject's reportable findings are the analyzers' findings
on generated lines plus, when it does not compile, one ``franc/compile-error`` finding per
compiler message (high severity: code that does not compile is never clean).

A baseline (as bandit's ``-b``) lists accepted findings by rule, file and a hash of the
finding's line with whitespace collapsed, so it survives lines moving up or down.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from franc.analysis.base import COMPILE_RULE, FRANC_RULES, RuleInfo
from franc.analysis.registry import ANALYZERS
from franc.errors import InputError
from franc.models import FAILURE_TOOL, LEVELS, Candidate, Finding, Language, Level

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
BASELINE_VERSION = 1
#: SARIF result levels of FRANC's severities.
SARIF_LEVELS: dict[Level, str] = {"high": "error", "medium": "warning", "low": "note"}
#: GitHub code scanning's ``security-severity`` scores (0-10) of FRANC's severities.
SECURITY_SEVERITY: dict[Level, str] = {"high": "8.0", "medium": "5.5", "low": "2.0"}
#: Where a compiler message names its line: "line 3: ..." (Python), "A.java:3: ..." (javac).
COMPILE_ERROR_LINE = re.compile(r"(?:^line |\.java:)(\d+)")


@dataclass(frozen=True)
class Subject:
    """One analysed unit: a source file, or one candidate of a JSONL file.

    ``fix`` is the static filter's version of code that does not compile, when that
    version compiles (the fix an editor offers as a code action).
    """

    uri: str
    language: Language
    candidate: Candidate
    fix: str | None = None
    fix_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reported:
    """One finding of one subject, with the fingerprint a baseline matches it by."""

    subject: Subject
    finding: Finding
    fingerprint: str

    @property
    def rule(self) -> str:
        return f"{self.finding.tool}/{self.finding.rule_id}"


def compile_findings(errors: Sequence[str]) -> list[Finding]:
    findings = []
    for error in errors or ["does not compile"]:
        match = COMPILE_ERROR_LINE.search(error)
        findings.append(Finding(tool=FAILURE_TOOL, rule_id=COMPILE_RULE, message=error,
                                severity="high", confidence="high",
                                line=int(match.group(1)) if match else 1))
    return findings


def line_fingerprint(rule: str, code: str, line: int) -> str:
    """A hash of the rule and the finding's line with whitespace collapsed."""
    lines = code.splitlines()
    text = " ".join(lines[line - 1].split()) if 1 <= line <= len(lines) else ""
    return hashlib.sha256(f"{rule}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:20]


def reported(subjects: Iterable[Subject]) -> list[Reported]:
    """Every reportable finding of ``subjects``, in subject order."""
    results = []
    for subject in subjects:
        candidate = subject.candidate
        findings = candidate.generated_findings() + (
            [] if candidate.compiles else compile_findings(candidate.errors))
        for finding in findings:
            rule = f"{finding.tool}/{finding.rule_id}"
            results.append(Reported(subject, finding,
                                    line_fingerprint(rule, candidate.code, finding.line)))
    return results


def at_or_above(results: Iterable[Reported], level: Level) -> list[Reported]:
    floor = LEVELS.index(level)
    return [r for r in results if LEVELS.index(r.finding.severity) >= floor]


# --------------------------------------------------------------------------- baseline


def _baseline_key(result: Reported) -> tuple[str, str, str]:
    return result.rule, result.subject.uri, result.fingerprint


def write_baseline(path: Path, results: Sequence[Reported]) -> None:
    entries = [{"rule": rule, "uri": uri, "fingerprint": fingerprint}
               for rule, uri, fingerprint in sorted(map(_baseline_key, results))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": BASELINE_VERSION, "tool": "franc",
                                "findings": entries}, indent=1) + "\n", encoding="utf-8")


def read_baseline(path: Path) -> Counter[tuple[str, str, str]]:
    """The accepted findings of a baseline file, counted (a line may repeat a finding)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the baseline: {exc}", source=str(path)) from exc
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or data.get("version") != BASELINE_VERSION:
        raise InputError(f"not a franc baseline (version {BASELINE_VERSION}, a list of "
                         "'findings'); write one with --write-baseline", source=str(path))
    accepted: Counter[tuple[str, str, str]] = Counter()
    for number, entry in enumerate(entries):
        if not (isinstance(entry, dict)
                and all(isinstance(entry.get(k), str) for k in ("rule", "uri", "fingerprint"))):
            raise InputError(f"findings[{number}]: expected an object with string fields rule, "
                             "uri and fingerprint", source=str(path))
        accepted[entry["rule"], entry["uri"], entry["fingerprint"]] += 1
    return accepted


def new_findings(results: Sequence[Reported], accepted: Counter[tuple[str, str, str]],
                 ) -> list[Reported]:
    """The findings the baseline does not account for (each entry accepts one finding)."""
    left = Counter(accepted)
    fresh = []
    for result in results:
        key = _baseline_key(result)
        if left[key] > 0:
            left[key] -= 1
        else:
            fresh.append(result)
    return fresh


# --------------------------------------------------------------------------- text


def text_lines(results: Iterable[Reported]) -> list[str]:
    """``path:line:column: severity tool/rule message [CWE-n]``, as compilers and linters print."""
    lines = []
    for result in results:
        finding = result.finding
        cwe = f" [CWE-{finding.cwe}]" if finding.cwe else ""
        lines.append(f"{result.subject.uri}:{finding.line}:{finding.column + 1}: "
                     f"{finding.severity} {result.rule} {finding.message}{cwe}")
    return lines


# --------------------------------------------------------------------------- SARIF


def rule_info(language: Language, tool: str, rule_id: str) -> RuleInfo | None:
    if tool == FAILURE_TOOL:
        return FRANC_RULES.get(rule_id)
    analyzer = ANALYZERS[language].get(tool)
    return analyzer.rule_info(rule_id) if analyzer is not None else None


def _sarif_rule(result: Reported, severity: Level) -> dict[str, Any]:
    finding = result.finding
    info = rule_info(result.subject.language, finding.tool, finding.rule_id)
    description = info.description if info else finding.message
    cwe = (info.cwe if info else None) or finding.cwe
    rule: dict[str, Any] = {
        "id": result.rule,
        "name": info.name if info else finding.rule_id,
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {"text": description + (f" (see {info.help_uri})" if info and info.help_uri
                                        else "")},
        "defaultConfiguration": {"level": SARIF_LEVELS[severity]},
    }
    if info and info.help_uri:
        rule["helpUri"] = info.help_uri
    tags = [finding.tool]
    properties: dict[str, Any] = {"precision": finding.confidence}
    if cwe:
        tags += ["security", f"external/cwe/cwe-{cwe}"]
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    else:
        tags.append("correctness" if finding.rule_id == COMPILE_RULE else "maintainability")
    properties["tags"] = tags
    rule["properties"] = properties
    return rule


def _region(code: str, finding: Finding) -> dict[str, Any]:
    lines = code.splitlines()
    line = min(max(1, finding.line), max(1, len(lines)))
    region: dict[str, Any] = {"startLine": line, "startColumn": finding.column + 1}
    if 1 <= line <= len(lines):
        region["snippet"] = {"text": lines[line - 1]}
    return region


def _fix(subject: Subject) -> dict[str, Any]:
    """The static filter's fix as SARIF replacements, one per changed block of lines."""
    assert subject.fix is not None
    old = subject.candidate.code.splitlines(keepends=True)
    new = subject.fix.splitlines(keepends=True)
    starts = [0]  # the character offset where each old line starts (and the end of the text)
    for line in old:
        starts.append(starts[-1] + len(line))
    replacements = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":  # old lines i1..i2 (end exclusive) become new lines j1..j2
            replacements.append({
                "deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]},
                "insertedContent": {"text": "".join(new[j1:j2])}})
    steps = ", ".join(subject.fix_steps) or "static filter"
    return {"description": {"text": f"FRANC's static filter makes this compile ({steps})"},
            "artifactChanges": [{"artifactLocation": {"uri": subject.uri},
                                 "replacements": replacements}]}


def sarif_log(subjects: Sequence[Subject], results: Sequence[Reported], *,
              embed_code: bool = False) -> dict[str, Any]:
    """A SARIF 2.1.0 log of ``results``. ``embed_code`` puts each subject's code into
    ``artifacts`` (candidates have no file on disk to point at)."""
    severities: dict[str, Level] = {}
    for result in results:  # a rule's level: the highest severity it was reported with
        current = severities.get(result.rule, "low")
        severities[result.rule] = max(current, result.finding.severity, key=LEVELS.index)
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    for result in results:
        if result.rule not in rule_index:
            rule_index[result.rule] = len(rules)
            rules.append(_sarif_rule(result, severities[result.rule]))
    artifact_index = {subject.uri: number for number, subject in enumerate(subjects)}
    artifacts = []
    for subject in subjects:
        artifact: dict[str, Any] = {"location": {"uri": subject.uri},
                                    "sourceLanguage": subject.language}
        if embed_code:
            artifact["contents"] = {"text": subject.candidate.code}
        artifacts.append(artifact)
    sarif_results = []
    for result in results:
        finding, subject = result.finding, result.subject
        entry: dict[str, Any] = {
            "ruleId": result.rule,
            "ruleIndex": rule_index[result.rule],
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": subject.uri, "index": artifact_index[subject.uri]},
                "region": _region(subject.candidate.code, finding)}}],
            "partialFingerprints": {"francLineHash/v1": result.fingerprint},
            "properties": {"severity": finding.severity, "confidence": finding.confidence},
        }
        if finding.rule_id == COMPILE_RULE and subject.fix is not None:
            entry["fixes"] = [_fix(subject)]
        sarif_results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "franc", "version": _version(),
                                "informationUri": "https://pypi.org/project/franc-code/",
                                "rules": rules}},
            "artifacts": artifacts,
            "results": sarif_results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def _version() -> str:
    try:
        return metadata.version("franc-code")
    except metadata.PackageNotFoundError:
        return "0"
