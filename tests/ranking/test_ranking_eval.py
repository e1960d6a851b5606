"""``franc eval``: NDCG and top-1 against hand-computed values, outputs, executors, bad input."""

from __future__ import annotations

import json
import math

import pytest

from franc.cli import main
from franc.errors import InputError
from franc.jsonl import write_jsonl
from franc.models import Candidate
from franc.ranking.evaluate import (
    apply_qrels,
    check_metrics,
    evaluate,
    load_labeled,
    pass_at_k,
    rank_files,
)

# task -> (index, compiles, label); T/1 has nothing compilable.
ROWS = {"T/0": [(0, False, 0), (1, True, 2), (2, True, 1)],
        "T/1": [(0, False, 0), (1, False, 0)],
        "T/2": [(0, True, 2), (1, False, 0)]}


def write_labeled(path, rows=ROWS):
    write_jsonl(path, (Candidate(task, index, f"def f():\n    return {index}\n",
                                 compiles=compiles, findings=[] if compiles else None,
                                 label=label).to_json()
                       for task, items in rows.items() for index, compiles, label in items))
    return path


def dcg(gains):
    return sum(g / math.log2(r + 2) for r, g in enumerate(gains))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = write_labeled(tmp_path_factory.mktemp("eval") / "HumanEval_python_toy.jsonl")
    # One graded metric keeps numba's first-call compilation (inside ranx) short.
    return evaluate([load_labeled(path)], ["original", "franc"], metrics=["ndcg@10"],
                    workers=1, progress=False)


def test_ndcg_and_top1_match_hand_computed_values(report):
    original = report.files[0].scores["original"]
    ndcg_t0 = dcg([0, 2, 1]) / dcg([2, 1, 0])
    # NDCG averages over prompts with some label above 0 (T/0, T/2), like FRANC's figures.
    assert original["ndcg@10"] == pytest.approx((ndcg_t0 + 1.0) / 2)
    assert original["top1_pass"] == pytest.approx(1 / 3)
    franc = report.files[0].scores["franc"]
    assert franc["ndcg@10"] == pytest.approx(1.0)
    assert franc["top1_pass"] == pytest.approx(2 / 3)
    assert report.files[0].oracle == pytest.approx(2 / 3)
    assert report.files[0].gap_closed("franc") == pytest.approx(1.0)
    assert report.files[0].ndcg_tasks == 2 and report.files[0].tasks == 3


def test_pooled_evaluation_keeps_files_apart_and_has_p_values(report):
    pooled = report.pooled[0]
    assert pooled.language == "python" and pooled.tasks == 3
    p = pooled.p_values["franc"]["original"]
    assert set(p) >= {"ndcg@10", "top1_pass"} and all(0 <= v <= 1 for v in p.values())


