"""Hostile candidates: none of them may harm the harness, the machine or the next candidate."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from franc.evaluation import execution, sandbox
from franc.evaluation.execution import run_candidate
from franc.evaluation.sandbox import (
    HEAD_BYTES,
    TAIL_BYTES,
    Limits,
    SandboxCapabilities,
    SandboxUnavailable,
    run_sandboxed,
    sandbox_capabilities,
)
from franc.java import JavaCompiler
from franc.models import Task

PY_TEST = "def check(candidate):\n    assert candidate(2) == 4\n"
PY_TASK = Task("T/0", "def double(x):\n", "python", entry_point="double", test=PY_TEST)
PY_GOOD = "def double(x):\n    return 2 * x\n"

JAVA_PROMPT = "import java.util.*;\n\nclass Double {\n    public static int twice(int x) {\n"
JAVA_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        if (Double.twice(2) != 4) {
            throw new java.lang.Exception("Exception -- test case 0 did not pass.");
        }
    }
}
"""
JAVA_TASK = Task("TJ/0", JAVA_PROMPT, "java", entry_point="twice", test=JAVA_TEST)


def java_code(body: str) -> str:
    return JAVA_PROMPT + body + "\n    }\n}\n"


@pytest.fixture(scope="module")
def javac() -> Iterator[JavaCompiler]:
    with JavaCompiler(workers=1) as compiler:
        yield compiler


