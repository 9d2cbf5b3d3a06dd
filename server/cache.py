"""One bounded cache for values that are pure functions of a hashable key.

A key must identify the content the value was made from (a tuple of ids, dates, names, rows,
frozen rules…), never ``id(obj)``: an object can be freed and its id handed to the next one.
Where an object with identity equality is part of a key, the key holds that object itself,
so it stays alive, and its id cannot be reused, for as long as the entry is kept.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class BoundedCache(Generic[V]):
    """At most ``maxsize`` entries; when full, emptied before the next one is added.

    Emptying (rather than evicting the least recently used) keeps a hit to one C dict lookup
    with no bookkeeping, which matters where a roll-up looks up once per person and rule; the
    caches here are sized so that a working set fits and emptying is rare. Under threads a
    value may be made twice for one key; both are equal, and one is kept.
    """

    __slots__ = ("maxsize", "_entries", "get")

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: dict[Hashable, V] = {}
        # The dict's own lookup, bound once: a hit costs no Python frame.
        self.get: Callable[..., V | None] = self._entries.get

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` (emptying the cache first when it is full); return it."""
        entries = self._entries
        if key not in entries and len(entries) >= self.maxsize:
            entries.clear()
        entries[key] = value
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under ``key``, or ``make()`` kept and returned."""
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            value = self.put(key, make())
        return value  # type: ignore[return-value]

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"BoundedCache({len(self._entries)}/{self.maxsize})"
