"""Pydantic schemas of the policy files: a bad policy is an error naming the key and the file.

Each policy kind declares its tables as :class:`PolicyModel` subclasses next to the code
that reads them; :func:`validate_policy` turns pydantic's errors into one
:class:`~franc.errors.InputError` such as
``filters/mine.toml: analysis.pylint.batch_size: Input should be a valid integer``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from franc.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


class PolicyModel(BaseModel):
    """A policy table: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe(error: ValidationError, table: str = "") -> str:
    """``key.path: message`` for each problem, the key prefixed by its ``table``."""
    problems = []
    for problem in error.errors():
        key = ".".join(str(part) for part in (table, *problem["loc"]) if part != "")
        problems.append(f"{key or table or 'policy'}: {problem['msg']}")
    return "; ".join(problems)


def validate_policy(model: type[Model], data: object, source: str | Path,
                    table: str = "") -> Model:
    """``data`` (a parsed policy or one of its tables) as ``model``, or an :class:`InputError`
    naming ``source`` and each bad key (prefixed by ``table``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe(exc, table), source=str(source)) from exc
