"""When is a candidate clean? Compiles after the static filter, and no finding of at
least a given severity from the security analyzers on a generated line."""

from __future__ import annotations

from dataclasses import dataclass

from franc.languages import facts
from franc.models import Candidate, Finding, Level


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
        return finding.origin.analyzer in self.analyzers

    def blocking(self, candidate: Candidate) -> list[Finding]:
        if self.strict:
            return [f for f in candidate.findings or [] if self.counts(f)]
        return candidate.security_findings(self.analyzers, self.min_severity)

    def is_clean(self, candidate: Candidate) -> bool:
        return candidate.compiles and candidate.findings is not None \
            and not self.blocking(candidate)
