"""Hostile candidates written to break the sandbox or forge their verdict (issue 14).

Most are "reads a secret" candidates: they solve the task *only when* the attack
fails, so a leak shows in the verdict itself (a leaking sandbox turns a correct
candidate into a failing one). The forgers are wrong candidates that try to get
"passed" anyway.
"""

from __future__ import annotations

import glob
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from franc.evaluation.execution import run_candidate
from franc.evaluation.sandbox import run_sandboxed
from franc.java import JavaCompiler
from franc.models import Task

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"

PY_TEST = "def check(candidate):\n    assert candidate(2) == 4\n"
PY_TASK = Task("H/0", "def double(x):\n", "python", entry_point="double", test=PY_TEST)

JAVA_PROMPT = "import java.util.*;\n\nclass Twice {\n    public static int twice(int x) {\n"
JAVA_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        if (Twice.twice(2) != 4) {
            throw new java.lang.Exception("Exception -- test case 0 did not pass.");
        }
    }
}
"""
JAVA_TASK = Task("HJ/0", JAVA_PROMPT, "java", entry_point="twice", test=JAVA_TEST)


def solves_only_if_blocked(probe: str) -> str:
    """A correct ``double`` as long as ``probe()`` (returning True on success) fails."""
    return (f"def probe():\n{probe}\n"
            "def double(x):\n"
            "    try:\n        leaked = probe()\n    except Exception:\n        leaked = False\n"
            "    return 0 if leaked else 2 * x\n")


def java_solves_only_if_blocked(probe: str) -> str:
    return (JAVA_PROMPT + "        boolean leaked;\n"
            f"        try {{\n{probe}\n        }} catch (Throwable e) {{ leaked = false; }}\n"
            "        return leaked ? 0 : 2 * x;\n    }\n}\n")


def indent(code: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in code.splitlines())


def assert_python_blocked(probe: str) -> None:
    result = run_candidate(PY_TASK, solves_only_if_blocked(indent(probe, 4)))
    assert result.status == "passed", f"the probe succeeded: {result.reason}"


@pytest.fixture(scope="module")
def javac() -> Iterator[JavaCompiler]:
    with JavaCompiler(workers=1) as compiler:
        yield compiler


def assert_java_blocked(probe: str, javac: JavaCompiler) -> None:
    result = run_candidate(JAVA_TASK, java_solves_only_if_blocked(indent(probe, 12)),
                           compiler=javac)
    assert result.status == "passed", f"the probe succeeded: {result.reason}"


# --- reading what is not the candidate's ----------------------------------------------------


def test_python_cannot_read_etc_passwd() -> None:
    assert_python_blocked("return 'root' in open('/etc/passwd').read()")


def test_java_cannot_read_etc_passwd(javac: JavaCompiler) -> None:
    assert_java_blocked('leaked = new String(java.nio.file.Files.readAllBytes('
                        'java.nio.file.Paths.get("/etc/passwd"))).contains("root");', javac)


@pytest.fixture
def caller_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A world-readable file in the caller's working directory."""
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if parent == Path(parent.anchor) or not str(parent).startswith("/tmp"):
            break
        os.chmod(parent, parent.stat().st_mode | 0o755)
    secret = tmp_path / "secret.txt"
    secret.write_text("the caller's secret\n")
    os.chmod(secret, 0o644)
    monkeypatch.chdir(tmp_path)
    return secret


def test_python_cannot_read_the_callers_working_directory(caller_secret: Path) -> None:
    assert_python_blocked(f"return 'secret' in open({str(caller_secret)!r}).read()")


def test_java_cannot_read_the_callers_working_directory(caller_secret: Path,
                                                        javac: JavaCompiler) -> None:
    assert_java_blocked(f'leaked = new String(java.nio.file.Files.readAllBytes('
                        f'java.nio.file.Paths.get("{caller_secret}"))).contains("secret");',
                        javac)


def test_python_cannot_read_the_projects_files() -> None:
    assert_python_blocked(f"return 'hostile' in open({__file__!r}).read()")


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference data not present")
def test_python_cannot_read_the_reference_tests() -> None:
    tests = REFERENCE / "benchmarks" / "HumanEval_python.jsonl"
    assert_python_blocked(f"return 'def check' in open({str(tests)!r}).read()")


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference data not present")
def test_java_cannot_read_the_reference_tests(javac: JavaCompiler) -> None:
    tests = REFERENCE / "benchmarks" / "HumanEval_java.jsonl"
    assert_java_blocked(f'leaked = new String(java.nio.file.Files.readAllBytes('
                        f'java.nio.file.Paths.get("{tests}"))).contains("class Main");', javac)


def test_python_cannot_read_another_running_candidates_directory() -> None:
    marker = uuid.uuid4().hex
    neighbour = threading.Thread(target=run_sandboxed, args=(
        ["/bin/sh", "-c", f"echo {marker} > mine.txt; echo {marker} > /tmp/mine.txt; sleep 6"],
        {}))
    neighbour.start()
    try:
        time.sleep(1.5)
        probe = (f"import glob\nfor path in glob.glob('/tmp/*/work/mine.txt') + "
                 f"glob.glob('/tmp/*/*/mine.txt') + glob.glob('/tmp/mine.txt'):\n"
                 f"    if {marker!r} in open(path).read():\n        return True\n"
                 f"return False")
        assert_python_blocked(probe)
    finally:
        neighbour.join()


# --- writing outside the run ----------------------------------------------------------------


@pytest.mark.parametrize("folder", ["/tmp", "/var/tmp", "/dev/shm"])
def test_python_scratch_files_stay_private_and_do_not_outlive_the_run(folder: str) -> None:
    name = f"franc-hostile-{uuid.uuid4().hex}"
    code = (f"def double(x):\n    with open('{folder}/{name}', 'w') as f:\n"
            f"        f.write('left behind')\n    return 2 * x\n")
    try:
        assert run_candidate(PY_TASK, code).status == "passed"  # writable inside the run
        assert not os.path.exists(f"{folder}/{name}")
    finally:
        with_cleanup = Path(folder) / name
        if with_cleanup.exists():
            with_cleanup.unlink()


def test_java_scratch_files_do_not_outlive_the_run(javac: JavaCompiler) -> None:
    name = f"franc-hostile-{uuid.uuid4().hex}"
    probe = (f'java.nio.file.Files.write(java.nio.file.Paths.get("/tmp/{name}"), '
             f'new byte[] {{1}});\n            leaked = false;')
    try:
        assert_java_blocked(probe, javac)
        assert not os.path.exists(f"/tmp/{name}")
    finally:
        if os.path.exists(f"/tmp/{name}"):
            os.unlink(f"/tmp/{name}")


