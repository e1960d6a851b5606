"""Locate the user-editable policy files shipped with FRANC.

The folders ``filters/``, ``rankers/`` and ``repair_prompts/`` at the top of the
repository are linked into this package so that they travel inside the wheel.
A policy is named either by a path (any file the user wrote) or by a bare name,
looked up in the shipped folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from franc.errors import InputError

PolicyKind = Literal["filters", "rankers", "repair_prompts"]
SHIPPED = Path(__file__).resolve().parent
#: The file suffixes of each kind of policy, tried in this order after a bare name.
SUFFIXES: dict[PolicyKind, tuple[str, ...]] = {
    "filters": (".toml",), "rankers": (".toml", ".json"), "repair_prompts": (".j2", ".toml")}
#: The repair templates' hints (``repair_prompts/hints.toml``): data they read, not a template.
REPAIR_HINTS = "hints"


def shipped_dir(kind: PolicyKind) -> Path:
    """The folder holding the shipped policy files of one kind."""
    return (SHIPPED / kind).resolve()


def locate(kind: PolicyKind, name_or_path: str | Path,
           suffixes: tuple[str, ...] | None = None) -> Path:
    """Resolve a policy given as a path or as a name in the shipped folder.

    The kind's :data:`SUFFIXES` (or ``suffixes``, a narrower choice) are tried in order
    after a bare name (``"python"`` -> ``filters/python.toml``). Raises
    :class:`InputError` listing what exists.
    """
    suffixes = SUFFIXES[kind] if suffixes is None else suffixes
    candidate = Path(name_or_path)
    if candidate.suffix and candidate.is_file():
        return candidate
    folder = shipped_dir(kind)
    for suffix in ("", *suffixes):
        path = folder / f"{name_or_path}{suffix}"
        if path.is_file():
            return path
    known = available(kind) if folder.is_dir() else []
    raise InputError(f"no {kind} policy {str(name_or_path)!r}; shipped: "
                     f"{', '.join(known) or 'none'} (or give a path to a file)")


def available(kind: PolicyKind) -> list[str]:
    """Names of the shipped policies of one kind."""
    folder = shipped_dir(kind)
    data = {REPAIR_HINTS} if kind == "repair_prompts" else set()
    return sorted(p.stem for p in folder.iterdir()
                  if p.suffix in SUFFIXES[kind] and p.stem not in data)


def choice_help(kind: PolicyKind, what: str) -> str:
    """A command-line help text for an option naming a policy of one kind."""
    return f"{what}: a shipped one ({', '.join(available(kind))}) or a file's path"
