"""Each Java heuristic on a small input, positive (it repairs) and negative (it leaves alone)."""

from __future__ import annotations

import shutil

import pytest

from franc.filter import EMPTY_BODY, StaticFilter, load_chain
from franc.filter.base import FilterContext
from franc.filter.java import (
    HEURISTICS,
    SUPPORT,
    TRUNCATION_NOTE,
    TRUNCATION_THROW,
    _prompt_floor,
    add_imports,
    complete_truncated,
    cut_at_compile_error,
    drop_extra_classes,
    drop_repeated_methods,
    has_generated_body,
    merge_java_prompt,
    open_brackets,
    single_public_class,
)
from franc.java.flow import can_complete_normally
from franc.java.syntax import has_syntax_error, node_text, parse
from franc.models import CompileResult, Task

PROMPT = (
    "import java.io.*;\nimport java.util.*;\n\n\nclass AddOne {\n"
    "    /**\n     * Add one to x.\n     * > addOne(1)\n     * 2\n     */\n"
    "    public static Integer addOne(Integer x) {\n"
)
TASK = Task(task_id="t/0", prompt=PROMPT, language="java", entry_point="addOne")


def ctx(**params: object) -> FilterContext:
    return FilterContext(TASK, params)


def shipped_params(heuristic_id: str) -> dict[str, object]:
    chain = load_chain("java")
    return dict(next(s.params for s in chain.steps if s.heuristic.id == heuristic_id))


def test_registry_ids_are_unique_and_support_is_java():
    ids = [h.id for h in HEURISTICS]
    assert len(ids) == len(set(ids))
    assert SUPPORT.language == "java" and SUPPORT.heuristics == HEURISTICS


# --- H2 prompt merge -----------------------------------------------------------------------

def test_merge_bare_body_with_surplus_braces_from_a_chat_model():
    raw = "Integer y = x + 1;\nreturn y;\n}\n}"
    merged = merge_java_prompt.apply(raw, ctx())
    # The body goes under the method's indentation, the closing braces to their columns.
    assert merged == PROMPT + "        Integer y = x + 1;\n        return y;\n    }\n}"
    assert not has_syntax_error(merged)


def test_merge_reindents_a_bare_body_without_changing_a_token_or_a_text_block():
    raw = ('String s = """\n  a {\n  """;\nfor (int i = 0; i < 2; i++) {\n    s += "}";\n'
           "  // a comment\n}\nreturn s.length() + x;\n}\n}\n")
    merged = merge_java_prompt.apply(raw, ctx())
    body = merged.removeprefix(PROMPT)
    assert body == ('        String s = """\n  a {\n  """;\n'
                    "        for (int i = 0; i < 2; i++) {\n            s += \"}\";\n"
                    "          // a comment\n        }\n        return s.length() + x;\n    }\n}\n")
    assert body.split() == raw.split()  # only whitespace between tokens moved
    assert not has_syntax_error(merged)


def test_merge_leaves_a_body_at_the_method_indentation_alone():
    raw = "        return x + 1;\n    }\n}\n"
    assert merge_java_prompt.apply(raw, ctx()) == PROMPT + raw


def test_merge_bare_method_is_wrapped_in_the_prompt_class():
    raw = "    static Integer addOne(Integer x) {\n        return x + 1;\n    }"
    merged = merge_java_prompt.apply(raw, ctx())
    assert merged.startswith("import java.io.*;\nimport java.util.*;")
    assert "class AddOne {" in merged and merged.count("addOne(Integer x)") == 1
    assert not has_syntax_error(merged)


def test_merge_resumes_a_repeated_signature_and_h7_closes_the_class():
    raw = "public static Integer addOne(Integer x) {\n    return x + 1;\n}"
    merged = merge_java_prompt.apply(raw, ctx())
    assert merged.startswith(PROMPT.rsplit("\n", 2)[0]) and merged.count("addOne(Integer x)") == 1
    assert not has_syntax_error(complete_truncated.apply(merged, ctx()))


def test_merge_whole_class_adds_missing_imports_and_the_prompt_class_name():
    raw = ("public class Solution {\n    public static Integer addOne(Integer x) {\n"
           "        List<Integer> xs = new ArrayList<>();\n        return x + 1;\n    }\n}\n")
    merged = merge_java_prompt.apply(raw, ctx())
    assert merged.startswith("import java.io.*;\nimport java.util.*;\n")
    assert "public class AddOne {" in merged and "Solution" not in merged