def test_python_big_writes_to_shared_memory_are_capped() -> None:
    prefix = f"franc-hostile-big-{uuid.uuid4().hex}"
    probe = (f"written = 0\nchunk = b'x' * (1 << 20)\n"
             f"for part in range(25):\n"
             f"    with open(f'/dev/shm/{prefix}-{{part}}', 'wb') as f:\n"
             f"        for _ in range(8):\n            f.write(chunk)\n"
             f"            written += len(chunk)\n"
             f"return written >= 150 * (1 << 20)")
    try:
        assert_python_blocked(probe)
    finally:
        for path in glob.glob(f"/dev/shm/{prefix}-*"):
            os.unlink(path)


# --- host resources ---------------------------------------------------------------------------


@pytest.fixture
def host_socket() -> Iterator[str]:
    """A Unix socket in /tmp that anyone may connect to."""
    path = f"/tmp/franc-hostile-{uuid.uuid4().hex}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen()
    try:
        yield path
    finally:
        server.close()
        os.unlink(path)


def test_python_cannot_connect_to_a_host_unix_socket(host_socket: str) -> None:
    assert_python_blocked(f"import socket\ns = socket.socket(socket.AF_UNIX)\n"
                          f"s.connect({host_socket!r})\nreturn True")


def test_java_cannot_connect_to_a_host_unix_socket(host_socket: str,
                                                   javac: JavaCompiler) -> None:
    assert_java_blocked(f'java.nio.channels.SocketChannel.open('
                        f'java.net.UnixDomainSocketAddress.of("{host_socket}")).close();\n'
                        f'            leaked = true;', javac)


def test_python_sees_no_host_processes() -> None:
    assert_python_blocked("import os\nreturn sum(p.isdigit() for p in os.listdir('/proc')) > 10")


def test_java_sees_no_host_processes(javac: JavaCompiler) -> None:
    assert_java_blocked('leaked = java.util.Arrays.stream(new java.io.File("/proc").list())'
                        '.filter(p -> p.matches("[0-9]+")).count() > 10;', javac)


# --- forged verdicts --------------------------------------------------------------------------

WRONG = "def double(x):\n    return 0\n"
PRINT_HEX_AND_EXIT = ("import os, re\n"
                      "def _forge(text):\n"
                      "    for token in set(re.findall(r'[0-9a-f]{32}', text)):\n"
                      "        os.write(1, ('\\n' + token + '\\n').encode())\n"
                      "    os._exit(0)\n")


def assert_not_passed(status: str) -> None:
    assert status != "passed"


def java_class_file_forger(*roots: str) -> str:
    """A static initialiser that prints every 32-hex token of the class files in ``roots``
    (where a pass marker would hide) and exits 0 before any test runs."""
    listed = ", ".join(f'"{root}"' for root in roots)
    return """    static {
        try {
            for (String root : new String[] {ROOTS}) {
                java.io.File[] found = new java.io.File(root).listFiles();
                for (java.io.File c : found == null ? new java.io.File[0] : found) {
                    if (!c.getName().endsWith(".class")) continue;
                    String text = new String(java.nio.file.Files.readAllBytes(c.toPath()),
                                             "ISO-8859-1");
                    java.util.regex.Matcher m =
                        java.util.regex.Pattern.compile("[0-9a-f]{32}").matcher(text);
                    while (m.find()) System.out.print("\\n" + m.group() + "\\n");
                }
            }
        } catch (Exception e) { }
        System.out.flush();
        System.exit(0);
    }
""".replace("ROOTS", listed)


def test_python_cannot_forge_the_verdict_from_its_program_file() -> None:
    code = PRINT_HEX_AND_EXIT + WRONG + "_forge(open(__file__).read())\n"
    assert_not_passed(run_candidate(PY_TASK, code).status)


def test_python_cannot_forge_the_verdict_from_code_constants() -> None:
    code = (PRINT_HEX_AND_EXIT + WRONG + "import sys\n"
            "_forge(' '.join(c.decode() if isinstance(c, bytes) else str(c)\n"
            "                for c in sys._getframe().f_code.co_consts))\n")
    assert_not_passed(run_candidate(PY_TASK, code).status)


def test_python_result_equal_to_everything_does_not_pass() -> None:
    code = ("class Anything:\n    def __eq__(self, other):\n        return True\n"
            "def double(x):\n    return Anything()\n")
    assert_not_passed(run_candidate(PY_TASK, code).status)


def test_java_cannot_forge_the_verdict_from_the_harness_class(javac: JavaCompiler) -> None:
    code = (JAVA_PROMPT.replace("    public static int twice",
                                java_class_file_forger(".") + "    public static int twice")
            + "        return 0;\n    }\n}\n")
    assert_not_passed(run_candidate(JAVA_TASK, code, compiler=javac).status)


JAVA_LIST_PROMPT = ("import java.util.*;\n\nclass Evens {\n"
                    "    public static List<Integer> evens(List<Integer> xs) {\n")
JAVA_LIST_TEST = """
class Main {
    public static boolean compare(Object obj1, Object obj2) {
        if (obj1 == null && obj2 == null) return true;
        if (obj1 == null || obj2 == null) return false;
        return obj1.equals(obj2);
    }
    public static void main(String[] args) throws Exception {
        List<Integer> x0 = Evens.evens(Arrays.asList(1, 2, 3, 4));
        List<Integer> v0 = Arrays.asList(2, 4);
        if (!(compare(x0, v0))) {
            throw new java.lang.Exception("Exception -- test case 0 did not pass. x0 = " + x0);
        }
    }
}
"""


def test_java_cannot_read_its_test_class(javac: JavaCompiler) -> None:
    # The test is compiled with the candidate (to check they compile together), but its
    # class files, expected values and all, never reach the sandbox.
    assert_java_blocked('leaked = new java.io.File("Main.class").exists()\n'
                        '    || new java.io.File("/franc-in/Main.class").exists();', javac)


def test_java_signature_the_test_cannot_call_does_not_compile_with_it(
        javac: JavaCompiler) -> None:
    task = Task("HJ/0", JAVA_LIST_PROMPT.replace("List<Integer> evens", "List<Object> evens"),
                "java", entry_point="evens", test=JAVA_LIST_TEST.replace("List<Integer>",
                                                                          "List<Object>"))
    right = (JAVA_LIST_PROMPT + "        List<Integer> out = new ArrayList<>();\n"
             "        for (int x : xs) if (x % 2 == 0) out.add(x);\n        return out;\n"
             "    }\n}\n")
    result = run_candidate(task, right, compiler=javac)
    assert (result.status, result.reason.split(":")[0]) == (
        "error", "does not compile with the test")


