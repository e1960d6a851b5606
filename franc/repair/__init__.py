"""Repair: re-prompt the model with the analyzers' findings, judge its answers.

Templates live in ``repair_prompts/`` (FRANC's P1, P2, P3; P3S; a chat template).
"""

from __future__ import annotations

from franc.languages import SECURITY_ANALYZERS
from franc.repair.answer import Answer, extract_answer, strip_echo
from franc.repair.judge import Judge
from franc.repair.loop import NOTHING_KEPT, RepairAnswer, Repairer, RepairRound
from franc.repair.templates import (
    RenderedPrompt,
    RepairTemplate,
    available_templates,
    load_template,
)

__all__ = ["NOTHING_KEPT", "SECURITY_ANALYZERS", "Answer", "Judge", "RenderedPrompt",
           "RepairAnswer", "RepairRound", "RepairTemplate", "Repairer", "available_templates",
           "extract_answer", "load_template", "strip_echo"]
