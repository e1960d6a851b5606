"""Analyse each distinct program once: a worker's analyzers with an LRU of findings.

An IDE asks again on every keystroke, and a model's candidates often repeat within one
request. Findings depend only on the code and the analyzers' policy (loaded once when the
analyzers are built), so a warm :class:`~franc.analysis.Analyzers` keeps them by a hash of
the code; whether a finding is on a prompt line is worked out per request, after the cache.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from franc.analysis import Analyzers
from franc.models import Finding


class CachingAnalyzers(Analyzers):
    """:class:`Analyzers` that analyse each distinct code once, and remember the findings
    of the last ``size`` codes. An analyzer's failure (a crash, a timeout under load) is
    not remembered: the next request tries again."""

    def __init__(self, language: str, names: Sequence[str] | None = None, *,
                 size: int = 4096) -> None:
        super().__init__(language, names)
        self.size = size
        self._known: OrderedDict[str, tuple[Finding, ...]] = OrderedDict()
        #: Codes analysed and codes answered from the cache (or a duplicate), for reports.
        self.analysed = self.reused = 0

    def findings(self, codes: Sequence[str]) -> list[list[Finding]]:
        keys = [hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()
                for code in codes]
        missing = {key: code for key, code in zip(keys, codes, strict=True)
                   if key not in self._known}
        fresh = dict(zip(missing, super().findings(list(missing.values())), strict=True))
        self.analysed += len(missing)
        self.reused += len(codes) - len(missing)
        for key, found in fresh.items():
            if not any(finding.is_failure for finding in found):
                self._known[key] = tuple(found)
        answers = []
        for key in keys:
            if key in self._known:
                self._known.move_to_end(key)
                answers.append(list(self._known[key]))
            else:
                answers.append(list(fresh[key]))
        while len(self._known) > self.size:
            self._known.popitem(last=False)
        return answers
