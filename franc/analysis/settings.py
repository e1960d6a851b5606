"""Where analyzers read their settings: the ``[analysis.<tool>]`` tables of a filter policy.

The policy is the chain the candidates were filtered with (``franc filter --chain``,
``franc analyze --chain``, ``Pipeline(static_filter=...)``), so a user's chain file configures its
analyzers too. A chain without an ``[analysis.<tool>]`` table keeps the shipped language
policy's (``filters/<language>.toml``); a tool without a table anywhere uses its defaults.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from franc.errors import InputError
from franc.models import Language
from franc.policy import locate

#: A policy given by shipped name or path (``None``: the shipped language policy).
PolicyRef = str | Path | None


def read_policy(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"policy file is not UTF-8 ({exc.reason})", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", source=str(path)) from exc


def analysis_table(language: Language, tool: str,
                   policy: PolicyRef = None) -> tuple[dict[str, Any], Path | None]:
    """``[analysis.<tool>]`` of ``policy``, else of the shipped ``language`` policy, with the
    file it came from (``({}, None)`` when neither has one)."""
    names: list[str | Path] = [language] if policy is None else [policy, language]
    for name in names:
        try:
            path = locate("filters", name)
        except InputError:
            if name is policy:
                raise
            continue  # no shipped policy (a trimmed install): the tool's defaults
        analysis = read_policy(path).get("analysis", {})
        if not isinstance(analysis, dict) or not isinstance(analysis.get(tool, {}), dict):
            raise InputError(f"[analysis.{tool}] must be a table", source=str(path))
        if tool in analysis:
            return analysis[tool], path
    return {}, None
