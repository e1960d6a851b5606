"""Static filter: heuristics repair raw candidates so they compile, then a real compile check.

``StaticFilter(language, chain=None)`` runs the chain named by ``filters/<language>.toml``
(or any TOML path). Language modules load lazily: ``franc.filter.python``,
``franc.filter.java``.
"""

from franc.filter.base import Compiler, CompileResult, FilterContext, Heuristic, LanguageSupport
from franc.filter.chain import EMPTY_BODY, Chain, StaticFilter, load_chain

__all__ = [
    "EMPTY_BODY",
    "Chain",
    "CompileResult",
    "Compiler",
    "FilterContext",
    "Heuristic",
    "LanguageSupport",
    "StaticFilter",
    "load_chain",
]
