"""The upload page's copies of the multipart settings match the template's and the function's defaults:
the page asks before hashing above MULTIPART_THRESHOLD_BYTES and hashes the first part (of
MULTIPART_PART_BYTES) while the API answers, so a drift would hash whole files or hash the wrong bytes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tools.project import PROJECT_ROOT
from tools.sam_template import load_template
from upload_url.multipart.settings import DEFAULT_MULTIPART_THRESHOLD_BYTES, DEFAULT_PART_BYTES

PAGE_PRODUCT = re.compile(r"^const (\w+) = (\d+(?: \* \d+)*);", re.MULTILINE)


def page_constants() -> dict[str, int]:
    """The page's integer constants written as products (`64 * 1024 * 1024`)."""
    page = (PROJECT_ROOT / "web" / "upload.html").read_text(encoding="utf-8")
    constants = {}
    for name, product in PAGE_PRODUCT.findall(page):
        value = 1
        for factor in product.split(" * "):
            value *= int(factor)
        constants[name] = value
    return constants


def template_variables() -> dict[str, Any]:
    template = load_template(PROJECT_ROOT / "template.yaml")
    return dict(template["Globals"]["Function"]["Environment"]["Variables"])


@pytest.mark.parametrize(
    ("page_name", "variable", "default"),
    [
        ("ASK_BEFORE_HASHING_BYTES", "MULTIPART_THRESHOLD_BYTES", DEFAULT_MULTIPART_THRESHOLD_BYTES),
        ("EXPECTED_PART_BYTES", "MULTIPART_PART_BYTES", DEFAULT_PART_BYTES),
    ],
)
def test_the_page_knows_the_templates_multipart_settings(page_name: str, variable: str, default: int) -> None:
    page = page_constants()
    assert page[page_name] == int(template_variables()[variable]) == default
