"""Make's error lines quoted in the pages name the Makefile line make would name today: `[Makefile:N: target]`
is a line of that target's recipe, so a page does not go stale when the Makefile grows."""

from __future__ import annotations

import re

from tools.project import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
_QUOTED = re.compile(r"\[Makefile:(\d+): ([\w.-]+)\]")
_RULE = re.compile(r"^([\w.-]+(?: [\w.-]+)*):(?!=)")


def target_of_line(lines: list[str], number: int) -> str | None:
    """The target whose recipe holds line `number` (1-based), or None when it is not a recipe line."""
    if not lines[number - 1].startswith("\t"):
        return None
    for line in reversed(lines[: number - 1]):
        rule = _RULE.match(line)
        if rule:
            return rule.group(1)
    return None


def test_quoted_make_errors_name_the_recipe_line() -> None:
    lines = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    quoted = [
        (page.name, int(number), target)
        for page in PAGES
        for number, target in _QUOTED.findall(page.read_text(encoding="utf-8"))
    ]
    assert quoted, "docs/local.md quotes make's error for `make invoke` without an endpoint"
    for page, number, target in quoted:
        found = target_of_line(lines, number) if number <= len(lines) else None
        recipe = [n for n in range(1, len(lines) + 1) if target in (target_of_line(lines, n) or "").split()]
        assert found is not None and target in found.split(), (
            f"{page} quotes [Makefile:{number}: {target}], but that line is in {found!r}'s recipe; "
            f"the Makefile moved it: {target}'s recipe is on line(s) {recipe}"
        )
