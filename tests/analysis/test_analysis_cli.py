"""``franc analyze`` reads filtered candidates and writes them back with findings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from franc.cli import analysis as cli
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


SHELL_CALL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def franc_main(*argv: str) -> int:
    from franc.cli import main

    return main(["analyze", *argv])


def test_analyze_source_files_as_a_linter(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text(SHELL_CALL)
    (tmp_path / "Main.java").write_text(
        'class Main { boolean f(String s) { return s == "x"; } }\n')
    (tmp_path / "clean.py").write_text('"""Clean."""\n\n\ndef add(a, b):\n    """Add."""\n'
                                       '    return a + b\n')
    files = [str(tmp_path / name) for name in ("a.py", "Main.java", "clean.py")]
    assert franc_main(*files, "--workers", "1", "--quiet") == 0  # no --fail-on: report only
    lines = capsys.readouterr().out.splitlines()
    assert f"{files[0]}:5:12: high bandit/B602" in "\n".join(lines)
    assert any(line.startswith(f"{files[1]}:1:") and "java-rules/string-equality" in line
               for line in lines)
    assert not any(line.startswith(files[2]) for line in lines)


@pytest.mark.parametrize(("level", "status"), [("low", 1), ("medium", 1), ("high", 0)])
def test_fail_on_sets_the_exit_status(tmp_path: Path, level: str, status: int) -> None:
    java = tmp_path / "Main.java"  # one medium finding (string-equality)
    java.write_text('class Main { boolean f(String s) { return s == "x"; } }\n')
    assert franc_main(str(java), "--fail-on", level, "--quiet") == status


def test_fail_on_passes_clean_files_and_usage_errors_exit_2(tmp_path: Path) -> None:
    clean = tmp_path / "Clean.java"
    clean.write_text("class Clean { int f() { return 1; } }\n")
    assert franc_main(str(clean), "--fail-on", "low", "--quiet") == 0
    assert franc_main(str(tmp_path / "missing.py"), "--quiet") == 2
    (tmp_path / "notes.txt").write_text("x")
    assert franc_main(str(tmp_path / "notes.txt"), "--quiet") == 2  # cannot tell the language
    assert franc_main("--quiet") == 2  # neither files nor --candidates
    assert franc_main(str(clean), "--prompts", str(clean), "--quiet") == 2
    with pytest.raises(SystemExit) as exit_info:
        franc_main(str(clean), "--fail-on", "critical")
    assert exit_info.value.code == 2


def test_a_file_that_does_not_compile_fails_and_gets_the_filter_fix(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("Here is the code:\n```python\ndef f():\n    return 1\n```\n")
    output = tmp_path / "out.sarif"
    assert franc_main(str(broken), "--format", "sarif", "-o", str(output), "--fail-on", "high",
                      "--quiet") == 1
    [result] = json.loads(output.read_text())["runs"][0]["results"]
    assert result["ruleId"] == "franc/compile-error"
    assert result["fixes"][0]["artifactChanges"][0]["artifactLocation"]["uri"] == \
        broken.as_posix()


def test_non_utf8_source_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "bin.py"
    binary.write_bytes(b"\xff\xfe\x00x = 1\n")
    assert franc_main(str(binary), "--quiet") == 2
    assert "bin.py" in capsys.readouterr().err


def test_baseline_round_trip_through_the_cli(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text(SHELL_CALL)
    baseline = tmp_path / "franc-baseline.json"
    assert franc_main(str(source), "--write-baseline", str(baseline), "--fail-on", "low",
                      "--quiet", "--workers", "1") == 1
    assert franc_main(str(source), "--baseline", str(baseline), "--fail-on", "low",
                      "--quiet", "--workers", "1") == 0
    source.write_text("# a new first line\n" + SHELL_CALL
                      + "\n\ndef run2(cmd):\n    return eval(cmd)\n")
    output = tmp_path / "new.txt"
    assert franc_main(str(source), "--baseline", str(baseline), "--fail-on", "medium",
                      "-o", str(output), "--quiet", "--workers", "1") == 1
    assert "B307" in output.read_text() and "B602" not in output.read_text()


def test_candidates_as_sarif(tmp_path: Path) -> None:
    candidates = write_jsonl(tmp_path / "filtered.jsonl", [
        {"task_id": "HumanEval/0", "index": 2, "compiles": True, "code": SHELL_CALL}])
    output = tmp_path / "out.sarif"
    assert franc_analyze("--language", "python", "--candidates", str(candidates), "--format",
                         "sarif", "-o", str(output), "--workers", "1", "--quiet") == 0
    log = json.loads(output.read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]}
    assert uris == {"HumanEval/0/2.py"}
    assert log["runs"][0]["artifacts"][0]["contents"]["text"] == SHELL_CALL
