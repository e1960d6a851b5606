"""Text generators: a local transformers model, an OpenAI-compatible server, or replay.

``make_generator("replay:DIR" | "openai:URL" | "hf:PATH")`` builds one from a spec.
"""

from __future__ import annotations

from pathlib import Path

from franc.errors import InputError
from franc.generation.base import (
    GenerationError,
    Generator,
    Messages,
    Prompt,
    cut_at_stop,
)
from franc.generation.openai_server import OpenAIGenerator
from franc.generation.replay import Recording, ReplayGenerator, read_recordings

#: Spec prefixes and what they name.
SPEC_KINDS = {"replay": "a file or folder of recorded answers",
              "openai": "the URL of an OpenAI-compatible server",
              "hf": "a folder with a saved transformers model and tokenizer"}


def make_generator(spec: str) -> Generator:
    """Build a generator from ``replay:PATH[,PATH...]``, ``openai:URL`` or ``hf:PATH``."""
    kind, sep, target = spec.partition(":")
    if not sep or kind not in SPEC_KINDS or not target:
        choices = "; ".join(f"{k}:<{v}>" for k, v in SPEC_KINDS.items())
        raise InputError(f"bad generator spec {spec!r}; expected one of {choices}")
    if kind == "replay":
        return ReplayGenerator.from_paths(Path(p) for p in target.split(","))
    if kind == "openai":
        return OpenAIGenerator(target)
    from franc.generation.hf import TransformersGenerator

    return TransformersGenerator(target)


__all__ = [
    "SPEC_KINDS",
    "GenerationError",
    "Generator",
    "Messages",
    "OpenAIGenerator",
    "Prompt",
    "Recording",
    "ReplayGenerator",
    "cut_at_stop",
    "make_generator",
    "read_recordings",
]
