"""Fields names every input path a translator did not read, at any depth."""

from __future__ import annotations

import pytest

from emulator.errors import EmulatorError
from emulator.inputs import Fields


def test_unread_paths_are_named_down_to_nested_blocks_and_list_items() -> None:
    fields = Fields(
        {
            "name": "x",
            "environment": {"image": "i", "certificate": "c"},
            "stages": [{"name": "a"}, {"name": "b", "timeout": 5}],
            "tags": {"Team": "platform"},
        }
    )
    fields.get("name")
    fields.block("environment").get("image")
    for stage in fields.each("stages"):
        stage.get("name")

    assert fields.unread() == ["environment.certificate", "stages[1].timeout", "tags"]


def test_a_block_read_whole_counts_as_read() -> None:
    fields = Fields({"configuration": {"ProjectName": "p"}})
    fields.get("configuration")

    assert fields.unread() == []


def test_a_missing_required_input_is_named() -> None:
    with pytest.raises(EmulatorError, match=r"input source\.type is required"):
        Fields({"source": {"buildspec": "b"}}).block("source").require("type")
