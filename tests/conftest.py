"""Shared fixtures: the read-only reference data in ../shared, skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference``; tests that need it are skipped where it is absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip("reference data ../shared/reference is absent")
    return REFERENCE_DIR