def test_java_result_equal_to_everything_does_not_pass(javac: JavaCompiler) -> None:
    task = Task("HJ/1", JAVA_LIST_PROMPT, "java", entry_point="evens", test=JAVA_LIST_TEST)
    liar = (JAVA_LIST_PROMPT + "        return new ArrayList<Integer>() {\n"
            "            public boolean equals(Object o) { return true; }\n"
            "        };\n    }\n}\n")
    assert_not_passed(run_candidate(task, liar, compiler=javac).status)
    right = (JAVA_LIST_PROMPT + "        List<Integer> out = new ArrayList<>();\n"
             "        for (int x : xs) if (x % 2 == 0) out.add(x);\n        return out;\n"
             "    }\n}\n")
    assert run_candidate(task, right, compiler=javac).status == "passed"


# --- shared-process tests (many SOEval tests): not yet unforgeable ---------------------------
# A test that shares objects, files or interpreter state with the candidate runs next to it
# in the sandbox (see franc/evaluation/execution.py), so its assertions are within the
# candidate's reach. These tests forge such a verdict today; they pass once the assertions
# of shared-process tests run in the trusted process (remote handles: issue 14, item 2).
#: ``import io`` once made the test a shared-process one; io is now the candidate's module,
#: reached through a handle, and the test runs in the trusted process.
PY_SHARED_TASK = Task("T/S", "def double(x):\n", "python", entry_point="double",
                      test="def check(candidate):\n    import io\n    assert candidate(2) == 4\n")
FORGE_FROM_FRAMES = """\
def double(x):
    import json, os, struct, sys
    frame = sys._getframe()
    while frame is not None and "answer_fd" not in frame.f_locals:
        frame = frame.f_back
    if frame is not None:  # the harness's frame: answer its request as passed, then leave
        data = json.dumps({"id": frame.f_locals["message"]["id"], "value": None}).encode()
        os.write(frame.f_locals["answer_fd"], struct.pack(">I", len(data)) + data)
        os._exit(0)
    return 0
"""


def test_python_shared_process_test_runs_an_honest_candidate() -> None:
    assert run_candidate(PY_SHARED_TASK, "def double(x):\n    return 2 * x\n").status == "passed"
    assert run_candidate(PY_SHARED_TASK, "def double(x):\n    return x\n").status == "failed"


def test_python_cannot_forge_a_shared_process_verdict_from_interpreter_frames() -> None:
    assert_not_passed(run_candidate(PY_SHARED_TASK, FORGE_FROM_FRAMES).status)


#: ``System.`` once made the test a shared-process one (its prints go to the trusted JVM's
#: log now); it asks the candidate's list for equals.
JAVA_SHARED_LIST_TEST = JAVA_LIST_TEST.replace(
    "        if (!(compare(x0, v0))) {",
    "        System.err.println(\"checking\");\n        if (!(compare(x0, v0))) {")


def test_java_shared_process_result_equal_to_everything_does_not_pass(
        javac: JavaCompiler) -> None:
    task = Task("HJ/S", JAVA_LIST_PROMPT, "java", entry_point="evens",
                test=JAVA_SHARED_LIST_TEST)
    liar = (JAVA_LIST_PROMPT + "        return new ArrayList<Integer>() {\n"
            "            public boolean equals(Object o) { return true; }\n"
            "        };\n    }\n}\n")
    assert_not_passed(run_candidate(task, liar, compiler=javac).status)


def test_a_candidate_that_changes_its_argument_is_still_judged_in_the_trusted_process() -> None:
    # The change travels back as plain data; the test never moves next to the candidate, so
    # answering from the harness's frames answers only the call, and the list stays wrong.
    task = Task("T/M", "def sort_in_place(xs):\n", "python", entry_point="sort_in_place",
                test="def check(candidate):\n    xs = [3, 1, 2]\n    candidate(xs)\n"
                     "    assert xs == [1, 2, 3]\n")
    forger = FORGE_FROM_FRAMES.replace("def double(x):\n", "def sort_in_place(xs):\n"
                                       "    xs.append(0)\n")
    assert_not_passed(run_candidate(task, forger).status)
    assert run_candidate(task, "def sort_in_place(xs):\n    xs.sort()\n").status == "passed"


# --- handles: the candidate's objects in the trusted test, the test's objects lent to it ----


def test_python_object_whose_methods_lie_does_not_pass() -> None:
    # Equal to everything, "contains" everything, its own plain form a lie it cannot tell:
    # comparisons use plain forms in the trusted process, never the candidate's __eq__.
    task = Task("T/L", "def make():\n", "python", entry_point="make",
                test="def check(candidate):\n    import io\n"
                     "    assert candidate() == [1, 2, 3]\n    assert [1, 2, 3] == candidate()\n")
    liar = ("class Liar:\n    def __eq__(self, other):\n        return True\n"
            "    def __ne__(self, other):\n        return False\n"
            "    def __hash__(self):\n        return 0\n"
            "def make():\n    return Liar()\n")
    assert_not_passed(run_candidate(task, liar).status)
    listish = "class L(list):\n    def __eq__(self, other):\n        return True\n" \
              "def make():\n    return L([9])\n"
    assert_not_passed(run_candidate(task, listish).status)


def test_python_context_manager_of_the_candidate_cannot_swallow_the_tests_assertion() -> None:
    task = Task("T/W", "def double(x):\n", "python", entry_point="double",
                test="def check(candidate):\n    import contextlib, io\n    out = io.StringIO()\n"
                     "    with contextlib.redirect_stdout(out):\n"
                     "        assert candidate(2) == 4\n")
    swallower = ("import contextlib\n"
                 "class Swallow:\n    def __init__(self, *args):\n        pass\n"
                 "    def __enter__(self):\n        return self\n"
                 "    def __exit__(self, *exc):\n        return True\n"
                 "contextlib.redirect_stdout = Swallow\n"
                 "def double(x):\n    return 0\n")
    assert_not_passed(run_candidate(task, swallower).status)


def test_python_candidate_cannot_reach_past_what_the_test_lends() -> None:
    # The candidate gets a callback of the test's; it asks the trusted process, directly on
    # the channel, for the callback's globals, for a module, for a built-in: all refused.
    task = Task("T/R", "def double(x, callback):\n", "python", entry_point="double",
                test="def check(candidate):\n    assert candidate(2, lambda: 1) == 4\n")
    probe = ("peer = object.__getattribute__(callback, '_peer')\n"
             "target = object.__getattribute__(callback, '_target')\n"
             "attempts = [lambda: peer.ask('getattr', target, name='__globals__'),\n"
             "            lambda: peer.ask('getattr', target, name='f_globals'),\n"
             "            lambda: peer.ask('import', None, name='os'),\n"
             "            lambda: peer.ask('call', {'builtin': 'open'}, args=['/etc/passwd'],"
             " kwargs={}),\n"
             "            lambda: peer.ask('call', {'name': 'check'}, args=[], kwargs={}),\n"
             "            lambda: callback.__globals__]\n"
             "reached = 0\n"
             "for attempt in attempts:\n"
             "    try:\n        attempt()\n        reached += 1\n    except Exception:\n"
             "        pass\n"
             "return reached > 0\n")
    code = ("def probe(callback):\n" + indent(probe, 4)
            + "def double(x, callback):\n    return 0 if probe(callback) else 2 * x\n")
    result = run_candidate(task, code)
    assert result.status == "passed", f"the probe succeeded: {result.reason}"