def test_cli_eval_writes_every_output(tmp_path, capsys):
    labeled = write_labeled(tmp_path / "HumanEval_python_toy.jsonl")
    code = main(["eval", "--labeled", str(labeled), "--rankers", "original,franc,quality",
                 "--metrics", "ndcg@10",
                 "--quiet", "--workers", "1", "--markdown", str(tmp_path / "t.md"),
                 "--json", str(tmp_path / "t.json"), "--latex", str(tmp_path / "t.tex"),
                 "--html", str(tmp_path / "r.html"), "--trec", str(tmp_path / "trec")])
    assert code == 0
    assert "top1_pass" in capsys.readouterr().out
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["files"][0]["scores"]["franc"]["top1_pass"] == pytest.approx(2 / 3)
    assert "| franc |" in (tmp_path / "t.md").read_text()
    assert "\\begin{table" in (tmp_path / "t.tex").read_text()
    html = (tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    qrels = (tmp_path / "trec" / "qrels.trec").read_text().splitlines()
    assert len(qrels) == 7
    assert len((tmp_path / "trec" / "run.franc.trec").read_text().splitlines()) == 7


def test_labels_for_unknown_candidates_are_a_clear_error(tmp_path):
    labeled = load_labeled(write_labeled(tmp_path / "HumanEval_python_toy.jsonl"))
    qrels = tmp_path / "extra.qrels"
    qrels.write_text("T/0 0 1 2\nT/9 0 0 2\n")
    with pytest.raises(InputError, match=r"extra.qrels:2: label for unknown candidate T/9#0"):
        apply_qrels(labeled, qrels)


def test_qrels_override_labels_read_through_ranx(tmp_path):
    labeled = load_labeled(write_labeled(tmp_path / "HumanEval_python_toy.jsonl"))
    qrels = tmp_path / "fix.qrels"
    qrels.write_text("T/0 0 1 3\nT/0 Q0 0 0\n")
    apply_qrels(labeled, qrels)
    labels = {(c.task_id, c.index): c.label for c in labeled.candidates}
    assert labels[("T/0", 1)] == 3 and labels[("T/0", 0)] == 0


@pytest.mark.parametrize("bad", ["T/0 0 1\n", "T/0 0 1 two\n", "\n", "T/0 0 1 2 extra\n"])
def test_a_qrels_line_ranx_cannot_read_names_file_and_line(tmp_path, bad):
    labeled = load_labeled(write_labeled(tmp_path / "HumanEval_python_toy.jsonl"))
    qrels = tmp_path / "bad.qrels"
    qrels.write_text("T/0 0 1 2\n" + bad + "T/0 0 0 2\n")
    with pytest.raises(InputError, match=r"bad.qrels:2: expected 'task_id 0 candidate_index"):
        apply_qrels(labeled, qrels)
    qrels.write_bytes(b"T/0 0 1 2\n\xff\xfe 0 1 2\n")
    with pytest.raises(InputError, match=r"bad.qrels:2: expected"):
        apply_qrels(labeled, qrels)


def test_unlabeled_candidates_name_file_and_line(tmp_path):
    path = tmp_path / "HumanEval_python_x.jsonl"
    write_jsonl(path, [Candidate("T/0", 0, "x = 1", label=1).to_json(),
                       Candidate("T/0", 1, "x = 2").to_json()])
    with pytest.raises(InputError, match=r"HumanEval_python_x.jsonl:2: .*needs a label"):
        load_labeled(path)


def test_unknown_ranker_in_eval_exits_with_a_message(tmp_path, capsys):
    labeled = write_labeled(tmp_path / "HumanEval_python_toy.jsonl")
    assert main(["eval", "--labeled", str(labeled), "--rankers", "original,bogus",
                 "--quiet", "--workers", "1"]) == 2
    assert "no rankers policy 'bogus'" in capsys.readouterr().err


def test_unknown_executor_is_rejected(tmp_path):
    labeled = load_labeled(write_labeled(tmp_path / "HumanEval_python_toy.jsonl"))
    with pytest.raises(InputError, match="unknown executor 'spark'"):
        rank_files([labeled], ["original"], executor="spark")


@pytest.mark.slow
def test_ray_executor_gives_the_process_pool_results(tmp_path):
    ray = pytest.importorskip("ray")
    files = [load_labeled(write_labeled(tmp_path / f"HumanEval_python_{n}.jsonl"))
             for n in ("a", "b")]
    try:
        by_ray = rank_files(files, ["franc", "quality"], executor="ray", workers=1,
                            progress=False)
    finally:
        ray.shutdown()
    assert by_ray == rank_files(files, ["franc", "quality"], workers=1, progress=False)


def test_cli_eval_says_which_tasks_of_the_prompts_have_no_candidates(tmp_path, capsys):
    labeled = write_labeled(tmp_path / "HumanEval_python_toy.jsonl")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"task_id": f"T/{n}", "prompt": "def f():\n",
                                           "entry_point": "f"}) + "\n" for n in range(5)))
    args = ["eval", "--labeled", str(labeled), "--rankers", "original", "--workers", "1",
            "--metrics", "ndcg@10", "--no-progress", "--prompts", str(prompts)]
    assert main(args) == 0
    assert "2 of the 5 tasks of --prompts have no candidates in --labeled (T/3, T/4); the " \
           "scores are over the 3 that have" in " ".join(capsys.readouterr().err.split())
    prompts.write_text("".join(prompts.read_text().splitlines(keepends=True)[:3]))
    assert main(args) == 0
    assert "no candidates" not in capsys.readouterr().err


def test_binary_metrics_count_passing_candidates_as_relevant(tmp_path):
    labeled = write_labeled(tmp_path / "HumanEval_python_toy.jsonl")
    assert main(["eval", "--labeled", str(labeled), "--rankers", "original,franc", "--quiet",
                 "--workers", "1", "--metrics", "ndcg@10,precision@1,mrr,precision@1-l1",
                 "--json", str(tmp_path / "t.json")]) == 0
    data = json.loads((tmp_path / "t.json").read_text())["files"][0]
    original, franc = data["scores"]["original"], data["scores"]["franc"]
    # Over the prompts some candidate passes (T/0, T/2): original's first candidate of T/0
    # does not compile, its passing one is second.
    assert data["pass_tasks"] == 2
    assert original["precision@1"] == pytest.approx(1 / 2)
    assert original["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    assert franc["precision@1"] == pytest.approx(1.0) and franc["mrr"] == pytest.approx(1.0)
    # A metric naming its relevance level keeps it: "compiles" (label 1) counts there.
    assert original["precision@1-l1"] == pytest.approx(1 / 2)
    assert franc["precision@1-l1"] == pytest.approx(1.0)


def test_pass_at_k_is_the_unbiased_estimator():
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(10, 1, 10) == pytest.approx(1.0)
    assert pass_at_k(10, 2, 5) == pytest.approx(1 - math.comb(8, 5) / math.comb(10, 5))
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(3, 1, 10) == pytest.approx(1.0)  # fewer samples than k: all drawn


def test_report_carries_pass_at_k_of_the_samples(report):
    # T/0: 1 of 3 passes; T/1: none of 2; T/2: 1 of 2.
    assert report.files[0].pass_at_k[1] == pytest.approx((1 / 3 + 0 + 1 / 2) / 3)
    assert report.files[0].pass_at_k[10] == pytest.approx(2 / 3)
    assert report.to_json()["files"][0]["pass_at_k"]["pass@1"] == pytest.approx(5 / 18)


@pytest.mark.parametrize("metric", ["precision@x", "ndgc@10", "bogus"])
def test_unknown_metric_is_a_one_line_error(tmp_path, capsys, metric):
    labeled = write_labeled(tmp_path / "HumanEval_python_toy.jsonl")
    assert main(["eval", "--labeled", str(labeled), "--metrics", f"ndcg@10,{metric}",
                 "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"unknown metric '{metric}'" in err and "Traceback" not in err
    with pytest.raises(InputError, match="unknown metric"):
        check_metrics([metric])
