"""The documentation a reader follows: a one-screen README, and every relative link in it and in docs/ resolves.

Links are read the way GitHub renders them: inline `[text](target)` and reference definitions
`[label]: target`, outside code blocks and code spans. A relative target must name a file of the
repository, and a `#fragment` must be the anchor GitHub gives one of that file's headings (or an
explicit `<a id>`). The `*_is_caught` tests feed the checker broken text, so it is seen to object.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from harness.capture import StackGraph, evaluate_once
from harness.stack_config import BOOTSTRAP_DIR, PROJECT_DIR
from tools.readme import DOCS_DIR, README, markdown_files, read_section, unbalanced_markers

README_MAX_LINES = 200

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?(?P<target>[^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"(?P<id>[^\"]+)\"")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# The totals `make local` prints (emulator/cli.py), as pasted into the quick start.
DEPLOYED = re.compile(
    r"^Deployed (?P<created>\d+) resources in \d+ ms \(the \+ lines\): (?P<aws>\d+) AWS resources and "
    r"(?P<providers>\d+) providers?; with the (?P<components>\d+) components grouping them, "
    r"(?P<registrations>\d+) registrations$",
    re.MULTILINE,
)
DESTROYED = re.compile(
    r"^Destroyed (?P<created>\d+) resources in \d+ ms \(the - lines\): (?P<aws>\d+) AWS resources and "
    r"(?P<providers>\d+) providers?$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Link:
    source: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.source.relative_to(PROJECT_DIR)}:{self.line}: ({self.target})"


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines: list[tuple[int, str]] = []
    fence = ""
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening[1]
            continue
        lines.append((number, line))
    return lines


def links_in(path: Path, text: str) -> list[Link]:
    """The link targets of `text`, in order, outside code blocks and code spans."""
    found: list[Link] = []
    for number, raw in prose_lines(text):
        line = CODE_SPAN.sub(lambda span: " " * len(span[0]), raw)
        targets = [match["target"] for match in INLINE_LINK.finditer(line)]
        if definition := REFERENCE_DEFINITION.match(line):
            targets.append(definition["target"])
        found += [Link(path, number, target) for target in targets if target]
    return found


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors_of(text: str) -> set[str]:
    """Every anchor of a markdown text: its headings' (the second of a kind gets `-1`) and explicit ones."""
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    for _, line in prose_lines(text):
        if heading := HEADING.match(line):
            slug = github_anchor(heading["text"])
            anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
            seen[slug] += 1
        anchors.update(match["id"] for match in EXPLICIT_ANCHOR.finditer(line))
    return anchors


def broken_links(path: Path, text: str) -> list[str]:
    """Each relative link of `text` (the content of `path`) whose file or anchor does not exist."""
    problems: list[str] = []
    for link in links_in(path, text):
        if EXTERNAL.match(link.target):
            continue
        file_part, _, fragment = link.target.partition("#")
        destination = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not destination.is_relative_to(PROJECT_DIR) or not destination.exists():
            problems.append(f"{link}: no such file {destination}")
            continue
        if fragment and destination.suffix == ".md":
            destination_text = text if destination == path else destination.read_text(encoding="utf-8")
            if unquote(fragment) not in anchors_of(destination_text):
                problems.append(f"{link}: {destination.name} has no heading or anchor #{fragment}")
    return problems


DOCUMENTS = markdown_files()


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(path.relative_to(PROJECT_DIR)) for path in DOCUMENTS])
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(path.relative_to(PROJECT_DIR)) for path in DOCUMENTS])
def test_every_marked_section_is_closed_once(path: Path) -> None:
    assert unbalanced_markers(path.read_text(encoding="utf-8")) == []


def test_the_readme_fits_on_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {
        (README.parent / link.target.partition("#")[0]).resolve()
        for link in links_in(README, README.read_text(encoding="utf-8"))
    }
    pages = sorted(DOCS_DIR.glob("*.md"))
    assert len(pages) >= 6
    assert [page.name for page in pages if page.resolve() not in linked] == []