def test_python_candidate_cannot_replace_a_method_of_the_tests_object() -> None:
    task = Task("T/O", "def pay(account):\n", "python", entry_point="pay",
                test="class Account:\n    def __init__(self):\n        self.balance = 10\n"
                     "    def settled(self):\n        return self.balance == 0\n"
                     "def check(candidate):\n    account = Account()\n    candidate(account)\n"
                     "    assert account.settled()\n")
    cheat = ("def pay(account):\n    try:\n        account.settled = lambda: True\n"
             "    except AttributeError:\n        pass\n    try:\n"
             "        account._Account__dict = {}\n    except AttributeError:\n        pass\n")
    assert_not_passed(run_candidate(task, cheat).status)
    assert run_candidate(task, "def pay(account):\n    account.balance = 0\n").status == \
        "passed"


def test_python_candidate_answering_a_test_callback_with_forged_frames_does_not_pass() -> None:
    # Inside a callback's call the candidate writes a forged "passed" answer for the pending
    # request and exits: the trusted test sees no such verdict, only a process that ended.
    task = Task("T/F", "def double(x, callback):\n", "python", entry_point="double",
                test="def check(candidate):\n    import io\n"
                     "    assert candidate(2, lambda y: y) == 4\n")
    forger = FORGE_FROM_FRAMES.replace("def double(x):", "def double(x, callback):")
    assert_not_passed(run_candidate(task, forger).status)


def test_python_candidate_cannot_read_private_state_of_the_tests_object_by_pickling() -> None:
    task = Task("T/P", "def double(vault, x):\n", "python", entry_point="double",
                test="class Vault:\n    def __init__(self):\n        self._code = 'c0de'\n"
                     "def check(candidate):\n    assert candidate(Vault(), 2) == 4\n")
    probe = ("def probe(vault):\n    try:\n        return 'c0de' in str(vault.__reduce_ex__(2))\n"
             "    except Exception:\n        return False\n"
             "def double(vault, x):\n    return 0 if probe(vault) else 2 * x\n")
    result = run_candidate(task, probe)
    assert result.status == "passed", f"the probe succeeded: {result.reason}"


#: Forges "passed" only when its test runs next to it (a shared-process run), else returns.
FORGE_WHEN_SHARED = """\
def _forge():
    import json, os, struct, sys
    frame = sys._getframe()
    while frame is not None and "answer_fd" not in frame.f_locals:
        frame = frame.f_back
    if frame is not None and "test" in frame.f_locals.get("message", {}):
        data = json.dumps({"id": frame.f_locals["message"]["id"], "value": None}).encode()
        os.write(frame.f_locals["answer_fd"], struct.pack(">I", len(data)) + data)
        os._exit(0)
"""


def test_python_candidate_cannot_move_its_test_next_to_it() -> None:
    # Once the test has called the candidate, nothing it returns (an object the test then
    # copies, a base class) sends the test into the candidate's process, where this forger
    # would answer for it; before any call, only the test's own shape can.
    copies = Task("T/C", "def make():\n", "python", entry_point="make",
                  test="def check(candidate):\n    import copy\n"
                       "    assert copy.deepcopy(candidate()) == [1]\n")
    forger = FORGE_WHEN_SHARED + ("class Thing:\n    pass\n"
                                  "def make():\n    _forge()\n    return Thing()\n")
    assert_not_passed(run_candidate(copies, forger).status)
    assert run_candidate(copies, "def make():\n    return [1]\n").status == "passed"
    subclasses = Task("T/B", "def make():\n", "python", entry_point="make",
                      test="def check(candidate):\n    base = candidate()\n"
                           "    class Mine(base):\n        pass\n    assert Mine.x == 2\n")
    base_forger = FORGE_WHEN_SHARED + ("class Base:\n    x = 1\n"
                                       "def make():\n    _forge()\n    return Base\n")
    assert_not_passed(run_candidate(subclasses, base_forger).status)


def test_python_test_subclassing_a_class_of_the_candidates_process_is_judged_apart() -> None:
    # The test's subclass of the candidate's io.StringIO (an HTTP handler in SOEval) once
    # sent the whole test next to the candidate, where this forger answered for it; the
    # class is now made in the candidate's process and the assertion stays trusted.
    task = Task("T/H", "def say(out):\n", "python", entry_point="say",
                test="def check(candidate):\n    import io\n"
                     "    class Loud(io.StringIO):\n        def shout(self):\n"
                     "            return self.getvalue().upper()\n"
                     "    out = Loud()\n    candidate(out)\n    assert out.shout() == 'HI'\n")
    forger = FORGE_WHEN_SHARED + "def say(out):\n    _forge()\n"
    assert_not_passed(run_candidate(task, forger).status)
    assert run_candidate(task, "def say(out):\n    out.write('hi')\n").status == "passed"


# --- Java tests that once ran next to the candidate (a void target, a Date, a stream) -------
JAVA_VOID_PROMPT = ("import java.util.*;\n\nclass Sorter {\n"
                    "    public static void sortInPlace(int[] xs) {\n")
#: A void target once made its test share the candidate's process, test class and all.
JAVA_VOID_TEST = """
class Main {
    private static final int[] EXPECTED = {1, 2, 3};
    public static void main(String[] args) throws Exception {
        int[] xs = {3, 1, 2};
        Sorter.sortInPlace(xs);
        if (!Arrays.equals(xs, EXPECTED)) throw new Exception("unsorted " + Arrays.toString(xs));
    }
}
"""
JAVA_VOID_TASK = Task("HJ/V", JAVA_VOID_PROMPT, "java", entry_point="sortInPlace",
                      test=JAVA_VOID_TEST)


def test_java_void_target_cannot_rewrite_the_tests_private_expectation(
        javac: JavaCompiler) -> None:
    # Sorts nothing; makes the test's private expected array equal the unsorted input.
    forger = JAVA_VOID_PROMPT + """        try {
            java.lang.reflect.Field f = Class.forName("Main").getDeclaredField("EXPECTED");
            f.setAccessible(true);
            System.arraycopy(xs, 0, (int[]) f.get(null), 0, xs.length);
        } catch (Exception e) { }
    }
}
"""
    assert_not_passed(run_candidate(JAVA_VOID_TASK, forger, compiler=javac).status)
    right = JAVA_VOID_PROMPT + "        Arrays.sort(xs);\n    }\n}\n"
    assert run_candidate(JAVA_VOID_TASK, right, compiler=javac).status == "passed"


