"""Facts about each supported language and its tools, in one place.

Every stage that names a language's compiler, comment syntax or security analyzers reads
them here, so adding a language (or swapping a tool) is one entry, not a hunt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from franc.models import Language, check_language

#: The label of a candidate that passes its functional tests (3: and its security test;
#: 1: compiles but fails; 0: does not compile). See ``franc.evaluation.labels``.
PASS_LABEL = 2


@dataclass(frozen=True)
class LanguageFacts:
    language: Language
    #: As written in prose and in repair prompts ("Python").
    title: str
    #: How a line comment starts.
    comment: str
    #: The compile check the static filter and the judge run, as shown to users.
    compiler: str
    #: The analyzers whose findings decide whether a candidate is secure (FRANC's: bandit,
    #: SpotBugs; SpotBugs cannot run here, our Java rules stand in).
    security_analyzers: tuple[str, ...]
    #: The analyzers whose findings are about code quality (lint) rather than security.
    lint_analyzers: tuple[str, ...]


LANGUAGE_FACTS: Mapping[Language, LanguageFacts] = MappingProxyType({
    "python": LanguageFacts("python", title="Python", comment="#", compiler="compile()",
                            security_analyzers=("bandit",), lint_analyzers=("pylint",)),
    "java": LanguageFacts("java", title="Java", comment="//", compiler="javac",
                          security_analyzers=("java-rules",), lint_analyzers=("java-rules",)),
})

#: language -> its security analyzers (``LanguageFacts.security_analyzers``).
SECURITY_ANALYZERS: Mapping[Language, tuple[str, ...]] = MappingProxyType(
    {language: facts.security_analyzers for language, facts in LANGUAGE_FACTS.items()})


def facts(language: str) -> LanguageFacts:
    """The facts of ``language``; a clear error for a language FRANC does not support."""
    return LANGUAGE_FACTS[check_language(language)]