def test_merge_keeps_a_repeated_prompt_once():
    raw = PROMPT + "        return x + 1;\n    }\n}\n"
    assert merge_java_prompt.apply(raw, ctx()) == raw
    tail_only = PROMPT[PROMPT.index("    /**"):] + "        return x + 1;\n    }\n}\n"
    merged = merge_java_prompt.apply(tail_only, ctx())
    assert merged.count("Add one to x.") == 1 and merged.startswith("import java.io.*;")


def test_merge_puts_a_bare_method_at_the_member_indentation_and_keeps_its_inner_layout():
    # A chat model's method at column 0 under an indented Javadoc, with a helper and a text
    # block: each member's first line goes to the class's member column, the lines inside it
    # move with it, the text block's lines (part of the string's value) stay where they were.
    raw = ('    /** Adds one. */\n@Deprecated\npublic static Integer addOne(Integer x) {\n'
           '    String s = """\n  kept {\n  """;\n    /* two\n       lines */\n'
           "    return helper(x,\n        s.length());\n}\n\nstatic int helper(int a, int b) {\n"
           "  return a + 1;\n}\n")
    merged = merge_java_prompt.apply(raw, ctx())
    member = merged[merged.index("    /** Adds one. */"):]
    assert member == ('    /** Adds one. */\n    @Deprecated\n'
                      "    public static Integer addOne(Integer x) {\n"
                      '        String s = """\n  kept {\n  """;\n        /* two\n'
                      "           lines */\n        return helper(x,\n            s.length());\n"
                      "    }\n\n    static int helper(int a, int b) {\n      return a + 1;\n"
                      "    }\n}\n")
    assert member.split()[:-1] == raw.split()  # only whitespace between tokens moved
    assert not has_syntax_error(merged)


def test_merge_indents_a_repeated_signature_at_column_zero_under_the_prompts_javadoc():
    raw = "public static Integer addOne(Integer x) {\n    return x + 1;\n}\n"
    merged = complete_truncated.apply(merge_java_prompt.apply(raw, ctx()), ctx())
    assert merged == PROMPT + "        return x + 1;\n    }\n}\n"


def test_merge_leaves_members_at_the_member_indentation_and_whole_classes_alone():
    at_column = ("    /** Adds one. */\n    public static Integer addOne(Integer x) {\n"
                 "      return x + 1;\n    }\n")
    assert merge_java_prompt.apply(at_column, ctx()).endswith(at_column + "}\n")
    whole = ("import java.util.*;\n\nclass AddOne {\npublic static Integer addOne(Integer x) {\n"
             "return x + 1;\n}\n}\n")
    assert merge_java_prompt.apply(whole, ctx()).endswith(whole)


def test_merge_body_followed_by_a_main_class_is_a_body():
    raw = ("return x + 1;\n}\n}\n\npublic class Main {\n"
           "    public static void main(String[] a) {}\n}\n")
    merged = merge_java_prompt.apply(raw, ctx())
    assert merged.startswith(PROMPT)


# --- H6 extra classes ----------------------------------------------------------------------

def test_drop_extra_classes_keeps_target_and_helpers_it_uses():
    code = (PROMPT + "        return new Pair(x).get();\n    }\n}\n\n"
            "class Pair {\n    int v;\n    Pair(int v) { this.v = v; }\n"
            "    int get() { return v + 1; }\n}\n"
            "\npublic class Main {\n    public static void main(String[] a) {}\n}\n")
    fixed = drop_extra_classes.apply(code, ctx())
    assert "class Pair" in fixed and "class Main" not in fixed
    assert "Add one to x." in fixed and not has_syntax_error(fixed)


def test_drop_extra_classes_drops_a_next_file_started_after_the_target():
    code = PROMPT + ("        return x + 1;\n    }\n}\n"
                     "package org.example.other;\n\nimport java.net.*;\n")
    fixed = drop_extra_classes.apply(code, ctx())
    assert "package" not in fixed and "java.net" not in fixed
    assert fixed.startswith("import java.io.*;\nimport java.util.*;\n")
    assert fixed.rstrip().endswith("return x + 1;\n    }\n}") and not has_syntax_error(fixed)


def test_drop_extra_classes_leaves_a_single_class_alone():
    code = PROMPT + "        return x + 1;\n    }\n}\n"
    assert drop_extra_classes.apply(code, ctx()) == code


