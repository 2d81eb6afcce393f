"""Every checkov check the template skips carries a reason and is listed in README's security section."""

from __future__ import annotations

import re
from pathlib import Path

from tools.sam_template import load_template

ROOT = Path(__file__).resolve().parents[2]


def checkov_skips() -> dict[tuple[str, str], str]:
    resources = load_template(ROOT / "template.yaml")["Resources"]
    return {
        (logical_id, skip["id"]): str(skip.get("comment", ""))
        for logical_id, resource in resources.items()
        for skip in (resource.get("Metadata", {}).get("checkov", {}).get("skip", []))
    }


def security_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Security and reliability\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Security and reliability' section"
    return match.group(1)


def test_every_skip_has_a_reason() -> None:
    skips = checkov_skips()
    assert skips, "the template skips no checkov check; then this test and README's table can go"
    assert {key: comment for key, comment in skips.items() if len(comment) < 30} == {}


def test_readme_lists_every_skipped_check() -> None:
    # The docs/ topic pages (split out of README) may list the skips of the resources they describe.
    section = security_section() + "".join(
        page.read_text(encoding="utf-8") for page in sorted((ROOT / "docs").glob("*.md"))
    )
    missing = sorted(
        {check_id for _resource, check_id in checkov_skips()} - set(re.findall(r"CKV_AWS_\d+", section))
    )
    assert missing == []
