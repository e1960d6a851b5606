"""``franc``'s exports: loaded lazily at run time, visible to type checkers statically."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import franc
from franc import api

INIT = Path(franc.__file__)


def type_checking_imports() -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in franc/__init__.py."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and ast.unparse(node.test) == "TYPE_CHECKING")
    return {alias.name: statement.module or "" for statement in block.body
            if isinstance(statement, ast.ImportFrom) for alias in statement.names}


def test_type_checkers_see_every_export_from_its_module() -> None:
    assert type_checking_imports() == api.EXPORTS


def test_all_lists_the_exports_and_each_resolves_at_run_time() -> None:
    assert sorted(franc.__all__) == sorted([*api.__all__, "__version__"])
    for name, module in api.EXPORTS.items():
        assert getattr(franc, name) is getattr(importlib.import_module(module), name)


def test_the_package_ships_its_type_marker() -> None:
    assert (INIT.parent / "py.typed").is_file()
