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
import itertools
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
from tools.project import PROJECT_ROOT, function_ids

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
    env = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    yield from _local_api(tmp_path, webhook_receiver, env)


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


# ---------------------------------------------------------------- multipart: parts, reload, resume
PART = 5 * 1024 * 1024  # S3's minimum part size; the threshold is lowered to it for this test


@pytest.fixture
def multipart_api(tmp_path: Path, webhook_receiver: WebhookReceiver) -> Iterator[dict[str, Any]]:
    """The local API with multipart above 5 MiB in parts of 5 MiB (environment, as a user would set it)."""
    env = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    env[function_ids().upload].update(
        {"MULTIPART_THRESHOLD_BYTES": str(PART), "MULTIPART_PART_BYTES": str(PART)}
    )
    yield from _local_api(tmp_path, webhook_receiver, env)


def _local_api(
    tmp_path: Path, webhook_receiver: WebhookReceiver, env: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The local API as a user starts it (a subprocess) with `env` as its --env-vars file."""
    env_file = tmp_path / "env.json"
    env[function_ids().notify]["WEBHOOK_SECRET_TOKEN"] = WHSEC
    env_file.write_text(json.dumps(env), encoding="utf-8")
    child_env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    log = tmp_path / "local_api.log"
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
        stderr=log.open("w"),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail("local API did not start:\n" + log.read_text())
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        print(log.read_text(), file=sys.stderr)


def test_a_file_in_parts_shows_its_parts_and_the_delivery(
    tmp_path: Path, multipart_api: dict[str, Any], browser: Any, webhook_receiver: WebhookReceiver
) -> None:
    """A file above the (lowered) threshold goes up in three parts; the result shows them. This is the
    page docs/upload-page.png shows: `UPLOAD_PAGE_SCREENSHOT=docs/upload-page.png` copies the screenshot."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    content = os.urandom(2 * PART + 300_000)
    upload = tmp_path / "Messwerte März.csv"
    upload.write_bytes(content)
    browser.get(multipart_api["page"])
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
    assert browser.find_element(By.ID, "result-parts").text == "3"
    # An upload begun by this click holds nothing in S3 yet: no status request. The part URLs are asked for
    # one request at a time (a function container takes one call at a time).
    assert _api_requests(browser, "/uploads/status") == []
    asks = _api_requests(browser, "/uploads/parts")
    assert asks
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(asks))
    # Below the page's ask-first size the page hashes the file whole too, and shows that SHA-256.
    assert browser.find_element(By.ID, "result-sha256").text == hashlib.sha256(content).hexdigest()
    s3 = boto3.session.Session().client("s3", endpoint_url=multipart_api["s3_endpoint"])
    head = s3.head_object(Bucket=BUCKET, Key="DP-browser/field/2026/Messwerte März.csv")
    assert head["ETag"].strip('"').endswith("-3")
    delivery = browser.find_element(By.ID, "result-delivery")
    wait_for(lambda: delivery.text == "delivered and signed", 60, "the page to show the delivery")
    request = webhook_receiver.requests[-1]
    Webhook(WHSEC).verify(request.body, request.headers)
    assert request.json()["sha256"] == hashlib.sha256(content).hexdigest()

    # The whole page, result rows included (the window is shorter than the page).
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(900, int(height) + 140)  # plus the window's frame
    screenshot = tmp_path / "upload-page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    if os.environ.get("UPLOAD_PAGE_SCREENSHOT"):  # how docs/upload-page.png is made
        shutil.copy(screenshot, os.environ["UPLOAD_PAGE_SCREENSHOT"])


def _api_requests(browser: Any, path: str) -> list[tuple[float, float]]:
    """(start, end) of the page's requests to the API route `path`, in the order they started."""
    spans = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((entry) => new URL(entry.name).pathname.endsWith(arguments[0]))"
        ".map((entry) => [entry.startTime, entry.responseEnd]);",
        path,
    )
    return sorted((float(start), float(end)) for start, end in spans)


