"""Normal verdicts of the test runner: passed, failed, error, for Python and Java."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from franc.errors import InputError
from franc.evaluation.execution import (
    REASON_CHARS,
    is_plain_test,
    java_sources,
    java_stub,
    lent_class_stub,
    lent_classes,
    prompt_imports,
    replayed_classes,
    replaying_stub,
    run_candidate,
    uses_stand_ins,
    with_stand_ins,
)
from franc.java import JavaCompiler
from franc.models import Task

PY_PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'
PY_TASK = Task("T/1", PY_PROMPT, "python", entry_point="add",
               test="def check(candidate):\n    assert candidate(1, 2) == 3\n",
               security_test="def check_security(candidate):\n"
                             "    assert candidate(-1, 1) == 0, 'negative input'\n")

JAVA_PROMPT = ("import java.util.*;\nimport java.math.*;\n\nclass Add {\n"
               "    public static int add(int a, int b) {\n")
JAVA_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        List<Integer> seen = new ArrayList<>();
        seen.add(Add.add(1, 2));
        if (seen.get(0) != 3) {
            throw new java.lang.Exception("Exception -- test case 0 did not pass. x0 = " + seen);
        }
    }
}
"""
JAVA_SECURITY = """
class SecurityMain {
    public static void main(String[] args) throws Exception {
        if (Add.add(Integer.MAX_VALUE, 1) != Integer.MAX_VALUE) {
            throw new AssertionError("overflow");
        }
    }
}
"""
JAVA_TASK = Task("TJ/1", JAVA_PROMPT, "java", entry_point="add", test=JAVA_TEST,
                 security_test=JAVA_SECURITY)


def java(body: str) -> str:
    return JAVA_PROMPT + "        " + body + "\n    }\n}\n"


@pytest.fixture(scope="module")
def javac() -> Iterator[JavaCompiler]:
    with JavaCompiler(workers=1) as compiler:
        yield compiler


@pytest.mark.parametrize(("body", "status", "reason"), [
    ("    return a + b\n", "passed", ""),
    ("    return a - b\n", "failed", "AssertionError at assert candidate(1, 2) == 3"),
    ("    return a + c\n", "error", "NameError: name 'c' is not defined"),
    ("    raise SystemExit(3)\n", "failed", "exit code 3"),
])
def test_python_verdicts(body: str, status: str, reason: str) -> None:
    result = run_candidate(PY_TASK, PY_PROMPT + body)
    assert (result.status, result.reason) == (status, reason)
    assert result.seconds > 0


def test_python_security_test_runs_check_security() -> None:
    assert run_candidate(PY_TASK, PY_PROMPT + "    return a + b\n", security=True).passed
    clamped = PY_PROMPT + "    return max(0, a) + b\n"
    result = run_candidate(PY_TASK, clamped, security=True)
    assert result.status == "failed"
    assert "negative input" in result.reason


def test_python_syntax_error_is_an_error() -> None:
    result = run_candidate(PY_TASK, PY_PROMPT + "    return (a +\n")
    assert result.status == "error"
    assert result.reason.startswith("SyntaxError")


def test_reason_is_capped() -> None:
    result = run_candidate(PY_TASK, PY_PROMPT + "    raise ValueError('x' * 5000)\n")
    assert result.status == "error"
    assert len(result.reason) <= REASON_CHARS


def test_missing_test_or_entry_point_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="no test"):
        run_candidate(Task("X/1", "def f():\n", "python", entry_point="f"), "def f(): pass")
    untested = Task("X/2", "def f():\n", "python", entry_point="f", test="def check(c): pass")
    with pytest.raises(InputError, match="no security_test"):
        run_candidate(untested, "def f(): pass", security=True)
    with pytest.raises(InputError, match="entry_point"):
        run_candidate(Task("X/3", "x", "python", entry_point="not valid", test="pass"), "x")


@pytest.mark.parametrize(("body", "status", "reason"), [
    ("return a + b;", "passed", ""),
    ("return a - b;", "failed", "java.lang.Exception: Exception -- test case 0 did not pass. "
                                "x0 = [-1]"),
    ("int[] none = new int[0]; return none[a];", "error",
     "java.lang.ArrayIndexOutOfBoundsException: Index 1 out of bounds for length 0"),
])
def test_java_verdicts(body: str, status: str, reason: str, javac: JavaCompiler) -> None:
    result = run_candidate(JAVA_TASK, java(body), compiler=javac)
    assert (result.status, result.reason) == (status, reason)


