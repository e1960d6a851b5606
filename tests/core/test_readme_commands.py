"""Every ``franc`` command in README.md's command blocks runs as written.

The commands run in order in one folder laid out with the names the README uses, made from
the bundled example (``franc/examples``): HumanEval.jsonl, P.jsonl and CodeT's prompt file are
its Python prompts that carry tests, raw.jsonl.gz and S.jsonl.gz their raw candidates (and
CodeT's pool the same as continuations of the prompts), app.py and Main.java small source
files. Commands that start a server or need a model server are left out, by
the rule in :func:`needs_a_server`.
"""

from __future__ import annotations

import gzip
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "franc" / "examples"
FRANC = Path(sys.executable).parent / "franc"

CODET_PROMPTS = "hmeval_for_code_generation.jsonl"
CODET_POOL = "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl"

MAIN_JAVA = """public class Main {
    /** The larger of two numbers. */
    public static int max(int a, int b) {
        return a >= b ? a : b;
    }
}
"""


def shell_blocks(text: str) -> list[str]:
    """The contents of the fenced blocks without a language (the README's shell blocks)."""
    blocks: list[str] = []
    current: list[str] | None = None
    language = ""
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current, language = [], line[3:].strip()
            else:
                if not language:
                    blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def readme_commands(text: str) -> list[list[str]]:
    """The ``franc`` command lines of the shell blocks: continuations joined, comments cut."""
    commands = []
    for block in shell_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("franc "):  # not curl's multi-line JSON, not make
                commands.append(shlex.split(line, comments=True))
    return commands


def needs_a_server(words: list[str]) -> bool:
    """``franc serve`` starts one; an ``openai:`` generator needs a model server."""
    return words[1] == "serve" or any(word.startswith("openai:") for word in words)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    prompts = [json.loads(line) for line in
               (EXAMPLES / "python_prompts.jsonl").read_text().splitlines() if line.strip()]
    tested = [p for p in prompts if p.get("test")]  # `franc label` needs a test per task
    lines = "".join(json.dumps(p) + "\n" for p in tested)
    for name in ("HumanEval.jsonl", "P.jsonl"):
        (folder / name).write_text(lines)
    ids = {p["task_id"] for p in tested}
    raw = [line for line in (EXAMPLES / "python_suggestions.jsonl").read_text().splitlines()
           if line.strip() and json.loads(line)["task_id"] in ids]
    for name in ("raw.jsonl.gz", "S.jsonl.gz"):
        with gzip.open(folder / name, "wt", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in raw))
    # CodeT's pool and prompt file: no task ids; the samples continue the prompt.
    (folder / CODET_PROMPTS).write_text(lines)
    by_id = {p["task_id"]: p["prompt"] for p in tested}
    pool = []
    for line in raw:
        row = json.loads(line)
        prompt = by_id[row["task_id"]]
        pool.append({"prompt": prompt, "samples": [text.removeprefix(prompt)
                                                   for text in row["suggestions"]]})
    (folder / CODET_POOL).write_text("".join(json.dumps(row) + "\n" for row in pool))
    first = tested[0]
    (folder / "app.py").write_text(f'"""The bundled example."""\n{first["prompt"]}'
                                   f'{first["canonical_solution"]}')
    (folder / "Main.java").write_text(MAIN_JAVA)
    return folder


def test_the_readme_has_the_commands_this_test_runs() -> None:
    commands = readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    runnable = {" ".join(words[:2]) for words in commands if not needs_a_server(words)}
    assert {"franc filter", "franc analyze", "franc label", "franc rank", "franc eval",
            "franc run", "franc export", "franc datasets"} <= runnable
    skipped = [words[:2] for words in commands if needs_a_server(words)]
    assert skipped == [["franc", "serve"], ["franc", "repair"]]


def test_every_readme_command_runs_as_written(workspace: Path) -> None:
    if shutil.which("javac") is None:
        pytest.skip("the Java commands need a JDK (javac)")
    failures = []
    for words in readme_commands((REPO / "README.md").read_text(encoding="utf-8")):
        if needs_a_server(words):
            continue
        result = subprocess.run([str(FRANC), *words[1:]], cwd=workspace, capture_output=True,
                                text=True, timeout=600)
        if result.returncode != 0:
            failures.append(f"{shlex.join(words)}\n  exit {result.returncode}: "
                            f"{(result.stderr or result.stdout).strip()[-600:]}")
    assert not failures, "README commands that fail as written:\n" + "\n".join(failures)
    # The CodeT pool went through every stage: each of its tasks ranked by each ranker.
    table = (workspace / "pool.md").read_text()
    assert all(f"| {ranker} |" in table for ranker in ("original", "learned", "behaviour"))
    first_answers = [json.loads(line) for line in
                     (workspace / "first_answers.jsonl").read_text().splitlines()]
    tested = (workspace / "HumanEval.jsonl").read_text().splitlines()
    assert sorted(a["task_id"] for a in first_answers) == sorted(
        json.loads(line)["task_id"] for line in tested)  # one first answer per task
    # The pool's eval and rank shared their outcomes through --cache.
    from franc.ranking.behaviour import outcome_cache

    assert len(outcome_cache(workspace / "outcomes.sqlite")) > 0
