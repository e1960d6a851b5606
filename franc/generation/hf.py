"""A local causal language model through Hugging Face ``transformers`` (CPU).

Optional: install the ``franc-code[hf]`` extra (``transformers`` and ``torch``).
Nothing is downloaded: ``path`` is a folder with a saved model and tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from franc.errors import InputError, ToolMissingError
from franc.generation.base import Prompt, check_messages, cut_at_stop, messages_as_text


def _load_libraries() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ToolMissingError("the hf generator needs transformers and torch: "
                               "pip install 'franc-code[hf]'") from exc
    return torch, transformers


@dataclass
class TransformersGenerator:
    path: str | Path
    batch_size: int = 8
    seed: int | None = None
    _model: Any = field(init=False, repr=False)
    _tokenizer: Any = field(init=False, repr=False)
    _torch: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        torch, transformers = _load_libraries()
        if not Path(self.path).is_dir():
            raise InputError("no saved model folder (config.json + tokenizer files)",
                             source=str(self.path))
        self._torch = torch
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.path))
        self._model = transformers.AutoModelForCausalLM.from_pretrained(str(self.path))
        self._model.eval()

    def _text(self, prompt: Prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        if getattr(self._tokenizer, "chat_template", None):
            return str(self._tokenizer.apply_chat_template(prompt, tokenize=False,
                                                           add_generation_prompt=True))
        return messages_as_text(prompt)

    def generate(self, prompt: Prompt, n: int, max_new_tokens: int, temperature: float,
                 stop: Sequence[str] = ()) -> list[str]:
        check_messages(prompt)
        encoded = self._tokenizer(self._text(prompt), return_tensors="pt")
        prompt_length = encoded["input_ids"].shape[1]
        pad_id = self._tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self._tokenizer.eos_token_id
        if self.seed is not None:
            self._torch.manual_seed(self.seed)
        sampling = temperature > 0
        answers: list[str] = []
        with self._torch.no_grad():
            while len(answers) < n:
                # Greedy decoding gives one answer whatever n is: decode it once.
                count = min(self.batch_size, n - len(answers)) if sampling else 1
                output = self._model.generate(
                    **encoded, do_sample=sampling, num_return_sequences=count,
                    max_new_tokens=max_new_tokens, pad_token_id=pad_id,
                    **({"temperature": temperature} if sampling else {}))
                for row in output:
                    text = self._tokenizer.decode(row[prompt_length:], skip_special_tokens=True)
                    answers.append(cut_at_stop(text, stop))
                if not sampling:
                    answers *= n
        return answers[:n]

    def close(self) -> None:
        """The model is freed with the object."""
