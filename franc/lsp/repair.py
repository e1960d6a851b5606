"""'Ask the model to fix this': one repair round of the pipeline on an open document."""

from __future__ import annotations

from collections.abc import Callable

from franc.models import Language, Task


def model_repair(generator_spec: str, template: str,
                 max_rounds: int = 1) -> Callable[[Language, str], str | None]:
    """A function (language, code) -> clean repaired code, or None when no answer is clean.

    The generator and one warm pipeline per language are made on first use.
    """
    from franc.generation import make_generator
    from franc.pipeline import Pipeline

    generator = make_generator(generator_spec)
    pipelines: dict[Language, Pipeline] = {}

    def repair(language: Language, code: str) -> str | None:
        if language not in pipelines:
            pipelines[language] = Pipeline(language, generator=generator,
                                           repair_template=template, max_rounds=max_rounds)
        report = pipelines[language].run(Task(task_id="document", prompt="", language=language),
                                         [code])
        best = report.best
        repaired = best is not None and best.index >= report.original_count
        return best.code if report.clean and repaired and best is not None else None

    return repair
