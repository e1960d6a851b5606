"""``franc datasets list|show|formats`` on the shipped data and on a user's file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from franc.datasets import SUGGESTION_FORMATS, TASK_FORMATS
from franc.cli import datasets as datasets_cli
from franc.datasets.shipped import DATA_DIR, find_dataset, shipped_datasets
from franc.errors import InputError


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps tables to the terminal; a wide one keeps ids whole in the captured output."""
    monkeypatch.setenv("COLUMNS", "300")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    datasets_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_command_is_registered_with_franc() -> None:
    from franc.cli import COMMAND_MODULES

    assert "franc.cli.datasets" in COMMAND_MODULES


def test_shipped_data_is_the_repository_datasets_folder() -> None:
    assert DATA_DIR.is_dir()
    ids = [d.id for d in shipped_datasets()]
    assert "SOEval/python" in ids and "SOEval/java" in ids
    assert find_dataset("soeval/PYTHON") == find_dataset("SOEval/python")
    assert find_dataset("SOEval/ruby") is None


def test_list_shows_every_shipped_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for dataset in shipped_datasets():
        assert dataset.id in out


def test_show_a_task_of_a_user_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "problems.jsonl"
    path.write_text(json.dumps({"task_id": "X/1", "prompt": "def f(x):\n    '''Double x.'''\n",
                                "entry_point": "f", "test": "def check(c):\n    pass\n"}) + "\n")
    assert run(["datasets", "show", "X/1", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "X/1" in out and "Double x." in out and "entry point: f" in out
    with pytest.raises(InputError, match="no dataset or task 'X/2'"):
        run(["datasets", "show", "X/2", "--file", str(path)])


def test_show_a_shipped_dataset_and_one_of_its_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    dataset = find_dataset("SOEval/python")
    assert dataset is not None
    first = json.loads(dataset.path.read_text().splitlines()[0])
    assert run(["datasets", "show", "SOEval/python"]) == 0
    assert first["task_id"] in capsys.readouterr().out
    assert run(["datasets", "show", first["task_id"]]) == 0
    assert first["entry_point"] in capsys.readouterr().out


def test_formats_lists_every_loader(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["datasets", "formats"]) == 0
    out = capsys.readouterr().out
    for fmt in (*TASK_FORMATS, *SUGGESTION_FORMATS):
        assert fmt.id in out
