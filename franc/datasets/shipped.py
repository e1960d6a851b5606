"""The datasets FRANC ships (``datasets/`` in the repository, ``franc/datasets/data`` installed).

A shipped dataset's id is its folder and file stem: ``SOEval/python`` is
``datasets/SOEval/python.jsonl``. Ids match case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from franc.errors import InputError

#: A symlink to the repository's ``datasets/`` folder, so the data ships in the wheel.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: The loader format of every shipped file.
SHIPPED_FORMAT = "soeval"


@dataclass(frozen=True)
class ShippedDataset:
    id: str
    path: Path


def shipped_datasets(data_dir: Path = DATA_DIR) -> list[ShippedDataset]:
    """Every ``<folder>/<name>.jsonl`` under the data directory, sorted by id."""
    return [ShippedDataset(f"{path.parent.name}/{path.stem}", path)
            for path in sorted(data_dir.glob("*/*.jsonl"))]


def find_dataset(dataset_id: str, data_dir: Path = DATA_DIR) -> ShippedDataset | None:
    """The shipped dataset named ``dataset_id`` (case-insensitive), or ``None``."""
    wanted = dataset_id.strip("/").lower()
    return next((d for d in shipped_datasets(data_dir) if d.id.lower() == wanted), None)


def require_dataset(dataset_id: str, data_dir: Path = DATA_DIR) -> ShippedDataset:
    found = find_dataset(dataset_id, data_dir)
    if found is None:
        known = ", ".join(d.id for d in shipped_datasets(data_dir)) or "none"
        raise InputError(f"no shipped dataset {dataset_id!r}; shipped: {known}")
    return found
