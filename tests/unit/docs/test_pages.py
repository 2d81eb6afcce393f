"""README.md is the front door and docs/ holds one page per topic (issue 25): README stays short, links
to every page, every page links back, and every relative link and anchor resolves."""

from __future__ import annotations

import re
from pathlib import Path

from tools.project import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = sorted((PROJECT_ROOT / "docs").glob("*.md"))
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.*)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_readme_fits_on_a_page() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_readme_links_every_page_and_every_page_links_back() -> None:
    readme = README.read_text(encoding="utf-8")
    assert PAGES
    for page in PAGES:
        assert f"](docs/{page.name})" in readme, f"README does not link {page.name}"
        assert "](../README.md)" in page.read_text(encoding="utf-8"), f"{page.name} does not link README"


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = []
    for page in [README, *PAGES]:
        for link in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                problems.append(f"{page.name}: {link} (no such file)")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                problems.append(f"{page.name}: {link} (no such heading)")
    assert problems == []


def test_no_unexplained_handbook() -> None:
    """ "The handbook" is explained in README's first paragraph, before any other page uses the word."""
    first_paragraph = README.read_text(encoding="utf-8").split("\n\n")[1]
    assert "handbook" in first_paragraph