def test_java_void_target_cannot_print_a_pass_and_exit(javac: JavaCompiler) -> None:
    forger = JAVA_VOID_PROMPT + ("        System.out.println(\"passed\");\n"
                                 "        System.out.flush();\n        System.exit(0);\n    }\n}\n")
    assert_not_passed(run_candidate(JAVA_VOID_TASK, forger, compiler=javac).status)


def test_java_test_that_names_its_own_class_cannot_be_forged_through_it(
        javac: JavaCompiler) -> None:
    # The test names its class for the candidate to call by reflection; it once ran next to
    # the candidate, whose copy of it held the test's record of the calls. The candidate now
    # holds a stub whose static methods come back to the test's class: there is no record
    # to rewrite, and the test's main is not lent.
    prompt = ("import java.util.*;\n\nclass Caller {\n"
              "    public static void call(String className, String method) throws Exception {\n")
    test = ("class Main {\n    static String seen = \"\";\n"
            "    public static void hello(String who) { seen += who; }\n"
            "    public static void main(String[] args) throws Exception {\n"
            "        Caller.call(\"Main\", \"hello\");\n"
            "        if (!seen.equals(\"x\")) throw new Exception(\"seen \" + seen);\n    }\n}\n")
    task = Task("HJ/N", prompt, "java", entry_point="call", test=test)
    forger = prompt + """        try {
            java.lang.reflect.Field f = Class.forName(className).getDeclaredField("seen");
            f.setAccessible(true);
            f.set(null, "x");
        } catch (Exception e) { }
        try {
            Class.forName(className).getMethod("main", String[].class)
                    .invoke(null, (Object) new String[0]);
        } catch (Exception e) { }
    }
}
"""
    assert_not_passed(run_candidate(task, forger, compiler=javac).status)
    right = prompt + ("        Class.forName(className).getMethod(method, String.class)"
                      ".invoke(null, \"x\");\n    }\n}\n")
    assert run_candidate(task, right, compiler=javac).status == "passed"


# --- a Java test that serialises its own gadget for the candidate (SOEval/Java/34) ---------
JAVA_GADGET_PROMPT = ("import java.io.*;\nimport java.util.*;\n\nclass Settings {\n"
                      "    public static Map<String, String> load(byte[] data)\n"
                      "            throws IOException {\n")
#: Fails if the candidate deserialises the bytes as Java objects: the gadget's readObject
#: raises a flag. The flag once lived in the candidate's process, next to the test.
JAVA_GADGET_TEST = """
class Gadget implements Serializable {
    static boolean triggered = false;

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        triggered = true;
    }
}

class Main {
    public static void main(String[] args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new Gadget());
        }
        try {
            Settings.load(bytes.toByteArray());
        } catch (Exception refused) {
            // refusing is fine
        }
        if (Gadget.triggered) throw new Exception("the bytes were deserialized as Java objects");
    }
}
"""
JAVA_GADGET_TASK = Task("HJ/G", JAVA_GADGET_PROMPT, "java", entry_point="load",
                        test=JAVA_GADGET_TEST)
JAVA_GADGET_SAFE = JAVA_GADGET_PROMPT + """        Properties properties = new Properties();
        properties.load(new ByteArrayInputStream(data));
        Map<String, String> settings = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            settings.put(key, properties.getProperty(key));
        }
        return settings;
    }
}
"""
#: Deserialises the bytes as Java objects (the gadget's readObject runs), then RESET.
JAVA_GADGET_INSECURE = JAVA_GADGET_PROMPT + """\
        InputStream bytes = new ByteArrayInputStream(data);
        try (ObjectInputStream in = new ObjectInputStream(bytes)) {
            in.readObject();
        } catch (ClassNotFoundException e) {
            throw new IOException(e);
        }
        RESET
        return new HashMap<>();
    }
}
"""


def test_java_gadget_test_judges_an_honest_and_an_insecure_candidate(javac: JavaCompiler) -> None:
    assert run_candidate(JAVA_GADGET_TASK, JAVA_GADGET_SAFE, compiler=javac).status == "passed"
    insecure = run_candidate(JAVA_GADGET_TASK, JAVA_GADGET_INSECURE.replace("RESET", ""),
                             compiler=javac)
    assert (insecure.status, insecure.reason) == (
        "failed", "java.lang.Exception: the bytes were deserialized as Java objects")


@pytest.mark.parametrize("reset", [
    "try { Gadget.triggered = false; } catch (Throwable e) { }",
    """try {
            java.lang.reflect.Field flag = Class.forName("Gadget").getDeclaredField("triggered");
            flag.setAccessible(true);
            flag.setBoolean(null, false);
        } catch (Throwable e) { }""",
])
def test_java_candidate_cannot_reset_what_deserialising_the_tests_gadget_did(
        reset: str, javac: JavaCompiler) -> None:
    # Next to the test, this forger deserialised the gadget and reset its flag: passed. The
    # gadget's class in its process is now a replaying stub: the test's own readObject runs
    # in the trusted JVM and raises the flag there, which the candidate cannot reach.
    forger = JAVA_GADGET_INSECURE.replace("RESET", reset)
    result = run_candidate(JAVA_GADGET_TASK, forger, compiler=javac)
    assert (result.status, result.reason) == (
        "failed", "java.lang.Exception: the bytes were deserialized as Java objects")


def test_java_candidate_cannot_call_the_gadgets_static_methods(javac: JavaCompiler) -> None:
    # The gadget's class has a static reset(); the forger deserialises it, then asks the
    # trusted JVM for Gadget.reset() directly, through the stub, and in a frame of its own
    # on the channel: a replayed class's static methods are not lent.
    test = JAVA_GADGET_TEST.replace("    private void readObject",
                                    "    static void reset() { triggered = false; }\n\n"
                                    "    private void readObject")
    task = Task("HJ/GR", JAVA_GADGET_PROMPT, "java", entry_point="load", test=test)
    reset = """try { Gadget.reset(); } catch (Throwable e) { }
        try {
            Class.forName("franc.FrancCallee").getMethod("callTest", Class.class, String.class,
                    Object[].class).invoke(null, Class.forName("Gadget"), "reset", new Object[0]);
        } catch (Throwable e) { }
        try {
            java.lang.reflect.Field field =
                    Class.forName("franc.FrancCallee").getDeclaredField("lentClasses");
            field.setAccessible(true);
            Object table = field.get(null);
            java.lang.reflect.Method forward = table.getClass().getDeclaredMethod("forward",
                    StringBuilder.class, java.lang.reflect.Method.class, Object[].class);
            forward.setAccessible(true);
            forward.invoke(table, new StringBuilder("{\\"callback\\":\\"Gadget\\""),
                    Settings.class.getDeclaredMethod("reset"), new Object[0]);
        } catch (Throwable e) { }"""
    forger = JAVA_GADGET_INSECURE.replace("RESET", reset).replace(
        "    public static Map", "    static void reset() { }\n\n    public static Map")
    result = run_candidate(task, forger, compiler=javac)
    assert (result.status, result.reason) == (
        "failed", "java.lang.Exception: the bytes were deserialized as Java objects")


