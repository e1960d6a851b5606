"""Replay of recorded answers, and the generator spec parser."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from franc.errors import InputError
from franc.generation import (
    GenerationError,
    OpenAIGenerator,
    ReplayGenerator,
    cut_at_stop,
    make_generator,
    read_recordings,
)


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    return path


ROWS = [{"task_id": "a", "template": "P1", "repair_prompt": "code A\n# Fixed Code: \n",
         "suggestions": ["one", "two", "three"]},
        {"task_id": "b", "repair_prompt": [{"role": "user", "content": "fix b"}],
         "suggestions": [{"generated_text": "chat answer"}]}]


def test_lookup_by_prompt_text_and_by_task(tmp_path: Path) -> None:
    replay = make_generator(f"replay:{write(tmp_path / 'P2_file.jsonl.gz', ROWS)}")
    assert isinstance(replay, ReplayGenerator)
    assert replay.generate("code A\n# Fixed Code: \n", 2, 10, 0.0, ()) == ["one", "two"]
    assert replay.generate([{"role": "user", "content": "fix b"}], 5, 10, 0.0, ()) == [
        "chat answer"]
    assert replay.lookup("a", "P1").answers == ("one", "two", "three")
    assert replay.lookup("b", "P2").answers == ("chat answer",)  # template from the file name


def test_unknown_prompt_or_task_is_a_generation_error(tmp_path: Path) -> None:
    replay = ReplayGenerator.from_paths([write(tmp_path / "P1_x.jsonl", ROWS)])
    with pytest.raises(GenerationError, match="no recorded answers for this prompt"):
        replay.generate("something else", 1, 1, 0.0, ())
    with pytest.raises(GenerationError, match="task 'a' and template 'P3'"):
        replay.lookup("a", "P3")


def test_folder_of_recordings(tmp_path: Path) -> None:
    write(tmp_path / "P1_x.jsonl", ROWS[:1])
    write(tmp_path / "P3_y.jsonl.gz", [{**ROWS[0], "template": "P3", "suggestions": ["z"]}])
    replay = make_generator(f"replay:{tmp_path}")
    assert replay.lookup("a", "P3").answers == ("z",)  # type: ignore[attr-defined]


@pytest.mark.parametrize("row, message", [
    ({"template": "P1", "repair_prompt": "x"}, "needs 'task_id'"),
    ({"task_id": "a", "repair_prompt": "x", "suggestions": "no list"}, "must be a list"),
    ({"task_id": "a", "repair_prompt": "x", "suggestions": [3]}, "string or"),
])
def test_malformed_recordings_name_file_and_line(tmp_path: Path, row: dict[str, object],
                                                 message: str) -> None:
    path = write(tmp_path / "P1_bad.jsonl", [ROWS[0], row])
    with pytest.raises(InputError, match=rf"P1_bad.jsonl:2: .*{message}"):
        read_recordings(path)


def test_reference_repair_file_replays_ten_answers(reference_dir: Path) -> None:
    path = reference_dir / "repair" / "P1_SecurityEval_python_codegen-2B-multi_128_10.jsonl.gz"
    recordings = read_recordings(path)
    replay = ReplayGenerator(recordings)
    first = recordings[0]
    assert first.template == "P1" and len(first.answers) == 10
    answers = replay.generate(first.prompt, 10, 128, 0.8, ())
    assert answers == list(first.answers)
    assert answers[0].startswith(first.prompt)  # a completion model echoes the repair prompt


@pytest.mark.parametrize("spec", ["", "replay", "gpt:foo", "openai:", "replay:/no/such/dir"])
def test_bad_specs_are_input_errors(spec: str) -> None:
    with pytest.raises(InputError):
        make_generator(spec)


def test_openai_spec_keeps_the_url() -> None:
    generator = make_generator("openai:http://127.0.0.1:8000/v1")
    assert isinstance(generator, OpenAIGenerator)
    assert generator.base_url == "http://127.0.0.1:8000/v1"
    generator.close()


def test_cut_at_stop_takes_the_earliest_stop() -> None:
    assert cut_at_stop("a\nb```c\nd", ["\nd", "```"]) == "a\nb"
    assert cut_at_stop("abc", []) == "abc"


def test_non_utf8_recording_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "P1_binary.jsonl"
    path.write_bytes(b'{"task_id": "a", "repair_prompt": "x", "suggestions": []}\n\xff\xfe\x00\n')
    with pytest.raises(InputError, match=r"P1_binary.jsonl:2: not UTF-8"):
        read_recordings(path)
