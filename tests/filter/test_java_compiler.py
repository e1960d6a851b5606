"""The warm javac: verdicts, javac's messages, -proc:none, file naming, hostile units, restarts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from franc.errors import ToolMissingError
from franc.java import JavaCompiler, build_helper, is_tool_failure, java_class_name, syntax_errors
from franc.java.compiler import MAX_UNIT_CHARS

pytestmark = pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK")

GOOD = ("import java.util.*;\nclass Good {\n"
        "    static int f(List<Integer> xs) { return xs.size(); }\n}\n")
BAD = "class Bad {\n    static int f() {\n        return missing;\n    }\n}\n"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One helper build shared by the tests of this module."""
    root = tmp_path_factory.mktemp("javac-cache")
    build_helper(root)
    return root


@pytest.fixture(scope="module")
def compiler(cache: Path):
    with JavaCompiler(cache_dir=cache) as javac:
        yield javac


def test_good_unit_compiles_and_bad_one_gives_javacs_message_with_line(compiler):
    good, bad = compiler.check([GOOD, BAD])
    assert good.ok and good.errors == []
    assert not bad.ok
    assert bad.errors[0].startswith("Bad.java:3: error: cannot find symbol")
    assert "variable missing" in bad.errors[0]
    assert not any(is_tool_failure(error) for error in bad.errors)  # the code's own error


def test_each_unit_is_its_own_task(compiler):
    # Same class name twice and a broken unit in between: verdicts stay independent.
    results = compiler.check([GOOD, "class Good { int x = ; }", GOOD])
    assert [r.ok for r in results] == [True, False, True]


def test_syntax_errors_are_rejected_before_the_jvm_with_a_line(cache):
    with JavaCompiler(cache_dir=cache) as javac:
        (result,) = javac.check(["class A {\n    void f() {\n        int x = ;\n    }\n}\n"])
        assert not result.ok
        assert result.errors == ["A.java:3: error: syntax error near '='"]
        assert javac.jvm_pids() == []  # no JVM was needed


def test_without_prefilter_javac_reports_the_syntax_error(cache):
    with JavaCompiler(cache_dir=cache, prefilter=False, workers=1) as javac:
        (result,) = javac.check(["class A {\n    void f() {\n        int x = ;\n    }\n}\n"])
    assert not result.ok and result.errors[0].startswith("A.java:3: error: illegal start of")


def test_public_class_is_compiled_in_a_file_of_its_name(compiler):
    code = "class Helper {}\npublic class Solution {\n    int f() { return 1; }\n}\n"
    assert java_class_name(code) == "Solution"
    assert compiler.check([code])[0].ok
    two_public = "public class A {}\npublic class B {}\n"
    (result,) = compiler.check([two_public])
    assert not result.ok and "class B is public, should be declared in a file named B.java" in (
        result.errors[0])


def test_java_class_name_prefers_public_then_first_type():
    assert java_class_name("class A {}\nclass B {}") == "A"
    assert java_class_name("interface I {}\npublic enum E { X }") == "E"
    assert java_class_name("int x = 1;") is None


def test_annotation_processors_never_run(tmp_path):
    """A processor on the class path runs under plain javac but not in our helper (-proc:none)."""
    marker = tmp_path / "processor-ran"
    processor_src = tmp_path / "src" / "Spy.java"
    processor_src.parent.mkdir()
    processor_src.write_text(
        "import java.util.Set;\nimport javax.annotation.processing.*;\n"
        "import javax.lang.model.element.TypeElement;\n"
        "@SupportedAnnotationTypes(\"*\")\npublic class Spy extends AbstractProcessor {\n"
        "  public boolean process(Set<? extends TypeElement> a, RoundEnvironment r) {\n"
        f"    try {{ new java.io.File({str(marker)!r}.replace('\\'', '\"')).createNewFile(); }}\n"
        "    catch (Exception e) { throw new RuntimeException(e); }\n    return false;\n  }\n}\n"
        .replace(repr(str(marker)) + ".replace('\\'', '\"')", '"' + str(marker) + '"'))
    cache = tmp_path / "cache"
    class_path = build_helper(cache) / "empty"  # the helper's (normally empty) class path
    subprocess.run(["javac", "-d", str(class_path), str(processor_src)], check=True)
    services = class_path / "META-INF" / "services"
    services.mkdir(parents=True)
    (services / "javax.annotation.processing.Processor").write_text("Spy\n")
    unit = tmp_path / "Unit.java"
    unit.write_text("@Deprecated class Unit {}\n")
    try:
        subprocess.run(["javac", "-cp", str(class_path), "-d", str(tmp_path), str(unit)],
                       check=True, capture_output=True)
        assert marker.exists(), "the spy processor should run under plain javac"
        marker.unlink()
        with JavaCompiler(cache_dir=cache, workers=1) as javac:
            assert javac.check(["@Deprecated class Unit {}\n"])[0].ok
        assert not marker.exists()
    finally:
        shutil.rmtree(class_path / "META-INF")