def test_java_gadget_read_on_another_thread_is_not_hidden(javac: JavaCompiler) -> None:
    # Deserialised on a worker thread during the call, the gadget still goes back to the
    # trusted JVM (call backs come from any thread during a call): its flag is raised there.
    worker = JAVA_GADGET_PROMPT + """\
        java.util.concurrent.ExecutorService pool =
                java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> new ObjectInputStream(new ByteArrayInputStream(data)).readObject())
                    .get();
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            pool.shutdown();
        }
        return new HashMap<>();
    }
}
"""
    result = run_candidate(JAVA_GADGET_TASK, worker, compiler=javac)
    assert (result.status, result.reason) == (
        "failed", "java.lang.Exception: the bytes were deserialized as Java objects")


#: A SecurityManager that vetoes every exit: the stub's halt would throw instead, and the
#: forger swallow it and pass. The candidate's JVM disallows one.
JAVA_EXIT_VETO = """\
        try {
            System.setSecurityManager(new SecurityManager() {
                @Override public void checkExit(int status) { throw new SecurityException(); }
                @Override public void checkPermission(java.security.Permission p) { }
            });
        } catch (Throwable e) { }
"""


@pytest.mark.parametrize("first", ["", JAVA_EXIT_VETO], ids=["plain", "exit-vetoed"])
def test_java_gadget_read_with_the_callback_broken_is_not_hidden(
        first: str, javac: JavaCompiler) -> None:
    # The forger clears the callee's table (through which the stub sends what it read back)
    # before deserialising, and swallows what the stub throws: the stub that cannot send
    # the gadget back ends the process instead.
    forger = JAVA_GADGET_PROMPT + first + """\
        try {
            java.lang.reflect.Field table =
                    Class.forName("franc.FrancCallee").getDeclaredField("lentClasses");
            table.setAccessible(true);
            table.set(null, null);
        } catch (Throwable e) { }
        try {
            new ObjectInputStream(new ByteArrayInputStream(data)).readObject();
        } catch (Throwable e) { }
        return new HashMap<>();
    }
}
"""
    assert_not_passed(run_candidate(JAVA_GADGET_TASK, forger, compiler=javac).status)


# --- Java tests that make files for the candidate: stand-ins in the trusted JVM -------------
JAVA_FILE_PROMPT = ("import java.io.*;\nimport java.util.*;\n\nclass Reader {\n"
                    "    public static String read(File f) throws IOException {\n")
#: The test lends the candidate a File it made (made in the candidate's process).
JAVA_FILE_TEST = """
class Main {
    private static String expected = "hello";
    public static void main(String[] args) throws Exception {
        File f = File.createTempFile("input", ".txt");
        java.nio.file.Files.write(f.toPath(), "hello".getBytes("UTF-8"));
        String got = Reader.read(f);
        if (!expected.equals(got)) throw new Exception("got " + got);
    }
}
"""
JAVA_FILE_TASK = Task("HJ/F", JAVA_FILE_PROMPT, "java", entry_point="read", test=JAVA_FILE_TEST)
JAVA_FILE_RIGHT = (JAVA_FILE_PROMPT + "        return new String(java.nio.file.Files.readAllBytes("
                   "f.toPath()), \"UTF-8\");\n    }\n}\n")


def test_java_file_test_runs_an_honest_candidate(javac: JavaCompiler) -> None:
    assert run_candidate(JAVA_FILE_TASK, JAVA_FILE_RIGHT, compiler=javac).status == "passed"


def test_java_cannot_reach_the_tests_private_state_through_a_lent_file(
        javac: JavaCompiler) -> None:
    # Wrong; sets the test's private expectation to its answer, found from the lent File's
    # class loader, its fields, or the test's class by name.
    forger = JAVA_FILE_PROMPT + """        String wrong = "wrong";
        List<ClassLoader> loaders = new ArrayList<>();
        loaders.add(Thread.currentThread().getContextClassLoader());
        loaders.add(f.getClass().getClassLoader());
        loaders.add(Reader.class.getClassLoader());
        for (ClassLoader loader : loaders) {
            try {
                java.lang.reflect.Field field = Class.forName("Main", true, loader)
                        .getDeclaredField("expected");
                field.setAccessible(true);
                field.set(null, wrong);
            } catch (Throwable e) { }
        }
        for (java.lang.reflect.Field field : f.getClass().getDeclaredFields()) {
            try {
                field.setAccessible(true);
                Object held = field.get(f);
                if (held != null && held.getClass().getName().startsWith("Main")) return "leaked";
            } catch (Throwable e) { }
        }
        return wrong;
    }
}
"""
    assert_not_passed(run_candidate(JAVA_FILE_TASK, forger, compiler=javac).status)


def test_java_file_test_cannot_print_a_pass_and_exit(javac: JavaCompiler) -> None:
    forger = JAVA_FILE_PROMPT + ("        System.out.println(\"passed\");\n"
                                 "        System.out.flush();\n        System.exit(0);\n"
                                 "        return null;\n    }\n}\n")
    assert_not_passed(run_candidate(JAVA_FILE_TASK, forger, compiler=javac).status)


def test_java_file_result_equal_to_everything_does_not_pass(javac: JavaCompiler) -> None:
    prompt = ("import java.io.*;\n\nclass Made {\n"
              "    public static File make(File dir) throws IOException {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        File dir = java.nio.file.Files.createTempDirectory(\"made\").toFile();\n"
            "        File want = new File(dir, \"x.txt\");\n"
            "        File got = Made.make(dir);\n"
            "        if (!got.equals(want) && !want.equals(got)\n"
            "            && !got.getPath().equals(want.getPath())) throw new Exception(\"no\");\n"
            "    }\n}\n")
    task = Task("HJ/FE", prompt, "java", entry_point="make", test=test)
    liar = prompt + ("        return new File(dir, \"y.txt\") {\n"
                     "            public boolean equals(Object o) { return true; }\n"
                     "        };\n    }\n}\n")
    result = run_candidate(task, liar, compiler=javac)
    assert_not_passed(result.status)
    right = prompt + "        return new File(dir, \"x.txt\");\n    }\n}\n"
    assert run_candidate(task, right, compiler=javac).status == "passed"


