"""The transformers generator on a tiny random GPT-2 built on the fly (plumbing, not quality)."""

from __future__ import annotations

from pathlib import Path

import pytest

from franc.errors import InputError
from franc.generation import make_generator

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

WORDS = ["def", "return", "x", "y", "+", "(", ")", ":", "=", "if", "else", "STOP", "print"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    vocab = {token: i for i, token in enumerate(["[UNK]", "[PAD]", "[EOS]", *WORDS])}
    core = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    core.decoder = tokenizers.decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=16,
                                     n_layer=1, n_head=2, bos_token_id=2, eos_token_id=2,
                                     pad_token_id=1)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def test_samples_n_answers_within_the_token_limit(tiny_model: Path) -> None:
    generator = make_generator(f"hf:{tiny_model}")
    answers = generator.generate("def x ( ) :", n=3, max_new_tokens=5, temperature=1.0, stop=())
    assert len(answers) == 3
    assert all(len(answer.split()) <= 5 for answer in answers)
    assert all("def x ( ) :" not in answer for answer in answers)  # the prompt is not echoed


def test_stop_strings_cut_the_answers(tiny_model: Path) -> None:
    generator = make_generator(f"hf:{tiny_model}")
    generator.seed = 1  # type: ignore[attr-defined]
    full = generator.generate("return x", n=4, max_new_tokens=12, temperature=1.0, stop=())
    generator.seed = 1  # type: ignore[attr-defined]
    cut = generator.generate("return x", n=4, max_new_tokens=12, temperature=1.0, stop=["x"])
    assert all("x" not in answer for answer in cut)
    assert [a.split("x")[0] for a in full] == cut


def test_greedy_decoding_and_batches(tiny_model: Path) -> None:
    generator = make_generator(f"hf:{tiny_model}")
    generator.batch_size = 2  # type: ignore[attr-defined]
    answers = generator.generate("if x", n=5, max_new_tokens=3, temperature=0.0, stop=())
    assert len(answers) == 5 and len(set(answers)) == 1


def test_chat_messages_without_a_chat_template(tiny_model: Path) -> None:
    generator = make_generator(f"hf:{tiny_model}")
    answers = generator.generate([{"role": "user", "content": "return x"}], n=2,
                                 max_new_tokens=3, temperature=1.0, stop=())
    assert len(answers) == 2


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no saved model folder"):
        make_generator(f"hf:{tmp_path / 'nope'}")
