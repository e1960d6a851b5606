"""The pipeline's repair loop with the real filter, analyzers and ranker; the model is
scripted (it is the only part that is not FRANC's)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from franc.generation import GenerationError, Prompt
from franc.models import Task
from franc.pipeline import (
    STOP_CLEAN,
    STOP_GENERATION_ERROR,
    STOP_NO_GENERATOR,
    STOP_NOTHING_TO_FIX,
    STOP_ROUNDS,
    Pipeline,
)

PROMPT = "import yaml\n\n\ndef load(path):\n    '''Load a YAML file.'''\n"
BAD = "    with open(path) as f:\n        return yaml.load(f)\n"
GOOD = "    with open(path) as f:\n        return yaml.safe_load(f)\n"
TASK = Task("yaml/1", PROMPT, "python")


class ScriptedModel:
    """Answers each call with the next list of answers; P1 answers echo the prompt first."""

    def __init__(self, *rounds: Sequence[str] | Exception, echo: bool = True):
        self.rounds = list(rounds)
        self.prompts: list[Prompt] = []
        self.echo = echo

    def generate(self, prompt: Prompt, n: int, max_new_tokens: int, temperature: float,
                 stop: Sequence[str]) -> list[str]:
        self.prompts.append(prompt)
        answers = self.rounds.pop(0)
        if isinstance(answers, Exception):
            raise answers
        echo = prompt if self.echo and isinstance(prompt, str) else ""
        return [echo + a for a in answers][:n]

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def stages() -> Iterator[tuple[object, object]]:
    from franc.analysis import Analyzers
    from franc.filter import StaticFilter

    with StaticFilter("python") as static_filter, Analyzers("python", ["bandit"]) as analyzers:
        yield static_filter, analyzers


def pipeline(stages: tuple[object, object], generator: object = None, **kwargs: object) -> Pipeline:
    static_filter, analyzers = stages
    return Pipeline("python", static_filter=static_filter, analyzers=analyzers,  # type: ignore[arg-type]
                    ranker="quality", generator=generator, **kwargs)  # type: ignore[arg-type]


def test_clean_best_candidate_needs_no_repair(stages: tuple[object, object]) -> None:
    model = ScriptedModel()
    report = pipeline(stages, model).run(TASK, [PROMPT + GOOD, PROMPT + BAD])
    assert report.stop_reason == STOP_CLEAN and report.clean
    assert report.rounds == [] and model.prompts == []
    assert "safe_load" in report.best.code  # type: ignore[union-attr]


def test_without_generator_the_findings_are_reported(stages: tuple[object, object]) -> None:
    report = pipeline(stages).run(TASK, [PROMPT + BAD])
    assert report.stop_reason == STOP_NO_GENERATOR and not report.clean
    assert [f.rule_id for f in report.best.generated_findings()] == ["B506"]  # type: ignore[union-attr]
    assert report.judge.startswith("compile() + bandit")


def test_one_round_repairs_and_the_clean_answer_ranks_first(
        stages: tuple[object, object]) -> None:
    fixed = "import yaml\n\n\ndef load(path):\n" + GOOD
    model = ScriptedModel(["def load(path):\n    return yaml.load(path)\n", fixed])
    report = pipeline(stages, model, repair_template="P1").run(TASK, [PROMPT + BAD])
    assert report.stop_reason == STOP_CLEAN
    assert len(report.rounds) == 1
    round_ = report.rounds[0]
    assert isinstance(round_.prompt, str)
    assert "# Fix: At line 7, Use of unsafe yaml load" in round_.prompt
    assert round_.prompt.endswith("# Fixed Code: \n") and round_.repaired_index == 0
    assert [a.clean for a in round_.answers] == [False, True]
    assert report.best.index == 2 and "safe_load" in report.best.code  # type: ignore[union-attr]
    assert report.original_count == 1 and len(report.candidates) == 3
    assert report.to_json()["rounds"][0]["answers"][1]["clean"] is True


def test_rounds_run_out_and_repair_the_best_answer_next(stages: tuple[object, object]) -> None:
    still_bad = ["def load(path):\n    return yaml.load(open(path))\n"]
    model = ScriptedModel(still_bad, still_bad, still_bad)
    report = pipeline(stages, model, max_rounds=2).run(TASK, [PROMPT + BAD])
    assert report.stop_reason == STOP_ROUNDS and len(report.rounds) == 2
    assert report.rounds[1].repaired_index == 1  # round 2 repairs round 1's answer
    assert "yaml.load(open(path))" in str(model.prompts[1])


def test_nothing_to_fix_when_no_candidate_compiles(stages: tuple[object, object]) -> None:
    model = ScriptedModel()
    report = pipeline(stages, model).run(TASK, ["    pass\n"])  # honesty: empty body
    assert report.stop_reason == STOP_NOTHING_TO_FIX and model.prompts == []


def test_generator_failure_ends_the_loop_with_the_error(stages: tuple[object, object]) -> None:
    model = ScriptedModel(GenerationError("HTTP 500"))
    report = pipeline(stages, model).run(TASK, [PROMPT + BAD])
    assert report.stop_reason == STOP_GENERATION_ERROR
    assert report.rounds[0].error == "HTTP 500" and report.rounds[0].answers == []


def test_answer_that_keeps_nothing_of_its_own_is_not_a_repair(
        stages: tuple[object, object]) -> None:
    model = ScriptedModel(["# I cannot fix this\n"])
    report = pipeline(stages, model, max_rounds=1).run(TASK, [PROMPT + BAD])
    answer = report.rounds[0].answers[0]
    assert not answer.clean and not answer.candidate.compiles
    assert report.stop_reason == STOP_ROUNDS


def test_chat_template_sends_messages_and_reads_the_fenced_block(
        stages: tuple[object, object]) -> None:
    model = ScriptedModel([f"Fixed:\n```python\n{PROMPT}{GOOD}```\n"], echo=False)
    report = pipeline(stages, model, repair_template="chat").run(TASK, [PROMPT + BAD])
    assert report.clean and isinstance(model.prompts[0], list)
    assert "CWE-20" in model.prompts[0][1]["content"]


def test_generate_and_run_samples_the_first_candidates(stages: tuple[object, object]) -> None:
    model = ScriptedModel([BAD, GOOD], echo=False)
    report = pipeline(stages, model).generate_and_run(TASK, n=2)
    assert report.clean and report.original_count == 2 and report.best.index == 1  # type: ignore[union-attr]
    assert model.prompts == [PROMPT]


def test_generate_and_run_needs_a_generator(stages: tuple[object, object]) -> None:
    with pytest.raises(GenerationError):
        pipeline(stages).generate_and_run("def f():\n", n=1)


def test_plain_prompt_string_and_owned_stages_close() -> None:
    with Pipeline("python", analyzers=["bandit"]) as owned:
        report = owned.run(PROMPT, [BAD])
        assert report.task.task_id == "prompt"
        assert not report.clean


def test_p3s_answer_continues_the_body_and_merges_back(stages: tuple[object, object]) -> None:
    model = ScriptedModel(["        return yaml.safe_load(f)\n\n\nprint(load('x'))\n"])
    report = pipeline(stages, model, repair_template="P3S").run(TASK, [PROMPT + BAD])
    sent = model.prompts[0]
    assert isinstance(sent, str) and sent.startswith("# Fix: At line 7")
    assert sent.endswith(PROMPT + "    with open(path) as f:\n")
    assert report.clean
    assert report.best.code == PROMPT + GOOD  # type: ignore[union-attr]


def test_hostile_answers_never_abort_the_round(stages: tuple[object, object]) -> None:
    hostile = ["x" * 1_000_000, "\x00\x01binary\xff", "(" * 5000, "    " + "if x:\n    " * 300]
    model = ScriptedModel(hostile)
    report = pipeline(stages, model, max_rounds=1).run(TASK, [PROMPT + BAD])
    answers = report.rounds[0].answers
    assert len(answers) == len(hostile)
    assert all(a.candidate.findings is not None for a in answers)
    assert not answers[1].candidate.compiles and not answers[2].clean


def test_a_pipeline_runs_on_warm_stages_built_elsewhere_and_leaves_them_open() -> None:
    from franc.stages import Stages

    stages = Stages.build("python", ranker="quality")
    try:
        task = Task("t", "def add(a, b):\n", "python")
        with Pipeline("python", stages=stages) as pipeline:
            assert pipeline.filter is stages.filter and pipeline.ranker is stages.ranker
            report = pipeline.run(task, ["    return a + b\n"])
            assert report.best is not None and report.best.compiles
        # The stages still work: the pipeline closed nothing it did not build.
        assert stages.check(task, ["    return a - b\n"])[0].compiles
    finally:
        stages.close()
