"""``franc analyze`` reads filtered candidates and writes them back with findings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from franc.analysis import cli
from franc.errors import InputError
from franc.jsonl import read_jsonl

PROMPT = 'import subprocess\n\n\ndef run(cmd):\n    """Run cmd."""\n'


def franc_analyze(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["analyze", *argv])
    return args.func(args)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_analyze_python_with_prompts(tmp_path: Path) -> None:
    candidates = write_jsonl(tmp_path / "filtered.jsonl", [
        {"task_id": "HumanEval/0", "index": 0, "compiles": True, "heuristics": [], "errors": [],
         "code": PROMPT + "    return subprocess.call(cmd, shell=True)\n"},
        {"task_id": "HumanEval/0", "index": 1, "compiles": False, "heuristics": [],
         "errors": ["SyntaxError"], "code": PROMPT + "    return (\n"},
    ])
    prompts = write_jsonl(tmp_path / "bench.jsonl", [
        {"task_id": "HumanEval/0", "prompt": PROMPT, "entry_point": "run", "test": ""}])
    output = tmp_path / "analyzed.jsonl"
    assert franc_analyze("--language", "python", "--candidates", str(candidates),
                         "--prompts", str(prompts), "-o", str(output), "--workers", "1",
                         "--quiet") == 0
    first, second = (row for _, row in read_jsonl(output))
    assert second["findings"] == [] and second["errors"] == ["SyntaxError"]
    by_rule = {f["rule_id"]: f for f in first["findings"]}
    assert by_rule["B602"]["in_prompt"] is False and by_rule["B602"]["cwe"] == 78
    assert by_rule["B404"]["in_prompt"] is True  # `import subprocess` is the user's line
    assert first["code"].endswith("shell=True)\n")


def test_analyze_java_in_parallel_keeps_order(tmp_path: Path) -> None:
    rows = [{"task_id": f"J/{i}", "index": i % 10, "compiles": True,
             "code": f'class A{i} {{ boolean f(String s) {{ return s == "{i}"; }} }}'
             if i % 2 else f"class A{i} {{ int f() {{ return {i}; }} }}"}
            for i in range(230)]
    candidates = write_jsonl(tmp_path / "filtered.jsonl", rows)
    output = tmp_path / "analyzed.jsonl"
    assert franc_analyze("--language", "java", "--candidates", str(candidates),
                         "-o", str(output), "--workers", "2", "--quiet") == 0
    results = [row for _, row in read_jsonl(output)]
    assert [r["task_id"] for r in results] == [r["task_id"] for r in rows]
    assert [bool(r["findings"]) for r in results] == [bool(i % 2) for i in range(230)]


def test_analyze_rejects_unknown_analyzers(tmp_path: Path) -> None:
    candidates = write_jsonl(tmp_path / "filtered.jsonl", [])
    with pytest.raises(InputError, match="unknown java analyzer"):
        franc_analyze("--language", "java", "--candidates", str(candidates),
                      "--analyzers", "bandit", "-o", str(tmp_path / "out.jsonl"), "--quiet")


def test_analyze_names_the_bad_line(tmp_path: Path) -> None:
    candidates = tmp_path / "filtered.jsonl"
    candidates.write_text('{"task_id": "a", "index": 0, "code": "x"}\n{"index": 1}\n')
    with pytest.raises(InputError, match=r"filtered.jsonl:2"):
        franc_analyze("--language", "python", "--candidates", str(candidates),
                      "-o", str(tmp_path / "out.jsonl"), "--quiet")