def test_drop_extra_classes_never_picks_another_class_when_the_target_is_broken():
    code = PROMPT + "        return x +\n\nclass Main {}\n"
    assert drop_extra_classes.apply(code, ctx()) == code


# --- repeated methods ----------------------------------------------------------------------

def test_drop_repeated_methods_keeps_the_first_of_each_signature():
    code = (PROMPT + "        return x + 1;\n    }\n"
            "    public static Integer addOne(Integer y) {\n        return y;\n    }\n"
            "    public static Integer addOne(Integer y, int z) {\n        return z;\n    }\n}\n")
    fixed = drop_repeated_methods.apply(code, ctx())
    assert fixed == (PROMPT + "        return x + 1;\n    }\n"
                     "    public static Integer addOne(Integer y, int z) {\n"
                     "        return z;\n    }\n}\n")


def test_drop_repeated_methods_leaves_overloads_other_classes_and_broken_code_alone():
    overloads = (PROMPT + "        return x + 1;\n    }\n    static long addOne(long y) {\n"
                 "        return y;\n    }\n}\nclass B {\n    Integer addOne(Integer x) {\n"
                 "        return x;\n    }\n}\n")
    assert drop_repeated_methods.apply(overloads, ctx()) == overloads
    broken = PROMPT + "        return x +\n    }\n    Integer addOne(Integer x) { return x; }\n"
    assert drop_repeated_methods.apply(broken, ctx()) == broken
    one_line = ("class AddOne {\n    int f() { return 1; } int f() { return 2; }"
                " int g() { return 3; }\n}\n")
    assert drop_repeated_methods.apply(one_line, ctx()) == (
        "class AddOne {\n    int f() { return 1; }  int g() { return 3; }\n}\n")


# --- H7 truncation -------------------------------------------------------------------------

def test_complete_truncated_cuts_incomplete_lines_and_closes_braces():
    code = PROMPT + ("        int y = x;\n        if (y > 0) {\n            y = y + 1;\n"
                     "        return foo(y,")
    fixed = complete_truncated.apply(code, ctx(max_cut_lines=200))
    assert not has_syntax_error(fixed)
    assert "y = y + 1;" in fixed and "foo(" not in fixed
    assert fixed.rstrip().endswith("}")


def test_truncation_never_cuts_into_a_repeated_prompt_and_its_continued_last_line():
    prompt_lines = PROMPT.count("\n")
    code = PROMPT.replace("{\n", "{  \n") + "        return x + 1;\n"
    assert _prompt_floor(code, PROMPT) == prompt_lines  # trailing spaces trimmed
    continued = PROMPT.rstrip("\n") + " return x; }"
    assert _prompt_floor(continued, PROMPT) == prompt_lines  # its last line runs on
    assert _prompt_floor("class Other {\n", PROMPT) == 1  # no repeated prompt: no floor


def test_complete_truncated_drops_a_half_main_after_a_finished_target():
    code = (PROMPT + "        return x + 1;\n    }\n\n"
            "    public static void main(String[] args) {\n        int z = addOne(")
    fixed = complete_truncated.apply(code, ctx(drop_incomplete_members=True))
    assert "main" not in fixed and "return x + 1;" in fixed and not has_syntax_error(fixed)
    closed = complete_truncated.apply(code, ctx(drop_incomplete_members=False))
    assert "main(String[] args)" in closed and not has_syntax_error(closed)


def test_complete_truncated_removes_surplus_closing_braces():
    code = PROMPT + "        return x + 1;\n    }\n}\n}\n}\n"
    fixed = complete_truncated.apply(code, ctx())
    assert not has_syntax_error(fixed) and fixed.count("}") == 2 + PROMPT.count("}")


def test_complete_truncated_leaves_parsing_code_alone():
    code = PROMPT + "        return x + 1;\n    }\n}\n"
    assert complete_truncated.apply(code, ctx()) == code


def test_complete_truncated_never_cuts_into_the_prompt():
    code = PROMPT.rstrip("\n") + ") {) {) {());();"
    assert complete_truncated.apply(code, ctx()) == code


