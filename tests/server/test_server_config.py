"""``FRANC_*`` environment variables go through pydantic-settings, between the config file
and explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from franc.errors import InputError
from franc.server.config import load_config


def test_environment_variables_are_parsed_by_type() -> None:
    config = load_config(environ={"FRANC_LANGUAGES": "java", "FRANC_PORT": "9001",
                                  "FRANC_ENABLE_EXAMPLES_RANKER": "true",
                                  "FRANC_DEADLINE_SECONDS": "2.5", "UNRELATED": "x"})
    assert config.languages == ["java"] and config.port == 9001
    assert config.enable_examples_ranker is True and config.deadline_seconds == 2.5


def test_the_environment_beats_the_file_and_overrides_beat_both(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[server]\nport = 9100\nmax_candidates = 8\n")
    config = load_config(path, overrides={"max_candidates": 4},
                         environ={"FRANC_PORT": "9200", "FRANC_MAX_CANDIDATES": "16"})
    assert (config.port, config.max_candidates) == (9200, 4)


def test_a_bad_environment_value_names_the_setting() -> None:
    with pytest.raises(InputError, match="port"):
        load_config(environ={"FRANC_PORT": "eighty"})


def test_default_analyzers_per_language_come_from_the_file_or_the_environment(
        tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('[server]\nanalyzers = { python = ["bandit"] }\n')
    assert load_config(path, environ={}).analyzers == {"python": ["bandit"]}
    assert load_config(environ={"FRANC_ANALYZERS": '{"java": ["java-rules"]}'}).analyzers == {
        "java": ["java-rules"]}
    assert load_config(environ={}).analyzers == {}  # every language: all of its analyzers


def test_an_unknown_default_analyzer_or_language_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('[server]\nanalyzers = { python = ["bandit", "pylnt"] }\n')
    with pytest.raises(InputError, match="pylnt"):
        load_config(path, environ={})
    path.write_text('[server]\nanalyzers = { cobol = ["bandit"] }\n')
    with pytest.raises(InputError, match="cobol"):
        load_config(path, environ={})