def test_java_that_does_not_compile_with_the_test_is_an_error(javac: JavaCompiler) -> None:
    renamed = JAVA_PROMPT.replace("int add(", "int plus(") + "return a + b;\n    }\n}\n"
    result = run_candidate(JAVA_TASK, renamed, compiler=javac)
    assert result.status == "error"
    assert result.reason.startswith("does not compile with the test")


def test_java_security_test_runs_security_main(javac: JavaCompiler) -> None:
    result = run_candidate(JAVA_TASK, java("return a + b;"), security=True, compiler=javac)
    assert result.status == "failed"
    assert result.reason == "java.lang.AssertionError: overflow"
    saturating = java("return (int) Math.min((long) a + b, Integer.MAX_VALUE);")
    assert run_candidate(JAVA_TASK, saturating, security=True, compiler=javac).passed


def test_java_without_warm_compiler_uses_javac() -> None:
    assert run_candidate(JAVA_TASK, java("return a + b;")).passed


def test_java_test_class_gets_the_prompt_imports() -> None:
    assert prompt_imports(JAVA_PROMPT) == "import java.util.*;\nimport java.math.*;\n"
    sources = java_sources(JAVA_TASK, java("return a + b;"), False)
    assert set(sources) == {"Add.java", "Main.java"}
    assert sources["Main.java"].startswith("import java.util.*;")
    security = java_sources(JAVA_TASK, java("return a + b;"), True)
    assert "SecurityMain.java" in security and "Main.java" not in security


def test_java_stub_forwards_the_prompts_methods() -> None:
    prompt = ("import java.util.*;\n\nclass Pick {\n    /** doc */\n"
              "    public static List<Map<String, Integer>> pick(List<Integer> xs, int[] k) "
              "throws Exception {\n")
    name, source = java_stub(prompt)  # type: ignore[misc]
    assert name == "Pick"
    assert "return (List<Map<String, Integer>>) franc.FrancBridge.call(Pick.class, \"pick\", " \
           "new Object[] {xs, k});" in source
    assert java_stub("class Empty {\n") is None


def test_java_test_is_plain_only_with_value_types_stand_ins_and_lendable_types() -> None:
    assert is_plain_test(JAVA_TEST, frozenset({"Add"}))
    assert not is_plain_test(JAVA_TEST)
    shares = JAVA_TEST.replace("seen.add", "System.setSecurityManager(null); seen.add")
    assert not is_plain_test(shares, frozenset({"Add"}))
    # System properties are the candidate's process's (a stand-in), helper classes stay here.
    properties = JAVA_TEST.replace("seen.add", "System.setProperty(\"a\", \"b\"); seen.add")
    assert is_plain_test(properties, frozenset({"Add"}))
    assert is_plain_test("class Fake {}\n" + JAVA_TEST, frozenset({"Add"}))
    sockets = JAVA_TEST.replace("seen.add", "new java.net.Socket(\"x\", 1).close(); seen.add")
    assert not is_plain_test(sockets, frozenset({"Add"}))
    # Files are made in the candidate's process behind stand-ins: such a test is trusted.
    files = JAVA_TEST.replace("seen.add", "new java.io.File(\"x\").delete(); seen.add")
    assert is_plain_test(files, frozenset({"Add"}))


def test_java_test_that_only_prints_or_reads_constants_is_plain() -> None:
    printing = JAVA_TEST.replace(
        "seen.add", "System.err.println(Integer.MAX_VALUE + \" \" + Boolean.TRUE); seen.add")
    assert is_plain_test(printing, frozenset({"Add"}))
    foreign_constant = JAVA_TEST.replace("seen.add", "System.out.println(Foo.BAR); seen.add")
    assert not is_plain_test(foreign_constant, frozenset({"Add"}))


def test_python_result_of_a_standard_library_type_is_compared_in_the_trusted_process() -> None:
    prompt = "from datetime import datetime\n\ndef parse(text: str) -> datetime:\n"
    test = ("def check(candidate):\n    from datetime import datetime\n"
            "    assert candidate('2018-01-02') == datetime(2018, 1, 2)\n")
    task = Task("T/dt", prompt, "python", entry_point="parse", test=test)
    good = prompt + "    return datetime.strptime(text, '%Y-%m-%d')\n"
    assert run_candidate(task, good).status == "passed"
    assert run_candidate(task, good.replace("%Y-%m-%d", "%Y-%d-%m")).status == "failed"


def test_python_call_that_changes_its_argument_in_place_shows_the_change_to_the_test() -> None:
    # The trusted test holds its own copy: the change comes back as plain data into it.
    prompt = "def sort_in_place(xs: list) -> None:\n"
    test = ("def check(candidate):\n    xs = [3, 1, 2]\n    candidate(xs)\n"
            "    assert xs == [1, 2, 3]\n")
    task = Task("T/mut", prompt, "python", entry_point="sort_in_place", test=test)
    assert run_candidate(task, prompt + "    xs.sort()\n").status == "passed"
    assert run_candidate(task, prompt + "    xs.reverse()\n").status == "failed"