def _sent_parts(browser: Any) -> int:
    """Parts the page recorded as stored (its resume record in localStorage)."""
    return int(
        browser.execute_script(
            "return Object.keys(localStorage)"
            ".filter((k) => k.startsWith('form-archive-upload:'))"
            ".map((k) => JSON.parse(localStorage.getItem(k)).parts)"
            ".map((parts) => Object.values(parts).filter((p) => p.etag).length)"
            ".reduce((a, b) => Math.max(a, b), 0);"
        )
    )


@pytest.mark.slow
def test_a_large_file_goes_up_in_parts_survives_a_reload_and_is_announced(
    tmp_path: Path, multipart_api: dict[str, Any], browser: Any, webhook_receiver: WebhookReceiver
) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    content = os.urandom(7 * PART + 123_457)  # eight parts, the last one short
    upload = tmp_path / "Messreihe groß.bin"
    upload.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()

    # Slow uploads (Chromium's own network throttling), so that the reload comes mid-way.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 3 * 1024 * 1024},
    )
    browser.get(multipart_api["page"])
    browser.find_element(By.ID, "datapack").clear()
    browser.find_element(By.ID, "datapack").send_keys("DP-large")
    browser.find_element(By.ID, "uploader-name").send_keys("Zoë Ærø")
    browser.find_element(By.ID, "uploader-email").send_keys("zoe@example.org")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()
    wait_for(lambda: _sent_parts(browser) >= 1, 90, "the first parts to be stored")
    progress_text = browser.find_element(By.ID, "progress-text").text
    assert " of 35.1 MiB" in progress_text and "/s" in progress_text, progress_text
    sent_before_reload = _sent_parts(browser)
    assert sent_before_reload < 8

    browser.refresh()  # the page is gone mid-upload; the key must be given again
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.find_element(By.ID, "api-key").send_keys(multipart_api["api_key"])
    browser.find_element(By.ID, "file").send_keys(str(upload))
    assert browser.find_element(By.ID, "resume-note").is_displayed()
    assert browser.find_element(By.ID, "upload-button").text == "Resume upload"
    browser.find_element(By.ID, "upload-button").click()

    status = browser.find_element(By.ID, "status")
    wait_for(lambda: status.get_attribute("class") in {"done", "error"}, 120, "the upload to finish")
    assert status.text == "Uploaded.", status.text
    key = "DP-large/Messreihe groß.bin"
    assert browser.find_element(By.ID, "result-key").text == key
    parts_text = browser.find_element(By.ID, "result-parts").text
    kept = int(parts_text.split("(")[1].split()[0])
    assert parts_text.startswith("8 (") and kept >= sent_before_reload, parts_text

    s3 = boto3.session.Session().client("s3", endpoint_url=multipart_api["s3_endpoint"])
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(content)
    assert head["ETag"].strip('"').endswith("-8")
    assert head["ContentType"] == "application/octet-stream"
    assert head["Metadata"]["uploaded-by"] == "presigned-url"
    assert decode_metadata_value(head["Metadata"]["uploader-name"]) == "Zoë Ærø"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")

    delivered = wait_for(
        lambda: [r for r in webhook_receiver.requests if r.json().get("display") == "Messreihe groß.bin"],
        60,
        "the webhook delivery",
    )
    Webhook(WHSEC).verify(delivered[-1].body, delivered[-1].headers)
    announcement = delivered[-1].json()
    assert announcement["sha256"] == digest  # the full file's, hashed by the notify function
    assert announcement["length"] == len(content)
    assert decode_metadata_value(announcement["submitter_name"]) == "Zoë Ærø"
    assert browser.execute_script("return Object.keys(localStorage).length") == 0