def test_java_static_initialiser_cannot_forge_a_file_tests_verdict(javac: JavaCompiler) -> None:
    # Reads every class file it can find (its own run, the stand-ins' names) for anything
    # like a marker, prints it and exits 0 before the test could fail.
    forger = (JAVA_FILE_PROMPT.replace(
        "    public static String read",
        java_class_file_forger(".", "/franc-in", "/tmp") + "    public static String read")
        + "        return null;\n    }\n}\n")
    assert_not_passed(run_candidate(JAVA_FILE_TASK, forger, compiler=javac).status)


def test_java_printing_test_cannot_be_forged_by_printing_and_exiting(
        javac: JavaCompiler) -> None:
    prompt = "import java.io.*;\nimport java.util.*;\n\nclass Printer {\n" \
             "    public static void show(int[] xs) {\n"
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        ByteArrayOutputStream buffer = new ByteArrayOutputStream();\n"
            "        System.setOut(new PrintStream(buffer, true));\n"
            "        Printer.show(new int[] {1, 2});\n"
            "        if (!buffer.toString().trim().equals(\"[1, 2]\"))\n"
            "            throw new Exception(\"no\");\n"
            "    }\n}\n")
    task = Task("HJ/P", prompt, "java", entry_point="show", test=test)
    forger = prompt + ("        System.out.println(\"[1, 2]\");\n        System.out.flush();\n"
                       "        System.exit(0);\n    }\n}\n")
    assert_not_passed(run_candidate(task, forger, compiler=javac).status)
    right = prompt + "        System.out.println(Arrays.toString(xs));\n    }\n}\n"
    assert run_candidate(task, right, compiler=javac).status == "passed"


# --- objects the test lends the candidate: it can use them, never reach into them ---------
JAVA_LEND_PROMPT = ("import java.util.*;\nimport java.util.function.*;\n\nclass Calc {\n"
                    "    public static int run(Function<Integer, Integer> f) {\n")
