"""Every loader on small files written here: what it reads, how it is detected, how it fails."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from franc.datasets import (
    SUGGESTION_FORMATS,
    TASK_FORMATS,
    load_suggestions,
    load_tasks,
    suggestion_format,
    task_format,
)
from franc.errors import InputError
from franc.models import Task

PY_PROMPT = 'def add(a, b):\n    """Return a + b."""\n'
JAVA_PROMPT = ("import java.util.*;\n\nclass Add {\n    /** Return a + b. */\n"
               "    public static int add(int a, int b) {\n")


def at(path: Path, line: int) -> str:
    """The start of an error message about ``path`` line ``line``, as a regex."""
    return "^" + re.escape(f"{path}:{line}: ")


def write_jsonl(path: Path, rows: list[Any], *, compress: bool = False) -> Path:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- task formats


def test_humaneval_python(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "problems.jsonl", [
        {"task_id": "HumanEval/0", "prompt": PY_PROMPT, "entry_point": "add",
         "canonical_solution": "    return a + b\n", "test": "def check(candidate): pass\n"},
    ])
    assert task_format(path).id == "humaneval"
    assert load_tasks(path) == [Task("HumanEval/0", PY_PROMPT, "python", "add",
                                     "def check(candidate): pass\n", "    return a + b\n")]


def test_humaneval_java_franc_style(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "he.jsonl", [
        {"task_id": "HumanEval_java/0", "prompt": JAVA_PROMPT, "entry_point": "add",
         "test": "class Main {}", "description": "add", "language": "java"},
    ])
    [task] = load_tasks(path)
    assert (task.language, task.entry_point, task.test) == ("java", "add", "class Main {}")


def test_humaneval_java_language_from_task_id_when_not_stated(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "he.jsonl", [
        {"task_id": "HumanEval_java/0", "prompt": JAVA_PROMPT, "entry_point": "add"}])
    assert load_tasks(path)[0].language == "java"


MULTIPL_E_JAVA_TESTS = (
    "    }\n    public static void main(String[] args) {\n"
    "    assert(add((1), (2)) == (3));\n    assert(add((2), (2)) == (4));\n    }\n\n}\n")


def test_multipl_e_java_tests_become_a_main_class(tmp_path: Path) -> None:
    prompt = "import java.util.*;\nclass Problem {\n    public static int add(int a, int b) {\n"
    path = write_jsonl(tmp_path / "humaneval-java-reworded.jsonl", [
        {"name": "HumanEval_0_add", "language": "java", "prompt": prompt,
         "tests": MULTIPL_E_JAVA_TESTS, "stop_tokens": ["\n    }\n"]},
    ])
    assert task_format(path).id == "multipl-e"
    [task] = load_tasks(path)
    assert (task.task_id, task.language, task.entry_point) == ("HumanEval_0_add", "java", "add")
    assert task.test is not None and task.test.startswith("class Main extends Problem {")
    assert "assert(" not in task.test
    assert 'if (!(add((1), (2)) == (3))) throw new AssertionError("add((1), (2)) == (3)");' \
        in task.test


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_multipl_e_java_main_compiles_and_fails_on_a_wrong_answer(tmp_path: Path) -> None:
    prompt = "class Problem {\n    public static int add(int a, int b) {\n"
    path = write_jsonl(tmp_path / "mpe.jsonl", [
        {"name": "HumanEval_0_add", "language": "java", "prompt": prompt,
         "tests": MULTIPL_E_JAVA_TESTS, "stop_tokens": []}])
    [task] = load_tasks(path)
    # one compile; the answer is wrong when the JVM is started with -Doffset=1
    body = 'return a + b + Integer.getInteger("offset", 0);'
    (tmp_path / "Main.java").write_text(f"{prompt}        {body}\n    }}\n}}\n{task.test}")
    subprocess.run(["javac", "-proc:none", "-d", str(tmp_path), str(tmp_path / "Main.java")],
                   check=True, timeout=300)
    codes = [subprocess.run(["java", f"-Doffset={offset}", "-cp", str(tmp_path), "Main"],
                            capture_output=True, timeout=300).returncode for offset in (0, 1)]
    assert codes[0] == 0 and codes[1] != 0


def test_humaneval_x_without_entry_point(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "humaneval_java.jsonl", [
        {"task_id": "Java/0", "prompt": "import java.util.*;\nclass Solution {\n"
                                        "    public boolean hasCloseElements(List<Double> "
                                        "numbers, double threshold) {\n",
         "declaration": "", "canonical_solution": "return false;}}",
         "test": "public class Main {}", "example_test": ""}])
    assert task_format(path).id == "humaneval"
    [task] = load_tasks(path)
    assert (task.language, task.entry_point, task.test) == (
        "java", "hasCloseElements", "public class Main {}")


def write_multipl_e_completions(root: Path) -> Path:
    root.mkdir()
    for n in (10, 2):
        record = {"name": f"HumanEval_{n}_add", "language": "py", "prompt": PY_PROMPT,
                  "tests": "def check(candidate):\n    pass\n",
                  "completions": [f"    return a + b + {n}\n", "    pass\n"],
                  "stop_tokens": ["\ndef"], "temperature": 0.2}
        (root / f"HumanEval_{n}_add.json.gz").write_bytes(gzip.compress(json.dumps(record)
                                                                        .encode()))
        (root / f"HumanEval_{n}_add.results.json.gz").write_bytes(gzip.compress(b"{}"))
    return root


def test_multipl_e_completions_directory(tmp_path: Path) -> None:
    root = write_multipl_e_completions(tmp_path / "humaneval-py-model-0.2-reworded")
    assert task_format(root).id == suggestion_format(root).id == "multipl-e-completions"
    assert [(t.task_id, t.entry_point) for t in load_tasks(root)] == [
        ("HumanEval_2_add", "add"), ("HumanEval_10_add", "add")]
    assert load_suggestions(root) == {
        "HumanEval_2_add": ["    return a + b + 2\n", "    pass\n"],
        "HumanEval_10_add": ["    return a + b + 10\n", "    pass\n"]}


def test_multipl_e_completions_with_wrong_type(tmp_path: Path) -> None:
    root = write_multipl_e_completions(tmp_path / "out")
    broken = {"name": "HumanEval_3_add", "prompt": PY_PROMPT, "tests": "",
              "completions": "not a list"}
    (root / "HumanEval_3_add.json").write_text(json.dumps(broken))
    with pytest.raises(InputError, match=re.escape(f"{root / 'HumanEval_3_add.json'}: field "
                                                   "'completions' must be a list")):
        load_suggestions(root)


def test_multipl_e_python(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mpe.jsonl", [
        {"name": "HumanEval_0_add", "language": "py", "prompt": PY_PROMPT,
         "tests": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
         "stop_tokens": ["\ndef"]}])
    [task] = load_tasks(path)
    assert (task.language, task.entry_point) == ("python", "add")
    assert task.test == "def check(candidate):\n    assert candidate(1, 2) == 3\n"


def test_aixcoder_builds_a_java_prompt(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "aix.jsonl", [
        {"task_id": 166, "raw_nl": "Inject a value into a field by reflection",
         "signature": "public <T> T initByReflect(String name, String value, T t)"}])
    assert task_format(path).id == "aixcoder"
    [task] = load_tasks(path)
    assert (task.task_id, task.language, task.entry_point) == ("166", "java", "initByReflect")
    assert "class Aixcoder166 {" in task.prompt
    assert "* Inject a value into a field by reflection" in task.prompt
    assert task.prompt.rstrip().endswith("public <T> T initByReflect(String name, String value, "
                                         "T t) {")


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_aixcoder_prompt_with_a_body_compiles(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "aix.jsonl", [
        {"task_id": 7, "raw_nl": "Reverse a string.\nSecond line.",
         "signature": "public String reverse(String text)"}])
    [task] = load_tasks(path)
    source = tmp_path / "Aixcoder7.java"
    source.write_text(task.prompt + "        return text;\n    }\n}\n")
    subprocess.run(["javac", "-proc:none", "-d", str(tmp_path), str(source)], check=True,
                   timeout=120)


def test_codereval_language_from_file_name_or_prompt(tmp_path: Path) -> None:
    python = write_jsonl(tmp_path / "CEPythonRaw.jsonl", [
        {"question_id": "62e60f43d76274f8a4026e28",
         "input": 'def hydrate_time(nanoseconds, tz=None):\n    """Convert."""'}])
    java = write_jsonl(tmp_path / "prompts.jsonl", [
        {"question_id": "6367672d1a6d9265ec017c73",
         "input": "/** Whether to print. */\npublic boolean shouldPrint(int timestamp){"}])
    assert task_format(python).id == "codereval"
    [py_task] = load_tasks(python)
    [java_task] = load_tasks(java)
    assert (py_task.language, py_task.entry_point) == ("python", "hydrate_time")
    assert (java_task.language, java_task.entry_point) == ("java", "shouldPrint")


def test_securityeval_both_releases_carry_the_cwe(tmp_path: Path) -> None:
    original = write_jsonl(tmp_path / "dataset.jsonl", [
        {"ID": "CWE-020_author_1.py", "Prompt": "import yaml\n\ndef yaml_load(filename):\n",
         "Insecure_code": "..."}])
    franc_style = write_jsonl(tmp_path / "se.jsonl", [
        {"task_id": "CWE-089_codeql_1.py", "prompt": "def get_user(name):\n"}])
    assert task_format(original).id == task_format(franc_style).id == "securityeval"
    [a] = load_tasks(original)
    [b] = load_tasks(franc_style)
    assert (a.task_id, a.cwe, a.language, a.entry_point) == (
        "CWE-020_author_1.py", (20,), "python", "yaml_load")
    assert (b.cwe, b.entry_point) == ((89,), "get_user")


def test_franc_soeval_prompts(tmp_path: Path) -> None:
    java = write_jsonl(tmp_path / "SOEvalJava.jsonl", [
        {"task_id": "41107", "prompt": "class ID_41107{\n    public static String randomString("
                                       "int length) {"}])
    unnamed = write_jsonl(tmp_path / "prompts.jsonl", [
        {"task_id": "23435270", "prompt": "import re\ndef extract(string)->list:\n    '''x'''"}])
    assert task_format(java).id == "franc-soeval"
    assert [(t.language, t.entry_point) for t in load_tasks(java)] == [("java", "randomString")]
    assert load_tasks(unnamed)[0].language == "python"
    assert load_tasks(unnamed, language="java")[0].language == "java"


def test_franc_soeval_language_that_cannot_be_told(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "prompts.jsonl", [{"task_id": "1", "prompt": "Sort a list."}])
    with pytest.raises(InputError, match=r"cannot tell the language.*--language"):
        load_tasks(path)


SOEVAL_ROW = {
    "task_id": "SOEval/Python/3", "language": "python", "prompt": PY_PROMPT,
    "entry_point": "add", "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    "security_test": "def check_security(candidate):\n    pass\n", "cwe": [89, "CWE-78"],
    "tags": ["sql"], "source_question": {"id": 1, "title": "t"},
    "insecure_solution": "    return eval(f'{a}+{b}')\n",
}


def test_soeval_ours_keeps_every_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "python.jsonl", [SOEVAL_ROW])
    assert task_format(path).id == "soeval"
    [task] = load_tasks(path)
    assert task == Task("SOEval/Python/3", PY_PROMPT, "python", "add", SOEVAL_ROW["test"],
                        "    return a + b\n", SOEVAL_ROW["security_test"],
                        SOEVAL_ROW["insecure_solution"], (89, 78), ("sql",))


def test_soeval_null_security_test_and_empty_cwe(tmp_path: Path) -> None:
    row = {**SOEVAL_ROW, "security_test": None, "insecure_solution": None, "cwe": []}
    [task] = load_tasks(write_jsonl(tmp_path / "python.jsonl", [row]))
    assert (task.security_test, task.insecure_solution, task.cwe) == (None, None, ())


def test_research_file_yields_tasks_and_suggestions(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "HumanEval_python_model.jsonl", [
        {"id": "HumanEval/0", "prompt": PY_PROMPT,
         "suggestions": [{"generated_text": "a"}, {"generated_text": "b"}]},
        {"task_id": "HumanEval/1", "prompt": PY_PROMPT, "suggestions": []},
    ])
    assert task_format(path).id == suggestion_format(path).id == "franc-research"
    assert [(t.task_id, t.language) for t in load_tasks(path)] == [
        ("HumanEval/0", "python"), ("HumanEval/1", "python")]
    assert load_suggestions(path) == {"HumanEval/0": ["a", "b"], "HumanEval/1": []}


def test_no_task_format_for_a_candidates_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "t", "suggestions": ["x"]}])
    with pytest.raises(InputError, match="cannot tell the prompt-file format") as info:
        load_tasks(path)
    for fmt in TASK_FORMATS:
        assert fmt.id in str(info.value)


# --------------------------------------------------------------------------- suggestion formats


def test_compact_gzip_keeps_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl.gz", [
        {"task_id": "b", "suggestions": ["b0", "b1"]}, {"task_id": "a", "suggestions": ["a0"]}],
        compress=True)
    assert suggestion_format(path).id == "compact"
    result = load_suggestions(path)
    assert list(result) == ["b", "a"] and result == {"b": ["b0", "b1"], "a": ["a0"]}


def test_humaneval_samples_several_lines_per_task(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": "HumanEval/0", "completion": "    return 1\n"},
        {"task_id": "HumanEval/1", "completion": "    return 2\n"},
        {"task_id": "HumanEval/0", "completion": "    return 3\n"},
    ])
    assert suggestion_format(path).id == "humaneval-samples"
    assert load_suggestions(path) == {"HumanEval/0": ["    return 1\n", "    return 3\n"],
                                      "HumanEval/1": ["    return 2\n"]}


def test_evalplus_solution_or_completion(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": "HumanEval/0", "solution": "def add(a, b):\n    return a + b\n"},
        {"task_id": "HumanEval/0", "completion": "    return a + b\n"},
    ])
    assert suggestion_format(path).id == "evalplus"
    assert load_suggestions(path) == {
        "HumanEval/0": ["def add(a, b):\n    return a + b\n", "    return a + b\n"]}


def test_franc_candidates_in_index_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "filtered.jsonl", [
        {"task_id": "t", "index": 1, "code": "one", "rank": 1},
        {"task_id": "t", "index": 0, "code": "zero", "rank": 2},
    ])
    assert suggestion_format(path).id == "franc-candidates"
    assert load_suggestions(path) == {"t": ["zero", "one"]}


def test_codereval_results(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "Raw_Input.jsonl_out.jsonl", [
        {"_id": "62e6", "generate_results": ["def f():\n    return 1", "def f():\n    pass"]}])
    assert suggestion_format(path).id == "codereval-results"
    assert load_suggestions(path) == {"62e6": ["def f():\n    return 1", "def f():\n    pass"]}


TASKS = [Task("HumanEval/0", PY_PROMPT, "python"), Task("HumanEval/1", PY_PROMPT, "python"),
         Task("HumanEval/2", PY_PROMPT, "python")]


def test_bigcode_generations_match_tasks_by_position(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_text(json.dumps([["a0", "a1"], ["b0"]]))
    assert suggestion_format(path).id == "bigcode"
    assert load_suggestions(path, tasks=TASKS) == {"HumanEval/0": ["a0", "a1"],
                                                   "HumanEval/1": ["b0"]}
    by_id = {task.task_id: task for task in TASKS}
    assert load_suggestions(path, tasks=by_id) == load_suggestions(path, tasks=TASKS)


def test_bigcode_needs_tasks_and_not_more_lists_than_tasks(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_text(json.dumps([["a"], ["b"], ["c"], ["d"]]))
    with pytest.raises(InputError, match=r"by position.*--tasks"):
        load_suggestions(path)
    with pytest.raises(InputError, match="4 lists of generations but only 3 tasks"):
        load_suggestions(path, tasks=TASKS)


def test_bigcode_item_of_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_text(json.dumps([["a"], [1]]))
    with pytest.raises(InputError, match=r"item 1 \(HumanEval/1\) must be a list of strings"):
        load_suggestions(path, format="bigcode", tasks=TASKS)


CODET_TASKS = [
    Task("HumanEval/0", 'def add(a, b):\n    """Return a + b.\n    >>> add(1, 2)\n    3\n    """\n',
         "python", entry_point="add"),
    Task("HumanEval/1", 'def neg(a):\n    """Return -a."""\n', "python", entry_point="neg")]


def test_codet_pools_are_matched_to_tasks_by_prompt_then_entry_point(tmp_path: Path) -> None:
    stripped = 'def add(a, b):\n    """Return a + b.\n    """\n'    # CodeT drops the examples
    path = write_jsonl(tmp_path / "HumanEval_codegen16B_code_solution.jsonl", [
        {"prompt": CODET_TASKS[1].prompt, "samples": ["    return -a\n", "    return a\n"]},
        {"prompt": stripped, "samples": ["    return a + b\n"]},
        {"prompt": stripped + "\n", "samples": ["    return b + a\n"]},
        {"task_id": "HumanEval/1", "prompt": "anything", "samples": []}])
    assert suggestion_format(path).id == "codet"
    assert load_suggestions(path, tasks=CODET_TASKS) == {
        "HumanEval/1": ["    return -a\n", "    return a\n"],
        "HumanEval/0": ["    return a + b\n", "    return b + a\n"]}


def test_codet_pool_needs_tasks_and_a_prompt_some_task_has(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pool.jsonl", [
        {"prompt": CODET_TASKS[1].prompt, "samples": ["    return -a\n"]},
        {"prompt": "def mul(a, b):\n", "samples": ["    return a * b\n"]}])
    with pytest.raises(InputError, match=r"matched to tasks by prompt.*--prompts"):
        load_suggestions(path)
    with pytest.raises(InputError, match=at(path, 2) + r"no task has this prompt.*'mul'"):
        load_suggestions(path, tasks=CODET_TASKS)
    twice = [CODET_TASKS[0], dataclasses.replace(CODET_TASKS[1], task_id="x", entry_point="add")]
    with pytest.raises(InputError, match=r"nor one task its entry point \('add'\)"):
        load_suggestions(write_jsonl(tmp_path / "ambiguous.jsonl", [
            {"prompt": "def add(a, b):\n", "samples": []}]), tasks=twice)
    typed = write_jsonl(tmp_path / "typed.jsonl", [
        {"prompt": CODET_TASKS[1].prompt, "samples": [3]}])
    with pytest.raises(InputError, match=at(typed, 1) + r"field 'samples'\[0\] must be a string"):
        load_suggestions(typed, tasks=CODET_TASKS)


def test_directory_evalplus_layout_mapped_to_task_ids(tmp_path: Path) -> None:
    root = tmp_path / "samples"
    for folder, count in (("HumanEval_1", 2), ("HumanEval_0", 11)):
        (root / folder).mkdir(parents=True)
        for n in range(count):
            (root / folder / f"{n}.py").write_text(f"# {folder} {n}\n")
    (root / "HumanEval_0" / "notes.md").write_text("ignored")
    assert suggestion_format(root).id == "directory"
    result = load_suggestions(root, tasks=TASKS)
    assert list(result) == ["HumanEval/0", "HumanEval/1"]
    assert result["HumanEval/0"][:3] == ["# HumanEval_0 0\n", "# HumanEval_0 1\n",
                                         "# HumanEval_0 2\n"]
    assert result["HumanEval/0"][10] == "# HumanEval_0 10\n"


def test_directory_nested_without_tasks(tmp_path: Path) -> None:
    for task, n in (("SOEval/Java/10", 0), ("SOEval/Java/9", 0), ("SOEval/Java/9", 1)):
        folder = tmp_path / task
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n}.java").write_text(f"class A{n} {{}}")
    result = load_suggestions(tmp_path)
    assert result == {"SOEval/Java/9": ["class A0 {}", "class A1 {}"],
                      "SOEval/Java/10": ["class A0 {}"]}
    assert list(result) == ["SOEval/Java/9", "SOEval/Java/10"]


def test_directory_without_candidates_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no candidate files"):
        load_suggestions(tmp_path)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "0.py").write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(InputError, match=r"0\.py:2: not UTF-8"):
        load_suggestions(tmp_path)


def test_every_format_is_detected_from_its_own_file(tmp_path: Path) -> None:
    """Each table entry is reachable by detection (nothing shadows it)."""
    task_files = {
        "soeval": [SOEVAL_ROW],
        "humaneval": [{"task_id": "x/0", "prompt": PY_PROMPT, "entry_point": "add"}],
        "multipl-e": [{"name": "x", "language": "py", "prompt": PY_PROMPT, "tests": ""}],
        "aixcoder": [{"task_id": 1, "raw_nl": "d", "signature": "int f()"}],
        "codereval": [{"question_id": "q", "input": PY_PROMPT}],
        "securityeval": [{"ID": "CWE-079_a.py", "Prompt": PY_PROMPT}],
        "franc-research": [{"task_id": "t", "prompt": PY_PROMPT,
                            "suggestions": [{"generated_text": "x"}]}],
        "franc-soeval": [{"task_id": "12", "prompt": PY_PROMPT}],
    }
    assert set(task_files) | {"multipl-e-completions"} == {f.id for f in TASK_FORMATS}
    for format_id, rows in task_files.items():
        assert task_format(write_jsonl(tmp_path / f"{format_id}.jsonl", rows)).id == format_id
    suggestion_files = {
        "franc-research": task_files["franc-research"],
        "compact": [{"task_id": "t", "suggestions": ["x"]}],
        "franc-candidates": [{"task_id": "t", "index": 0, "code": "x"}],
        "evalplus": [{"task_id": "t", "solution": "x"}],
        "humaneval-samples": [{"task_id": "t", "completion": "x"}],
        "codereval-results": [{"_id": "t", "generate_results": ["x"]}],
        "codet": [{"prompt": "p", "samples": ["x"]}],
    }
    for format_id, rows in suggestion_files.items():
        path = write_jsonl(tmp_path / f"out-{format_id}.jsonl", rows)
        assert suggestion_format(path).id == format_id
    assert {f.id for f in SUGGESTION_FORMATS} == set(suggestion_files) | {
        "bigcode", "directory", "multipl-e-completions"}


def test_jsonl_content_without_the_extension_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "samples.txt"
    path.write_text(json.dumps({"task_id": "t", "completion": "x"}) + "\n")
    assert load_suggestions(path) == {"t": ["x"]}


def test_json_lines_named_json_are_read_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "samples.json"
    path.write_text(json.dumps({"task_id": "t", "solution": "a"}) + "\n"
                    + json.dumps({"task_id": "t", "solution": "b"}) + "\n")
    assert load_suggestions(path) == {"t": ["a", "b"]}


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    data = gzip.compress(json.dumps({"task_id": "t", "suggestions": ["a" * 5000]}).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=re.escape(str(path))):
        load_suggestions(path)


def test_undetectable_candidates_list_the_formats(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [{"question": "q", "answer": "a"}])
    with pytest.raises(InputError) as info:
        load_suggestions(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot tell the candidates format (found fields "
                              "answer, question)")
    for fmt in SUGGESTION_FORMATS:
        assert fmt.id in message


def test_unknown_format_name(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"task_id": "t", "completion": "x"}])
    with pytest.raises(InputError, match="unknown candidates format 'mbpp'; known: franc-research"):
        load_suggestions(path, format="mbpp")


def test_named_format_overrides_detection(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"task_id": "t", "completion": "c",
                                              "solution": "s"}])
    assert load_suggestions(path) == {"t": ["s"]}
    assert load_suggestions(path, format="humaneval-samples") == {"t": ["c"]}


# --------------------------------------------------------------------------- malformed input


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"task_id": "t", "suggestions": ["a"]}\n{"task_id": "u", "sugg\n')
    with pytest.raises(InputError, match=at(path, 2) + r"malformed JSON"):
        load_suggestions(path)


def test_wrong_type_names_field_and_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [
        {"task_id": "t", "suggestions": ["a"]}, {"task_id": "u", "suggestions": ["a", 3]}])
    with pytest.raises(InputError, match=at(path, 2) + r"field 'suggestions'\[1\] must be a "
                                         "string, got int"):
        load_suggestions(path)


def test_wrong_type_of_prompt(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "he.jsonl", [
        {"task_id": "a", "prompt": PY_PROMPT, "entry_point": "add"},
        {"task_id": "b", "prompt": ["not", "text"], "entry_point": "add"}])
    with pytest.raises(InputError, match=at(path, 2) + "field 'prompt' must be a string"):
        load_tasks(path)


def test_boolean_is_not_an_id(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"task_id": True, "completion": "x"}])
    with pytest.raises(InputError, match="field 'task_id' must be a string or an integer"):
        load_suggestions(path, format="humaneval-samples")


def test_missing_field_names_field_and_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "python.jsonl", [
        SOEVAL_ROW, {k: v for k, v in SOEVAL_ROW.items() if k != "test"}])
    with pytest.raises(InputError, match=at(path, 2) + r"missing field 'test'"):
        load_tasks(path)


def test_research_suggestion_without_generated_text(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"task_id": "t", "prompt": "p", "suggestions": [{"text": "x"}]}])
    with pytest.raises(InputError, match=r":1: field 'suggestions'\[0\] must be an object with "
                                         "a string 'generated_text'"):
        load_suggestions(path)


def test_non_utf8_bytes_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"task_id": "t", "completion": "a"}\n{"task_id": "u", "completion": '
                     b'"\xff\xfe"}\n')
    with pytest.raises(InputError, match=at(path, 2) + r"not UTF-8"):
        load_suggestions(path)


def test_non_utf8_json_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_bytes(b'[["a"],\n ["\xff"]]')
    with pytest.raises(InputError, match=at(path, 2) + r"not UTF-8"):
        load_suggestions(path, tasks=TASKS)


def test_malformed_json_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_text('[["a"],\n ["b",]\n]')
    with pytest.raises(InputError, match=at(path, 2) + r"malformed JSON"):
        load_suggestions(path, tasks=TASKS)


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "generations.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match="nested too deeply"):
        load_suggestions(path, tasks=TASKS)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match=re.escape(str(path))):
        load_suggestions(path)


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="empty file"):
        load_tasks(empty)
    assert load_tasks(empty, format="soeval") == []
    with pytest.raises(InputError, match="no such file"):
        load_tasks(tmp_path / "absent.jsonl")


def test_duplicate_task_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "he.jsonl", [
        {"task_id": "a", "prompt": PY_PROMPT, "entry_point": "add"},
        {"task_id": "a", "prompt": PY_PROMPT, "entry_point": "add"}])
    with pytest.raises(InputError, match="task id 'a' appears twice"):
        load_tasks(path)


def test_bad_language_and_bad_cwe(tmp_path: Path) -> None:
    ruby = write_jsonl(tmp_path / "a.jsonl", [{**SOEVAL_ROW, "language": "ruby"}])
    with pytest.raises(InputError, match=r":1: unknown language 'ruby'"):
        load_tasks(ruby)
    cwe = write_jsonl(tmp_path / "b.jsonl", [{**SOEVAL_ROW, "cwe": ["SQL injection"]}])
    with pytest.raises(InputError, match=r":1: field 'cwe': not a CWE number"):
        load_tasks(cwe)


# --------------------------------------------------------------------------- reference data


@pytest.mark.reference
def test_reference_benchmarks_and_suggestions(reference_dir: Path) -> None:
    expected = {"HumanEval_python": ("humaneval", 164, "python"),
                "HumanEval_java": ("humaneval", 161, "java"),
                "SOEvalPython": ("franc-soeval", 42, "python"),
                "SOEvalJava": ("franc-soeval", 28, "java"),
                "SecurityEval_python": ("securityeval", 121, "python")}
    for name, (format_id, count, language) in expected.items():
        path = reference_dir / "benchmarks" / f"{name}.jsonl"
        tasks = load_tasks(path)
        assert task_format(path).id == format_id
        assert len(tasks) == count and {t.language for t in tasks} == {language}
        assert all(t.entry_point for t in tasks if "SecurityEval" not in name)
        suggestions_file = next((reference_dir / "suggestions").glob(f"{name}_*.jsonl.gz"))
        suggestions = load_suggestions(suggestions_file)
        assert list(suggestions) == [t.task_id for t in tasks]
        # a few prompts have no recorded answer at all; the rest have ten
        assert {len(texts) for texts in suggestions.values()} <= {0, 10}