def test_compile_to_dir_writes_class_files_for_execution(compiler, tmp_path):
    sources = {"Main": "class Main { public static void main(String[] a) {"
                       " System.out.println(Twice.f(21)); } }",
               "Twice.java": "class Twice { static int f(int x) { return 2 * x; } }"}
    result = compiler.compile_to_dir(sources, tmp_path / "out")
    assert result.ok
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Main.class", "Twice.class"]
    run = subprocess.run(["java", "-cp", str(tmp_path / "out"), "Main"], capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == "42"


def test_check_writes_no_class_files(compiler, tmp_path):
    before = set(Path(os.getcwd()).iterdir())
    assert compiler.check(["class NoOutput {}"])[0].ok
    assert set(Path(os.getcwd()).iterdir()) == before


@pytest.mark.parametrize("unit", [
    "class A {}" + " " * (MAX_UNIT_CHARS + 1),
    "class A { void f() { " + "{" * 20000 + " } }",
    "class A { String s = \"\udcff\ud800\"; }",
    "\x00\x01\x02\xff\xfe binary \x7f garbage",
    "class A { String s = \"" + "\\u0000" * 1000 + "\n",
])
def test_hostile_units_give_clean_errors(compiler, unit):
    (result,) = compiler.check([unit])
    assert not result.ok and result.errors and all(isinstance(e, str) for e in result.errors)


def test_undecodable_text_is_named_with_its_line(compiler):
    (result,) = compiler.check(["class A {\n  String s = \"\udcff\";\n}\n"])
    assert result.errors == ["Unit.java:2: error: not valid Unicode text "
                             "(undecodable byte or lone surrogate)"]


def test_deeply_nested_but_valid_code_is_judged_not_crashed(compiler):
    nested = "class Deep { int f() { return " + "(" * 3000 + "1" + ")" * 3000 + "; } }"
    (result,) = compiler.check([nested])
    assert result.ok


def test_a_killed_jvm_is_restarted(cache):
    with JavaCompiler(cache_dir=cache, workers=1) as javac:
        assert javac.check([GOOD])[0].ok
        (pid,) = javac.jvm_pids()
        os.kill(pid, signal.SIGKILL)
        assert [r.ok for r in javac.check([GOOD, BAD])] == [True, False]
        assert javac.jvm_pids() and javac.jvm_pids() != [pid]


def test_a_unit_over_the_timeout_is_reported_and_the_jvm_replaced(cache):
    with JavaCompiler(cache_dir=cache, workers=1, timeout=0.001) as javac:
        (result,) = javac.check([GOOD])  # a cold JVM cannot answer in 1 ms
        assert result.errors == ["javac timed out after 0.001 s"]
        assert is_tool_failure(result.errors[0])  # the compiler's failure, not the code's
        assert javac.jvm_pids() == []
        javac.timeout = 60
        assert javac.check([GOOD])[0].ok


def test_close_stops_every_jvm(cache):
    javac = JavaCompiler(cache_dir=cache, workers=2)
    javac.check([GOOD, GOOD, GOOD, GOOD])
    pids = javac.jvm_pids()
    assert pids
    javac.close()
    assert javac.jvm_pids() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        javac.check([GOOD])


def test_check_is_thread_safe(compiler):
    units = [GOOD, BAD] * 6
    results: dict[int, list[bool]] = {}

    def work(n: int) -> None:
        results[n] = [r.ok for r in compiler.check(units)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(verdicts == [True, False] * 6 for verdicts in results.values())


def test_concurrent_first_builds_agree(tmp_path):
    found: list[Path] = []
    threads = [threading.Thread(target=lambda: found.append(build_helper(tmp_path)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and (found[0] / "FrancJavac.class").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [found[0].name]  # no staging dirs left


def test_missing_jdk_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install default-jdk-headless"):
        JavaCompiler(cache_dir=tmp_path)


def test_syntax_errors_name_missing_tokens():
    errors = syntax_errors("class A { void f() { int x = 1 } }", "A.java")
    assert errors == ["A.java:1: error: syntax error: missing ';'"]
    assert syntax_errors("class A {}") == []


REUSE_UNITS = [
    "class Helper {\n    static int one() { return 1; }\n}\n",
    # Helper came from the previous unit only: a reused context must have forgotten it.
    "public class Uses {\n    int f() { return Helper.one(); }\n}\n",
    "class Flow {\n    int f(int x) {\n        if (x > 0) { return 1; }\n    }\n}\n",
    "class String {}\nclass Shadow {\n    String s = null;\n}\n",
    "class Cycle extends Cycle {}\n",
    "class Ok {\n    java.util.List<String> xs = new java.util.ArrayList<>();\n}\n",
    "class Unreachable {\n    int f() {\n        return 1;\n        int y = 2;\n    }\n}\n",
    "public class Uses {\n    int f() { return 2; }\n}\n",
]


def test_reused_contexts_judge_like_fresh_compiles(cache):
    with JavaCompiler(cache_dir=cache, workers=1, prefilter=False) as reused, \
            JavaCompiler(cache_dir=cache, workers=1, prefilter=False, fresh_tasks=True) as fresh:
        now, before = reused.check(REUSE_UNITS * 2), fresh.check(REUSE_UNITS * 2)
    assert [r.ok for r in now] == [True, False, False, True, False, True, False, True] * 2
    assert [r.errors for r in now] == [r.errors for r in before]
    assert "missing return statement" in now[2].errors[0]  # flow analysis still runs
    assert "cannot find symbol" in now[1].errors[0]


def test_compile_to_dir_after_checks_still_writes_class_files(cache, tmp_path):
    with JavaCompiler(cache_dir=cache, workers=1, prefilter=False) as javac:
        javac.check(REUSE_UNITS)
        result = javac.compile_to_dir({"Good": GOOD}, tmp_path)
    assert result.ok
    assert (tmp_path / "Good.class").is_file()