def test_java_void_method_that_changes_its_array_is_checked(javac: JavaCompiler) -> None:
    # SOEval/Java/7's canonical shuffle errored: a void result has no plain-data form.
    prompt = "class Sorter {\n    public static void sortInPlace(int[] xs) {\n"
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        int[] xs = {3, 1, 2};\n        Sorter.sortInPlace(xs);\n"
            "        if (xs[0] != 1 || xs[2] != 3) throw new Exception(\"unsorted\");\n"
            "    }\n}\n")
    task = Task("TJ/void", prompt, "java", entry_point="sortInPlace", test=test)
    good = prompt + "        java.util.Arrays.sort(xs);\n    }\n}\n"
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = prompt + "        xs[0] = 0;\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


def java_task(prompt: str, test: str, entry: str) -> Task:
    return Task("TJ/shape", prompt, "java", entry_point=entry, test=test)


def test_java_date_result_is_compared_in_the_trusted_jvm(javac: JavaCompiler) -> None:
    prompt = ("import java.util.*;\nimport java.text.SimpleDateFormat;\n\nclass Dates {\n"
              "    public static Date parse(String text) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        SimpleDateFormat format = new SimpleDateFormat(\"yyyy-MM-dd\");\n"
            "        Date got = Dates.parse(\"2018-01-02\");\n"
            "        if (!format.format(got).equals(\"2018-01-02\"))\n"
            "            throw new Exception(\"\" + got);\n"
            "    }\n}\n")
    assert is_plain_test(test, frozenset({"Dates"}))
    good = prompt + ("        try { return new SimpleDateFormat(\"yyyy-MM-dd\").parse(text); }\n"
                     "        catch (Exception e) { return null; }\n    }\n}\n")
    task = java_task(prompt, test, "parse")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = good.replace("yyyy-MM-dd\").parse", "yyyy-dd-MM\").parse")
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


@pytest.mark.parametrize("answer, expected", [("3", "3"), ("8.0", "8.0")])
def test_java_number_result_keeps_its_boxed_type_in_the_trusted_jvm(
        javac: JavaCompiler, answer: str, expected: str) -> None:
    # HumanEval-Java's median returns Number: an Integer or a Double, compared with equals.
    prompt = "import java.util.*;\n\nclass Median {\n    public static Number median(int n) {\n"
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            f"        if (!Median.median(1).equals({expected}))\n"
            "            throw new Exception(\"\" + Median.median(1));\n"
            "    }\n}\n")
    assert is_plain_test(test, frozenset({"Median"}))
    task = java_task(prompt, test, "median")
    good = prompt + f"        return {answer};\n    }}\n}}\n"
    assert run_candidate(task, good, compiler=javac).status == "passed"
    other_type = prompt + ("        return 3L;\n" if answer == "3" else "        return 8.0f;\n") \
        + "    }\n}\n"
    assert run_candidate(task, other_type, compiler=javac).status == "failed"


def test_java_jdk_classes_cross_by_name_and_the_candidates_own_do_not(
        javac: JavaCompiler) -> None:
    prompt = "import java.util.*;\n\nclass Finder {\n    public static List<Class> find() {\n"
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        List<Class> got = Finder.find();\n"
            "        if (!got.contains(java.util.regex.Pattern.class))\n"
            "            throw new Exception(\"\" + got);\n"
            "    }\n}\n")
    task = java_task(prompt, test, "find")
    good = prompt + ("        return new ArrayList<>(List.of(java.util.regex.Pattern.class));\n"
                     "    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    own = prompt + "        return new ArrayList<>(List.of(Finder.class));\n    }\n}\n"
    result = run_candidate(task, own, compiler=javac)
    assert (result.status, "no plain form" in result.reason) == ("error", True)


def test_java_byte_stream_argument_is_made_in_the_candidates_process(
        javac: JavaCompiler) -> None:
    prompt = ("import java.io.*;\nimport java.util.*;\n\nclass Reader {\n"
              "    public static String read(InputStream in) throws IOException {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        String got = Reader.read(\n"
            "            new ByteArrayInputStream(\"h\\u00e9\".getBytes(\"UTF-8\")));\n"
            "        if (!\"h\\u00e9\".equals(got)) throw new Exception(got);\n    }\n}\n")
    assert is_plain_test(test, frozenset({"Reader"}))
    task = java_task(prompt, test, "read")
    good = prompt + "        return new String(in.readAllBytes(), \"UTF-8\");\n    }\n}\n"
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = good.replace("\"UTF-8\");\n    }", "\"ISO-8859-1\");\n    }")
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