def test_cancel_aborts_the_multipart_upload(
    tmp_path: Path, multipart_api: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    upload = tmp_path / "big.bin"
    upload.write_bytes(os.urandom(3 * PART))
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024},
    )
    browser.get(multipart_api["page"])
    browser.find_element(By.ID, "uploader-name").send_keys("Ana")
    browser.find_element(By.ID, "uploader-email").send_keys("ana@example.org")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()
    cancel = browser.find_element(By.ID, "cancel-button")
    wait_for(cancel.is_displayed, 30, "the cancel button")
    s3 = boto3.session.Session().client("s3", endpoint_url=multipart_api["s3_endpoint"])
    assert len(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])) == 1
    cancel.click()
    status = browser.find_element(By.ID, "status")
    wait_for(lambda: status.get_attribute("class") == "error", 30, "the cancellation")
    assert status.text == "Cancelled; the parts sent so far were removed from S3.", status.text
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert not s3.list_objects_v2(Bucket=BUCKET).get("Contents")
    assert browser.execute_script("return Object.keys(localStorage).length") == 0


ABOVE_ASK_FIRST = 64 * 1024 * 1024 + 1  # the page's ASK_BEFORE_HASHING_BYTES, plus one byte


def _upload_and_wait(browser: Any, page: str, upload: Path) -> str:
    """Upload `upload` from `page`; the result's SHA-256 line once "Uploaded." shows (the bar at 100)."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    browser.get(page)
    browser.find_element(By.ID, "uploader-name").send_keys("Ana")
    browser.find_element(By.ID, "uploader-email").send_keys("ana@example.org")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()
    status = browser.find_element(By.ID, "status")
    wait_for(lambda: status.get_attribute("class") in {"done", "error"}, 180, "the upload to finish")
    assert status.text == "Uploaded.", status.text
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    return str(browser.find_element(By.ID, "result-sha256").text)


def test_a_large_file_sent_in_parts_is_not_hashed_whole_first(
    tmp_path: Path, multipart_api: dict[str, Any], browser: Any
) -> None:
    """Above the template's multipart threshold the page asks first: the answer is parts, whose SHA-256s
    S3 checks one by one, so the whole file is never hashed (nor held in memory) by the page."""
    upload = tmp_path / "large.bin"
    upload.write_bytes(os.urandom(ABOVE_ASK_FIRST))
    assert (
        _upload_and_wait(browser, multipart_api["page"], upload)
        == "not computed here: S3 checked each part's"
    )
    s3 = boto3.session.Session().client("s3", endpoint_url=multipart_api["s3_endpoint"])
    head = s3.head_object(Bucket=BUCKET, Key="demo-datapack/large.bin")
    assert head["ContentLength"] == ABOVE_ASK_FIRST


@pytest.fixture
def single_put_api(tmp_path: Path, webhook_receiver: WebhookReceiver) -> Iterator[dict[str, Any]]:
    """The local API with its multipart threshold above the page's ask-first size (1 GiB)."""
    env = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    env[function_ids().upload].update({"MULTIPART_THRESHOLD_BYTES": str(1024**3)})
    yield from _local_api(tmp_path, webhook_receiver, env)


def test_a_large_file_answered_with_a_single_put_is_hashed_and_asked_for_again(
    tmp_path: Path, single_put_api: dict[str, Any], browser: Any
) -> None:
    """The same file where the API's threshold is higher: the first answer is a single PUT, so the page
    hashes the file and asks again with its SHA-256, which S3 then checks."""
    content = os.urandom(ABOVE_ASK_FIRST)
    upload = tmp_path / "large.bin"
    upload.write_bytes(content)
    assert _upload_and_wait(browser, single_put_api["page"], upload) == hashlib.sha256(content).hexdigest()
    s3 = boto3.session.Session().client("s3", endpoint_url=single_put_api["s3_endpoint"])
    head = s3.head_object(Bucket=BUCKET, Key="demo-datapack/large.bin", ChecksumMode="ENABLED")
    assert "-" not in head["ETag"]  # one PUT, not parts
    assert head["ChecksumSHA256"]  # sent with the page's digest, which S3 checked
