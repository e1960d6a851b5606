"""A least-recently-used map: the values of the last ``size`` keys used, within a budget."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Recent(Generic[Value]):
    """The values of the last ``size`` keys used (read or written), and only as many of them
    as ``weigh`` (a value's weight, e.g. its characters) keeps within ``budget``, so that a
    few huge values cannot take the memory of thousands of ordinary ones; not thread-safe."""

    def __init__(self, size: int, *, weigh: Callable[[Value], int] | None = None,
                 budget: int | None = None) -> None:
        self.size = size
        self._weigh = weigh
        self._budget = budget
        self._values: OrderedDict[str, Value] = OrderedDict()
        self._weights: dict[str, int] = {}
        self._weight = 0

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: str) -> Value | None:
        if key not in self._values:
            return None
        self._values.move_to_end(key)
        return self._values[key]

    def put(self, key: str, value: Value) -> None:
        self._weight -= self._weights.pop(key, 0)
        weight = self._weigh(value) if self._weigh else 0
        self._values[key] = value
        self._values.move_to_end(key)
        self._weights[key] = weight
        self._weight += weight
        while len(self._values) > self.size or (
                self._budget is not None and self._weight > self._budget and self._values):
            oldest, _ = self._values.popitem(last=False)
            self._weight -= self._weights.pop(oldest)

    def clear(self) -> None:
        self._values.clear()
        self._weights.clear()
        self._weight = 0