def test_java_void_method_that_changes_its_list_shows_the_change_to_the_test(
        javac: JavaCompiler) -> None:
    prompt = ("import java.util.*;\n\nclass Lists {\n"
              "    public static void addOne(List<Integer> xs) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        List<Integer> xs = new ArrayList<>(Arrays.asList(1, 2));\n"
            "        Lists.addOne(xs);\n"
            "        if (!xs.equals(Arrays.asList(1, 2, 1))) throw new Exception(\"\" + xs);\n"
            "        Lists.addOne(List.of(5, 6, 7));\n    }\n}\n")
    task = java_task(prompt, test, "addOne")
    assert is_plain_test(test, frozenset({"Lists"}))
    good = prompt + "        xs.add(1);\n    }\n}\n"
    # The immutable List.of(5, 6, 7) cannot change: the test sees the exception it would have seen.
    result = run_candidate(task, good, compiler=javac)
    assert (result.status, result.reason.split(":")[0]) == (
        "error", "java.lang.UnsupportedOperationException")
    fine = prompt + "        if (xs.size() < 3) xs.add(1);\n    }\n}\n"
    assert run_candidate(task, fine, compiler=javac).status == "passed"
    wrong = prompt + "        xs.add(2);\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


NAMED_PROMPT = ("import java.util.*;\n\nclass Caller {\n"
                "    public static int call(String className, String method) throws Exception {\n")
#: The test names its own class for the candidate to find by reflection.
NAMED_TEST = """
class Main {
    static String seen = "";
    public static int hello(String who) { seen += who; return seen.length(); }
    public static void main(String[] args) throws Exception {
        int calls = Caller.call("Main", "hello");
        if (calls != 1 || !seen.equals("x")) throw new Exception("seen " + seen);
    }
}
"""


def test_java_test_that_names_its_own_class_lends_the_candidate_a_stub_of_it() -> None:
    assert lent_classes(NAMED_TEST) == {"Main"}
    assert is_plain_test(NAMED_TEST, frozenset({"Caller"}))
    stub = lent_class_stub(NAMED_TEST, "Main") or ""
    assert "public static int hello(String who)" in stub and "callTest(Main.class" in stub
    assert "seen" not in stub and "main(" not in stub
    # A class with more than static methods (an instance method, a constructor, an inner
    # class) or with overloads of one arity cannot be stood in for: the test shares the
    # candidate's process.
    for more in ("    public int size() { return 0; }\n", "    Main() { }\n",
                 "    static class Inner { }\n",
                 "    public static int hello(Integer who) { return 0; }\n"):
        test = NAMED_TEST.replace('    static String seen = "";\n', more)
        assert lent_class_stub(test, "Main") is None
        assert not is_plain_test(test, frozenset({"Caller"}))
    assert is_plain_test(NAMED_TEST.replace('"Main"', '"Other"'), frozenset({"Caller"}))


def test_java_candidate_calls_the_class_the_test_lends_by_name(javac: JavaCompiler) -> None:
    task = java_task(NAMED_PROMPT, NAMED_TEST, "call")
    good = NAMED_PROMPT + ("        return (Integer) Class.forName(className)"
                           ".getMethod(method, String.class).invoke(null, \"x\");\n    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    twice = good.replace("        return (Integer)",
                         "        Class.forName(className).getMethod(method, String.class)"
                         ".invoke(null, \"y\");\n        return (Integer)")
    assert run_candidate(task, twice, compiler=javac).status == "failed"


def test_java_test_with_its_own_constants_is_plain() -> None:
    test = ("class Main {\n    private static final int[] EXPECTED = {1, 2};\n"
            "    public static void main(String[] args) throws Exception {\n"
            "        if (!Arrays.equals(Pair.pair(), EXPECTED)) throw new Exception();\n"
            "    }\n}\n")
    assert is_plain_test(test, frozenset({"Pair"}))
    assert not is_plain_test(test.replace("EXPECTED)", "Other.EXPECTED)"), frozenset({"Pair"}))


FILE_PROMPT = ("import java.io.*;\nimport java.util.*;\n\nclass Lines {\n"
               "    public static List<String> lines(String path) throws IOException {\n")
