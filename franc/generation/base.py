"""The one interface every text generator follows, and helpers they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from franc.errors import FrancError

#: A chat prompt: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
Messages = list[dict[str, str]]
Prompt = str | Messages


class GenerationError(FrancError, RuntimeError):
    """A generator could not produce answers (server error, timeout, bad reply, no record)."""


@runtime_checkable
class Generator(Protocol):
    """Samples ``n`` answers to one prompt (plain text or chat messages)."""

    def generate(self, prompt: Prompt, n: int, max_new_tokens: int, temperature: float,
                 stop: Sequence[str]) -> list[str]: ...

    def close(self) -> None: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the earliest stop string (the stop string itself is dropped)."""
    positions = [text.find(s) for s in stop if s]
    hits = [p for p in positions if p >= 0]
    return text[:min(hits)] if hits else text


def messages_as_text(messages: Messages) -> str:
    """A plain-text rendering of chat messages for models without a chat template."""
    return "\n\n".join(m.get("content", "") for m in messages).strip() + "\n"


def check_messages(prompt: Prompt) -> None:
    """Refuse chat prompts that are not a list of {role, content} string dicts."""
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str) for m in prompt):
        raise GenerationError("a chat prompt must be a list of {'role': str, 'content': str}")
