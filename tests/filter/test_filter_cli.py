"""`franc filter`: formats, the bundled example round trip, errors that name the line."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from franc import examples
from franc.cli import main
from franc.cli.filter import OUTPUT_FIELDS, read_items, run_filter

PROMPT = 'def double(x: int) -> int:\n    """Twice x."""\n'


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bundled_python_example_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    out = tmp_path / "filtered.jsonl"
    code = main(["filter", "--language", "python", "--no-progress",
                 "--suggestions", str(examples.suggestions("python")),
                 "--prompts", str(examples.prompts("python")), "-o", str(out)])
    assert code == 0
    rows = read_output(out)
    raw = [json.loads(line) for line in examples.suggestions("python").read_text().splitlines()]
    assert len(rows) == sum(len(r["suggestions"]) for r in raw)
    assert all(tuple(row) == OUTPUT_FIELDS for row in rows)
    by_key = {(row["task_id"], row["index"]): row for row in rows}
    # every defect of the example is repaired by the heuristic meant for it
    assert "extract-code-block" in by_key["example/sum_even", 1]["heuristics"]
    assert "cut-end-markers" in by_key["example/sum_even", 4]["heuristics"]
    assert by_key["example/sum_even", 6]["errors"] == ["empty body"]
    assert "def _normalise" in by_key["example/is_palindrome", 2]["code"]
    assert sum(row["compiles"] for row in rows) >= len(rows) - 1
    summary = capsys.readouterr().out
    assert f"{len(rows)} candidates" in summary and "compilable raw" in summary


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_bundled_java_example_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "java.jsonl"
    assert main(["filter", "--language", "java", "--no-progress",
                 "--suggestions", str(examples.suggestions("java")),
                 "--prompts", str(examples.prompts("java")), "-o", str(out)]) == 0
    rows = read_output(out)
    assert all(tuple(row) == OUTPUT_FIELDS for row in rows)
    assert sum(row["compiles"] for row in rows) > len(rows) // 2


def test_research_format_carries_its_own_prompts(tmp_path: Path) -> None:
    source = tmp_path / "research.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"task_id": "r/1", "prompt": PROMPT, "suggestions": [
            {"generated_text": PROMPT + "    return 2 * x\n\nprint(double(2))\n"},
            {"generated_text": "return x * 2"}]}) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["filter", "--language", "python", "--no-progress", "--suggestions", str(source),
                 "-o", str(out)]) == 0
    first, second = read_output(out)
    assert first["compiles"] and first["heuristics"] == ["remove-trailing-code"]
    assert second["compiles"] and second["code"] == PROMPT + "    return x * 2\n"


def test_parallel_run_keeps_order(tmp_path: Path) -> None:
    items = read_items("python", examples.suggestions("python"), examples.prompts("python"))
    many = items * 120  # over the threshold for worker processes
    results = run_filter("python", many, workers=2, progress=False)
    serial = run_filter("python", items, workers=1, progress=False)
    assert [r.candidate.code for r in results] == [r.candidate.code for r in serial] * 120


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["filter", "--no-progress", *args])
    return code, capsys.readouterr().err.replace("\n", " ")


def test_compact_file_without_prompts_asks_for_them(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["--language", "python", "--suggestions",
                         str(examples.suggestions("python")), "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "--prompts" in err


@pytest.mark.parametrize("content, expected", [
    (b'{"task_id": "example/sum_even", "suggestions": ["x"]}\n{not json\n', ":2"),
    (b'{"task_id": "example/sum_even", "suggestions": ["\xff\xfe"]}\n', ":1"),
])
def test_bad_lines_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                             expected: str) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_bytes(content)
    code, err = run_cli(["--language", "python", "--suggestions", str(source),
                         "--prompts", str(examples.prompts("python")), "-o", str(tmp_path / "o")],
                        capsys)
    assert code == 2 and f"bad.jsonl{expected}" in err


def test_unknown_language_task_and_chain_are_clear_errors(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    common = ["--suggestions", str(examples.suggestions("python")),
              "--prompts", str(examples.prompts("python")), "-o", str(tmp_path / "o")]
    code, err = run_cli(["--language", "cobol", *common], capsys)
    assert code == 2 and "unknown language 'cobol'" in err
    code, err = run_cli(["--language", "python", "--chain", "nope", *common], capsys)
    assert code == 2 and "no filters policy 'nope'" in err
    orphan = tmp_path / "orphan.jsonl"
    orphan.write_text(json.dumps({"task_id": "missing/1", "suggestions": ["x"]}) + "\n")
    code, err = run_cli(["--language", "python", "--suggestions", str(orphan),
                         "--prompts", str(examples.prompts("python")), "-o", str(tmp_path / "o")],
                        capsys)
    assert code == 2 and "missing/1" in err


def test_examples_accessor() -> None:
    assert examples.path("python_prompts.jsonl").is_file()
    assert "java_suggestions.jsonl" in examples.names()
    with pytest.raises(Exception, match="no bundled example"):
        examples.path("../setup.cfg")