JAVA_LEND_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        Function<Integer, Integer> f = new Function<Integer, Integer>() {
            private final int expected = 42;
            public Integer apply(Integer x) { return x * 2 + 2; }
        };
        int got = Calc.run(f);
        if (got != 42) throw new Exception("got " + got);
    }
}
"""
JAVA_LEND_TASK = Task("HJ/L", JAVA_LEND_PROMPT, "java", entry_point="run", test=JAVA_LEND_TEST)


def test_java_cannot_read_the_private_state_of_a_lent_object(javac: JavaCompiler) -> None:
    # Wrong (never calls f); looks through the lent object, its handler and what they hold
    # for the test's private "expected".
    forger = JAVA_LEND_PROMPT + """        List<Object> seen = new ArrayList<>();
        List<Object> todo = new ArrayList<>(List.of(f));
        try { todo.add(java.lang.reflect.Proxy.getInvocationHandler(f)); } catch (Throwable e) { }
        for (int depth = 0; depth < 3; depth++) {
            List<Object> next = new ArrayList<>();
            for (Object o : todo) {
                for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
                    for (java.lang.reflect.Field field : c.getDeclaredFields()) {
                        try {
                            field.setAccessible(true);
                            Object v = field.get(o);
                            if (field.getName().equals("expected") && v instanceof Integer) {
                                return (Integer) v;
                            }
                            if (v != null && !seen.contains(v)) { seen.add(v); next.add(v); }
                        } catch (Throwable e) { }
                    }
                }
            }
            todo = next;
        }
        return 0;
    }
}
"""
    assert_not_passed(run_candidate(JAVA_LEND_TASK, forger, compiler=javac).status)
    right = JAVA_LEND_PROMPT + "        return f.apply(20);\n    }\n}\n"
    assert run_candidate(JAVA_LEND_TASK, right, compiler=javac).status == "passed"


def test_java_property_test_cannot_be_forged_by_exiting(javac: JavaCompiler) -> None:
    prompt = "import java.util.*;\n\nclass Config {\n    public static String host() {\n"
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        System.setProperty(\"franc.check.host\", \"db.local\");\n"
            "        if (!\"db.local\".equals(Config.host())) throw new Exception(\"wrong\");\n"
            "    }\n}\n")
    task = Task("HJ/S", prompt, "java", entry_point="host", test=test)
    forger = prompt + ("        System.out.println(\"passed\");\n        System.out.flush();\n"
                       "        System.exit(0);\n        return null;\n    }\n}\n")
    assert_not_passed(run_candidate(task, forger, compiler=javac).status)


# --- a test's HTTP server: made in the candidate's process, its handler the test's --------
JAVA_HTTP_PROMPT = ("import java.io.*;\nimport java.net.*;\nimport java.util.*;\n\nclass Fetch {\n"
                    "    public static void download(String url, String path) throws Exception {\n")
#: As SOEval/Java/2: the server is the candidate's process's (it runs in its network
#: namespace); its handler, lent, comes back to the trusted JVM on the server's thread.
JAVA_HTTP_TEST = """
class Main {
    private static final byte[] PAYLOAD = "the payload only the handler serves".getBytes();
    public static void main(String[] args) throws Exception {
        com.sun.net.httpserver.HttpServer server =
            com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/x", exchange -> {
            exchange.sendResponseHeaders(200, PAYLOAD.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(PAYLOAD);
            }
        });
        server.start();
        try {
            File target = new File(java.nio.file.Files.createTempDirectory("h").toFile(), "x");
            Fetch.download("http://127.0.0.1:" + server.getAddress().getPort() + "/x",
                           target.getPath());
            byte[] got = java.nio.file.Files.readAllBytes(target.toPath());
            if (!Arrays.equals(got, PAYLOAD)) throw new Exception("wrong bytes: " + got.length);
        } finally {
            server.stop(0);
        }
    }
}
"""
JAVA_HTTP_TASK = Task("HJ/H", JAVA_HTTP_PROMPT, "java", entry_point="download",
                      test=JAVA_HTTP_TEST)


def test_java_http_server_test_runs_an_honest_candidate(javac: JavaCompiler) -> None:
    right = JAVA_HTTP_PROMPT + ("        try (InputStream in = new URL(url).openStream()) {\n"
                                "            java.nio.file.Files.copy(in, java.nio.file.Paths"
                                ".get(path));\n        }\n    }\n}\n")
    assert run_candidate(JAVA_HTTP_TASK, right, compiler=javac).status == "passed"
    wrong = JAVA_HTTP_PROMPT + ("        java.nio.file.Files.write(java.nio.file.Paths.get(path),"
                                " new byte[3]);\n    }\n}\n")
    result = run_candidate(JAVA_HTTP_TASK, wrong, compiler=javac)
    assert (result.status, result.reason) == ("failed", "java.lang.Exception: wrong bytes: 3")


def test_java_http_server_test_cannot_be_forged_from_the_tests_private_state(
        javac: JavaCompiler) -> None:
    # Downloads nothing; writes the test's private payload, found by name. Its HTTP handler
    # calling back on the server's thread once sent the test next to the candidate, where
    # this passed.
    forger = JAVA_HTTP_PROMPT + """        byte[] stolen = new byte[0];
        try {
            java.lang.reflect.Field f = Class.forName("Main").getDeclaredField("PAYLOAD");
            f.setAccessible(true);
            stolen = (byte[]) f.get(null);
        } catch (Throwable e) { }
        java.nio.file.Files.write(java.nio.file.Paths.get(path), stolen);
    }
}
"""
    assert_not_passed(run_candidate(JAVA_HTTP_TASK, forger, compiler=javac).status)


def test_java_http_server_test_cannot_be_forged_by_printing_and_exiting(
        javac: JavaCompiler) -> None:
    forger = JAVA_HTTP_PROMPT + ("        System.out.println(\"passed\");\n"
                                 "        System.out.flush();\n        System.exit(0);\n    }\n}\n")
    assert_not_passed(run_candidate(JAVA_HTTP_TASK, forger, compiler=javac).status)


def test_java_lent_handler_answers_only_during_a_call(javac: JavaCompiler) -> None:
    # The candidate downloads, then leaves a thread that keeps requesting the page once its
    # call is answered: between calls the handler no longer comes back to the test (it counts
    # its requests).
    counting = ("            long until = System.currentTimeMillis() + 500;\n"
                "            while (System.currentTimeMillis() < until) { }\n"
                "            java.nio.file.Files.readAllBytes(target.toPath());\n"
                "            if (hits != 1) throw new Exception(\"hits: \" + hits);\n")
    test = (JAVA_HTTP_TEST.replace("exchange -> {\n", "exchange -> {\n            hits++;\n")
            .replace("    public static void main",
                     "    static int hits;\n    public static void main")
            .replace("            byte[] got", counting + "            byte[] got"))
    task = Task("HJ/H1", JAVA_HTTP_PROMPT, "java", entry_point="download", test=test)
    lingering = JAVA_HTTP_PROMPT + """        try (InputStream in = new URL(url).openStream()) {
            java.nio.file.Files.copy(in, java.nio.file.Paths.get(path));
        }
        Thread main = Thread.currentThread();
        Thread again = new Thread(() -> {
            // Once its call is answered (the harness waits for the next request).
            while (Arrays.stream(main.getStackTrace())
                    .noneMatch(e -> e.getMethodName().equals("readFrame"))) Thread.onSpinWait();
            for (int i = 0; i < 50; i++) {
                try (InputStream in = new URL(url).openStream()) {
                    in.readAllBytes();
                } catch (Exception e) { }
                try { Thread.sleep(20); } catch (InterruptedException e) { return; }
            }
        });
        again.setDaemon(true);
        again.start();
    }
}
"""
    result = run_candidate(task, lingering, compiler=javac)
    assert result.status == "passed", result.reason


def test_java_lent_object_gets_no_object_of_the_candidates_process_in_place_of_a_value(
        javac: JavaCompiler) -> None:
    # An HTTP exchange comes back to the test's handler as a stand-in; any other object with
    # no plain form is refused, never handed to the test's object as its handle's number.
    prompt = ("import java.util.*;\nimport java.util.function.*;\n\nclass Calc {\n"
              "    public static String run(Function<Object, String> f) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        String got = Calc.run(o -> String.valueOf(o));\n"
            "        if (!\"0\".equals(got)) throw new Exception(\"got \" + got);\n    }\n}\n")
    task = Task("HJ/LH", prompt, "java", entry_point="run", test=test)
    forger = prompt + "        return f.apply(new Object());\n    }\n}\n"
    assert_not_passed(run_candidate(task, forger, compiler=javac).status)
    right = prompt + "        return f.apply(0);\n    }\n}\n"
    assert run_candidate(task, right, compiler=javac).status == "passed"


def test_java_candidate_cannot_call_a_lent_object_back_between_calls(
        javac: JavaCompiler) -> None:
    # Never calls f during its call; once the call is answered, its thread writes raw
    # call-back frames while the test's next request is served (holding the lock that
    # request's answer waits for) and swallows the replies. The trusted side answers a call
    # back only during a call of the candidate, whatever the candidate's process does.
    prompt = ("import java.io.*;\nimport java.util.*;\nimport java.util.function.*;\n\n"
              "class Mapper {\n"
              "    public static List<Integer> mapAll(List<Integer> xs,\n"
              "                                       Function<Integer, Integer> f) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        List<Integer> seen = new ArrayList<>();\n"
            "        Function<Integer, Integer> twice = x -> { seen.add(x); return x * 2; };\n"
            "        List<Integer> got = Mapper.mapAll(Arrays.asList(1, 2, 3), twice);\n"
            "        File.createTempFile(\"after\", \".call\");\n"
            "        if (!Arrays.asList(2, 4, 6).equals(got)) throw new Exception(\"got\");\n"
            "        if (!Arrays.asList(1, 2, 3).equals(seen)) throw new Exception(\"calls\");\n"
            "    }\n}\n")
    task = Task("HJ/LB", prompt, "java", entry_point="mapAll", test=test)
    forger = prompt + """        List<Integer> out = new ArrayList<>();
        for (int x : xs) out.add(2 * x);
        Thread main = Thread.currentThread();
        Thread t = new Thread(() -> {
            try {
                while (Arrays.stream(main.getStackTrace())
                        .noneMatch(e -> e.getMethodName().equals("readFrame"))) Thread.sleep(1);
                synchronized (System.out) {
                    OutputStream raw = new FileOutputStream(FileDescriptor.out);
                    for (int x : xs) {
                        byte[] data = ("{\\"callback\\":0,\\"method\\":\\"apply\\",\\"params\\":"
                                + "[\\"java.lang.Object\\"],\\"args\\":[" + x + "]}")
                                .getBytes("UTF-8");
                        raw.write(new byte[] {0, 0, (byte) (data.length >> 8), (byte) data.length});
                        raw.write(data);
                    }
                    raw.flush();
                    while (main.getState() != Thread.State.BLOCKED) Thread.sleep(1);
                    DataInputStream in =
                        new DataInputStream(new FileInputStream(FileDescriptor.in));
                    for (int x : xs) in.readFully(new byte[in.readInt()]);
                }
            } catch (Exception e) { }
        });
        t.setDaemon(true);
        t.start();
        return out;
    }
}
"""
    assert_not_passed(run_candidate(task, forger, compiler=javac).status)
    right = prompt + ("        List<Integer> out = new ArrayList<>();\n"
                      "        for (int x : xs) out.add(f.apply(x));\n        return out;\n"
                      "    }\n}\n")
    assert run_candidate(task, right, compiler=javac).status == "passed"
