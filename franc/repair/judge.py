"""When is a candidate clean? Compiles after the static filter, and no finding of at
least a given severity from the security analyzers on a generated line."""

from __future__ import annotations

from dataclasses import dataclass

from franc.languages import facts
from franc.models import LEVELS, Candidate, Finding, Level

ERROR_TOOL = "franc"
ERROR_RULE = "analyzer-error"


@dataclass(frozen=True)
class Judge:
    """``strict`` is FRANC's own judge: any finding of those tools, prompt lines included."""

    language: str
    analyzers: tuple[str, ...] = ()
    min_severity: Level = "medium"
    strict: bool = False

    def __post_init__(self) -> None:
        if not self.analyzers:
            object.__setattr__(self, "analyzers", facts(self.language).security_analyzers)

    @property
    def name(self) -> str:
        scope = ("any finding, any line" if self.strict
                 else f"no finding >= {self.min_severity} on generated lines")
        return f"{facts(self.language).compiler} + {'+'.join(self.analyzers)}: {scope}"

    def counts(self, finding: Finding) -> bool:
        """Whether this finding comes from (or is about) one of the judge's analyzers."""
        return finding.tool in self.analyzers or self.analyzer_failed(finding)

    def analyzer_failed(self, finding: Finding) -> bool:
        """A crashed or timed-out analyzer cannot vouch for the code, whatever its line."""
        return (finding.tool == ERROR_TOOL and finding.rule_id == ERROR_RULE
                and finding.message.split(":", 1)[0] in self.analyzers)

    def blocking(self, candidate: Candidate) -> list[Finding]:
        found = candidate.findings or []
        if self.strict:
            return [f for f in found if self.counts(f)]
        threshold = LEVELS.index(self.min_severity)
        return [f for f in found if self.analyzer_failed(f) or (
            f.tool in self.analyzers and not f.in_prompt
            and LEVELS.index(f.severity) >= threshold)]

    def is_clean(self, candidate: Candidate) -> bool:
        return candidate.compiles and candidate.findings is not None \
            and not self.blocking(candidate)
