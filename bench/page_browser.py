"""Headless Chromium driving web/upload.html for bench/page_upload.py: one upload from the click to
"Uploaded.", with the tab's JS heap and the progress bar sampled on the way (a benchmark needs the
numbers, the e2e test the behaviour; they share nothing but the page).

Needs Debian's chromium and chromium-driver (`make chromium`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.measure import MIB

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
SAMPLE_SECONDS = 0.1


@dataclasses.dataclass(frozen=True)
class Upload:
    seconds: float
    peak_heap_mib: float
    progress_truthful: bool  # never went back, never showed 100 before "Uploaded."
    key: str
    first_put_s: float  # from the click to the first PUT to S3 (hashing, asking the API)
    mean_in_flight: float  # PUTs to S3 in flight on average, from the first one's start to the last one's end


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium session (Selenium), quit on any exit."""
    from selenium import webdriver  # noqa: PLC0415 - only the page bench needs it
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _heap_mib(driver: Any) -> float:
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")) / MIB


def truthful_step(last: int, value: int) -> bool:
    """Whether the bar moving from `last` to `value` (before "Uploaded.") tells the truth."""
    return last <= value < 100


def upload(driver: Any, page: str, path: Path) -> Upload:
    """Open `page`, choose `path`, click Upload and wait for the end; raise with the page's words on error."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    driver.get(page)
    driver.execute_script("localStorage.clear()")
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("Performance.enable", {})
    driver.find_element(By.ID, "uploader-name").send_keys("Bench")
    driver.find_element(By.ID, "uploader-email").send_keys("bench@example.org")
    driver.find_element(By.ID, "file").send_keys(str(path))
    clicked_ms = float(driver.execute_script("return performance.now();"))
    started = time.perf_counter()
    driver.find_element(By.ID, "upload-button").click()
    peak, last, truthful = 0.0, 0, True
    while True:
        state = driver.execute_script(
            "return [document.getElementById('status').className, document.getElementById('progress').value];"
        )
        peak = max(peak, _heap_mib(driver))
        if state[0] in {"done", "error"}:
            break
        value = int(state[1])
        truthful = truthful and truthful_step(last, value)
        last = value
        time.sleep(SAMPLE_SECONDS)
    elapsed = time.perf_counter() - started
    status = driver.find_element(By.ID, "status")
    if status.text != "Uploaded.":
        raise RuntimeError(f"the page says: {status.text}")
    first_put_s, in_flight = _puts(driver, clicked_ms)
    return Upload(
        elapsed, peak, truthful, driver.find_element(By.ID, "result-key").text, first_put_s, in_flight
    )


PUTS_SCRIPT = """return performance.getEntriesByType('resource')
  .filter((entry) => entry.initiatorType === 'xmlhttprequest' && entry.startTime >= arguments[0])
  .map((entry) => [entry.startTime, entry.responseEnd]);"""


def _puts(driver: Any, clicked_ms: float) -> tuple[float, float]:
    """When the first PUT (the page sends only PUTs to S3 with XHR) started after the click, and how many
    were in flight on average until the last one ended: how well the connections were kept busy."""
    spans = [(float(start), float(end)) for start, end in driver.execute_script(PUTS_SCRIPT, clicked_ms)]
    if not spans:
        return 0.0, 0.0
    first, last = min(start for start, _ in spans), max(end for _, end in spans)
    busy = sum(end - start for start, end in spans)
    return (first - clicked_ms) / 1000, busy / max(last - first, 1e-9)
