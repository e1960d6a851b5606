"""Export round trips: what ``franc export`` writes, the loaders read back unchanged."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import pytest

from franc.cli import datasets as datasets_cli
from franc.datasets import load_suggestions
from franc.datasets.export import completion, export, read_candidates, select
from franc.errors import InputError
from franc.jsonl import write_jsonl
from franc.models import Candidate, Task

PROMPT = 'def add(a, b):\n    """Return a + b."""\n'
TASKS = [Task("T/0", PROMPT, "python", "add"), Task("T/1", PROMPT, "python", "add"),
         Task("T/2", PROMPT, "python", "add")]


def body(n: int) -> str:
    return f"    return a + b + {n}\n"


def candidates() -> list[Candidate]:
    """T/0: three ranked candidates (rank order differs from model order); T/1: one unranked."""
    return [
        Candidate("T/0", 0, PROMPT + body(0), compiles=True, rank=3),
        Candidate("T/0", 1, PROMPT + body(1), compiles=False, rank=2),
        Candidate("T/0", 2, PROMPT + body(2), compiles=True, rank=1),
        Candidate("T/1", 0, PROMPT + body(9), compiles=True),
    ]


def test_select_orders_by_rank_then_model_order() -> None:
    grouped = select(candidates())
    assert [c.index for c in grouped["T/0"]] == [2, 1, 0]
    assert [c.index for c in grouped["T/1"]] == [0]


def test_select_best_only_and_compilable_only() -> None:
    assert {t: [c.index for c in g] for t, g in select(candidates(), best_only=True).items()} \
        == {"T/0": [2], "T/1": [0]}
    assert [c.index for c in select(candidates(), compilable_only=True)["T/0"]] == [2, 0]


def test_best_only_without_ranks_takes_the_first_that_compiles() -> None:
    unranked = [Candidate("T/0", 0, "a", compiles=False), Candidate("T/0", 1, "b", compiles=True),
                Candidate("T/0", 2, "c", compiles=True)]
    assert [c.index for c in select(unranked, best_only=True)["T/0"]] == [1]
    none_compile = [Candidate("T/0", 0, "a"), Candidate("T/0", 1, "b")]
    assert [c.index for c in select(none_compile, best_only=True)["T/0"]] == [0]


def test_humaneval_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "samples.jsonl"
    summary = export(candidates(), "humaneval", out, TASKS)
    assert (summary.candidates, summary.tasks, summary.not_prompt_prefixed) == (4, 2, 0)
    loaded = load_suggestions(out)
    assert loaded == {"T/0": [body(2), body(1), body(0)], "T/1": [body(9)]}
    ranked = select(candidates())
    for task_id, texts in loaded.items():
        assert [PROMPT + text for text in texts] == [c.code for c in ranked[task_id]]


def test_evalplus_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "samples.jsonl"
    export(candidates(), "evalplus", out)
    first = json.loads(out.read_text().splitlines()[0])
    assert first == {"task_id": "T/0", "solution": PROMPT + body(2)}
    assert load_suggestions(out) == {task_id: [c.code for c in group]
                                     for task_id, group in select(candidates()).items()}


def test_bigcode_round_trip_keeps_task_positions(tmp_path: Path) -> None:
    out = tmp_path / "generations.json"
    summary = export(candidates(), "bigcode", out, TASKS, best_only=True)
    assert (summary.candidates, summary.tasks) == (2, 3)
    assert json.loads(out.read_text()) == [[PROMPT + body(2)], [PROMPT + body(9)], []]
    assert load_suggestions(out, tasks=TASKS) == {"T/0": [PROMPT + body(2)],
                                                  "T/1": [PROMPT + body(9)], "T/2": []}


def test_exports_that_need_tasks(tmp_path: Path) -> None:
    for format_id in ("humaneval", "bigcode"):
        with pytest.raises(InputError, match=rf"{format_id!r} needs the prompt file \(--tasks\)"):
            export(candidates(), format_id, tmp_path / "out")
    with pytest.raises(InputError, match=r"1 candidate task ids are not in the prompt file, "
                                         r"e\.g\. 'T/1'"):
        export(candidates(), "humaneval", tmp_path / "out", TASKS[:1])
    with pytest.raises(InputError, match="unknown export format 'mbpp'"):
        export(candidates(), "mbpp", tmp_path / "out", TASKS)


def test_python_completion_of_rewritten_code_redefines_the_function() -> None:
    code = "import math\n\n\ndef add(a, b):\n    return math.fsum([a, b])\n"
    text, cut = completion(TASKS[0], code)
    assert not cut
    # the harness runs prompt + completion: a valid module whose last add is the candidate's
    module = ast.parse(TASKS[0].prompt + text)
    last_add = [node for node in module.body if isinstance(node, ast.FunctionDef)][-1]
    assert isinstance(last_add.body[0], ast.Return)


def test_java_completion_joins_at_the_entry_point() -> None:
    prompt = "class Add {\n    public static int add(int a, int b) {\n"
    task = Task("J/0", prompt, "java", "add")
    rewritten = ("import java.util.*;\n\nclass Add {\n    public static int add(int a, int b)"
                 " {\n        return a + b;\n    }\n}\n")
    text, cut = completion(task, rewritten)
    assert not cut
    assert prompt + text == prompt + "\n        return a + b;\n    }\n}\n"
    assert completion(task, prompt + "        return 0;\n    }\n}\n") == (
        "        return 0;\n    }\n}\n", True)


def test_java_completion_skips_a_mention_in_the_javadoc() -> None:
    prompt = ("class Add {\n    /**\n     * > add(1, {2})\n     */\n"
              "    public static int add(int a, int b) {\n")
    task = Task("J/0", prompt, "java", "add")
    rewritten = ("import java.util.*;\n" + prompt + "        return a + b;\n    }\n}\n")
    assert completion(task, rewritten) == ("\n        return a + b;\n    }\n}\n", False)
    renamed_class = rewritten.replace("class Add", "class Sum").replace("int b) {", "int b){")
    assert completion(task, renamed_class) == ("\n        return a + b;\n    }\n}\n", False)


def test_completion_when_trailing_whitespace_differs() -> None:
    task = Task("T/0", PROMPT + "\n", "python", "add")
    # cut after the prompt's last non-blank character: joined, only a blank line is added
    assert completion(task, PROMPT + body(1)) == ("\n" + body(1), True)


def test_read_candidates_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "filtered.jsonl"
    write_jsonl(path, [c.to_json() for c in candidates()] + [{"task_id": "T/0", "index": 4}])
    with pytest.raises(InputError, match=r"filtered\.jsonl:5: not a candidate"):
        read_candidates(path)


def test_export_command(tmp_path: Path) -> None:
    candidates_file = tmp_path / "ranked.jsonl"
    write_jsonl(candidates_file, [c.to_json() for c in candidates()])
    tasks_file = tmp_path / "problems.jsonl"
    write_jsonl(tasks_file, [{"task_id": t.task_id, "prompt": t.prompt,
                              "entry_point": t.entry_point} for t in TASKS])
    out = tmp_path / "samples.jsonl"
    parser = argparse.ArgumentParser()
    datasets_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", "--format", "humaneval", "--candidates",
                              str(candidates_file), "--tasks", str(tasks_file), "--best-only",
                              "-o", str(out)])
    assert args.func(args) == 0
    assert load_suggestions(out) == {"T/0": [body(2)], "T/1": [body(9)]}
