"""A resource's inputs, read key by key, so that an input no translator handled cannot go unnoticed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.errors import EmulatorError


class Fields:
    """Read-tracking view of one resource's (or one nested block's) inputs.

    A translator reads what it sends to AWS with `get`/`nested`/`each`; `unread()` then names
    every input path nobody read, which the adapter turns into an error instead of dropping it.
    """

    def __init__(self, values: Mapping[str, Any], path: str = "") -> None:
        self._values = values
        self._path = path
        self._read: set[str] = set()
        self._opened: dict[str, list[Fields]] = {}

    def _where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def get(self, key: str, default: Any = None) -> Any:
        """The value at `key` (nested blocks whole); marks it as handled."""
        self._read.add(key)
        return self._values.get(key, default)

    def require(self, key: str) -> Any:
        if self._values.get(key) is None:
            raise EmulatorError(f"input {self._where(key)} is required")
        return self.get(key)

    def integer(self, key: str) -> int | None:
        """Numbers arrive over the wire as floats; AWS's integer parameters refuse them."""
        value = self.get(key)
        return None if value is None else int(value)

    def nested(self, key: str) -> Fields | None:
        """A nested block whose own keys must each be read."""
        value = self._values.get(key)
        if value is None:
            self._read.add(key)
            return None
        block = Fields(value, self._where(key))
        self._opened[key] = [block]
        return block

    def block(self, key: str) -> Fields:
        """A nested block that must be there."""
        found = self.nested(key)
        if found is None:
            raise EmulatorError(f"input {self._where(key)} is required")
        return found

    def each(self, key: str) -> list[Fields]:
        """A list of nested blocks, each of whose keys must be read."""
        blocks = [
            Fields(item, f"{self._where(key)}[{index}]") for index, item in enumerate(self._values.get(key) or [])
        ]
        self._opened[key] = blocks
        return blocks

    def unread(self) -> list[str]:
        """Input paths present but never read."""
        missed: list[str] = []
        for key in self._values:
            if key in self._opened:
                missed += [path for block in self._opened[key] for path in block.unread()]
            elif key not in self._read:
                missed.append(self._where(key))
        return missed
