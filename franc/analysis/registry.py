"""The one place that lists FRANC's analyzers, per language."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from franc.analysis.bandit_tool import BanditAnalyzer
from franc.analysis.base import Analyzer
from franc.analysis.external import FindBugsAnalyzer, JavaSemgrepAnalyzer, SemgrepAnalyzer
from franc.analysis.java_rules import JavaRulesAnalyzer
from franc.analysis.pylint_tool import PylintAnalyzer
from franc.models import Language

#: language -> analyzer id -> class.
ANALYZERS: Mapping[Language, Mapping[str, type[Analyzer]]] = MappingProxyType({
    "python": MappingProxyType({"bandit": BanditAnalyzer, "pylint": PylintAnalyzer,
                                "semgrep": SemgrepAnalyzer}),
    "java": MappingProxyType({"java-rules": JavaRulesAnalyzer, "findbugs": FindBugsAnalyzer,
                              "semgrep": JavaSemgrepAnalyzer}),
})

#: What runs when the caller names no analyzers (the optional external tools are opt-in).
DEFAULT_ANALYZERS: Mapping[Language, tuple[str, ...]] = MappingProxyType({
    "python": ("bandit", "pylint"),
    "java": ("java-rules",),
})
