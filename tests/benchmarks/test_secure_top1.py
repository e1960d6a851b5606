"""The secure top-1 benchmark's paired statistics."""

from __future__ import annotations

from benchmarks.secure_top1 import RANKERS, sign_test, with_both_languages


def test_sign_test_counts_discordant_prompts_and_gives_the_exact_p() -> None:
    # Six wins and no loss: p = 2 / 2**6 (two-sided exact binomial on discordant prompts).
    assert sign_test([1, 1, 1, 1, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0, 0, 1]) == "6 / 0 (p 0.0312)"
    assert sign_test([1, 0, 1], [0, 1, 1]) == "1 / 1 (p 1)"


def test_sign_test_without_discordant_prompts_says_so() -> None:
    assert sign_test([1, 0], [1, 0]) == "0 / 0"


def test_both_languages_pool_keeps_prompts_paired_and_skips_an_empty_language() -> None:
    python = {r: [1.0, 0.0] for r in RANKERS}
    java = {r: [0.0] for r in RANKERS}
    pooled = with_both_languages({"python": python, "java": java})
    assert pooled["both"]["quality"] == [1.0, 0.0, 0.0]
    assert list(with_both_languages({"python": python,
                                     "java": {r: [] for r in RANKERS}})) == ["python"]
