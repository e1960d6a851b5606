"""Every command's outputs: checked before the work starts, never an input, written atomically,
and `franc label` stops promptly on Ctrl-C, keeping what finished (issue 14)."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from franc.cli import main

PROMPT = 'def sq(x):\n    """Square x."""\n'
TEST = "def check(candidate):\n    assert candidate(3) == 9\n"


def suggestions(tmp_path: Path) -> Path:
    path = tmp_path / "S.jsonl"
    path.write_text(json.dumps({"task_id": "P/0", "prompt": PROMPT, "entry_point": "sq",
                                "suggestions": [PROMPT + "    return x * x\n"]}) + "\n")
    return path


def test_output_naming_the_input_is_refused_and_the_input_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = suggestions(tmp_path)
    before = source.read_bytes()
    code = main(["filter", "--language", "python", "--suggestions", str(source),
                 "-o", str(source), "--no-progress"])
    assert code == 2
    assert "overwrite the input" in capsys.readouterr().err
    assert source.read_bytes() == before


def test_unwritable_output_fails_at_once_with_one_line(tmp_path: Path) -> None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "franc", "filter", "--language", "python",
                           "--suggestions", str(suggestions(tmp_path)), "-o", "/proc/version",
                           "--no-progress"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "/proc/version" in done.stderr and "cannot be written" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - started < 60


def label_inputs(tmp_path: Path, slow: int) -> tuple[Path, Path]:
    prompts = tmp_path / "bench.jsonl"
    prompts.write_text(json.dumps({"task_id": "P/0", "prompt": PROMPT, "entry_point": "sq",
                                   "test": TEST}) + "\n")
    quick = [PROMPT + f"    return x * x + {i} * 0\n" for i in range(2)]
    sleepy = [PROMPT + f"    import time\n    time.sleep(20 + {i} * 0)\n    return x * x\n"
              for i in range(slow)]
    candidates = tmp_path / "filtered.jsonl"
    candidates.write_text("".join(json.dumps({"task_id": "P/0", "index": i, "code": code,
                                              "compiles": True}) + "\n"
                                  for i, code in enumerate(quick + sleepy)))
    return prompts, candidates


def test_label_stops_promptly_on_ctrl_c_keeps_finished_labels_and_resumes(
        tmp_path: Path) -> None:
    prompts, candidates = label_inputs(tmp_path, slow=6)
    out = tmp_path / "labeled.jsonl"
    command = [sys.executable, "-m", "franc", "label", "--language", "python", "--prompts",
               str(prompts), "--candidates", str(candidates), "-o", str(out), "--no-progress",
               "--workers", "2", "--timeout", "60"]
    # A terminal's Ctrl-C reaches a program whose SIGINT is at its default; a test run
    # started as a background job of a script inherits SIGINT ignored, so restore it.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=functools.partial(signal.signal, signal.SIGINT,
                                                            signal.SIG_DFL))
    deadline = time.time() + 240
    assert process.stderr is not None
    while "sandbox:" not in process.stderr.readline():  # labelling starts
        assert process.poll() is None and time.time() < deadline
    time.sleep(10)  # the two quick candidates finish; the sleepers run
    assert process.poll() is None
    interrupted = time.perf_counter()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=max(1, deadline - time.time()))
    assert time.perf_counter() - interrupted < 5, "did not stop promptly"
    assert process.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    finished = [json.loads(line) for line in out.read_text().splitlines()]
    assert {row["index"] for row in finished} == {0, 1}
    assert all(row["label"] == 2 for row in finished)

    # Resume: the finished labels stay, only the rest runs (here: the sleepers, made quick).
    rows = [json.loads(line) for line in candidates.read_text().splitlines()]
    for row in rows[2:]:
        row["code"] = row["code"].replace("time.sleep(20", "time.sleep(0")
    candidates.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["index"] for row in rows] == list(range(8))
    assert all(row["label"] == 2 for row in rows)
