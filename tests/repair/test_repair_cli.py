"""``franc repair`` (live with a replayed model, and --replay), ``franc run``, ``franc demo``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

from franc.cli import repair as cli
from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import Candidate, Task
from franc.repair import load_template

PROMPT = "import yaml\n\n\ndef load(path):\n    '''Load a YAML file.'''\n"
BAD = PROMPT + "    with open(path) as f:\n        return yaml.load(f)\n"
FIXED = "def load(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n"


def franc(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="franc")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def rows(path: Path) -> list[dict]:
    return [row for _, row in read_jsonl(path)]


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    write_jsonl(path, [{"task_id": "y/1", "prompt": PROMPT}])
    return path


def recorded_p1(tmp_path: Path, answers: Sequence[str]) -> Path:
    """A FRANC-format recording of the P1 prompt that our pipeline will send for BAD."""
    from franc.analysis import analyze
    from franc.filter import StaticFilter

    task = Task("y/1", PROMPT, "python")
    with StaticFilter("python") as static_filter:
        candidate = static_filter.run(task, BAD)
    candidate = analyze("python", [candidate], {"y/1": task}, ["bandit"])[0]
    findings = [f for f in candidate.findings or [] if f.tool == "bandit"]
    sent = load_template("P1", "python").render(task, candidate, findings).prompt
    path = tmp_path / "P1_recorded.jsonl"
    write_jsonl(path, [{"task_id": "y/1", "template": "P1", "repair_prompt": sent,
                        "suggestions": [sent + a for a in answers]}])
    return path


def test_replay_rejudges_recorded_rounds(tmp_path: Path, prompts: Path) -> None:
    recording = recorded_p1(tmp_path, ["def load(path):\n    return yaml.load(path)\n", FIXED])
    out = tmp_path / "out.jsonl"
    assert franc("repair", "--language", "python", "--replay", str(recording),
                 "--prompts", str(prompts), "-o", str(out)) == 0
    [line] = rows(out)
    assert line["task_id"] == "y/1" and line["template"] == "P1" and line["repaired"] is True
    assert [a["clean"] for a in line["answers"]] == [False, True]
    assert line["answers"][0]["findings"][0]["rule_id"] == "B506"
    assert set(line["answers"][1]) == {"index", "code", "compiles", "errors", "findings", "clean"}


def test_live_repair_with_replayed_model_writes_a_replayable_trace(
        tmp_path: Path, prompts: Path) -> None:
    recording = recorded_p1(tmp_path, [FIXED])
    candidates = tmp_path / "analyzed.jsonl"
    # As franc filter wrote it; the findings are added by franc repair.
    write_jsonl(candidates, [Candidate("y/1", 0, BAD, compiles=True).to_json()])
    out, trace = tmp_path / "repaired.jsonl", tmp_path / "trace.jsonl"
    assert franc("repair", "--language", "python", "--candidates", str(candidates),
                 "--prompts", str(prompts), "--generator", f"replay:{recording}",
                 "--template", "P1", "--trace", str(trace), "-o", str(out)) == 0
    [line] = rows(out)
    assert line["repaired"] is True and line["stop_reason"] == "clean"
    assert "safe_load" in line["candidates"][0]["code"]
    [recorded] = rows(trace)
    assert recorded["repair_prompt"].endswith("# Fixed Code: \n")
    again = tmp_path / "again.jsonl"
    franc("repair", "--language", "python", "--replay", str(trace), "--prompts", str(prompts),
          "-o", str(again))
    assert rows(again)[0]["repaired"] is True


def test_live_repair_needs_prompts_and_generator(tmp_path: Path) -> None:
    candidates = tmp_path / "c.jsonl"
    write_jsonl(candidates, [Candidate("y/1", 0, BAD).to_json()])
    with pytest.raises(InputError, match="needs --generator and --prompts"):
        franc("repair", "--language", "python", "--candidates", str(candidates), "-o",
              str(tmp_path / "o.jsonl"))


def test_run_keeps_every_stage_beside_the_report(tmp_path: Path, prompts: Path) -> None:
    suggestions = tmp_path / "suggestions.jsonl"
    write_jsonl(suggestions, [{"task_id": "y/1", "suggestions": [
        BAD, "    with open(path) as f:\n        return yaml.safe_load(f)\n"]}])
    out = tmp_path / "report.jsonl"
    assert franc("run", "--language", "python", "--prompts", str(prompts), "--suggestions",
                 str(suggestions), "-o", str(out)) == 0
    [report] = rows(out)
    assert report["clean"] is True and report["original_count"] == 2
    assert "safe_load" in report["candidates"][0]["code"]
    for stage in ("filtered", "analyzed", "ranked", "repair"):
        assert (tmp_path / f"report.{stage}.jsonl").is_file()
    filtered = rows(tmp_path / "report.filtered.jsonl")
    assert len(filtered) == 2 and "findings" not in filtered[0]
    assert all("findings" in row for row in rows(tmp_path / "report.analyzed.jsonl"))
    assert [row["rank"] for row in rows(tmp_path / "report.ranked.jsonl")] == [1, 2]



@pytest.mark.slow
def test_run_keeps_the_outcomes_of_a_ranker_that_runs_candidates_in_its_cache(
        tmp_path: Path) -> None:
    from franc.ranking.behaviour import outcome_cache

    prompt = 'def add(a: int, b: int) -> int:\n    """Sum of a and b."""\n'
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"task_id": "a/1", "prompt": prompt, "entry_point": "add"}])
    suggestions = tmp_path / "suggestions.jsonl"
    write_jsonl(suggestions, [{"task_id": "a/1", "suggestions": [
        "    return a - b\n", "    return a + b\n", "    return b + a\n"]}])
    cache = tmp_path / "outcomes.sqlite"
    out = tmp_path / "report.jsonl"
    assert franc("run", "--language", "python", "--prompts", str(prompts), "--suggestions",
                 str(suggestions), "--ranker", "behaviour", "--cache", str(cache),
                 "-o", str(out)) == 0
    assert "a + b" in rows(out)[0]["candidates"][0]["code"] or \
        "b + a" in rows(out)[0]["candidates"][0]["code"]  # the two that agree
    assert len(outcome_cache(cache)) > 0  # a later command reads them back

def test_run_needs_candidates_or_a_generator(tmp_path: Path, prompts: Path) -> None:
    with pytest.raises(InputError, match="--suggestions"):
        franc("run", "--language", "python", "--prompts", str(prompts), "-o",
              str(tmp_path / "r.jsonl"))


def test_demo_runs_offline_on_the_bundled_example(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if cli._demo_files("python") is None:
        pytest.skip("no bundled example yet")
    out = tmp_path / "demo.jsonl"
    assert franc("demo", "--language", "python", "-o", str(out)) == 0
    printed = capsys.readouterr().out
    assert "FRANC demo" in printed and "judge:" in printed
    reports = {r["task_id"]: r for r in rows(out)}
    assert reports and all(r["candidates"] for r in reports.values())
    # The bundled recorded answer repairs the shell=True candidate in one P1 round.
    repaired = reports["example/list_directory"]
    assert repaired["clean"] and len(repaired["rounds"]) == 1
    assert "shell=True" not in repaired["candidates"][0]["code"]


def test_java_demo_shows_a_candidate_that_does_what_the_javadoc_example_says(
        tmp_path: Path) -> None:
    """ReverseWords: two of three candidates reverse the words, as the Javadoc example says;
    the third reverses the letters. The word reversers must come first."""
    if cli._demo_files("java") is None:
        pytest.skip("no bundled Java example")
    out = tmp_path / "demo.jsonl"
    assert franc("demo", "--language", "java", "-o", str(out)) == 0
    reports = {r["task_id"]: r for r in rows(out)}
    best = reports["example/ReverseWords"]["candidates"][0]
    assert "split(" in best["code"] and ".reverse().toString()" not in best["code"]
