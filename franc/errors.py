"""Errors FRANC raises on bad input or a broken environment.

Every message names *what* is wrong and *where* (file, line, field), so that a
user can fix the input without reading FRANC's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class FrancError(Exception):
    """Base class of all errors FRANC raises on purpose."""


class InputError(FrancError, ValueError):
    """Malformed user input: a file, a JSON line, a field, a policy file."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = source or ""
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class ToolMissingError(FrancError, RuntimeError):
    """An external tool FRANC needs (a JDK, an analyzer) is not installed."""


def expect_list(value: object, argument: str, item_type: type[T]) -> list[T]:
    """``value`` as a list of ``item_type``, or an :class:`InputError` naming the argument
    (a lone string is not a list of one-character candidates) or the bad entry."""
    wanted = f"{argument} must be a list of {item_type.__name__}"
    if isinstance(value, (str, bytes)):
        raise InputError(f"{wanted}, not one {type(value).__name__} (wrap a single one: [x])")
    if not isinstance(value, Sequence):
        raise InputError(f"{wanted}, not {type(value).__name__}")
    for position, item in enumerate(value):
        if not isinstance(item, item_type):
            raise InputError(f"{argument}[{position}] must be a {item_type.__name__}, "
                             f"not {type(item).__name__}")
    return list(value)
