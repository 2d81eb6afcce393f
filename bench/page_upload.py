"""The upload page itself in headless Chromium: the same file as one presigned PUT and as parallel parts,
through the same proxy capping each connection (32 MiB/s each way, 20 ms to each answer's first byte, as
S3 seen from a browser far from it), side by side in one run (printed, never asserted).

One moto server and the throttling proxy in their own processes; two local APIs (`python -m
tools.local_api --endpoint <proxy>`) differ only in `MULTIPART_THRESHOLD_BYTES`. The page is opened from
each, the file chosen, and the time from the click to "Uploaded." is taken, the page's hashing included.
While it runs the tab's JS heap (Chrome DevTools `Performance.getMetrics`) and the progress bar are
sampled: the peak heap is reported, and the bar must never go back nor show 100 before "Uploaded.".
Needs Debian's chromium and chromium-driver (`make chromium`).

python -m bench.page_upload --object-mib 256 --rounds 2    (--rate-mib 0: no proxy, loopback)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from bench.measure import MIB
from bench.server import moto_server
from bench.throttle import throttle_proxy
from tools.project import PROJECT_ROOT, function_ids

BUCKET = "form-archive-local"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


@contextlib.contextmanager
def local_api(endpoint: str, env: dict[str, Any], workdir: Path, name: str) -> Iterator[dict[str, Any]]:
    env_file = workdir / f"{name}.json"
    env_file.write_text(json.dumps(env), encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    child_env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.local_api",
            "--endpoint",
            endpoint,
            "--port",
            "0",
            "--env-vars",
            str(env_file),
        ],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclasses.dataclass
class Upload:
    seconds: float
    peak_heap_mib: float
    progress_truthful: bool


def _heap_mib(driver: Any) -> float:
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")) / MIB


def upload(driver: Any, api: dict[str, Any], path: Path) -> Upload:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    driver.get(api["page"])
    driver.execute_script("localStorage.clear()")
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("Performance.enable", {})
    driver.find_element(By.ID, "uploader-name").send_keys("Bench")
    driver.find_element(By.ID, "uploader-email").send_keys("bench@example.org")
    driver.find_element(By.ID, "file").send_keys(str(path))
    started = time.perf_counter()
    driver.find_element(By.ID, "upload-button").click()
    peak, last, truthful = 0.0, -1, True
    while True:
        state = driver.execute_script(
            "return [document.getElementById('status').className, document.getElementById('progress').value];"
        )
        peak = max(peak, _heap_mib(driver))
        if state[0] in {"done", "error"}:
            break
        value = int(state[1])
        truthful = truthful and value >= last and value < 100  # never back, never full before the end
        last = value
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    status = driver.find_element(By.ID, "status")
    if status.text != "Uploaded.":
        raise RuntimeError(status.text)
    return Upload(elapsed, peak, truthful)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.page_upload")
    parser.add_argument("--object-mib", type=int, default=256)
    parser.add_argument("--part-mib", type=int, default=16, help="MULTIPART_PART_BYTES (the template's: 16)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate-mib", type=float, default=32.0, help="per connection, each way; 0: no proxy")
    parser.add_argument("--first-byte-ms", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary, moto_server() as endpoint:
        workdir = Path(temporary)
        path = workdir / "bench.bin"
        path.write_bytes(os.urandom(args.object_mib * MIB))
        _prepare_bucket(endpoint)
        with contextlib.ExitStack() as stack:
            store = endpoint
            if args.rate_mib > 0:
                store = stack.enter_context(throttle_proxy(endpoint, args.rate_mib, args.first_byte_ms))
            results = _run(args, store, path, workdir)
    _report(args, results)


def _prepare_bucket(endpoint: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any key
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["PUT", "POST", "DELETE"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )


MODES = {"single PUT": str(5 * 1024**3), "parallel parts": "0"}


def _run(args: argparse.Namespace, store: str, path: Path, workdir: Path) -> dict[str, list[Upload]]:
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    base = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    results: dict[str, list[Upload]] = {mode: [] for mode in MODES}
    with contextlib.ExitStack() as stack:
        apis = {}
        for mode, threshold in MODES.items():
            env = json.loads(json.dumps(base))
            env[function_ids().upload].update(
                {"MULTIPART_THRESHOLD_BYTES": threshold, "MULTIPART_PART_BYTES": str(args.part_mib * MIB)}
            )
            env["Parameters"]["POWERTOOLS_LOG_LEVEL"] = "ERROR"
            apis[mode] = stack.enter_context(local_api(store, env, workdir, mode.replace(" ", "-")))
        driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
        stack.callback(driver.quit)
        for round_number in range(args.rounds):
            order = list(MODES) if round_number % 2 == 0 else list(reversed(MODES))
            for mode in order:
                results[mode].append(upload(driver, apis[mode], path))
    return results


def _page_constant(name: str) -> str:
    page = (PROJECT_ROOT / "web" / "upload.html").read_text(encoding="utf-8")
    line = next(line for line in page.splitlines() if line.startswith(f"const {name} = "))
    return line.split("=", 1)[1].strip().rstrip(";")


def _report(args: argparse.Namespace, results: dict[str, list[Upload]]) -> None:
    where = (
        f"through a proxy capping each connection at {args.rate_mib:g} MiB/s each way, "
        f"{args.first_byte_ms:g} ms to each answer's first byte"
        if args.rate_mib > 0
        else "on loopback (no proxy)"
    )
    print(
        f"method: the page in headless Chromium, moto's server {where}; {args.object_mib} MiB, parts of "
        f"{args.part_mib} MiB, {_page_constant('PARALLEL_PARTS')} parts in flight; {args.rounds} rounds, "
        "order reversed every round; click to 'Uploaded.', the page's hashing included; "
        f"{os.cpu_count()} CPUs shared with other work"
    )
    rates = {}
    for mode, uploads in results.items():
        seconds = [item.seconds for item in uploads]
        rates[mode] = args.object_mib / statistics.median(seconds)
        per_round = ", ".join(f"{args.object_mib / value:.1f}" for value in seconds)
        print(
            f"  {mode:<15} {rates[mode]:8.1f} MiB/s median (rounds: {per_round}); tab JS heap peak "
            f"{max(item.peak_heap_mib for item in uploads):.1f} MiB; progress bar truthful: "
            f"{all(item.progress_truthful for item in uploads)}"
        )
    paired = [
        one.seconds / many.seconds
        for one, many in zip(results["single PUT"], results["parallel parts"], strict=True)
    ]
    print(
        f"  parallel parts / single PUT: {rates['parallel parts'] / rates['single PUT']:.2f}x "
        f"(per round {min(paired):.2f}-{max(paired):.2f}x; goal >= 3.5x through the capped proxy)"
    )


if __name__ == "__main__":
    main()