def test_complete_truncated_throws_at_the_end_of_a_cut_off_value_method():
    code = PROMPT + ("        int y = x + 1;\n        for (int i = 0; i < y; i++) {\n"
                     "            y -= fo")
    fixed = complete_truncated.apply(code, ctx(throw_at_truncated_end=True))
    assert not has_syntax_error(fixed)
    body = fixed[len(PROMPT):]
    # Every kept statement stays; the throw comes after them, at the method's level, marked.
    assert body.index("int y = x + 1;") < body.index("for (int i = 0") < body.index(
        "java-complete-truncated:") < body.index(TRUNCATION_THROW)
    assert body.count(TRUNCATION_THROW) == 1 and "            throw" not in body
    assert complete_truncated.apply(code, ctx()) == fixed.replace(
        "        // java-complete-truncated: the model's output was cut off in this method\n"
        f"        {TRUNCATION_THROW}\n", "")


@pytest.mark.parametrize("tail", [
    "        if (x > 0) {\n            return x;\n        } else {\n            return 0;\n"
    "        }\n        // the end\n        int z = (",       # no path runs off the end
    "        while (true) {\n            x++;\n        }\n        int z = (",  # endless loop
    "        // only a comment\n        int z = (",              # nothing the model wrote is kept
])
def test_complete_truncated_adds_no_throw_where_javac_needs_none(tail):
    fixed = complete_truncated.apply(PROMPT + tail, ctx(throw_at_truncated_end=True))
    assert not has_syntax_error(fixed) and TRUNCATION_THROW not in fixed


def test_complete_truncated_adds_no_throw_to_a_void_method_or_finished_code():
    void_prompt = PROMPT.replace("static Integer addOne", "static void addOne")
    task = Task(task_id="t/v", prompt=void_prompt, language="java", entry_point="addOne")
    code = void_prompt + "        System.out.println(x);\n        int z = ("
    fixed = complete_truncated.apply(code, FilterContext(task, {"throw_at_truncated_end": True}))
    assert "println(x);" in fixed and TRUNCATION_THROW not in fixed
    finished = PROMPT + "        int y = x;\n    }\n}\n"  # the model's own bug: not ours to hide
    assert complete_truncated.apply(finished, ctx(throw_at_truncated_end=True)) == finished


@pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK")
def test_shipped_chain_makes_a_cut_off_value_method_compile_and_keeps_an_empty_one_honest():
    with StaticFilter("java") as static_filter:
        cut_off, empty = static_filter.run_many([
            (TASK, 0, PROMPT + "        int y = x + 1;\n        if (y > 2) {\n"
                         "            return y;\n        }\n        while (y < 10) {\n"
                         "            y = y * fo"),
            (TASK, 1, PROMPT + "        // TODO\n        int z = ("),
        ])
    assert cut_off.compiles, cut_off.errors
    assert "java-complete-truncated" in cut_off.heuristics and TRUNCATION_THROW in cut_off.code
    assert not empty.compiles and empty.errors == [EMPTY_BODY]


def _statement(code: str):
    klass = parse(f"class A {{ int f(int x) {{ {code} }} }}").root_node.children[0]
    method = klass.child_by_field_name("body").named_children[0]
    return method.child_by_field_name("body").named_children[0]


@pytest.mark.parametrize(("code", "completes"), [
    ("x++;", True),
    ("return x;", False),
    ("throw new RuntimeException();", False),
    ("{ x++; return x; }", False),
    ("if (x > 0) return 1;", True),
    ("if (x > 0) return 1; else return 2;", False),
    ("if (x > 0) { return 1; } else { x++; }", True),
    ("while (true) { x++; }", False),
    ("while (true) { if (x > 3) break; x++; }", True),
    ("while (true) { for (;;) { break; } }", False),
    ("while (x > 0) { return 1; }", True),
    ("for (;;) { x++; }", False),
    ("for (int i = 0; i < x; i++) { return i; }", True),
    ("do { x++; } while (true);", False),
    ("do { return 1; } while (x > 0);", False),
    ("outer: while (true) { while (true) { break outer; } }", True),
    ("try { return 1; } catch (Exception e) { x++; }", True),
    ("try { return 1; } catch (Exception e) { return 2; }", False),
    ("try { x++; } finally { return 3; }", False),
    ("switch (x) { case 1: return 1; default: return 2; }", False),
    ("switch (x) { case 1: return 1; }", True),
    ("switch (x) { case 1: break; default: return 2; }", True),
    ("switch (x) { case 1 -> { return 1; } default -> throw new RuntimeException(); }", False),
    ("synchronized (this) { return 1; }", False),
])
def test_can_complete_normally_follows_jls_reachability(code, completes):
    assert can_complete_normally(_statement(code)) is completes


