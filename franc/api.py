"""FRANC's public API in one place (``franc/__init__.py`` re-exports it).

Imports are lazy so that ``import franc`` stays cheap and a stage whose optional
dependencies are missing fails only when it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
EXPORTS: dict[str, str] = {
    "Task": "franc.models", "Candidate": "franc.models", "Finding": "franc.models",
    "InputError": "franc.errors", "FrancError": "franc.errors",
    "StaticFilter": "franc.filter",
    "Analyzers": "franc.analysis", "analyze": "franc.analysis",
    "get_ranker": "franc.ranking",
    "load_tasks": "franc.datasets", "load_suggestions": "franc.datasets",
    "Generator": "franc.generation", "make_generator": "franc.generation",
    "GenerationError": "franc.generation", "ReplayGenerator": "franc.generation",
    "OpenAIGenerator": "franc.generation",
    "Judge": "franc.repair", "load_template": "franc.repair",
    "available_templates": "franc.repair",
    "Pipeline": "franc.pipeline", "PipelineReport": "franc.pipeline",
}

__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'franc.api' has no attribute {name!r}")
    return getattr(importlib.import_module(EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
