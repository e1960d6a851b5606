"""``franc.evaluation.soeval.validate`` and ``franc datasets validate`` in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from franc.cli import main
from franc.evaluation.execution import is_plain_test, java_stub, run_candidate
from franc.evaluation.soeval import FIELDS, validate
from franc.jsonl import read_jsonl
from franc.models import Task

SOEVAL = Path(__file__).resolve().parents[2] / "datasets" / "SOEval"

GOOD = {
    "task_id": "T/0", "language": "python",
    "prompt": "def add(a: int, b: int) -> int:\n    '''Return a + b.'''\n",
    "entry_point": "add", "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
    "security_test": None, "cwe": [], "tags": ["math"],
    "source_question": {"id": None, "title": "Add two numbers"}, "insecure_solution": None,
}
_TABLE = ("    c = sqlite3.connect(':memory:')\n    c.execute('CREATE TABLE u (n TEXT)')\n"
          "    c.execute(\"INSERT INTO u VALUES ('a')\")\n")
SQL = {
    "task_id": "T/1", "language": "python",
    "prompt": "def find(conn, name):\n    '''Row of users named name.'''\n",
    "entry_point": "find",
    "canonical_solution": ("    return conn.execute('SELECT * FROM u WHERE n = ?',"
                           " (name,)).fetchone()\n"),
    "test": ("def check(candidate):\n    import sqlite3\n" + _TABLE
             + "    assert candidate(c, 'a') == ('a',)\n"),
    "security_test": ("def check_security(candidate):\n    import sqlite3\n" + _TABLE
                      + "    assert candidate(c, \"x' OR '1'='1\") is None\n"),
    "cwe": [89], "tags": ["sql"], "source_question": {"id": None, "title": "SQL lookup"},
    "insecure_solution": ("    return conn.execute(f\"SELECT * FROM u WHERE n = '{name}'\")"
                          ".fetchone()\n"),
}


def write(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    return path


def test_a_valid_file_passes_every_check(tmp_path: Path) -> None:
    report = validate(write(tmp_path / "ok.jsonl", [GOOD, SQL]))
    assert report.ok, report.problems
    assert report.counts == {"stub compiles": [2, 2], "canonical": [2, 2], "mutant": [4, 4],
                             "canonical security": [1, 1], "insecure passes test": [1, 1],
                             "insecure caught": [1, 1]}


def test_weak_tests_broken_solutions_and_schema_errors_are_reported(tmp_path: Path) -> None:
    weak = {**GOOD, "task_id": "T/1", "test": "def check(candidate):\n    assert True\n"}
    wrong = {**GOOD, "task_id": "T/2", "canonical_solution": "    return a - b\n"}
    toothless = {**SQL, "task_id": "T/3", "security_test":
                 "def check_security(candidate):\n    pass\n"}
    reordered = {"language": "python", **{k: v for k, v in GOOD.items() if k != "language"}}
    report = validate(write(tmp_path / "bad.jsonl", [GOOD, weak, wrong, toothless, reordered]))
    found = {(p.task_id, p.check) for p in report.problems}
    assert ("T/1", "mutant: empty body") in found
    assert ("T/1", "mutant: return None") in found
    assert ("T/2", "canonical") in found
    assert ("T/3", "insecure caught") in found
    assert ("T/0", "unique id") in found
    assert ("T/0", "fields") in found
    assert not any(task_id == "T/0" and check == "canonical" for task_id, check in found)


def test_an_insecure_solution_without_security_test_needs_an_analyzer_finding(
        tmp_path: Path) -> None:
    shell = {**GOOD, "task_id": "T/4", "cwe": [78], "entry_point": "run",
             "prompt": "import subprocess\n\n\ndef run(word):\n    '''Echo word.'''\n",
             "canonical_solution": "    return subprocess.run(['echo', word], capture_output=True,"
                                   " text=True).stdout\n",
             "test": "def check(candidate):\n    assert candidate('hi').strip() == 'hi'\n",
             "insecure_solution": "    return subprocess.check_output('echo ' + word, shell=True,"
                                  " text=True)\n"}
    unflagged = {**shell, "task_id": "T/5", "cwe": [611]}
    report = validate(write(tmp_path / "analyzer.jsonl", [shell, unflagged]))
    problems = [(p.task_id, p.check) for p in report.problems]
    assert problems == [("T/5", "insecure caught (analyzer)")]


def test_shipped_python_tasks_validate_in_the_sandbox() -> None:
    # Every third task (the benchmark sweeps all of them).
    report = validate(SOEVAL / "python.jsonl", stride=3)
    assert report.ok, report.problems
    assert report.tasks >= 20 and report.counts["canonical"][1] == report.tasks


def test_shipped_java_tasks_validate_in_the_sandbox() -> None:
    report = validate(SOEVAL / "java.jsonl", stride=10)
    assert report.ok, report.problems
    assert report.tasks == 4


def test_no_shipped_java_test_runs_next_to_the_candidate() -> None:
    # Task 2's HTTP server is the candidate's process's; its handler, lent, comes back to the
    # trusted JVM from the server's thread. Task 34's security test serialises its own gadget
    # class for the candidate to deserialise: it is lent as a replaying stub.
    shared = set()
    for row in map(json.loads, (SOEVAL / "java.jsonl").read_text().splitlines()):
        stub = java_stub(row["prompt"])
        for kind in ("test", "security_test"):
            if row[kind] and not (stub and is_plain_test(row[kind], frozenset({stub[0]}))):
                shared.add((row["task_id"], kind))
    assert shared == set()


def test_a_recorded_model_answer_runs_against_our_test(reference_dir: Path) -> None:
    """GPT-3.5's answer to FRANC's prompt 23435270 is a whole, correct function."""
    path = reference_dir / "suggestions" / "SOEvalPython_gpt3.5_512_10.jsonl.gz"
    answer = next(row["suggestions"][0] for _, row in read_jsonl(path)
                  if row["task_id"] == "23435270")
    row = next(json.loads(line) for line in (SOEVAL / "python.jsonl").read_text().splitlines()
               if json.loads(line)["source_question"]["id"] == 23435270)
    task = Task(task_id=row["task_id"], prompt=row["prompt"], language="python",
                entry_point=row["entry_point"], test=row["test"])
    assert run_candidate(task, answer, language="python").passed
    assert not run_candidate(task, answer.replace("int(s)", "s"), language="python").passed


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.jsonl", [GOOD])
    bad = write(tmp_path / "bad.jsonl", [{**GOOD, "canonical_solution": "    return 0\n"}])
    assert main(["datasets", "validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["datasets", "validate", str(bad)]) == 1
    assert "T/0 canonical" in " ".join(capsys.readouterr().out.split())
    assert main(["datasets", "validate", str(tmp_path / "missing.jsonl")]) == 2


def test_fields_constant_matches_the_issue() -> None:
    assert FIELDS[:3] == ("task_id", "language", "prompt")
    assert FIELDS[-2:] == ("source_question", "insecure_solution")
