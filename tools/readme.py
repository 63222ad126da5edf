"""Read and rewrite marked sections of the repository's markdown (`<!-- section:NAME -->` ... `<!-- /section:NAME -->`).

The README is the front page; the detail lives in docs/*.md. Sections that a tool generates (the
architecture diagram in docs/architecture.md) or that a test reads (the CI secrets table in
docs/ci.md, the emulator's gaps in docs/emulator.md) are marked, so they can move between files: a
caller names the file and the section, and a missing or doubled pair of markers is an error, never
an empty match.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.stack_config import PROJECT_DIR

README = PROJECT_DIR / "README.md"
DOCS_DIR = PROJECT_DIR / "docs"
BOOTSTRAP_README = PROJECT_DIR / "bootstrap" / "README.md"

MARKER = re.compile(r"<!-- (?P<close>/?)section:(?P<name>[\w-]+) -->")


class MissingSectionError(LookupError):
    """The file has no (or more than one) pair of markers for the section."""


def markdown_files() -> list[Path]:
    """The documentation a reader follows links through: the README, docs/*.md and the bootstrap's README."""
    return [README, *sorted(DOCS_DIR.glob("*.md")), BOOTSTRAP_README]


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?P<open><!-- section:{re.escape(name)} -->\n)(?P<body>.*?)(?P<close><!-- /section:{re.escape(name)} -->)",
        re.DOTALL,
    )


def _only_match(text: str, name: str, where: str = "the text") -> re.Match[str]:
    matches = list(_markers(name).finditer(text))
    if len(matches) != 1:
        raise MissingSectionError(
            f"expected one <!-- section:{name} --> ... <!-- /section:{name} --> pair in {where}, found {len(matches)}"
        )
    return matches[0]


def unbalanced_markers(text: str) -> list[str]:
    """What is wrong with the markers of `text`: a section closed before it opens, opened twice, never closed."""
    problems: list[str] = []
    open_sections: list[str] = []
    for found in MARKER.finditer(text):
        name = found["name"]
        if not found["close"]:
            if name in open_sections:
                problems.append(f"section {name} opened again before it was closed")
            open_sections.append(name)
        elif name in open_sections:
            open_sections.remove(name)
        else:
            problems.append(f"section {name} closed but never opened")
    problems += [f"section {name} never closed" for name in open_sections]
    return problems


def read_section(path: Path, name: str) -> str:
    """The text between the section's markers in the markdown file `path`."""
    return _only_match(path.read_text(encoding="utf-8"), name, str(path))["body"]


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with the section's content replaced by `body`; everything outside the markers is kept."""
    found = _only_match(text, name)
    return text[: found.start("body")] + body + text[found.end("body") :]


def write_section(path: Path, name: str, body: str) -> bool:
    """Rewrite the section of the markdown file `path` in place; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    _only_match(text, name, str(path))
    updated = replace_section(text, name, body)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text
