"""Reading what a prompt's prose promises about the arguments."""

from __future__ import annotations

import pytest

from franc.ranking.preconditions import ANYTHING, Precondition, preconditions


def test_a_positive_integer_given_and_named():
    assert preconditions("Given a positive integer n, return the count.", ("n",)) == (
        Precondition(kind="int", lower=0, strict=True),)


def test_a_description_of_the_result_promises_nothing():
    assert preconditions("Return only positive numbers in the list.", ("l",)) == (ANYTHING,)
    # "the given list" names the argument but says nothing about its values.
    assert preconditions("Return the sum of the numbers in the given list, rounded up "
                         "to the upper int(Ceiling).", ("lst",)) == (ANYTHING,)


def test_names_after_the_phrase_take_it_each():
    first, second = preconditions("You are given two positive integers n and m.", ("n", "m"))
    assert first == second == Precondition(kind="int", lower=0, strict=True)


def test_with_several_parameters_an_unnamed_phrase_says_nothing():
    assert preconditions("Given a positive integer, return it.", ("a", "b")) == (
        ANYTHING, ANYTHING)


def test_a_list_of_non_negative_integers_and_a_non_empty_list():
    (promise,) = preconditions("You are given a non-empty list of non-negative integers.",
                               ("lst",))
    assert promise == Precondition(kind="list[int]", lower=0, strict=False, non_empty=True)


@pytest.mark.parametrize("doc, params, kinds", [
    ("Given a list of strings, where each string consists of only digits.", ("lst",),
     ("list[str]",)),
    ("We are given two strings s and c.", ("s", "c"), ("str", "str")),
    ("You are given 2 words.", ("a", "b"), ("str", "str")),
    ("Both x and n, are string representation of a fraction.", ("x", "n"), ("str", "str")),
    ("Given an array arr of integers, find the minimum.", ("arr",), ("list[int]",)),
    ("You will be given a string of words separated by commas.", ("s",), ("str",)),
    ("It takes two planet names as strings planet1 and planet2.", ("planet1", "planet2"),
     ("str", "str")),
])
def test_the_kind_the_prose_gives(doc: str, params: tuple[str, ...],
                                  kinds: tuple[str, ...]) -> None:
    assert tuple(p.kind for p in preconditions(doc, params)) == kinds


def test_a_kind_said_again_keeps_the_first_for_that_parameter_only():
    doc = "Given a string a. You are given two integers a and b."
    assert tuple(p.kind for p in preconditions(doc, ("a", "b"))) == ("str", "int")


def test_a_kind_said_of_something_else_is_not_the_arguments():
    assert preconditions("Given a dictionary, return True if all keys are strings.",
                         ("dict",)) == (ANYTHING,)


@pytest.mark.parametrize("value, admitted", [
    (3, True), (0, False), (-2, False), (True, True), ([1, 2], True), ([1, 0], False),
    ([], False), ("", False), ("x", True), ([[1], [2]], True), ([[1], [-1]], False)])
def test_admits_checks_numbers_at_any_depth_and_emptiness(value: object,
                                                          admitted: bool) -> None:
    assert Precondition(lower=0, strict=True, non_empty=True).admits(value) is admitted


def test_at_least_zero_admits_zero():
    assert Precondition(lower=0).admits(0) and not Precondition(lower=0).admits(-1)


def test_hostile_prose_is_read_in_linear_time():
    # Names that "and" could split many ways, a megabyte of prose, a huge list of names:
    # each once blew up a backtracking regex or a scan from the start of every sentence.
    tangled = "Given a string " + "xand" * 40 + "! are strings"
    assert preconditions(tangled, ("s",)) == (Precondition(kind="str"),)
    huge = "Given a positive integer n. " * 40_000
    assert preconditions(huge, ("n",)) == (Precondition(kind="int", lower=0, strict=True),)
    names = "Given " + "a, " * 300_000 + "are strings."
    assert preconditions(names, ("a",))[0].kind in ("?", "str")
