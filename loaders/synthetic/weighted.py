"""Fast weighted draws from fixed tables (cumulative weights computed once)."""
from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed table of ``(item, weight)`` pairs to draw items from in proportion to weight."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs or any(weight < 0 for _, weight in pairs):
            raise ValueError("a weighted table needs items with non-negative weights")
        self._items = tuple(item for item, _ in pairs)
        self._cumulative = tuple(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]
        if self._total <= 0:
            raise ValueError("a weighted table needs a positive total weight")

    @property
    def items(self) -> tuple[T, ...]:
        """The items, in table order."""
        return self._items

    def draw(self, rng: random.Random) -> T:
        """One item drawn with ``rng``."""
        return self._items[bisect_right(self._cumulative, rng.random() * self._total)]
