"""Read and rewrite one marked section of README.md (`<!-- section:NAME -->` ... `<!-- /section:NAME -->`)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.stack_config import PROJECT_DIR

README = PROJECT_DIR / "README.md"


class MissingSectionError(LookupError):
    """The README has no (or more than one) pair of markers for the section."""


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?P<open><!-- section:{re.escape(name)} -->\n)(?P<body>.*?)(?P<close><!-- /section:{re.escape(name)} -->)",
        re.DOTALL,
    )


def _only_match(text: str, name: str) -> re.Match[str]:
    matches = list(_markers(name).finditer(text))
    if len(matches) != 1:
        raise MissingSectionError(
            f"expected one <!-- section:{name} --> ... <!-- /section:{name} --> pair, found {len(matches)}"
        )
    return matches[0]


def read_section(name: str, path: Path = README) -> str:
    """The text between the section's markers."""
    return _only_match(path.read_text(encoding="utf-8"), name)["body"]


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with the section's content replaced by `body`; everything outside the markers is kept."""
    found = _only_match(text, name)
    return text[: found.start("body")] + body + text[found.end("body") :]


def write_section(name: str, body: str, path: Path = README) -> bool:
    """Rewrite the section in place; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    updated = replace_section(text, name, body)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text
