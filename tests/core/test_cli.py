"""The ``franc`` command line as a whole: help texts, shared flags, input errors."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from franc.cli import build_parser, main

#: Sub-commands that work through a batch: they all take --no-progress and -q/--quiet.
BATCH_COMMANDS = ("filter", "analyze", "label", "rank", "eval", "train-ranker", "repair", "run",
                  "demo", "export", "datasets validate")


def subcommands(parser: argparse.ArgumentParser, prefix: str = ""
                ) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """Every (nested) sub-command: its name, parser and one-line help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub, helps.get(name)
                yield from subcommands(sub, f"{prefix}{name} ")


ALL = {name: (sub, summary) for name, sub, summary in subcommands(build_parser())}


def test_the_batch_commands_exist() -> None:
    assert set(BATCH_COMMANDS) <= set(ALL)


@pytest.mark.parametrize("command", sorted(ALL))
def test_every_command_and_option_is_described(command: str) -> None:
    parser, summary = ALL[command]
    assert summary, f"`franc {command}` has no one-line help"
    assert parser.description, f"`franc {command} --help` has no description"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction) or \
                action.help == argparse.SUPPRESS:  # a hidden alias
            continue
        assert action.help, f"`franc {command}` option {action.option_strings or action.dest} " \
                            "has no help"


@pytest.mark.parametrize("command", BATCH_COMMANDS)
def test_batch_commands_take_the_same_progress_flags(command: str) -> None:
    parser, _ = ALL[command]
    options = {option for action in parser._actions for option in action.option_strings}
    assert {"--no-progress", "-q", "--quiet"} <= options


BAD_SHAPE = {"task_id": "HumanEval/0", "index": 1, "code": "x = 1\n", "compiles": True,
             "heuristics": "extract-code-block", "errors": []}
GOOD = {"task_id": "HumanEval/0", "index": 0, "code": "x = 1\n", "compiles": True,
        "heuristics": [], "errors": [], "findings": [], "label": 2}
PROMPTS = {"task_id": "HumanEval/0", "prompt": "", "entry_point": "f", "test": "pass\n"}


@pytest.mark.parametrize("argv", [
    ["analyze", "--language", "python", "--candidates", "{bad}", "-o", "{out}"],
    ["rank", "--language", "python", "--candidates", "{bad}", "-o", "{out}"],
    ["eval", "--language", "python", "--labeled", "{bad}", "--rankers", "original"],
    ["train-ranker", "--language", "python", "{bad}", "-o", "{out}"],
    ["label", "--language", "python", "--prompts", "{prompts}", "--candidates", "{bad}",
     "--format", "franc-candidates", "-o", "{out}"],
    ["repair", "--language", "python", "--candidates", "{bad}", "--prompts", "{prompts}",
     "--generator", "replay:{bad}", "-o", "{out}"],
    ["export", "--format", "evalplus", "--candidates", "{bad}", "-o", "{out}"],
], ids=lambda argv: argv[0])
def test_a_jsonl_line_of_the_wrong_shape_is_named(argv: list[str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOOD) + "\n" + json.dumps(BAD_SHAPE) + "\n")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps(PROMPTS) + "\n")
    paths = {"bad": bad, "out": tmp_path / "out.jsonl", "prompts": prompts}
    assert main([arg.format(**paths) for arg in argv] + ["--quiet"]) == 2
    error = capsys.readouterr().err
    assert f"{bad}:2:" in " ".join(error.split()) and "heuristics" in error
    assert "list[str]" in error and "a string" in error