@pytest.fixture
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A root-owned file in a directory everyone may read but not write (like /etc)."""
    folder = tmp_path_factory.mktemp("victim")
    os.chmod(folder, 0o755)
    os.chmod(folder.parent, 0o755)
    target = folder / "precious.txt"
    target.write_text("keep me\n")
    os.chmod(target, 0o644)
    yield target


def leftover(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if marker.encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def test_capabilities_are_detected_once() -> None:
    caps = sandbox_capabilities()
    assert caps is sandbox_capabilities()
    if os.geteuid() == 0:  # as here and in CI: bubblewrap ships with FRANC, so it isolates
        assert caps.isolated and caps.own_uid
        assert "bubblewrap" in caps.describe()


def test_file_outside_the_directory_survives_python(victim: Path) -> None:
    code = (f"import os\ntry:\n    open({str(victim)!r}, 'w').write('gone')\nexcept OSError:\n"
            f"    pass\ntry:\n    os.remove({str(victim)!r})\nexcept OSError:\n    pass\n"
            + PY_GOOD)
    result = run_candidate(PY_TASK, code)
    assert victim.read_text() == "keep me\n"
    assert result.status == "passed"  # the attempts failed quietly; the function still works


def test_file_outside_the_directory_survives_java(victim: Path, javac: JavaCompiler) -> None:
    body = (f"try {{ new java.io.File(\"{victim}\").delete(); "
            f"new java.io.FileWriter(\"{victim}\").write(\"x\"); }} "
            f"catch (Exception e) {{ }}\n        return 2 * x;")
    result = run_candidate(JAVA_TASK, java_code(body), compiler=javac)
    assert victim.read_text() == "keep me\n"
    assert result.status == "passed"


def test_the_directory_itself_is_writable() -> None:
    code = "open('scratch.txt', 'w').write('ok')\n" + PY_GOOD
    assert run_candidate(PY_TASK, code).status == "passed"


def test_listener_on_localhost_is_unreachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        code = (f"import socket\ndef double(x):\n    try:\n"
                f"        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
                f"        return 'connected'\n    except OSError:\n        return 2 * x\n")
        result = run_candidate(PY_TASK, code)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert result.status == "passed", result.reason


def test_fork_bomb_is_bounded_and_the_next_candidate_is_unaffected() -> None:
    bomb = "import os\nwhile True:\n    os.fork()\n" + PY_GOOD
    started = time.perf_counter()
    result = run_candidate(PY_TASK, bomb, timeout=5, cpu_limit=2)
    assert result.status in ("error", "timeout")
    assert time.perf_counter() - started < 15
    assert run_candidate(PY_TASK, PY_GOOD).status == "passed"


def test_endless_loop_times_out_by_wall_clock() -> None:
    code = "import time\ndef double(x):\n    while True:\n        time.sleep(0.1)\n"
    result = run_candidate(PY_TASK, code, timeout=1.5)
    assert result.status == "timeout", result  # the reason, should it ever fail again
    assert result.seconds < 5


def test_busy_loop_stops_at_the_cpu_limit() -> None:
    code = "def double(x):\n    while True:\n        pass\n"
    result = run_candidate(PY_TASK, code, timeout=30, cpu_limit=1)
    assert result.status == "timeout"
    assert result.reason == "CPU time limit reached"


def test_endless_loop_times_out_java(javac: JavaCompiler) -> None:
    result = run_candidate(JAVA_TASK, java_code("while (true) { }"), timeout=3, cpu_limit=2,
                           compiler=javac)
    assert result.status == "timeout"


def test_megabytes_of_output_are_capped() -> None:
    result = run_sandboxed(["/bin/sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo END"],
                           {})
    assert result.returncode == 0
    assert len(result.stdout) < HEAD_BYTES + TAIL_BYTES + 200
    assert result.stdout.rstrip().endswith("END")  # the tail is kept: nonces live there


def test_printing_megabytes_still_passes_and_endless_printing_is_stopped() -> None:
    chatty = "print('x' * 3_000_000)\n" + PY_GOOD
    assert run_candidate(PY_TASK, chatty).status == "passed"
    endless = "def double(x):\n    while True:\n        print('y' * 10000)\n"
    result = run_candidate(PY_TASK, endless, timeout=10)
    assert result.status in ("error", "timeout")
    assert len(result.reason) <= 300


def test_background_children_are_killed_after_the_run() -> None:
    marker = "3017.5"
    code = ("import os, subprocess\n"
            f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n"
            f"    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{marker}'])\n"
            "    os._exit(0)\n" + PY_GOOD)
    result = run_candidate(PY_TASK, code)
    assert result.status == "passed"
    deadline = time.time() + 5
    while leftover(marker) and time.time() < deadline:
        time.sleep(0.1)
    assert leftover(marker) == []


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_early_exit_is_not_a_pass(exit_call: str) -> None:
    code = f"def double(x):\n    {exit_call}\n"
    result = run_candidate(PY_TASK, code)
    assert result.status == "failed"
    assert "before the tests finished" in result.reason


def test_early_exit_is_not_a_pass_java(javac: JavaCompiler) -> None:
    result = run_candidate(JAVA_TASK, java_code("System.exit(0); return 0;"), compiler=javac)
    assert result.status == "failed"
    assert "before the tests finished" in result.reason


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRANC_SECRET_TOKEN", "s3cr3t")
    result = run_sandboxed(["/usr/bin/env"], {}, limits=Limits(timeout=5))
    assert "s3cr3t" not in result.stdout
    assert "PATH=" in result.stdout


def test_stdin_is_closed() -> None:
    code = "def double(x):\n    input()\n    return 2 * x\n"
    result = run_candidate(PY_TASK, code)
    assert result.status == "error"
    assert "EOFError" in result.reason


def test_without_isolation_candidate_code_is_refused_unless_the_caller_accepts(
        victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bare = SandboxCapabilities(bwrap=None, namespaces=False, own_uid=False, setpriv=None,
                               prlimit=None, problem="bubblewrap not found")
    assert not bare.isolated and "no isolation" in bare.describe()
    monkeypatch.setattr(sandbox, "sandbox_capabilities", lambda: bare)
    monkeypatch.setattr(execution, "sandbox_capabilities", lambda: bare)
    with pytest.raises(SandboxUnavailable, match="--unsafe-no-isolation"):
        run_candidate(PY_TASK, PY_GOOD)
    with pytest.raises(SandboxUnavailable):
        run_sandboxed(["/bin/true"], {})
    # Accepted explicitly: it runs, with the in-process guard and resource limits.
    code = f"import os\nos.remove({str(victim)!r})\n" + PY_GOOD
    result = run_candidate(PY_TASK, code, unsafe_no_isolation=True)
    assert victim.read_text() == "keep me\n"
    assert result.status == "error"
    assert run_candidate(PY_TASK, PY_GOOD, unsafe_no_isolation=True).status == "passed"
