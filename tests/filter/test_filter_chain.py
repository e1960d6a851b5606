"""Chain loading from TOML, StaticFilter (fix/run/run_many/close), hostile candidates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from franc.errors import InputError
from franc.filter import EMPTY_BODY, StaticFilter, load_chain
from franc.filter.base import Heuristic
from franc.filter.chain import Chain, Step
from franc.models import CompileResult, Task

PROMPT = 'def double(x: int) -> int:\n    """Twice x."""\n'
TASK = Task("t/1", PROMPT, "python", entry_point="double")


def write_chain(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chain.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_python_chain_loads_in_order_with_params() -> None:
    chain = load_chain("python")
    assert chain.ids[:3] == ["extract-code-block", "cut-end-markers", "strip-prose"]
    assert chain.ids[-2:] == ["truncate-incomplete", "add-missing-imports"]
    markers = next(s.params["markers"] for s in chain.steps if s.heuristic.id == "cut-end-markers")
    assert "<|endoftext|>" in markers


def test_chain_from_a_path_with_parameters(tmp_path: Path) -> None:
    path = write_chain(tmp_path, 'language = "python"\n[[step]]\nid = "cut-end-markers"\n'
                                 'markers = ["# STOP"]\n')
    with StaticFilter("python", path) as static_filter:
        code, applied = static_filter.fix(TASK, PROMPT + "    return 2 * x\n# STOP\njunk(")
    assert code == PROMPT + "    return 2 * x\n" and applied == ["cut-end-markers"]


@pytest.mark.parametrize("text, message", [
    ('language = "python"\n[[step]]\nid = "no-such-step"\n',
     "unknown python heuristic 'no-such-step'"),
    ('language = "python"\n', "no [[step]] tables"),
    ('language = "python"\n[[step]]\nmarkers = []\n', "step 1 has no string 'id'"),
    ('language = "java"\n[[step]]\nid = "cut-end-markers"\n', "for language 'java'"),
    ('language = "python"\n[[step]\n', "malformed TOML"),
    # Schema errors name the key.
    ('language = "cobol"\n[[step]]\nid = "extract-code-block"\n', "language: Input should be"),
    ('language = "python"\n[[step]]\nid = 3\n', "step.0.id: Input should be a valid string"),
    ('language = "python"\nsteps = []\n[[step]]\nid = "extract-code-block"\n',
     "steps: Extra inputs are not permitted"),
])
def test_bad_chain_files_name_the_problem_and_the_file(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = write_chain(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_chain("python", path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_unknown_chain_name_and_language_are_input_errors() -> None:
    with pytest.raises(InputError, match="no filters policy 'nonexistent'"):
        load_chain("python", "nonexistent")
    with pytest.raises(InputError, match="unknown language 'cobol'"):
        StaticFilter("cobol")


def test_run_many_repairs_compiles_and_keeps_the_original_index() -> None:
    items = [(TASK, 3, "```python\ndef double(x):\n    return x * 2\n```"),
             (TASK, 7, PROMPT + "    return x +"),
             (TASK, 9, PROMPT + "    pass\n")]
    with StaticFilter("python") as static_filter:
        first, second, third = static_filter.run_many(items)
    assert (first.index, first.compiles, first.errors) == (3, True, [])
    assert first.heuristics == ["extract-code-block"]
    assert second.index == 7 and second.compiles is False and second.errors == [EMPTY_BODY]
    assert third.compiles is False and third.errors == [EMPTY_BODY]


def test_run_reports_compile_errors_of_code_that_cannot_be_repaired(tmp_path: Path) -> None:
    with StaticFilter("python") as static_filter:
        candidate = static_filter.run(TASK, PROMPT + "    return x\n  y = 1\n", index=2)
    # the stray line is cut back; what is left compiles
    assert candidate.compiles and candidate.code.endswith("    return x\n")
    only_markers = write_chain(tmp_path, 'language = "python"\n[[step]]\nid = "cut-end-markers"\n')
    with StaticFilter("python", only_markers) as static_filter:
        broken = static_filter.run(TASK, PROMPT + "    return x +\n")
    assert not broken.compiles and broken.errors[0].startswith("line 3:")


def test_a_raising_heuristic_fails_its_candidate_only() -> None:
    def explode(code: str, context: object) -> str:
        if "boom" in code:
            raise RecursionError("maximum recursion depth exceeded")
        return code

    static_filter = StaticFilter("python")
    static_filter.chain = Chain("python", (Step(Heuristic("explode", "test", explode)),), "test")
    good, bad = static_filter.run_many([(TASK, 0, PROMPT + "    return 2 * x\n"),
                                        (TASK, 1, PROMPT + "    return 'boom'\n")])
    static_filter.close()
    assert good.compiles
    assert not bad.compiles and "explode" in bad.errors[0] and "RecursionError" in bad.errors[0]


class CountingCompiler:
    def __init__(self) -> None:
        self.batches: list[int] = []
        self.closed = False

    def check(self, units: list[str]) -> list[CompileResult]:
        self.batches.append(len(units))
        return [CompileResult(ok=True) for _ in units]

    def close(self) -> None:
        self.closed = True


def test_run_many_compiles_in_one_batch_and_leaves_a_shared_compiler_open() -> None:
    compiler = CountingCompiler()
    with StaticFilter("python", compiler=compiler) as static_filter:
        static_filter.run_many([(TASK, i, PROMPT + f"    return {i}\n") for i in range(5)])
    assert compiler.batches == [5] and compiler.closed is False


# --- hostile candidates ----------------------------------------------------------------------

HOSTILE = {
    "huge": PROMPT + "    return 1\n" + "x = 1\n" * 300_000,
    "too large": "x" * (StaticFilter.max_chars + 1),
    "deep brackets": PROMPT + "    return " + "(" * 50_000 + "1" + ")" * 50_000 + "\n",
    "deep unclosed": PROMPT + "    return " + "[" * 100_000,
    "deep blocks": PROMPT + "".join("    " * (i + 1) + "if x:\n" for i in range(120)),
    "surrogates": PROMPT + "    return '" + b"\xff\xfe".decode("utf-8", "surrogateescape") + "'\n",
    "binary": bytes(range(256)).decode("latin-1") * 20,
    "null bytes": PROMPT + "    return 1\x00\n",
    "empty": "",
    "only fences": "```\n```\n```",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_candidates_never_abort_the_batch(name: str) -> None:
    with StaticFilter("python") as static_filter:
        hostile, normal = static_filter.run_many(
            [(TASK, 0, HOSTILE[name]), (TASK, 1, PROMPT + "    return 2 * x\n")])
    assert normal.compiles
    assert isinstance(hostile.compiles, bool) and isinstance(hostile.code, str)
    if not hostile.compiles:
        assert hostile.errors, name
    if name in ("too large", "binary", "null bytes", "empty", "only fences"):
        assert not hostile.compiles


def test_run_many_records_the_prompt_span_it_merged() -> None:
    continued = PROMPT + "    return 2 * x\n"  # a completion model repeats the prompt
    with StaticFilter("python") as static_filter:
        bare, repeated, other = static_filter.run_many([
            (TASK, 0, "    return 2 * x\n"), (TASK, 1, continued),
            (TASK, 2, "def double(value):\n    return 2 * value\n")])  # re-declared
        instruction = static_filter.run(
            Task("nl", "Write a function that doubles a number.", "python"),
            "def double(x):\n    return 2 * x\n")
    assert bare.code == continued and bare.prompt_span == 2
    assert repeated.prompt_span == 2
    assert other.code.startswith("def double(value):") and other.prompt_span == 0
    assert instruction.prompt_kind == "instruction" and instruction.prompt_span == 0


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_run_many_records_the_prompt_span_of_a_java_merge() -> None:
    prompt = ("import java.util.*;\n\nclass Twice {\n    /** Twice x. */\n"
              "    public static int twice(int x) {\n")
    task = Task("j/1", prompt, "java", entry_point="twice")
    with StaticFilter("java") as static_filter:
        candidate = static_filter.run(task, "        return 2 * x;\n    }\n}\n")
    assert candidate.compiles, candidate.errors
    assert candidate.code.startswith(prompt) and candidate.prompt_span == 5

