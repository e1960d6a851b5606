"""Rendering every repair template in both languages, and template lookup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from franc.errors import InputError
from franc.jsonl import read_jsonl
from franc.models import Candidate, Finding, Task
from franc.policy import shipped_dir
from franc.repair import available_templates, load_template
from franc.repair.templates import load_hints

PY_PROMPT = "import yaml\n\n\ndef load(path):\n    '''Load a YAML file.'''\n"
PY_CODE = PY_PROMPT + "    with open(path) as f:\n        data = yaml.load(f)\n    return data\n"
JAVA_PROMPT = "import java.util.*;\n\nclass Hash {\n    public static String hash(String s) {\n"
JAVA_CODE = (JAVA_PROMPT + "        Random r = new Random();\n"
             "        return s + r.nextInt();\n    }\n}\n")

CASES = {
    "python": (Task("t/1", PY_PROMPT, "python"), Candidate("t/1", 0, PY_CODE),
               [Finding("bandit", "B404", "import in prompt", "low", "high", 1, in_prompt=True),
                Finding("bandit", "B506", "Use of unsafe yaml load.", "medium", "high", 7,
                        cwe=20)]),
    "java": (Task("t/2", JAVA_PROMPT, "java"), Candidate("t/2", 0, JAVA_CODE),
             [Finding("java-rules", "insecure-random", "java.util.Random for tokens", "medium",
                      "medium", 5, cwe=330)]),
}
COMMENT = {"python": "#", "java": "//"}


def render(name: str, language: str):
    task, candidate, findings = CASES[language]
    return load_template(name, language).render(task, candidate, findings)


def test_shipped_templates_are_listed() -> None:
    assert {"P1", "P2", "P3", "P3S", "chat"} <= set(available_templates())
    assert "hints" not in available_templates()


@pytest.mark.parametrize("language", ["python", "java"])
def test_p1_is_code_fix_comments_and_fixed_code_marker(language: str) -> None:
    _task, candidate, findings = CASES[language]
    c = COMMENT[language]
    rendered = render("P1", language)
    fixes = "".join(f"{c} Fix: At line {f.line}, {f.message}\n" for f in findings)
    assert rendered.prompt == f"{candidate.code}{fixes}\n{c} Fixed Code: \n"
    assert rendered.continues == ""


@pytest.mark.parametrize("language", ["python", "java"])
def test_p2_ends_with_the_original_prompt(language: str) -> None:
    task, candidate, _findings = CASES[language]
    rendered = render("P2", language)
    assert rendered.prompt.startswith(candidate.code + f"{COMMENT[language]} Fix: At line ")
    assert rendered.prompt.endswith(task.prompt)
    assert rendered.continues == task.prompt


def test_p3s_keeps_the_prompt_span_the_filter_recorded() -> None:
    # The filter recorded only the first 2 lines as the prompt: a finding on line 4 (the
    # model's own def) cuts there, although the task's prompt has 5 lines.
    task, candidate, _ = CASES["python"]
    recorded = Candidate(candidate.task_id, 0, candidate.code, prompt_span=2)
    flagged = [Finding("bandit", "B999", "flagged def", "high", "high", 4)]
    rendered = load_template("P3S", "python").render(task, recorded, flagged)
    assert rendered.continues == "import yaml\n\n"  # lines 1-3, before the flagged line 4


@pytest.mark.parametrize("language", ["python", "java"])
def test_p3_cuts_before_the_first_flagged_generated_line(language: str) -> None:
    _task, candidate, findings = CASES[language]
    c = COMMENT[language]
    generated = [f for f in findings if not f.in_prompt]
    first = min(f.line for f in generated)
    before = "\n".join(candidate.code.split("\n")[:first - 1])
    rendered = render("P3", language)
    fixes = "".join(f"{c} Fix: {f.message}\n" for f in generated)
    assert rendered.prompt == f"{before}\n{fixes}\n{c} Fixed Code: \n"
    assert rendered.continues == before
    assert "At line" not in rendered.prompt


@pytest.mark.parametrize("language", ["python", "java"])
def test_p3s_keeps_signature_and_docstring_and_gives_hints(language: str) -> None:
    task, _candidate, _findings = CASES[language]
    rendered = render("P3S", language)
    assert isinstance(rendered.prompt, str)
    assert rendered.prompt.endswith(rendered.continues)
    assert rendered.continues.startswith(task.prompt)
    assert "Hint:" in rendered.prompt and "(CWE-" in rendered.prompt
    assert rendered.prompt.startswith(f"{COMMENT[language]} Fix: At line")


def test_p3s_never_cuts_into_the_prompt() -> None:
    task, candidate, _ = CASES["python"]
    flagged_signature = [Finding("bandit", "B999", "flagged def", "high", "high", 4)]
    rendered = load_template("P3S", "python").render(task, candidate, flagged_signature)
    assert rendered.continues == task.prompt


@pytest.mark.parametrize("language", ["python", "java"])
def test_chat_states_each_finding_with_cwe_and_hint(language: str) -> None:
    _task, candidate, findings = CASES[language]
    rendered = render("chat", language)
    assert isinstance(rendered.prompt, list)
    assert [m["role"] for m in rendered.prompt] == ["system", "user"]
    user = rendered.prompt[1]["content"]
    generated = [f for f in findings if not f.in_prompt]
    for finding in generated:
        assert f"line {finding.line}: [{finding.tool} {finding.rule_id}, CWE-{finding.cwe}" in user
    assert "Fix hint:" in user
    assert "one fenced code block" in rendered.prompt[0]["content"]
    assert f"```{language}\n{candidate.code.rstrip()}\n```" in user
    assert rendered.continues == ""


def test_hint_falls_back_to_tool_default() -> None:
    task, candidate, _ = CASES["python"]
    odd = [Finding("bandit", "B9999", "odd", "high", "high", 6)]
    user = load_template("chat", "python").render(task, candidate, odd).prompt[1]["content"]
    assert "Follow the bandit message" in user


def test_shipped_hints_validate_and_a_bad_hints_file_names_the_key(tmp_path: Path) -> None:
    hints = load_hints(shipped_dir("repair_prompts") / "hints.toml")
    assert hints.default and hints.hint(Finding("bandit", "B101", "m", "low", "low", 1)) \
        .startswith("Raise an explicit exception")
    for text, key in [('default = 3\n', "default"), ('[bandit]\nB101 = ["x"]\n', "bandit.B101"),
                      ('bandit = "x"\n', "bandit")]:
        path = tmp_path / f"hints{len(key)}.toml"
        path.write_text(text)
        with pytest.raises(InputError, match=rf"hints\d+\.toml: {re.escape(key)}: "):
            load_hints(path)
    broken = tmp_path / "broken.toml"
    broken.write_text("[bandit\n")
    with pytest.raises(InputError, match=r"broken\.toml: not TOML"):
        load_hints(broken)


def test_user_template_by_path_and_strict_fields(tmp_path: Path) -> None:
    task, candidate, findings = CASES["python"]
    mine = tmp_path / "mine.j2"
    mine.write_text("{{ comment }} {{ findings | length }} issues in {{ task_id }}\n")
    assert load_template(mine, "python").render(task, candidate, findings).prompt == \
        "# 2 issues in t/1\n"
    typo = tmp_path / "typo.j2"
    typo.write_text("{{ cod }}")
    with pytest.raises(InputError, match=r"typo\.j2: template error"):
        load_template(typo, "python").render(task, candidate, findings)


def test_language_specific_template_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import franc.policy

    folder = tmp_path / "repair_prompts"
    folder.mkdir()
    (folder / "P1.j2").write_text("shared\n")
    (folder / "P1_java.j2").write_text("java only\n")
    monkeypatch.setattr(franc.policy, "shipped_dir", lambda kind: folder)
    assert load_template("P1", "java").path.name == "P1_java.j2"
    assert load_template("P1", "python").path.name == "P1.j2"


def test_unknown_template_lists_the_shipped_ones() -> None:
    with pytest.raises(InputError, match="P1"):
        load_template("P9", "python")
    with pytest.raises(InputError, match="hints"):
        load_template("hints", "python")


def test_bad_chat_template(tmp_path: Path) -> None:
    task, candidate, findings = CASES["python"]
    bad = tmp_path / "bad.toml"
    bad.write_text("system = 'only a system message'\n")
    with pytest.raises(InputError, match="needs a 'user'"):
        load_template(bad, "python").render(task, candidate, findings)


@pytest.mark.parametrize("template", ["P1", "P2", "P3"])
def test_reproduces_francs_recorded_prompts(reference_dir: Path, template: str) -> None:
    """Rebuilt from FRANC's own code and messages, our templates give its prompts byte for byte."""
    tasks = {row["task_id"]: row["prompt"] for _, row in
             read_jsonl(reference_dir / "benchmarks" / "SecurityEval_python.jsonl")}
    name = "SecurityEval_python_codeparrot_128_10.jsonl.gz"
    p1 = {row["task_id"]: row["repair_prompt"] for _, row in
          read_jsonl(reference_dir / "repair" / f"P1_{name}")}
    rows = [row for _, row in read_jsonl(reference_dir / "repair" / f"{template}_{name}")]
    assert rows
    for row in rows:
        source = p1[row["task_id"]]
        code = source[:source.index("# Fix: At line")]
        prompt_lines = len(tasks[row["task_id"]].rstrip("\n").split("\n"))
        findings = [Finding("bandit", "B000", message, "medium", "high", int(line),
                            in_prompt=int(line) <= prompt_lines)
                    for line, message in re.findall(r"# Fix: At line (\d+), ([^\n]*)", source)]
        task = Task(row["task_id"], tasks[row["task_id"]], "python")
        rendered = load_template(template, "python").render(
            task, Candidate(row["task_id"], 0, code), findings)
        assert rendered.prompt == row["repair_prompt"]


def test_a_chat_template_with_an_unknown_key_names_it(tmp_path: Path) -> None:
    task, candidate, findings = CASES["python"]
    bad = tmp_path / "typo.toml"
    bad.write_text("user = 'fix {{ code }}'\nsytem = 'you fix code'\n")
    with pytest.raises(InputError, match=r"typo\.toml: sytem: Extra inputs are not permitted"):
        load_template(bad, "python").render(task, candidate, findings)