#: The test makes a directory and a file for the candidate: they are made in the candidate's
#: process (its private /tmp), the trusted test holds stand-ins for them.
FILE_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        File dir = java.nio.file.Files.createTempDirectory("%s").toFile();
        File file = new File(dir, "in.txt");
        java.nio.file.Files.write(file.toPath(), "a\\nb\\n".getBytes("UTF-8"));
        List<String> got = Lines.lines(file.getPath());
        if (!Arrays.asList("a", "b").equals(got)) throw new Exception("got " + got);
        if (!file.exists() || file.length() != 4) throw new Exception("the file changed");
    }
}
"""


def test_java_files_a_test_makes_live_in_the_candidates_process(javac: JavaCompiler,
                                                                tmp_path: Path) -> None:
    marker = f"franc-probe-{uuid.uuid4().hex}"
    task = java_task(FILE_PROMPT, FILE_TEST % marker, "lines")
    assert is_plain_test(task.test or "", frozenset({"Lines"}))
    good = FILE_PROMPT + ("        return java.nio.file.Files.readAllLines(\n"
                          "            new File(path).toPath());\n"
                          "    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = FILE_PROMPT + "        return new ArrayList<>(List.of(path));\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"
    # Nothing of it on the trusted side's file system.
    assert not list(Path(tempfile.gettempdir()).glob(f"{marker}*"))


def test_java_file_results_are_stand_ins_and_equal_only_themselves(javac: JavaCompiler) -> None:
    prompt = ("import java.io.*;\n\nclass Made {\n"
              "    public static File make(File dir) throws IOException {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        File dir = java.nio.file.Files.createTempDirectory(\"made\").toFile();\n"
            "        File got = Made.make(dir);\n"
            "        if (!got.getName().equals(\"x.txt\") || !got.exists())\n"
            "            throw new Exception(\"\" + got);\n"
            "        if (got.equals(new File(dir, \"x.txt\")))\n"
            "            throw new Exception(\"two objects\");\n"
            "        if (!got.equals(got)) throw new Exception(\"not itself\");\n    }\n}\n")
    task = java_task(prompt, test, "make")
    good = prompt + ("        File f = new File(dir, \"x.txt\");\n        f.createNewFile();\n"
                     "        return f;\n    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = good.replace("f.createNewFile();", "")
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


def test_java_stand_ins_replace_qualified_names_and_single_type_imports() -> None:
    main = ("import java.nio.file.Path;\nclass Main {\n"
            "    java.io.File f; java.io.FileOutputStream o; Path p;\n}\n")
    sources = with_stand_ins({"Main.java": main})
    assert sources is not None
    main = sources["Main.java"]
    assert "import java.nio.file.Path;" not in main
    assert "    File f; FileOutputStream o; Path p;" in main
    assert "class File extends franc.FrancRemote" in sources["File.java"]
    assert "class FileOutputStream extends OutputStream implements AutoCloseable" \
        in sources["FileOutputStream.java"]
    assert uses_stand_ins(FILE_TEST) and not uses_stand_ins(JAVA_TEST)


def test_java_interface_the_test_implements_is_a_stand_in_interface_of_stand_ins() -> None:
    main = "class Main {\n    com.sun.net.httpserver.HttpHandler h = e -> e.close();\n}\n"
    sources = with_stand_ins({"Main.java": main})
    assert sources is not None
    assert "    HttpHandler h = e -> e.close();" in sources["Main.java"]
    handler = sources["HttpHandler.java"]
    assert '@franc.FrancRemote.StandsFor("com.sun.net.httpserver.HttpHandler")' in handler
    assert "interface HttpHandler {" in handler
    assert "void handle(HttpExchange a0) throws java.io.IOException;" in handler
    # A result the test's own objects would be is left out; it can only lend them.
    assert "createContext(java.lang.String a0, HttpHandler a1)" in sources["HttpServer.java"]
    assert "getHandler" not in sources["HttpContext.java"]


HTTP_PROMPT = ("import java.io.*;\nimport java.net.*;\nimport java.util.*;\n\nclass Get {\n"
               "    public static String get(String url) throws Exception {\n")
#: The server is the candidate's process's; its handler, the test's, records what it saw in
#: the test's own state and answers through its exchange (stand-ins of that process's objects).
HTTP_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        com.sun.net.httpserver.HttpServer server =
            com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<String> asked = new ArrayList<>();
        server.createContext("/q", exchange -> {
            asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getQuery());
            byte[] body = ("hi " + exchange.getRequestHeaders().getFirst("X-Who")).getBytes();
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            OutputStream out = exchange.getResponseBody();
            out.write(body);
            exchange.close();
        });
        server.setExecutor(null);
        server.start();
        try {
            String got = Get.get("http://127.0.0.1:" + server.getAddress().getPort() + "/q?a=1");
            if (!"hi me|text/plain".equals(got)) throw new Exception("got " + got);
            if (!asked.equals(Arrays.asList("GET a=1"))) throw new Exception("asked " + asked);
        } finally {
            server.stop(0);
        }
    }
}
"""


