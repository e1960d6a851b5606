"""Values drawn with hypothesis for type hints the plain generator does not know."""

from __future__ import annotations

from franc.models import Task
from franc.ranking.behaviour import Signature, generate_inputs, parameter_types, python_signature
from franc.ranking.strategies import MAX_SIZE, SMALL_INT, drawn_values, supported


def test_mappings_tuples_and_nested_lists_get_small_values_the_same_every_time():
    mappings = drawn_values("Dict[str, int]", 8)
    assert len(mappings) == 8 and all(isinstance(m, dict) for m in mappings)
    assert all(len(m) <= MAX_SIZE and all(abs(v) <= SMALL_INT for v in m.values())
               for m in mappings)
    assert mappings == drawn_values("Dict[str, int]", 8)
    pairs = drawn_values("tuple[int, int]", 5)
    assert all(isinstance(p, tuple) and len(p) == 2 for p in pairs)
    assert all(isinstance(row, list) for grid in drawn_values("list[list[int]]", 5)
               for row in grid)
    assert None in drawn_values("Optional[str]", 10)


def test_a_list_of_any_gets_values_of_mixed_kinds_but_a_bare_any_gets_none():
    # filter_integers(values: List[Any]): lists of ints alone cannot tell a filter by type
    # from returning the list unchanged.
    kinds = {type(v).__name__ for lst in drawn_values("List[Any]", 12) for v in lst}
    assert {"int", "str"} <= kinds and len(kinds) >= 4
    assert supported("dict[str, object]")
    assert not supported("Any") and not supported("object")


def test_unknown_or_hostile_annotations_draw_nothing_and_are_never_evaluated():
    for annotation in ("Foo[int]", "__import__('os').system('x')", "list[", ""):
        assert not supported(annotation)
        assert drawn_values(annotation, 3) == []


def test_a_hint_only_hypothesis_knows_gives_inputs():
    prompt = "from typing import Dict\n\ndef f(d: Dict[str, int], k: str) -> int:\n    pass\n"
    sig = python_signature(Task("T/0", prompt, "python", "f"))
    assert sig is not None and sig.types == ("?", "str")
    assert parameter_types(sig, []) == ("hint:Dict[str, int]", "str")
    inputs = generate_inputs(sig, [], limit=10)
    assert len(inputs) == 10 and all(isinstance(d, dict) for d, _ in inputs)
    # without the annotation's text (Java, older signatures) the parameter stays open
    assert generate_inputs(Signature("f", ("table", "k"), ("?", "str")), [], limit=10) == []
