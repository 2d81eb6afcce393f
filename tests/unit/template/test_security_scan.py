"""Every checkov check the template skips carries a reason and is listed in docs/security.md."""

from __future__ import annotations

import re
from pathlib import Path

from tools.sam_template import load_template

ROOT = Path(__file__).resolve().parents[3]


def checkov_skips() -> dict[tuple[str, str], str]:
    resources = load_template(ROOT / "template.yaml")["Resources"]
    return {
        (logical_id, skip["id"]): str(skip.get("comment", ""))
        for logical_id, resource in resources.items()
        for skip in (resource.get("Metadata", {}).get("checkov", {}).get("skip", []))
    }


def security_section() -> str:
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    match = re.search(r"^## Template scan\n(.*)", page, re.MULTILINE | re.DOTALL)
    assert match, "docs/security.md has no '## Template scan' section"
    return match.group(1)


def test_every_skip_has_a_reason() -> None:
    skips = checkov_skips()
    assert skips, "the template skips no checkov check; then this test and README's table can go"
    assert {key: comment for key, comment in skips.items() if len(comment) < 30} == {}


def test_readme_lists_every_skipped_check() -> None:
    section = security_section()
    missing = sorted(
        {check_id for _resource, check_id in checkov_skips()} - set(re.findall(r"CKV_AWS_\d+", section))
    )
    assert missing == []
