from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from franc.errors import InputError
from franc.models import Candidate
from franc.server.config import load_config
from franc.server.engine import Job, JobResult, merge
from franc.server.limits import RequestRejected, check_candidates, nesting_depth
from franc.server.proxy import chat_prompt, forwarded_body, guess_language
from franc.server.schemas import CompletionRequest


def test_loopback_needs_no_token_but_other_addresses_do() -> None:
    assert load_config(environ={}).host == "127.0.0.1"
    with pytest.raises(InputError, match="FRANC_API_TOKEN"):
        load_config(overrides={"host": "0.0.0.0"}, environ={})
    config = load_config(overrides={"host": "0.0.0.0"}, environ={"FRANC_API_TOKEN": "s3cret"})
    assert config.api_token == "s3cret"


def test_config_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "franc.toml"
    path.write_text('[server]\nport = 9000\nmax_candidates = 5\n')
    config = load_config(path, environ={"FRANC_PORT": "9100"})
    assert (config.port, config.max_candidates) == (9100, 5)
    path.write_text("port = [")
    with pytest.raises(InputError, match=r"franc\.toml"):
        load_config(path, environ={})
    with pytest.raises(InputError, match="bad server setting"):
        load_config(overrides={"port": -1}, environ={})


def test_nesting_depth() -> None:
    assert nesting_depth("f(a[1], {2: (3)})") == 3
    assert nesting_depth(")))(") == 1


@pytest.mark.parametrize(("candidates", "field", "status"), [
    (["x"] * 65, "candidates", 413),
    (["ok", "a" * 100_001], "candidates.1", 413),
    (["ok", "bad\x00byte"], "candidates.1", 422),
    (["(" * 300 + ")" * 300], "candidates.0", 422),
    (["\ud800"], "candidates.0", 422),
])
def test_limits_name_the_field(candidates: list[str], field: str, status: int) -> None:
    with pytest.raises(RequestRejected) as caught:
        check_candidates("", candidates, load_config(environ={}))
    assert (caught.value.field, caught.value.status) == (field, status)


def test_guess_language() -> None:
    assert guess_language("def f(x):\n    return x\n") == "python"
    assert guess_language("public class A {\n  int f() { return 1; }\n}") == "java"


def test_forwarded_body_drops_franc_fields_and_unwraps_the_prompt() -> None:
    body = CompletionRequest(prompt=["p"], n=2, franc_language="python", max_tokens=9)
    assert forwarded_body(body) == {"prompt": "p", "n": 2, "max_tokens": 9}
    with pytest.raises(ValidationError, match="prompt"):
        CompletionRequest(prompt=["a", "b"])


def test_chat_prompt_takes_the_users_code_block() -> None:
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "Fix:\n```python\ndef f():\n    pass\n```\n"}]
    assert chat_prompt(messages) == "def f():\n    pass\n"
    assert chat_prompt([{"role": "user", "content": "no code"}]) == ""


def test_a_split_job_keeps_indexes_and_merges_in_order() -> None:
    job = Job(language="python", prompt="", candidates=tuple("abcdefghij"))
    parts = job.split(3)
    assert [p.candidates for p in parts] == [tuple("abcd"), tuple("efgh"), tuple("ij")]
    assert [p.first_index for p in parts] == [0, 4, 8]
    done = [JobResult(candidates=[Candidate("t", p.first_index + i, c)
                                  for i, c in enumerate(p.candidates)],
                      completed=["filtered", "analyzed"]) for p in parts]
    done[2].completed = ["filtered"]
    done[2].partial = True
    done[2].notes = ["deadline"]
    merged = merge(done)
    assert [c.index for c in merged.candidates] == list(range(10))
    assert (merged.completed, merged.partial, merged.notes) == (["filtered"], True, ["deadline"])
