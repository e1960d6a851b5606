"""A small bundled example written for FRANC: a few Python and Java prompts (with tests)
and realistic raw candidates showing the defects the static filter repairs (prose and
fences, bare bodies, extra functions/classes, trailing test code, truncation, end markers,
empty bodies).

Files: ``<language>_prompts.jsonl`` (HumanEval style: task_id, prompt, entry_point, test)
and ``<language>_suggestions.jsonl`` (compact format: task_id, suggestions).
"""

from __future__ import annotations

from pathlib import Path

from franc.errors import InputError
from franc.models import check_language

EXAMPLES_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The bundled file ``name`` (e.g. ``"python_prompts.jsonl"``)."""
    found = EXAMPLES_DIR / name
    if found.suffix != ".jsonl" or not found.is_file():
        raise InputError(f"no bundled example {name!r}; bundled: {', '.join(names())}")
    return found


def names() -> list[str]:
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.jsonl"))


def prompts(language: str) -> Path:
    return path(f"{check_language(language)}_prompts.jsonl")


def suggestions(language: str) -> Path:
    return path(f"{check_language(language)}_suggestions.jsonl")
