"""Decorator registries whose lookup errors say "did you mean"."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from harness.core.errors import HarnessError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            self._entries[name] = obj
            return obj
        return add

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise HarnessError(f"unknown {self.what} {name!r}{did_you_mean(name, self._entries)}") from None

    def check(self, name: str) -> str:
        """``name`` if registered, else a ValueError saying "did you mean": for pydantic validators."""
        if name not in self._entries:
            raise ValueError(f"unknown {self.what} {name!r}{did_you_mean(name, self._entries)}")
        return name

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return list(self._entries)
