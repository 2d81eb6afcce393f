"""web/upload.html in a real headless Chromium, against `tools.local_api` with its embedded S3.

The local API runs as a user starts it (`python -m tools.local_api --embedded-s3 ...`, a subprocess) with
new objects announced to a loopback webhook receiver. The page is opened, a generated file is chosen and
uploaded; then the object is read back with our own client (bytes, metadata, S3's SHA-256 checksum)
and the webhook delivery is verified with the `standardwebhooks` package.

Chromium comes from Debian (`apt-get install -y chromium chromium-driver`); without it this test fails
and says so: a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from form_archive_contract.metadata import decode_metadata_value
from tests.webhook_receiver import WebhookReceiver
from tools.local_invoke import PROJECT_ROOT

pytestmark = pytest.mark.moto_only("`make api --embedded-s3` runs its own moto server")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "install Debian's browser and driver: apt-get install -y chromium chromium-driver"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks published test secret
BUCKET = "form-archive-local"
# The closed network refuses Chromium's background connections; these flags keep it from trying.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=900,1000",
)


def require_chromium() -> None:
    missing = [
        path for path in (CHROMIUM, CHROMEDRIVER) if not (Path(path).is_file() and os.access(path, os.X_OK))
    ]
    if missing:
        pytest.fail(f"the browser test needs {', '.join(missing)}; {INSTALL_HINT}")


@pytest.fixture
def local_api(tmp_path: Path, webhook_receiver: WebhookReceiver) -> Iterator[dict[str, Any]]:
    """`python -m tools.local_api --embedded-s3` with deliveries to the receiver; yields its stdout line."""
    env_file = tmp_path / "env.json"
    env = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    env["NotifyWebhookFunction"]["WEBHOOK_SECRET_TOKEN"] = WHSEC
    env_file.write_text(json.dumps(env), encoding="utf-8")
    child_env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.local_api",
            "--embedded-s3",
            "--port",
            "0",
            "--env-vars",
            str(env_file),
            "--webhook-url",
            webhook_receiver.url,
        ],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "local_api.log").open("w"),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail("local API did not start:\n" + (tmp_path / "local_api.log").read_text())
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        print((tmp_path / "local_api.log").read_text(), file=sys.stderr)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    require_chromium()
    from selenium import webdriver  # noqa: PLC0415 - only this test needs it
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    # The driver's path is given, so Selenium Manager has nothing to find or download.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_upload_page_uploads_and_the_delivery_is_signed(
    tmp_path: Path, local_api: dict[str, Any], browser: Any, webhook_receiver: WebhookReceiver
) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    content = os.urandom(300_000) + "Grüße aus dem Browser\n".encode()
    upload = tmp_path / "Messwerte März.csv"
    upload.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()

    browser.get(local_api["page"])
    # Prefilled from the page's address; the key is then removed from the address bar.
    assert browser.find_element(By.ID, "api-url").get_attribute("value") == local_api["url"]
    assert browser.find_element(By.ID, "api-key").get_attribute("value") == local_api["api_key"]
    assert local_api["api_key"] not in browser.current_url
    browser.find_element(By.ID, "datapack").clear()
    browser.find_element(By.ID, "datapack").send_keys("DP-browser")
    browser.find_element(By.ID, "path").clear()
    browser.find_element(By.ID, "path").send_keys("/field/2026")
    browser.find_element(By.ID, "uploader-name").send_keys("Zoë Ærø")
    browser.find_element(By.ID, "uploader-email").send_keys("zoe@example.org")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()

    status = browser.find_element(By.ID, "status")
    wait_for(lambda: status.get_attribute("class") in {"done", "error"}, 60, "the upload to finish")
    assert status.text == "Uploaded.", status.text
    key = "DP-browser/field/2026/Messwerte März.csv"
    assert browser.find_element(By.ID, "result-key").text == key
    assert browser.find_element(By.ID, "result-sha256").text == digest
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"

    # The object, read back with our own client.
    s3 = boto3.session.Session().client("s3", endpoint_url=local_api["s3_endpoint"])
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(content)
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"]["uploaded-by"] == "presigned-url"
    assert decode_metadata_value(head["Metadata"]["uploader-name"]) == "Zoë Ærø"
    assert head["Metadata"]["uploader-email"] == "zoe@example.org"
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == digest
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content

    # The S3 event ran the notify function, which delivered a signed announcement.
    delivered = wait_for(lambda: webhook_receiver.requests, 60, "the webhook delivery")
    request = delivered[-1]
    Webhook(WHSEC).verify(request.body, request.headers)  # raises when the signature is wrong
    announcement = request.json()
    assert announcement["datapack_identifier"] == "DP-browser"
    assert announcement["path"] == "/field/2026"
    assert announcement["display"] == "Messwerte März.csv"
    assert announcement["sha256"] == digest
    assert announcement["length"] == len(content)
    assert announcement["content_type"] == "text/csv"
    # Decoded from RFC 2047 by the notify function (DESIGN.md); decoding again is harmless either way.
    assert decode_metadata_value(announcement["submitter_name"]) == "Zoë Ærø"
    assert announcement["submitter_email"] == "zoe@example.org"
    delivery = browser.find_element(By.ID, "result-delivery")
    wait_for(lambda: delivery.text == "delivered and signed", 30, "the page to show the delivery")

    screenshot = tmp_path / "upload-page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    if os.environ.get("UPLOAD_PAGE_SCREENSHOT"):  # a developer's look at the page
        shutil.copy(screenshot, os.environ["UPLOAD_PAGE_SCREENSHOT"])


def test_page_shows_a_refusal(local_api: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    """A bad request is explained on the page, and nothing is uploaded."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    upload = tmp_path / "note.txt"
    upload.write_bytes(b"hello")
    browser.get(local_api["page"])
    browser.find_element(By.ID, "datapack").clear()
    browser.find_element(By.ID, "datapack").send_keys("../escape")
    browser.find_element(By.ID, "uploader-name").send_keys("Ana")
    browser.find_element(By.ID, "uploader-email").send_keys("ana@example.org")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()
    status = browser.find_element(By.ID, "status")
    wait_for(lambda: status.get_attribute("class") == "error", 30, "the refusal")
    assert status.text.startswith("POST /uploads answered 400: datapack_identifier: "), status.text
    s3 = boto3.session.Session().client("s3", endpoint_url=local_api["s3_endpoint"])
    assert not s3.list_objects_v2(Bucket=BUCKET).get("Contents")