@pytest.mark.parametrize(("code", "expected"), [
    ("class A { void f() { g(\"}\", '{'); // }\n", ["{", "{"]),
    ("class A { /* { */ }", []),
    ("class A { String s = \"unterminated", None),
    ("class A { } }", None),
    ("class A { int[] a = {1, (2", ["{", "{", "("]),
])
def test_open_brackets_skips_strings_and_comments(code, expected):
    assert open_brackets(code) == expected


# --- imports -------------------------------------------------------------------------------

def test_add_imports_inserts_used_jdk_types_from_the_policy_table():
    code = ("import java.util.*;\n\nclass A {\n    String f(String s) {\n"
            "        Matcher m = Pattern.compile(\"a\").matcher(s);\n"
            "        List<String> xs = Stream.of(s).collect(Collectors.toList());\n"
            "        return new BigInteger(\"1\").toString();\n    }\n}\n")
    fixed = add_imports.apply(code, ctx(**shipped_params("java-add-imports")))
    assert fixed.startswith(
        "import java.util.*;\nimport java.math.BigInteger;\n"
        "import java.util.regex.Matcher;\nimport java.util.regex.Pattern;\n"
        "import java.util.stream.Collectors;\nimport java.util.stream.Stream;\n")
    assert "import java.util.List;" not in fixed  # covered by java.util.*


def test_add_imports_leaves_declared_imported_and_unknown_names():
    code = ("import java.awt.List;\nclass A<Pattern> {\n    class Matcher {}\n"
            "    List l; Pattern p; Matcher m; Foo f;\n}\n")
    assert add_imports.apply(code, ctx(**shipped_params("java-add-imports"))) == code
    assert add_imports.apply("class A { Set<String> s; }", ctx()) == "class A { Set<String> s; }"


# --- file naming ---------------------------------------------------------------------------

def test_single_public_class_keeps_public_on_the_target_only():
    code = "public class Helper {}\n\npublic class AddOne {\n    int f() { return 1; }\n}\n"
    fixed = single_public_class.apply(code, ctx())
    assert fixed == "class Helper {}\n\npublic class AddOne {\n    int f() { return 1; }\n}\n"


def test_single_public_class_leaves_one_public_class_alone():
    code = "class Helper {}\npublic class AddOne {}\n"
    assert single_public_class.apply(code, ctx()) == code


# --- honesty rule --------------------------------------------------------------------------

def test_generated_body_is_recognised():
    assert has_generated_body(PROMPT + "        return x + 1;\n    }\n}\n", TASK)


@pytest.mark.parametrize("body", [
    "    }\n}\n",
    "        // TODO\n    }\n}\n",
    "        /* nothing */\n    }\n}\n",
])
def test_a_target_without_model_statements_has_no_generated_body(body):
    assert not has_generated_body(PROMPT + body, TASK)


def test_a_missing_target_method_has_no_generated_body():
    code = PROMPT.replace("addOne", "other") + "        return x;\n    }\n}\n"
    assert not has_generated_body(code, TASK)


def test_statements_already_in_the_prompt_do_not_count():
    task = Task(task_id="t/1", language="java", entry_point="f",
                prompt="class A {\n    int f() {\n        int y = 1;\n")
    assert not has_generated_body("class A {\n    int f() {\n        int y = 1;\n    }\n}\n", task)
    assert has_generated_body("class A {\n    int f() {\n        int y = 1;\n        return y;\n"
                              "    }\n}\n", task)


def test_the_truncation_throw_and_empty_blocks_are_no_generated_statement():
    throw_only = PROMPT + f"        {TRUNCATION_THROW}\n    }}\n}}\n"
    assert not has_generated_body(throw_only, TASK)
    assert not has_generated_body(PROMPT + "        { { } }\n    }\n}\n", TASK)
    kept = PROMPT + "        { x++; }\n" f"        {TRUNCATION_THROW}\n    }}\n}}\n"
    assert has_generated_body(kept, TASK)


# --- after javac: cut at the first rejected line of a cut-off method ------------------------

CUT_OFF = PROMPT + ("        int y = x + 1;\n        int z = y.size();\n        y = y + z;\n"
                    "        while (y > 0) {\n            y -= fo")


def _marked() -> str:
    return complete_truncated.apply(CUT_OFF, ctx(throw_at_truncated_end=True))