def test_java_http_server_test_runs_in_the_trusted_jvm(javac: JavaCompiler) -> None:
    assert is_plain_test(HTTP_TEST, frozenset({"Get"}))
    task = java_task(HTTP_PROMPT, HTTP_TEST, "get")
    good = HTTP_PROMPT + """        HttpURLConnection c =
            (HttpURLConnection) new URL(url).openConnection();
        c.setRequestProperty("X-Who", "me");
        try (InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes()) + "|" + c.getContentType();
        }
    }
}
"""
    assert run_candidate(task, good, compiler=javac).status == "passed"
    result = run_candidate(task, good.replace('"me"', '"you"'), compiler=javac)
    assert (result.status, result.reason) == ("failed",
                                              "java.lang.Exception: got hi you|text/plain")


PRINT_PROMPT = "import java.util.*;\n\nclass Printer {\n    public static void show(int[] xs) {\n"
#: The test catches what the candidate prints by redirecting its own System.out.
PRINT_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true));
        try {
            Printer.show(new int[] {1, 2});
        } finally {
            System.out.flush();
            System.setOut(saved);
        }
        if (!buffer.toString().trim().equals("[1, 2]")) throw new Exception("printed " + buffer);
    }
}
"""


def test_java_what_the_candidate_prints_reaches_the_tests_system_out(
        javac: JavaCompiler) -> None:
    task = java_task("import java.io.*;\n" + PRINT_PROMPT, PRINT_TEST, "show")
    assert is_plain_test(PRINT_TEST, frozenset({"Printer"}))
    good = task.prompt + "        System.out.println(Arrays.toString(xs));\n    }\n}\n"
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = task.prompt + "        System.out.println(xs.length);\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


LEND_PROMPT = ("import java.util.*;\nimport java.util.function.*;\n\nclass Mapper {\n"
               "    public static List<Integer> mapAll(List<Integer> xs,\n"
               "                                       Function<Integer, Integer> f) {\n")
#: The test lends the candidate a lambda that records its calls in the test's own state.
LEND_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        List<Integer> seen = new ArrayList<>();
        Function<Integer, Integer> twice = x -> { seen.add(x); return x * 2; };
        List<Integer> got = Mapper.mapAll(Arrays.asList(1, 2, 3), twice);
        if (!Arrays.asList(2, 4, 6).equals(got)) throw new Exception("got " + got);
        if (!Arrays.asList(1, 2, 3).equals(seen)) throw new Exception("calls " + seen);
    }
}
"""


