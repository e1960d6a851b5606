"""Graded labels, qrels export and the ``franc label`` command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import ranx

from franc.cli import evaluation as cli
from franc.errors import InputError
from franc.evaluation import labels
from franc.evaluation.execution import ExecResult
from franc.evaluation.labels import (
    NOT_COMPILED_REASON,
    grade,
    label_candidates,
    to_qrels,
    write_trec_qrels,
)
from franc.models import Candidate, Task

PROMPT = "def sq(x):\n"
TEST = "def check(candidate):\n    assert candidate(3) == 9\n"
SECURITY = "def check_security(candidate):\n    assert candidate(10**6) is None\n"
PLAIN = Task("P/0", PROMPT, "python", entry_point="sq", test=TEST)
SECURED = Task("S/0", PROMPT, "python", entry_point="sq", test=TEST, security_test=SECURITY)

GOOD = PROMPT + "    return x * x\n"
CAPPED = PROMPT + "    return None if x > 1000 else x * x\n"
WRONG = PROMPT + "    return x + x\n"

PASSED, FAILED = ExecResult("passed", "", 0.1), ExecResult("failed", "no", 0.1)


@pytest.mark.parametrize(("compiles", "functional", "security", "label"), [
    (False, None, None, 0),
    (True, FAILED, None, 1),
    (True, FAILED, PASSED, 1),
    (True, PASSED, None, 2),
    (True, PASSED, FAILED, 2),
    (True, PASSED, PASSED, 3),
])
def test_grade_scale(compiles: bool, functional: ExecResult | None,
                     security: ExecResult | None, label: int) -> None:
    assert grade(compiles, functional, security) == label


def candidate(task: Task, index: int, code: str, compiles: bool = True) -> Candidate:
    return Candidate(task_id=task.task_id, index=index, code=code, compiles=compiles)


def test_label_candidates_functional_and_security_scales() -> None:
    items = [candidate(PLAIN, 0, GOOD), candidate(PLAIN, 1, WRONG),
             candidate(PLAIN, 2, "def sq(x) return", compiles=False),
             candidate(PLAIN, 3, GOOD),  # a duplicate: run once, same verdict
             candidate(SECURED, 0, GOOD), candidate(SECURED, 1, CAPPED),
             candidate(SECURED, 2, WRONG)]
    labeled = label_candidates(items, [PLAIN, SECURED], "python", workers=2, progress=False)
    assert [(c.task_id, c.index) for c in labeled] == [(c.task_id, c.index) for c in items]
    assert [c.label for c in labeled] == [2, 1, 0, 2, 2, 3, 1]
    assert [c.secure for c in labeled] == [None, None, None, None, False, True, False]
    assert [c.exec_status for c in labeled] == ["passed", "failed", None, "passed", "passed",
                                                "passed", "failed"]
    assert labeled[2].exec_reason == NOT_COMPILED_REASON
    assert labeled[4].exec_reason.startswith("security test failed")
    assert items[0].label is None  # inputs are left untouched


def test_unknown_task_and_untested_task_are_clear_errors() -> None:
    with pytest.raises(InputError, match="not in the prompts: Q/9"):
        label_candidates([Candidate("Q/9", 0, GOOD, compiles=True)], [PLAIN], "python",
                         progress=False)
    untested = Task("U/0", PROMPT, "python", entry_point="sq")
    with pytest.raises(InputError, match="without a test"):
        label_candidates([candidate(untested, 0, GOOD)], [untested], "python", progress=False)
    with pytest.raises(InputError, match="unknown language"):
        label_candidates([], [], "cobol", progress=False)


def test_qrels_for_ranx_and_trec_file(tmp_path: Path) -> None:
    labeled = [Candidate("P/0", 0, "", label=2), Candidate("P/0", 1, "", label=0),
               Candidate("S/0", 0, "", label=3)]
    qrels = to_qrels(labeled)
    assert isinstance(qrels, ranx.Qrels)
    assert qrels.to_dict() == {"P/0": {"0": 2, "1": 0}, "S/0": {"0": 3}}
    run = ranx.Run({"P/0": {"0": 1.0, "1": 0.5}, "S/0": {"0": 1.0}})
    assert ranx.evaluate(qrels, run, "ndcg@10") == pytest.approx(1.0)
    path = tmp_path / "labels.qrels"
    assert write_trec_qrels(labeled, path) == 3
    assert path.read_text().splitlines() == ["P/0 0 0 2", "P/0 0 1 0", "S/0 0 0 3"]
    assert ranx.Qrels.from_file(str(path), kind="trec").to_dict() == qrels.to_dict()
    with pytest.raises(InputError, match="no label"):
        to_qrels([Candidate("P/0", 0, "")])


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_franc_label_command(tmp_path: Path) -> None:
    prompts = tmp_path / "bench.jsonl"
    prompts.write_text("".join(json.dumps(row) + "\n" for row in [
        {"task_id": "P/0", "prompt": PROMPT, "entry_point": "sq", "test": TEST,
         "canonical_solution": "    return x * x\n"}]))
    filtered = tmp_path / "filtered.jsonl"
    filtered.write_text("".join(json.dumps(c.to_json()) + "\n" for c in [
        candidate(PLAIN, 0, GOOD), candidate(PLAIN, 1, WRONG),
        candidate(PLAIN, 2, "def sq(x) return", compiles=False)]))
    out, qrels = tmp_path / "labeled.jsonl", tmp_path / "q.trec"
    args = parse(["label", "--language", "python", "--prompts", str(prompts), "--candidates",
                  str(filtered), "-o", str(out), "--qrels", str(qrels), "--no-progress",
                  "--timeout", "5"])
    assert args.func(args) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["index"], r["label"]) for r in rows] == [(0, 2), (1, 1), (2, 0)]
    assert rows[1]["exec_status"] == "failed" and "compiles" in rows[1]
    assert len(qrels.read_text().splitlines()) == 3


def test_franc_label_reads_raw_samples_after_a_compile_check(tmp_path: Path) -> None:
    prompts = tmp_path / "bench.jsonl"
    prompts.write_text(json.dumps({"task_id": "P/0", "prompt": PROMPT, "entry_point": "sq",
                                   "test": TEST, "canonical_solution": "    return x * x\n"})
                       + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": "P/0", "completion": text}) + "\n"
                               for text in (GOOD, "def sq(x) return")))
    out = tmp_path / "labeled.jsonl"
    args = parse(["label", "--language", "python", "--prompts", str(prompts), "--candidates",
                  str(samples), "-o", str(out), "--no-progress"])
    assert args.func(args) == 0
    assert [json.loads(line)["label"] for line in out.read_text().splitlines()] == [2, 0]


def test_wall_clock_timeout_is_confirmed_by_a_second_run(monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = iter([ExecResult("timeout", "no result within 10 s", 10.0), PASSED,
                     ExecResult("timeout", "CPU time limit reached", 2.0)])
    calls = []

    def fake_run(task: Task, code: str, **kwargs: object) -> ExecResult:
        calls.append(code)
        return next(verdicts)

    monkeypatch.setattr(labels, "run_candidate", fake_run)
    starved, looping = candidate(PLAIN, 0, GOOD), candidate(PLAIN, 1, WRONG)
    result = label_candidates([starved, looping], [PLAIN], "python", workers=1, progress=False)
    assert [c.label for c in result] == [2, 1]
    assert calls == [GOOD, GOOD, WRONG]  # a CPU-limit timeout is final
