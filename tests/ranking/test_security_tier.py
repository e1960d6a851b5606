"""The security tier: a compilable candidate with a medium/high security finding on generated
lines never outranks a compilable one without, in every shipped ranker but the baselines."""

from __future__ import annotations

import json

import pytest

from franc.errors import InputError
from franc.languages import SECURITY_ANALYZERS
from franc.models import Candidate, Finding, Task
from franc.ranking import get_ranker
from franc.ranking.base import SECURITY_PART, SecurityTier
from franc.ranking.features import Weights, finding_features
from franc.ranking.learned import LearnedModel, TrainSettings
from franc.ranking.rankers import from_policy

PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'
TASK = Task("T/0", PROMPT, "python", "add")
TIERED = ("quality", "consensus", "consensus_difflib", "learned", "examples")


def shell(severity: str = "high", in_prompt: bool = False, line: int = 3) -> Finding:
    return Finding("bandit", "B602", "shell=True", severity, "high", line,  # type: ignore[arg-type]
                   cwe=78, in_prompt=in_prompt)


def pool(insecure_findings: list[Finding]) -> list[Candidate]:
    """Two copies of a tidy program with the given findings, and one clean but clumsier one
    (a repeated line, a lint warning) that every other feature likes less."""
    tidy = PROMPT + "    return a + b\n"
    clumsy = PROMPT + "    total = a\n    total = total + b\n    return total\n"
    lint = Finding("pylint", "W0612", "unused", "medium", "high", 3)
    return [Candidate("T/0", 0, tidy, compiles=True, findings=list(insecure_findings)),
            Candidate("T/0", 1, tidy, compiles=True, findings=list(insecure_findings)),
            Candidate("T/0", 2, clumsy, compiles=True, findings=[lint]),
            Candidate("T/0", 3, PROMPT + "    return a +\n", compiles=False, findings=[])]


def order(name: str, cands: list[Candidate]) -> list[int]:
    return [c.index for c in get_ranker(name, "python").rank(TASK, cands)]


@pytest.mark.parametrize("name", TIERED)
def test_a_secure_candidate_outranks_agreeing_copies_of_an_insecure_one(name: str) -> None:
    ranked = get_ranker(name, "python").rank(TASK, pool([shell()]))
    assert ranked[0].index == 2
    assert tier_part(ranked[0]) > 0 and all(tier_part(c) == 0.0 for c in ranked[1:])
    assert ranked[-1].index == 3  # not compiling still comes last


def tier_part(candidate: Candidate) -> float:
    """The tier's part, also when a chain prefixes it with the member's name; the outermost
    when both the chain and a member carry one (``examples``: the chain's decides)."""
    parts = candidate.score_parts or {}
    tiers = [k for k in parts if k.split(".")[-1] == SECURITY_PART]
    return parts[min(tiers, key=lambda k: k.count("."))]


@pytest.mark.parametrize("name", TIERED)
def test_low_severity_and_prompt_line_findings_do_not_demote(name: str) -> None:
    for findings in ([shell("low")], [shell(in_prompt=True, line=1)]):
        assert set(order(name, pool(findings))[:2]) == {0, 1}


@pytest.mark.parametrize("name", TIERED)
def test_a_failed_security_analyzer_cannot_vouch_for_a_candidate(name: str) -> None:
    assert order(name, pool([Finding.failure("bandit", "timed out")]))[0] == 2


@pytest.mark.parametrize("name", ["original", "franc"])
def test_the_baselines_stay_faithful(name: str) -> None:
    ranked = get_ranker(name, "python").rank(TASK, pool([shell()]))
    assert all(SECURITY_PART not in (c.score_parts or {}) for c in ranked)
    assert get_ranker(name, "python").security_tier is None


def test_behaviour_takes_its_own_tier_else_its_fallbacks() -> None:
    own = {"kind": "behaviour", "fallback": "original",
           "security_tier": {"tools": {"python": ["bandit"]}, "min_severity": "high"}}
    assert from_policy("b", own, "python").security_tier == SecurityTier(
        {"python": ("bandit",)}, "high")
    # Without a table: the fallback's tier (learned ships one), not none at all.
    inherited = from_policy("b", {"kind": "behaviour", "fallback": "learned"}, "python")
    assert inherited.security_tier == get_ranker("learned", "python").security_tier
    untiered_fallback = from_policy("b", {"kind": "behaviour", "fallback": "original"}, "python")
    assert untiered_fallback.security_tier == SecurityTier(SECURITY_ANALYZERS)


def test_the_security_term_weighs_severity_and_confidence_with_the_cwe() -> None:
    weights = Weights(cwe={78: 3.0})
    high = finding_features([shell("high")], weights)["security"]
    low = finding_features([Finding("bandit", "B603", "no shell", "low", "high", 3, cwe=78)],
                           weights)["security"]
    assert high == pytest.approx(3.0 * 1.0 * 3.0) and low == pytest.approx(1.0 * 1.0 * 3.0)


def test_the_tier_is_policy_driven_and_checked() -> None:
    plain = {"kind": "weighted", "weights": {"compiles": 10.0, "duplicate_lines": -5.0}}
    assert from_policy("p", plain, "python").security_tier is None
    assert order_with(plain) == [0, 1, 2, 3]  # without the tier the tidy copies win
    tiered = {**plain, "security_tier": {"tools": {"python": ["bandit"]}}}
    assert order_with(tiered)[0] == 2
    strict = {**plain, "security_tier": {"tools": {"python": ["bandit"]},
                                         "min_severity": "high"}}
    assert order_with(strict, [Finding("bandit", "B307", "eval", "medium", "high", 3)])[0] == 0
    for bad in ({"tools": ["bandit"]}, {"tools": {"python": ["bandit"]}, "min_severity": "x"},
                {"tools": {"cobol": ["x"]}}):
        with pytest.raises(InputError):
            from_policy("p", {**plain, "security_tier": bad}, "python")


def order_with(policy: dict, findings: list[Finding] | None = None) -> list[int]:
    ranker = from_policy("p", policy, "python")
    return [c.index for c in ranker.rank(TASK, pool(findings or [shell()]))]


def test_in_a_chain_the_tier_comes_after_the_first_members_verdict() -> None:
    """The examples chain: the examples' verdict first, then the tier (of ``learned``)."""
    first = {"kind": "weighted", "weights": {"heuristics": 1.0}}
    chain = from_policy("c", {"kind": "chain", "rankers": [first, "learned"]}, "python")
    cands = pool([shell()])
    cands[0].heuristics = ["decides"]  # the first member prefers an insecure copy
    assert [c.index for c in chain.rank(TASK, cands)][:2] == [0, 2]


def test_a_trained_model_carries_the_tier_into_its_json() -> None:
    settings = TrainSettings()
    assert settings.security_tier is not None
    model = LearnedModel(("compiles",), {}, settings=settings)
    data = json.loads(json.dumps(model.to_json()))
    tier = SecurityTier.from_policy(data["security_tier"], "model")
    assert tier is not None and tier.tools["python"] == ("bandit",)
    assert LearnedModel.from_json(data).settings.security_tier == settings.security_tier
    untiered = LearnedModel(("compiles",), {}, settings=TrainSettings(security_tier=None))
    assert "security_tier" not in untiered.to_json()
