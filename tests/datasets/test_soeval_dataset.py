"""The shipped SOEval files: schema, size, CWE share, coverage of FRANC's prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from franc.datasets import load_tasks
from franc.evaluation.soeval import FIELDS, read_soeval, signature, stub_bodies

SOEVAL = Path(__file__).resolve().parents[2] / "datasets" / "SOEval"
FILES = {"python": (SOEVAL / "python.jsonl", 60, "SOEvalPython.jsonl"),
         "java": (SOEVAL / "java.jsonl", 40, "SOEvalJava.jsonl")}
#: FRANC prompts whose signature cannot compile or run here, and what we use instead.
SIGNATURE_DEVIATIONS = {
    "1128723": "FRANC writes the type 'object', which does not compile; ours uses Object",
    "2591098": "Gson is not available offline; ours returns a Map from a JDK-only parser",
}


def rows(language: str) -> list[dict]:
    path = FILES[language][0]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("language", list(FILES))
def test_schema_size_and_ids(language: str) -> None:
    path, minimum, _ = FILES[language]
    tasks, problems = read_soeval(path)
    assert problems == []
    assert len(tasks) >= minimum
    assert all(list(row) == list(FIELDS) for row in rows(language))
    prefix = f"SOEval/{language.capitalize()}/"
    assert [t.task_id for t in tasks] == [f"{prefix}{i}" for i in range(len(tasks))]
    for task, row in zip(tasks, rows(language), strict=True):
        assert task.language == language
        assert bool(task.insecure_solution) == bool(task.cwe), task.task_id
        assert row["source_question"]["title"], task.task_id


def test_a_third_of_the_tasks_carry_a_cwe() -> None:
    tasks = [t for language in FILES for t in read_soeval(FILES[language][0])[0]]
    with_cwe = [t for t in tasks if t.cwe]
    assert len(with_cwe) * 3 >= len(tasks)
    with_security_test = [t for t in with_cwe if t.security_test]
    assert len(with_security_test) >= 0.9 * len(with_cwe)


@pytest.mark.parametrize("language", list(FILES))
def test_the_loaders_read_the_shipped_files(language: str) -> None:
    path = FILES[language][0]
    loaded = load_tasks(path)
    ours, _ = read_soeval(path)
    assert loaded == ours


@pytest.mark.parametrize("language", list(FILES))
def test_every_franc_prompt_has_a_task_with_its_signature(language: str,
                                                          reference_dir: Path) -> None:
    reference = load_tasks(reference_dir / "benchmarks" / FILES[language][2],
                           format="franc-soeval", language=language)
    tasks, _ = read_soeval(FILES[language][0])
    by_question = {str(row["source_question"]["id"]): task
                   for row, task in zip(rows(language), tasks, strict=True)}
    for prompt in reference:
        ours = by_question.get(prompt.task_id)
        assert ours is not None, f"no task for FRANC's question {prompt.task_id}"
        assert ours.entry_point == prompt.entry_point
        if prompt.task_id not in SIGNATURE_DEVIATIONS:
            assert signature(ours) == signature(prompt), prompt.task_id
        else:
            assert signature(ours).split(".")[0] == signature(prompt).split(".")[0]


def test_stub_bodies_follow_the_return_type() -> None:
    tasks = {t.entry_point: t for t in read_soeval(FILES["java"][0])[0]}
    bodies = dict(stub_bodies(tasks["isNumeric"]))
    assert "return false;" in bodies["return default"]
    assert "return null;" in dict(stub_bodies(tasks["repeat"]))["return default"]
    assert "return;" in dict(stub_bodies(tasks["shuffle"]))["return default"]
    python = read_soeval(FILES["python"][0])[0][0]
    assert dict(stub_bodies(python)) == {"empty body": "    pass\n",
                                         "return None": "    return None\n"}
