"""Python security findings from bandit, in-process.

FRANC ran ``bandit`` as one subprocess per snippet. Here one configuration and
test set are loaded once and every snippet is visited from memory, the way
bandit's own manager visits a file (same tests, same ``# nosec`` handling).
"""

from __future__ import annotations

import io
import logging
import re
import sys
import tokenize
from collections.abc import Sequence

from bandit.core import config as b_config
from bandit.core import docs_utils as b_docs
from bandit.core import extension_loader as b_extensions
from bandit.core import manager as b_manager
from bandit.core import node_visitor as b_node_visitor

from franc.analysis.base import Analyzer, RuleInfo, guarded
from franc.models import Finding, Level

#: bandit's levels ("UNDEFINED" included) mapped onto FRANC's three.
LEVELS: dict[str, Level] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high", "UNDEFINED": "low"}
#: The pseudo file name bandit sees; one name keeps its per-file metrics bounded.
SNIPPET = "<candidate>"


class BanditAnalyzer(Analyzer):
    id = "bandit"
    language = "python"
    description = "bandit security tests (all defaults), in-process"

    def __init__(self, timeout: float = 10.0):
        super().__init__(timeout)
        # bandit logs each file it cannot parse; failures become findings instead.
        logging.getLogger("bandit").setLevel(logging.CRITICAL)
        self._manager = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)

    def analyze_batch(self, codes: Sequence[str]) -> list[list[Finding]]:
        return [guarded(self.id, self._analyze, code, self.timeout) for code in codes]

    @classmethod
    def rule_info(cls, rule_id: str) -> RuleInfo | None:
        manager = b_extensions.MANAGER
        plugin = manager.plugins_by_id.get(rule_id)
        if plugin is not None:
            # A plugin's module docstring starts with an RST title "B608: Test for SQL injection".
            doc = sys.modules[plugin.plugin.__module__].__doc__ or ""
            title = re.search(rf"^{rule_id}: (.+)$", doc, re.MULTILINE)
            description = title.group(1) if title else plugin.name.replace("_", " ")
            return RuleInfo(rule_id, plugin.name, description, b_docs.get_url(rule_id))
        listed = manager.blacklist_by_id.get(rule_id)
        if listed is not None:
            return RuleInfo(rule_id, listed["name"], listed["message"], b_docs.get_url(rule_id),
                            listed.get("cwe"))
        return None

    def _analyze(self, code: str) -> list[Finding]:
        data = code.encode("utf-8", errors="surrogateescape")
        manager = self._manager
        manager.metrics.begin(SNIPPET)
        visitor = b_node_visitor.BanditNodeVisitor(
            SNIPPET, io.BytesIO(data), manager.b_ma, manager.b_ts, False,
            _nosec_lines(data), manager.metrics)
        # bandit logs a crashing test and goes on, so the code would look clean; in debug
        # mode its tester re-raises, and ``guarded`` turns the crash into a failure finding.
        visitor.tester.debug = True
        visitor.process(data)
        return [
            Finding(tool=self.id, rule_id=issue.test_id, message=issue.text,
                    severity=LEVELS.get(issue.severity, "low"),
                    confidence=LEVELS.get(issue.confidence, "low"),
                    line=issue.lineno, column=issue.col_offset or 0,
                    cwe=issue.cwe.id or None)
            for issue in visitor.tester.results
        ]


def _nosec_lines(data: bytes) -> dict[int, set[str] | None]:
    """Line -> test ids a ``# nosec`` comment silences (as bandit's manager reads them)."""
    lines: dict[int, set[str] | None] = {}
    if b"nosec" not in data:  # most code: no need to tokenize (bandit reads a missing line
        return lines          # as it reads a comment without nosec)
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.COMMENT:
                lines[token.start[0]] = b_manager._parse_nosec_comment(token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return lines
