"""A prompt in natural language is an instruction: never merged into the candidates, which
are judged as whole programs; the filter's decision is carried on every candidate and on the
pipeline's report, and shown by the CLI (HTTP: tests/server/test_server_prompt_kind.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from franc.cli import main
from franc.filter import StaticFilter
from franc.filter.java import prompt_is_code as java_prompt_is_code
from franc.filter.python import prompt_is_code as python_prompt_is_code
from franc.models import Task
from franc.pipeline import Pipeline

SENTENCE = "Write a function that reverses a string."
PYTHON_ANSWERS = ["def reverse(s):\n    return s[::-1]\n",
                  "Here it is:\n```python\ndef reverse(s: str) -> str:\n    return s[::-1]\n```\n"]
JAVA_SENTENCE = "Write a Java method that reverses a string."
JAVA_ANSWERS = ["public class Main {\n    public static String reverse(String s) {\n"
                "        return new StringBuilder(s).reverse().toString();\n    }\n}\n"]
needs_javac = pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")


@pytest.mark.parametrize("prompt", [
    SENTENCE, "Reverse a string", "Given a list of integers, return the sum of the even ones.\n"
    "For example: sum_even([1, 2, 4]) == 6", "Complete the function:\n```python\ndef f(x):\n```"])
def test_python_sentences_are_instructions(prompt: str) -> None:
    assert not python_prompt_is_code(prompt)


@pytest.mark.parametrize("prompt", [
    "", "def add(a, b):\n", 'def f(x):\n    """Return the sum of the even\n    numbers of',
    "import requests\n\n# Fetch the page and print its title", "x = foo(",
    'def total(xs):\n    """Sum of xs.\n    >>> total([1, 2])\n    3\n    """\n'])
def test_python_code_prompts_are_code(prompt: str) -> None:
    assert python_prompt_is_code(prompt)


def test_java_sentences_are_instructions_and_java_prompts_code() -> None:
    assert not java_prompt_is_code(JAVA_SENTENCE)
    assert java_prompt_is_code("import java.util.*;\n\nclass A {\n    /**\n     * Write a method "
                               "that sums the list.\n     */\n    public static int f(int x) {\n")
    assert java_prompt_is_code("class Add {\n    public static int add(int a, int b) {\n")


def test_filter_does_not_paste_an_instruction_into_python_candidates() -> None:
    task = Task("nl", SENTENCE, "python")
    with StaticFilter("python") as static_filter:
        candidates = static_filter.run_many([(task, i, raw)
                                             for i, raw in enumerate(PYTHON_ANSWERS)])
    assert all(c.compiles and c.prompt_kind == "instruction" for c in candidates)
    assert all(SENTENCE not in c.code and c.code.startswith("def reverse") for c in candidates)
    with StaticFilter("python") as static_filter:
        code = static_filter.run(Task("c", "def f(x):\n", "python"), "    return x\n")
    assert code.prompt_kind == "code"


@needs_javac
def test_filter_does_not_paste_an_instruction_into_java_candidates() -> None:
    with StaticFilter("java") as static_filter:
        candidate = static_filter.run(Task("nl", JAVA_SENTENCE, "java"), JAVA_ANSWERS[0])
    assert candidate.compiles, candidate.errors
    assert candidate.prompt_kind == "instruction" and JAVA_SENTENCE not in candidate.code


def test_library_pipeline_reports_an_instruction_and_ranks_whole_programs() -> None:
    with Pipeline("python") as pipeline:
        report = pipeline.run(SENTENCE, PYTHON_ANSWERS)
    assert report.prompt_kind == "instruction"
    assert report.to_json()["prompt_kind"] == "instruction"
    assert report.best is not None and report.best.compiles
    assert SENTENCE not in report.best.code


@needs_javac
def test_library_pipeline_java_instruction() -> None:
    with Pipeline("java") as pipeline:
        report = pipeline.run(JAVA_SENTENCE, JAVA_ANSWERS)
    assert report.prompt_kind == "instruction"
    assert report.best is not None and report.best.compiles


def test_cli_filter_writes_the_prompt_kind(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"task_id": "nl/1", "prompt": SENTENCE}) + "\n"
                       + json.dumps({"task_id": "code/1", "prompt": "def f(x):\n"}) + "\n")
    suggestions = tmp_path / "suggestions.jsonl"
    suggestions.write_text(json.dumps({"task_id": "nl/1", "suggestions": PYTHON_ANSWERS}) + "\n"
                           + json.dumps({"task_id": "code/1", "suggestions": ["    return x\n"]})
                           + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["filter", "--language", "python", "--no-progress", "--suggestions",
                 str(suggestions), "--prompts", str(prompts), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {row["task_id"]: row["prompt_kind"] for row in rows}
    assert kinds == {"nl/1": "instruction", "code/1": "code"}
    assert all(row["compiles"] for row in rows)
