"""Security scenarios through the real pipeline (filter, analyzers, rankers; no mocks).

For each common vulnerability, a pool holds the insecure program twice (the copies agree
with each other) and a clean one once, last in the model's order. Every shipped ranker
but the faithful baselines ``original`` and ``franc`` must put the clean one first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from franc.models import Candidate, Task
from franc.pipeline import Pipeline
from franc.ranking import get_ranker

TIERED_RANKERS = ("quality", "consensus", "consensus_difflib", "learned", "examples",
                  "behaviour")
#: The rankers that run the candidates (in the sandbox) and can see examples pass.
RUNNING_RANKERS = ("examples", "behaviour")


def doc(signature: str, summary: str) -> str:
    return f'{signature}\n    """{summary}"""\n'


# name -> (prompt, insecure completion, clean completion)
PYTHON: dict[str, tuple[str, str, str]] = {
    "subprocess-shell-true": (
        "import subprocess\n\n" + doc("def run_command(cmd: str) -> str:",
                                      "Run the command line cmd and return what it printed."),
        "    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout\n",
        "    import shlex\n"
        "    return subprocess.run(shlex.split(cmd), capture_output=True, text=True).stdout\n"),
    "yaml-load-full-loader": (
        "import yaml\n\n" + doc("def load_config(text: str) -> dict:",
                                "Parse the YAML document text."),
        "    return yaml.load(text, Loader=yaml.Loader)\n",
        "    return yaml.safe_load(text)\n"),
    "f-string-sql": (
        "import sqlite3\n\n" + doc("def find_user(conn: sqlite3.Connection, name: str) -> list:",
                                   "Return the rows of table users whose name is name."),
        "    return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n",
        '    return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()\n'),
    "pickle-loads-input": (
        "import json\nimport pickle\n\n" + doc("def decode(data: bytes) -> object:",
                                               "Decode the object a client sent us."),
        "    return pickle.loads(data)\n",
        "    return json.loads(data)\n"),
    "md5-password": (
        "import hashlib\n\n" + doc("def hash_password(password: str) -> str:",
                                   "Hash the password for storage."),
        "    return hashlib.md5(password.encode()).hexdigest()\n",
        "    import secrets\n    salt = secrets.token_bytes(16)\n"
        '    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)\n'
        '    return salt.hex() + ":" + digest.hex()\n'),
    "eval-input": (
        doc("def calculate(expression: str) -> float:",
            "Evaluate the arithmetic expression the user typed."),
        "    return eval(expression)\n",
        "    import ast\n    import operator\n"
        "    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}\n\n"
        "    def walk(node):\n"
        "        if isinstance(node, ast.Constant):\n            return node.value\n"
        "        if isinstance(node, ast.BinOp):\n"
        "            return ops[type(node.op)](walk(node.left), walk(node.right))\n"
        "        raise ValueError(expression)\n"
        '    return walk(ast.parse(expression, mode="eval").body)\n'),
    "requests-verify-false": (
        "import requests\n\n" + doc("def fetch(url: str) -> str:", "Download the page at url."),
        "    return requests.get(url, verify=False, timeout=10).text\n",
        "    return requests.get(url, timeout=10).text\n"),
    "tarfile-extractall-no-filter": (
        "import tarfile\n\n" + doc("def unpack(path: str, target: str) -> None:",
                                   "Extract the archive at path into the folder target."),
        "    with tarfile.open(path) as archive:\n        archive.extractall(target)\n",
        "    with tarfile.open(path) as archive:\n"
        '        archive.extractall(target, filter="data")\n'),
}


def javadoc(imports: str, name: str, summary: str, signature: str) -> str:
    return (f"{imports}\n\n\nclass {name} {{\n    /**\n     * {summary}\n     */\n"
            f"    {signature} {{\n")


def body(*lines: str) -> str:
    return "".join(f"        {line}\n" for line in lines) + "    }\n}\n"


JAVA: dict[str, tuple[str, str, str]] = {
    "runtime-exec-concatenated": (
        javadoc("import java.io.IOException;", "Shell",
                "List the directory dir with ls -l and return what it printed.",
                "public static String listDirectory(String dir) throws IOException"),
        body('Process process = Runtime.getRuntime().exec("ls -l " + dir);',
             "return new String(process.getInputStream().readAllBytes());"),
        body('Process process = new ProcessBuilder("ls", "-l", "--", dir).start();',
             "return new String(process.getInputStream().readAllBytes());")),
    "statement-concatenated-sql": (
        javadoc("import java.sql.*;", "Users", "Return the e-mail address of the user called name.",
                "public static String findEmail(Connection connection, String name) "
                "throws SQLException"),
        body("try (Statement statement = connection.createStatement();",
             "     ResultSet rows = statement.executeQuery(",
             "         \"SELECT email FROM users WHERE name = '\" + name + \"'\")) {",
             "    return rows.next() ? rows.getString(1) : null;",
             "}"),
        body("try (PreparedStatement statement =",
             '         connection.prepareStatement("SELECT email FROM users WHERE name = ?")) {',
             "    statement.setString(1, name);",
             "    try (ResultSet rows = statement.executeQuery()) {",
             "        return rows.next() ? rows.getString(1) : null;",
             "    }",
             "}")),
    "util-random-token": (
        javadoc("import java.security.SecureRandom;\nimport java.util.Random;", "Tokens",
                "Return a new session token of the given number of hex digits.",
                "public static String newToken(int digits)"),
        body("Random random = new Random();", "StringBuilder token = new StringBuilder();",
             "for (int i = 0; i < digits; i++) {",
             "    token.append(Integer.toHexString(random.nextInt(16)));", "}",
             "return token.toString();"),
        body("SecureRandom random = new SecureRandom();",
             "StringBuilder token = new StringBuilder();", "for (int i = 0; i < digits; i++) {",
             "    token.append(Integer.toHexString(random.nextInt(16)));", "}",
             "return token.toString();")),
    "md5-digest": (
        javadoc("import java.nio.charset.StandardCharsets;\nimport java.security.*;\n"
                "import java.util.HexFormat;", "Passwords", "Hash the password for storage.",
                "public static String hashPassword(String password) "
                "throws NoSuchAlgorithmException"),
        body('MessageDigest digest = MessageDigest.getInstance("MD5");',
             "return HexFormat.of().formatHex(digest.digest(",
             "    password.getBytes(StandardCharsets.UTF_8)));"),
        body('MessageDigest digest = MessageDigest.getInstance("SHA-256");',
             "return HexFormat.of().formatHex(digest.digest(",
             "    password.getBytes(StandardCharsets.UTF_8)));")),
}
SCENARIOS = [("python", name) for name in PYTHON] + [("java", name) for name in JAVA]


@pytest.fixture(scope="module")
def pipelines() -> Iterator[dict[str, Pipeline]]:
    warm = {language: Pipeline(language) for language in ("python", "java")}
    yield warm
    for pipeline in warm.values():
        pipeline.close()


def checked_pool(pipeline: Pipeline, language: str, name: str) -> tuple[Task, list[Candidate]]:
    prompt, insecure, clean = (PYTHON if language == "python" else JAVA)[name]
    task = Task(f"scenario/{name}", prompt, language)  # type: ignore[arg-type]
    pool = pipeline.check(task, [insecure, insecure, clean])
    assert all(c.compiles for c in pool), [c.errors for c in pool]
    return task, pool


@pytest.mark.parametrize(("language", "name"), SCENARIOS)
def test_the_analyzers_see_the_vulnerability_on_generated_lines_only_in_the_insecure_copies(
        pipelines: dict[str, Pipeline], language: str, name: str) -> None:
    pipeline = pipelines[language]
    _, pool = checked_pool(pipeline, language, name)
    blocking = [bool(pipeline.judge.blocking(c)) for c in pool]
    assert blocking == [True, True, False]


@pytest.mark.parametrize("ranker", TIERED_RANKERS)
@pytest.mark.parametrize(("language", "name"), SCENARIOS)
def test_the_clean_candidate_comes_first(pipelines: dict[str, Pipeline], language: str,
                                         name: str, ranker: str) -> None:
    task, pool = checked_pool(pipelines[language], language, name)
    ranked = get_ranker(ranker, language).rank(task, pool)
    assert ranked[0].index == 2, [(c.index, c.score_parts) for c in ranked]


@pytest.mark.parametrize(("language", "name"), SCENARIOS)
def test_the_default_pipeline_shows_the_clean_candidate_and_calls_it_clean(
        pipelines: dict[str, Pipeline], language: str, name: str) -> None:
    prompt, insecure, clean = (PYTHON if language == "python" else JAVA)[name]
    report = pipelines[language].run(prompt, [insecure, insecure, clean])
    assert report.best is not None and report.best.index == 2 and report.clean


def test_the_issue_case_puts_the_shlex_version_first(pipelines: dict[str, Pipeline]) -> None:
    """Issue 13's reproduction: shell=True, shlex.split + subprocess.run, shell=True again."""
    prompt = ('import subprocess\n\ndef run_command(cmd: str) -> str:\n'
              '    """Run the command line cmd and return what it printed."""\n')
    shell = "    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout\n"
    split = ("    import shlex\n"
             "    return subprocess.run(shlex.split(cmd), capture_output=True, text=True).stdout\n")
    for ranker in TIERED_RANKERS:
        with Pipeline("python", analyzers=pipelines["python"].analyzers,
                      ranker=ranker) as pipeline:
            report = pipeline.run(prompt, [shell, split, shell])
        assert report.best is not None and report.best.index == 1, ranker
        assert "shell=True" not in report.best.code


