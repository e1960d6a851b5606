"""Errors FRANC raises on bad input or a broken environment.

Every message names *what* is wrong and *where* (file, line, field), so that a
user can fix the input without reading FRANC's code.
"""

from __future__ import annotations


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
