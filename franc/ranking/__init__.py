"""Quality-aware ranking of a task's candidates, and its evaluation against labels.

Nouns: :class:`Ranker` (built from a policy in ``rankers/``), :class:`EvalReport`.
Verbs: :func:`get_ranker`, ``Ranker.rank``, :func:`evaluate`, :func:`train`.
"""

from franc.ranking.base import Ranker
from franc.ranking.evaluate import EvalReport, evaluate, load_labeled
from franc.ranking.learned import train
from franc.ranking.rankers import RANKER_KINDS, get_ranker

__all__ = ["RANKER_KINDS", "EvalReport", "Ranker", "evaluate", "get_ranker", "load_labeled",
           "train"]
