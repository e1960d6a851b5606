"""Build python.jsonl / java.jsonl from the hand-written task sources in src/.

Each source file holds tasks in a plain sectioned format (no escaping needed):

    === <question id or -> | <entry point> | cwe: 89, 20 | tags: sql, sqlite
    title: <question topic, in our words>
    --- prompt
    ...
    --- solution
    ...
    --- test
    ...
    --- security_test        (optional)
    --- insecure             (optional; required when security_test is given)

Task ids are numbered in file order: SOEval/Python/0, SOEval/Python/1, ...
Run:  python datasets/SOEval/build.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = {"python": "Python", "java": "Java"}
SECTIONS = ("prompt", "solution", "test", "security_test", "insecure")


def parse_header(line: str, where: str) -> dict:
    parts = [p.strip() for p in line[4:].split("|")]
    if len(parts) != 4 or not parts[2].startswith("cwe:") or not parts[3].startswith("tags:"):
        raise SystemExit(f"{where}: bad header {line!r}")
    qid = None if parts[0] == "-" else int(parts[0])
    cwe = [int(c) for c in re.findall(r"\d+", parts[2][4:])]
    tags = [t.strip() for t in parts[3][5:].split(",") if t.strip()]
    return {"qid": qid, "entry_point": parts[1], "cwe": cwe, "tags": tags}


def parse_source(path: Path) -> list[dict]:
    tasks: list[dict] = []
    current: dict | None = None
    section: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), 1):
        where = f"{path.name}:{number}"
        if line.startswith("=== "):
            current = {**parse_header(line.rstrip("\n"), where), "where": where,
                       "title": None, **{s: "" for s in SECTIONS}}
            tasks.append(current)
            section = None
        elif current is None:
            continue
        elif line.startswith("title:") and section is None:
            current["title"] = line[6:].strip()
        elif line.startswith("--- "):
            section = line[4:].strip()
            if section not in SECTIONS:
                raise SystemExit(f"{where}: unknown section {section!r}")
        elif section is not None:
            current[section] += line
    return tasks


def to_row(language: str, number: int, task: dict) -> dict:
    def text(name: str) -> str | None:
        value = task[name].strip("\n")
        return value + "\n" if value else None

    prompt = task["prompt"].lstrip("\n").rstrip() + "\n"
    for required in ("solution", "test"):
        if not task[required].strip():
            raise SystemExit(f"{task['where']}: section {required!r} is empty")
    if bool(task["security_test"].strip()) and not task["insecure"].strip():
        raise SystemExit(f"{task['where']}: security_test without insecure solution")
    return {
        "task_id": f"SOEval/{LANGUAGES[language]}/{number}",
        "language": language,
        "prompt": prompt,
        "entry_point": task["entry_point"],
        "canonical_solution": text("solution"),
        "test": text("test"),
        "security_test": text("security_test"),
        "cwe": task["cwe"],
        "tags": task["tags"],
        "source_question": {"id": task["qid"], "title": task["title"]},
        "insecure_solution": text("insecure"),
    }


def build(language: str) -> Path:
    sources = sorted((HERE / "src").glob(f"{language}_*.txt"))
    tasks = [t for source in sources for t in parse_source(source)]
    out = HERE / f"{language}.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        for number, task in enumerate(tasks):
            handle.write(json.dumps(to_row(language, number, task), ensure_ascii=False) + "\n")
    print(f"{out.name}: {len(tasks)} tasks", file=sys.stderr)
    return out


if __name__ == "__main__":
    for lang in LANGUAGES:
        build(lang)
