"""Each Java rule: a snippet it must flag and a close one it must not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from franc.analysis.java_rules import RULES, Hit, JavaRulesAnalyzer, Unit, call_name, rule


def unit(body: str, members: str = "") -> str:
    return ("import java.io.*; import java.sql.*; import java.security.*; import javax.crypto.*;\n"
            "import java.util.*; import javax.net.ssl.*; import java.nio.file.*;\n"
            "import java.security.cert.X509Certificate;\n"
            f"public class A {{\n{members}\n"
            f"  void run(String name, Connection c) throws Exception {{\n{body}\n  }}\n}}\n")


CASES: dict[str, tuple[str, str]] = {
    "sql-injection": (
        unit("Statement s = c.createStatement();\n"
             "s.executeQuery(\"select * from t where n='\" + name + \"'\"); s.close();"),
        unit('PreparedStatement s = c.prepareStatement("select * from t where n=?");\n'
             "s.setString(1, name); s.close();")),
    "command-injection": (
        unit('Runtime.getRuntime().exec("ls " + name);'),
        unit('Runtime.getRuntime().exec("ls -l"); new ProcessBuilder("ls", "-l");')),
    "weak-hash": (
        unit('MessageDigest d = MessageDigest.getInstance("MD5");'),
        unit('MessageDigest d = MessageDigest.getInstance("SHA-256");')),
    "weak-cipher": (
        unit('Cipher x = Cipher.getInstance("DES/CBC/PKCS5Padding");\n'
             'Cipher y = Cipher.getInstance("AES/ECB/NoPadding");'),
        unit('Cipher x = Cipher.getInstance("AES/GCM/NoPadding");')),
    "insecure-random": (
        unit("", "  String newToken() { return Long.toString(new Random().nextLong()); }"),
        unit("", "  int rollDice() { return new Random().nextInt(6); }\n"
                 "  String newToken() { return Long.toString(new SecureRandom().nextLong()); }")),
    "hardcoded-credentials": (
        unit('String password = "hunter2";\n'
             'Connection d = DriverManager.getConnection("jdbc:x", "sa", "s3cret"); d.close();'),
        unit('String password = System.getenv("DB_PASSWORD"); String greeting = "hello";')),
    "xxe": (
        unit("javax.xml.parsers.DocumentBuilderFactory f =\n"
             "    javax.xml.parsers.DocumentBuilderFactory.newInstance();"),
        unit("javax.xml.parsers.DocumentBuilderFactory f =\n"
             "    javax.xml.parsers.DocumentBuilderFactory.newInstance();\n"
             'f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);')),
    "unsafe-deserialization": (
        unit('try (ObjectInputStream in = new ObjectInputStream(new FileInputStream("a"))) {\n'
             "  Object o = in.readObject(); }"),
        unit('try (DataInputStream in = new DataInputStream(new FileInputStream("a"))) {\n'
             "  int o = in.readInt(); }")),
    "path-traversal": (
        unit('File f = new File("/var/data/" + name);'),
        unit('File f = new File("/var/data/", name).getCanonicalFile();\n'
             'Path p = Paths.get("/etc/hosts");')),
    "trust-all": (
        unit("", "  class T implements X509TrustManager {\n"
                 "    public void checkClientTrusted(X509Certificate[] a, String b) {}\n"
                 "    public void checkServerTrusted(X509Certificate[] a, String b) {}\n"
                 "    public X509Certificate[] getAcceptedIssuers() { return null; } }\n"
                 "  void v(HttpsURLConnection k) { k.setHostnameVerifier((h, s) -> true); }"),
        unit("", "  void v(HttpsURLConnection k) {\n"
                 '    k.setHostnameVerifier((h, s) -> h.equals("example.org")); }')),
    "empty-catch": (
        unit("try { Integer.parseInt(name); } catch (NumberFormatException e) { }"),
        unit("try { Integer.parseInt(name); }\n"
             "catch (NumberFormatException e) { throw new IllegalArgumentException(e); }")),
    "catch-generic": (
        unit("try { Integer.parseInt(name); } catch (Exception e) { throw new Error(e); }"),
        unit("try { Integer.parseInt(name); }\n"
             "catch (NumberFormatException e) { throw new Error(e); }")),
    "unclosed-resource": (
        unit('BufferedReader r = new BufferedReader(new FileReader("a.txt")); r.readLine();'),
        unit('try (BufferedReader r = new BufferedReader(new FileReader("a.txt"))) {\n'
             "  r.readLine(); }\n"
             'Scanner in = new Scanner(System.in);\n'
             'FileReader f = new FileReader("b"); f.close();')),
    "string-equality": (
        unit('if (name == "admin") { return; }'),
        unit('if ("admin".equals(name) || name == null) { return; }\n'
             "int k = 1; if (k == 2) { return; }")),
    "system-exit": (
        unit("System.exit(1);"),
        unit("", "  public static void main(String[] args) { System.exit(0); }")),
}


def rule_ids(code: str) -> set[str]:
    (findings,) = JavaRulesAnalyzer().analyze_batch([code])
    return {f.rule_id for f in findings}


def test_every_rule_has_a_case() -> None:
    assert {rule.id for rule in RULES} == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_flags_positive_case(rule_id: str) -> None:
    assert rule_id in rule_ids(CASES[rule_id][0])


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_spares_negative_case(rule_id: str) -> None:
    assert rule_id not in rule_ids(CASES[rule_id][1])


def test_findings_carry_rule_metadata_and_position() -> None:
    code = unit('MessageDigest d = MessageDigest.getInstance("SHA-1");')
    (findings,) = JavaRulesAnalyzer().analyze_batch([code])
    (hit,) = [f for f in findings if f.rule_id == "weak-hash"]
    assert (hit.tool, hit.cwe, hit.severity) == ("java-rules", 328, "medium")
    assert hit.confidence == "high"
    assert hit.line == 7 and hit.column > 0


def test_rules_have_unique_ids_and_cwes() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.cwe > 0 and r.severity in ("low", "medium", "high") for r in RULES)


def test_the_decorator_keeps_each_rules_metadata_next_to_it() -> None:
    by_id = {r.id: r for r in RULES}
    assert (by_id["sql-injection"].cwe, by_id["sql-injection"].severity,
            by_id["sql-injection"].confidence, by_id["sql-injection"].security) == (
        89, "high", "medium", True)
    assert not by_id["empty-catch"].security
    assert {r.id for r in RULES if r.security} == {
        "sql-injection", "command-injection", "weak-hash", "weak-cipher", "insecure-random",
        "hardcoded-credentials", "xxe", "unsafe-deserialization", "path-traversal", "trust-all"}


def test_a_rule_built_with_the_decorator_runs_in_the_analyzer() -> None:
    @rule("no-println", cwe=1, severity="low", confidence="high", security=False,
          description="System.out.println")
    def no_println(unit: Unit) -> Iterator[Hit]:
        for call in unit.nodes("method_invocation"):
            if call_name(call) == "println":
                yield call, "println"

    code = 'class A { void f() { System.out.println("x"); } }'
    analyzer = JavaRulesAnalyzer(rules=[no_println])
    [findings] = analyzer.analyze_batch([code])
    assert [(f.rule_id, f.line, f.severity) for f in findings] == [("no-println", 1, "low")]
    assert analyzer.analyze_batch(["class A { void f() { } }"]) == [[]]


@pytest.mark.parametrize("command", [
    'Runtime.getRuntime().exec("ls -l " + name);',
    "Runtime.getRuntime().exec(name);",
    'Runtime.getRuntime().exec(new String[] {"bash", "-c", "ls " + name});',
    'new ProcessBuilder("sh", "-c", "ls " + name);',
    'new ProcessBuilder("cmd.exe", "/c", name);',
    "new ProcessBuilder(name);",
    'new ProcessBuilder(name, "-l");',
    'new ProcessBuilder(List.of("/bin/sh", "-c", name));',
])
def test_command_injection_flags_command_lines_programs_and_scripts_from_input(
        command: str) -> None:
    assert "command-injection" in rule_ids(unit(command))


@pytest.mark.parametrize("command", [
    'new ProcessBuilder("ls", "-l", "--", name);',
    'Runtime.getRuntime().exec(new String[] {"ls", "-l", name});',
    'new ProcessBuilder(Arrays.asList("git", "log", name));',
    'new ProcessBuilder("sh", "-c", "ls -l /tmp");',
])
def test_command_injection_spares_separate_arguments_of_a_constant_program(
        command: str) -> None:
    """Each argument reaches the program as it is: no shell splits or interprets it."""
    assert "command-injection" not in rule_ids(unit(command))