def test_the_links_found_include_every_kind() -> None:
    text = "\n".join(
        [
            'See [the docs](docs/ci.md), ![a picture](img.png "title") and [ref][r].',
            "[r]: docs/security.md",
            "`[not a link](in/a/code/span.md)`",
            "```bash",
            "[not a link](in/a/code/block.md)",
            "```",
            "A [link with `code`](docs/emulator.md#what-it-cannot-prove) and <https://example.com>.",
        ]
    )
    targets = [link.target for link in links_in(README, text)]
    assert targets == ["docs/ci.md", "img.png", "docs/security.md", "docs/emulator.md#what-it-cannot-prove"]


def test_github_anchors_are_derived_as_github_derives_them() -> None:
    text = '# Quick start\n## The local emulator (`make local`)\n## Quick start\n<a id="kept"></a>\n'
    assert anchors_of(text) == {"quick-start", "the-local-emulator-make-local", "quick-start-1", "kept"}


def test_a_link_to_a_missing_file_is_caught() -> None:
    problems = broken_links(README, "Read [the guide](docs/no-such-page.md).")
    assert len(problems) == 1
    assert "no such file" in problems[0]


def test_a_link_to_a_missing_anchor_is_caught() -> None:
    problems = broken_links(README, "Read [the table](docs/configuration.md#no-such-heading).")
    assert len(problems) == 1
    assert "configuration.md has no heading or anchor #no-such-heading" in problems[0]


def test_a_link_out_of_the_repository_is_caught() -> None:
    assert broken_links(README, "[shared events](../shared/events.json)") != []


def test_external_links_and_good_anchors_pass() -> None:
    text = "[AWS](https://docs.aws.amazon.com/) [keys](docs/configuration.md#stack-keys) [here](#quick-start)"
    assert broken_links(README, text + "\n## Quick start\n") == []


def test_an_unclosed_section_is_caught() -> None:
    assert unbalanced_markers("<!-- section:ci -->\ntext\n") == ["section ci never closed"]
    assert unbalanced_markers("text\n<!-- /section:ci -->\n") == ["section ci closed but never opened"]


def counts(graph: StackGraph) -> dict[str, int]:
    """What `make local` counts for a stack: AWS resources, providers, components, and all registrations."""
    aws = sum(1 for _ in graph.custom())
    providers = sum(1 for resource in graph.resources if resource.is_provider)
    components = sum(1 for _ in graph.components())
    return {
        "created": aws + providers,
        "aws": aws,
        "providers": providers,
        "components": components,
        "registrations": len(graph.resources),
    }


def totals(line: re.Pattern[str], text: str) -> list[dict[str, int]]:
    return [{key: int(value) for key, value in found.groupdict().items()} for found in line.finditer(text)]


def test_the_quick_start_shows_what_the_dev_stacks_register(dev_graph: StackGraph) -> None:
    """The pasted output and its explanation say what the programs register today, or `make local` is re-run."""
    quickstart = read_section(README, "quickstart")
    bootstrap, pipeline = counts(evaluate_once("dev", project_dir=BOOTSTRAP_DIR)), counts(dev_graph)
    stale = "the quick start is stale: paste a fresh `make local` and update what the counts count"

    assert totals(DEPLOYED, quickstart) == [bootstrap, pipeline], stale
    # Destroyed pipeline first; components are not counted there.
    assert totals(DESTROYED, quickstart) == [
        {key: each[key] for key in ("created", "aws", "providers")} for each in (pipeline, bootstrap)
    ], stale
    prose = " ".join(quickstart.split())
    for explained in (
        f"**{pipeline['aws']} AWS resources**",
        f"**{pipeline['providers']} provider**",
        f"hence {pipeline['created']} `+` lines",
        f"**{pipeline['components']} components**",
        f"**{pipeline['registrations']} registrations**",
        f"{pipeline['aws']} + {pipeline['providers']} + {pipeline['components']}",
        f"the bootstrap's are {bootstrap['aws']}, {bootstrap['providers']}, {bootstrap['components']} and "
        f"{bootstrap['registrations']}",
    ):
        assert explained in prose, f"{stale}: {explained!r} is missing"