def _error_at(code: str, text: str, message: str = "int cannot be dereferenced") -> str:
    number = next(i for i, line in enumerate(code.split("\n"), start=1) if text in line)
    return f"AddOne.java:{number}: error: {message}"


def after_ctx(*errors: str) -> FilterContext:
    return FilterContext(TASK, {"throw_at_truncated_end": True}, errors)


def test_cut_at_compile_error_cuts_a_cut_off_method_before_the_rejected_line():
    marked = _marked()
    assert TRUNCATION_NOTE in marked and TRUNCATION_THROW in marked
    fixed = cut_at_compile_error.apply(marked, after_ctx(_error_at(marked, "y.size()")))
    assert "int y = x + 1;" in fixed and "y.size()" not in fixed and "y = y + z" not in fixed
    assert fixed.count(TRUNCATION_THROW) == 1 and not has_syntax_error(fixed)


def test_cut_at_compile_error_drops_a_throw_javac_finds_unreachable():
    marked = _marked()
    fixed = cut_at_compile_error.apply(
        marked, after_ctx(_error_at(marked, TRUNCATION_THROW, "unreachable statement")))
    assert TRUNCATION_THROW not in fixed and "y = y + z;" in fixed


def test_cut_at_compile_error_leaves_errors_it_cannot_own_alone():
    marked = _marked()
    # the prompt's own line, no line at all, a method the model finished, one error elsewhere
    assert cut_at_compile_error.apply(marked, after_ctx(_error_at(marked, "addOne("))) == marked
    assert cut_at_compile_error.apply(marked, after_ctx("error: something")) == marked
    finished = PROMPT + "        int y = x.size();\n        return y;\n    }\n}\n"
    assert cut_at_compile_error.apply(
        finished, after_ctx(_error_at(finished, "x.size()"))) == finished
    both = after_ctx(_error_at(marked, "y.size()"), _error_at(marked, "class AddOne", "x"))
    assert cut_at_compile_error.apply(marked, both) == marked


class RejectingCompiler:
    """Rejects any unit containing ``bad``, at that line, like javac."""

    def check(self, units):
        return [CompileResult(True) if "bad" not in unit else
                CompileResult(False, [_error_at(unit, "bad", "cannot find symbol")])
                for unit in units]

    def close(self) -> None:
        pass


def test_static_filter_revises_a_rejected_cut_off_method_until_it_compiles():
    raw = PROMPT + ("        int y = x + 1;\n        int z = bad(y);\n        return bad(z);\n"
                    "        if (y > 0) {\n            y = y + fo")
    with StaticFilter("java", compiler=RejectingCompiler()) as static_filter:
        assert static_filter.chain.repair_rounds >= 1
        fixed, applied = static_filter.fix(TASK, raw)  # fix() alone never runs it
        assert "bad(z)" in fixed and "java-cut-at-compile-error" not in applied
        candidate = static_filter.run(TASK, raw)
    assert candidate.compiles and candidate.errors == []
    assert candidate.heuristics[-1] == "java-cut-at-compile-error"
    assert "int y = x + 1;" in candidate.code and "bad" not in candidate.code


def test_static_filter_keeps_a_candidate_whose_revision_would_keep_nothing():
    raw = PROMPT + "        int z = bad(x);\n        if (z > 0) {\n            z = z + fo"
    with StaticFilter("java", compiler=RejectingCompiler()) as static_filter:
        before, _ = static_filter.fix(TASK, raw)
        candidate = static_filter.run(TASK, raw)
    assert not candidate.compiles and candidate.code == before
    assert candidate.errors == [_error_at(before, "bad", "cannot find symbol")]
    assert "java-cut-at-compile-error" not in candidate.heuristics


def test_only_the_java_chain_has_after_compile_steps():
    assert load_chain("python").repair_rounds == 0
    assert load_chain("java").repair_rounds == shipped_params("java-cut-at-compile-error")[
        "max_rounds"]


def test_parse_keeps_recent_trees_by_text_and_never_mixes_texts():
    code = "class A { int f() { return 1; } }"
    first = parse(code)
    assert parse(code) is first  # the same text again: the kept tree
    assert parse(code.encode()) is first
    other = parse("class B { void g() { } }")
    assert other is not first
    assert node_text(first.root_node) == code
    assert has_syntax_error("class C {") and not has_syntax_error(code)