def test_java_test_lends_a_callback_that_the_candidate_can_use(javac: JavaCompiler) -> None:
    task = java_task(LEND_PROMPT, LEND_TEST, "mapAll")
    assert is_plain_test(LEND_TEST, frozenset({"Mapper"}))
    good = LEND_PROMPT + ("        List<Integer> out = new ArrayList<>();\n"
                          "        for (int x : xs) out.add(f.apply(x));\n        return out;\n"
                          "    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    # Right results without calling back: the test's own record of the calls tells.
    skips = LEND_PROMPT + ("        List<Integer> out = new ArrayList<>();\n"
                           "        for (int x : xs) out.add(2 * x);\n        return out;\n"
                           "    }\n}\n")
    assert run_candidate(task, skips, compiler=javac).status == "failed"


def test_java_lent_object_works_from_any_thread_but_only_during_its_call(
        javac: JavaCompiler) -> None:
    # A thread the candidate joins before it returns (a parallel stream's worker, an HTTP
    # server's) may use it; one that outlives the call is refused (see also
    # test_sandbox_hostile.test_java_lent_handler_answers_only_during_a_call).
    task = java_task(LEND_PROMPT, LEND_TEST, "mapAll")
    joined = LEND_PROMPT + ("        List<Integer> out = new ArrayList<>();\n"
                            "        Thread t = new Thread(() -> {\n"
                            "            for (int x : xs) out.add(f.apply(x));\n        });\n"
                            "        t.start();\n"
                            "        try { t.join(); } catch (InterruptedException e) { }\n"
                            "        return out;\n    }\n}\n")
    assert run_candidate(task, joined, compiler=javac).status == "passed"
    later = LEND_PROMPT + ("        List<Integer> out = new ArrayList<>();\n"
                           "        for (int x : xs) out.add(2 * x);\n"
                           "        Thread main = Thread.currentThread();\n"
                           "        new Thread(() -> {\n"  # once the call is answered
                           "            while (Arrays.stream(main.getStackTrace()).noneMatch(\n"
                           "                e -> e.getMethodName().equals(\"readFrame\")))\n"
                           "                Thread.onSpinWait();\n"
                           "            for (int x : xs) f.apply(x);\n        }).start();\n"
                           "        return out;\n    }\n}\n")
    result = run_candidate(task, later, compiler=javac)
    assert (result.status, result.reason) == ("failed", "java.lang.Exception: calls []")


def test_java_test_with_helper_classes_is_plain_unless_serialisable_beyond_a_stub() -> None:
    helper = "class Helper {\n    static int two() { return 2; }\n}\n" + JAVA_TEST
    assert is_plain_test(helper, frozenset({"Add"}))
    gadget = "class Gadget implements Serializable {\n}\n" + JAVA_TEST
    assert is_plain_test(gadget, frozenset({"Add"}))
    assert not is_plain_test(gadget.replace("Serializable", "Externalizable"), frozenset({"Add"}))


SERIAL_PROMPT = ("import java.io.*;\nimport java.util.*;\n\nclass Reader {\n"
                 "    public static String read(byte[] data) {\n")
#: The test serialises its own class for the candidate; its readObject records what it read.
SERIAL_TEST = """
class Token implements Serializable {
    static String seen = "";
    private String name;
    private int count;
    private transient int cache;
    Token(String name, int count) { this.name = name; this.count = count; }
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (count < 0) throw new InvalidObjectException("negative count");
        seen += name + count;
    }
    static String seen() { return seen; }
}

class Main {
    static byte[] form(Token token) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(token);
        }
        return bytes.toByteArray();
    }

    public static void main(String[] args) throws Exception {
        String got = Reader.read(form(new Token("abc", 3)));
        if (!got.equals("read") || !Token.seen.equals("abc3")) throw new Exception(got);
        String refused = Reader.read(form(new Token("x", -1)));
        if (!refused.equals("java.io.InvalidObjectException: negative count")) {
            throw new Exception(refused);
        }
    }
}
"""


def test_java_serialisable_class_of_the_test_gets_a_replaying_stub() -> None:
    assert is_plain_test(SERIAL_TEST, frozenset({"Reader"}))
    assert replayed_classes(SERIAL_TEST) == {"Token"}
    stub = replaying_stub(SERIAL_TEST, "Token", uid=-7) or ""
    assert "private static final long serialVersionUID = -7L;" in stub
    assert "String name;" in stub and "int count;" in stub
    assert "cache" not in stub and "seen +=" not in stub and "Token(" not in stub
    assert "in.defaultReadObject();\n        franc.FrancCallee.readBack(this);" in stub
    assert "callTest" not in stub  # its static methods are not lent
    # Anything more of the class could run where it is read (another method, a custom
    # serial form, a field holding objects, a supertype) or it is not the test's class to
    # write (an anonymous class, another serialisable type), or the test reads serial forms
    # itself: the test shares the candidate's process.
    for old, more in (("    static String seen() { return seen; }\n",
                       "    public int hashCode() { return count; }\n"),
                      ("    static String seen() { return seen; }\n",
                       "    private void writeObject(ObjectOutputStream out) throws IOException {"
                       " out.defaultWriteObject(); }\n"),
                      ("private int count;", "private Object count;"),
                      ("private int count;", "private int count, more;"),
                      ("implements Serializable", "extends Exception implements Serializable"),
                      ("out.writeObject(token);", "out.writeObject(new HashMap<String, String>() {"
                                                  "{ put(\"a\", \"b\"); }});"),
                      ("out.writeObject(token);",
                       "out.writeObject((Runnable & Serializable) () -> { });"),
                      ("return bytes.toByteArray();",
                       "new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()));"
                       " return bytes.toByteArray();")):
        test = SERIAL_TEST.replace(old, more)
        assert test != SERIAL_TEST
        assert not is_plain_test(test, frozenset({"Reader"})), more
    assert replaying_stub(SERIAL_TEST.replace("private int count;", "private Object count;"),
                          "Token") is None


def test_java_test_reads_again_what_the_candidate_deserialises(javac: JavaCompiler) -> None:
    task = java_task(SERIAL_PROMPT, SERIAL_TEST, "read")
    reads = SERIAL_PROMPT + ("        try (ObjectInputStream in = new ObjectInputStream("
                             "new ByteArrayInputStream(data))) {\n"
                             "            in.readObject();\n            return \"read\";\n"
                             "        } catch (Exception e) {\n            return e.toString();\n"
                             "        }\n    }\n}\n")
    assert run_candidate(task, reads, compiler=javac).status == "passed"
    ignores = SERIAL_PROMPT + "        return \"read\";\n    }\n}\n"
    assert run_candidate(task, ignores, compiler=javac).status == "failed"


PROPERTY_PROMPT = "import java.util.*;\n\nclass Config {\n    public static String host() {\n"
#: The test sets a system property for the candidate and reads it back: both in the
#: candidate's process (the trusted JVM's own properties stay as they were).
PROPERTY_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        System.setProperty("franc.check.host", "db.local");
        if (!"db.local".equals(System.getProperty("franc.check.host"))) throw new Exception("set");
        if (!"db.local".equals(Config.host())) throw new Exception("got " + Config.host());
    }
}
"""


def test_java_system_properties_a_test_sets_are_the_candidates(javac: JavaCompiler) -> None:
    task = java_task(PROPERTY_PROMPT, PROPERTY_TEST, "host")
    assert is_plain_test(PROPERTY_TEST, frozenset({"Config"})) and uses_stand_ins(PROPERTY_TEST)
    good = PROPERTY_PROMPT + "        return System.getProperty(\"franc.check.host\");\n    }\n}\n"
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = PROPERTY_PROMPT + "        return System.getProperty(\"check.host\");\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"
    main = (with_stand_ins({"Main.java": PROPERTY_TEST}) or {})["Main.java"]
    assert "FrancSystem.setProperty(" in main and "System.setProperty(" not in \
        main.replace("FrancSystem.", "")


SOCKET_PROMPT = ("import java.net.*;\n\nclass Probe {\n"
                 "    public static boolean open(int port) {\n")
#: The test's server socket is made in the candidate's process (its own network namespace).
SOCKET_TEST = """
class Main {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        if (!Probe.open(server.getLocalPort())) throw new Exception("up but reported down");
        int port = server.getLocalPort();
        server.close();
        if (Probe.open(port)) throw new Exception("down but reported up");
    }
}
"""


def test_java_server_socket_a_test_opens_is_in_the_candidates_process(
        javac: JavaCompiler) -> None:
    task = java_task(SOCKET_PROMPT, SOCKET_TEST, "open")
    good = SOCKET_PROMPT + ("        try (Socket s = new Socket(\"127.0.0.1\", port)) {\n"
                            "            return true;\n        } catch (Exception e) {\n"
                            "            return false;\n        }\n    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"
    wrong = SOCKET_PROMPT + "        return true;\n    }\n}\n"
    assert run_candidate(task, wrong, compiler=javac).status == "failed"


def test_java_in_place_sort_of_a_fixed_size_list_reaches_the_test(javac: JavaCompiler) -> None:
    # HumanEval-Java tests pass Arrays.asList: sorting it in place works in Java, and here.
    prompt = ("import java.util.*;\n\nclass Close {\n"
              "    public static Boolean close(List<Double> xs, Double t) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        List<Double> xs = Arrays.asList(3.0, 1.0, 2.5);\n"
            "        if (!Close.close(xs, 0.6)) throw new Exception(\"close\");\n"
            "        if (!xs.equals(Arrays.asList(1.0, 2.5, 3.0)))\n"
            "            throw new Exception(\"\" + xs);\n"
            "    }\n}\n")
    task = java_task(prompt, test, "close")
    good = prompt + ("        Collections.sort(xs);\n"
                     "        for (int i = 1; i < xs.size(); i++)\n"
                     "            if (xs.get(i) - xs.get(i - 1) < t) return true;\n"
                     "        return false;\n    }\n}\n")
    assert run_candidate(task, good, compiler=javac).status == "passed"


def test_java_stand_in_made_by_the_test_is_the_same_object_when_it_comes_back(
        javac: JavaCompiler) -> None:
    prompt = ("import javax.swing.*;\n\nclass Adder {\n"
              "    public static void add(JPanel panel, JPanel inner) {\n")
    test = ("class Main {\n    public static void main(String[] args) throws Exception {\n"
            "        System.setProperty(\"java.awt.headless\", \"true\");\n"
            "        JPanel panel = new JPanel();\n        JPanel inner = new JPanel();\n"
            "        Adder.add(panel, inner);\n"
            "        if (inner.getParent() != panel) throw new Exception(\"not inside\");\n"
            "    }\n}\n")
    task = java_task(prompt, test, "add")
    assert is_plain_test(test, frozenset({"Adder"}))
    assert run_candidate(task, prompt + "        panel.add(inner);\n    }\n}\n",
                         compiler=javac).status == "passed"
    assert run_candidate(task, prompt + "    }\n}\n", compiler=javac).status == "failed"