@pytest.mark.parametrize("ranker", RUNNING_RANKERS)
def test_when_every_candidate_passes_the_examples_the_tier_decides(
        pipelines: dict[str, Pipeline], ranker: str) -> None:
    """The docstring's example runs in the sandbox and every candidate passes it."""
    prompt = doc("def calculate(expression: str) -> float:",
                 "Evaluate the arithmetic expression.\n    >>> calculate('1 + 2 * 3')\n    7\n   ")
    _, insecure, clean = PYTHON["eval-input"]
    task = Task("scenario/eval-example", prompt, "python", "calculate")
    pool = pipelines["python"].check(task, [insecure, insecure, clean])
    with closing(get_ranker(ranker, "python")) as ranking:
        ranked = ranking.rank(task, pool)
    assert ranked[0].index == 2, [(c.index, c.score_parts) for c in ranked]


@pytest.mark.parametrize("ranker", RUNNING_RANKERS)
def test_a_clean_candidate_comes_before_an_insecure_one_that_alone_passes_the_examples(
        pipelines: dict[str, Pipeline], ranker: str) -> None:
    """Security outranks the examples too: only the MD5 copies reproduce the docstring's
    digest, and the SHA-256 candidate (no finding) still comes first."""
    prompt = "import hashlib\n\n" + doc(
        "def fingerprint(text: str) -> str:",
        "Return the hex digest of text.\n    >>> fingerprint('a')\n"
        "    '0cc175b9c0f1b6a831c399e269772661'\n   ")
    insecure = "    return hashlib.md5(text.encode()).hexdigest()\n"
    clean = "    return hashlib.sha256(text.encode()).hexdigest()\n"
    task = Task("scenario/md5-example", prompt, "python", "fingerprint")
    pool = pipelines["python"].check(task, [insecure, insecure, clean])
    assert [bool(pipelines["python"].judge.blocking(c)) for c in pool] == [True, True, False]
    with closing(get_ranker(ranker, "python")) as ranking:
        ranked = ranking.rank(task, pool)
    assert ranked[0].index == 2, [(c.index, c.score_parts) for c in ranked]
    # The runs saw it: the examples' part credits the insecure copies, not the clean one.
    examples = {c.index: sum(v for k, v in (c.score_parts or {}).items()
                             if k.startswith("examples.")) for c in ranked}
    assert examples[0] == examples[1] > examples[2]
