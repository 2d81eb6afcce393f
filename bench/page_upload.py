"""The upload page itself in headless Chromium: the same file as one presigned PUT and as parallel parts,
on the same store (one moto server in its own process), side by side in one run (printed, never asserted).

Two local APIs (`python -m tools.local_api --endpoint <moto>`) differ only in `MULTIPART_THRESHOLD_BYTES`;
the page is opened from each, the file chosen, and the time from the click to "Uploaded." is taken (the
page's SHA-256 of the whole file, up to 256 MiB, is part of both). Needs Debian's chromium and
chromium-driver (`make chromium`).

python -m bench.page_upload --object-mib 64 --part-mib 8 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
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


def upload_seconds(driver: Any, api: dict[str, Any], path: Path) -> float:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    driver.get(api["page"])
    driver.execute_script("localStorage.clear()")
    driver.find_element(By.ID, "uploader-name").send_keys("Bench")
    driver.find_element(By.ID, "uploader-email").send_keys("bench@example.org")
    driver.find_element(By.ID, "file").send_keys(str(path))
    started = time.perf_counter()
    driver.find_element(By.ID, "upload-button").click()
    status = driver.find_element(By.ID, "status")
    while status.get_attribute("class") not in {"done", "error"}:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if status.text != "Uploaded.":
        raise RuntimeError(status.text)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.page_upload")
    parser.add_argument("--object-mib", type=int, default=64)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    base = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as temporary, moto_server() as endpoint:
        workdir = Path(temporary)
        path = workdir / "bench.bin"
        path.write_bytes(os.urandom(args.object_mib * MIB))
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
        modes = {"single PUT": str(5 * 1024**3), "parallel parts": "0"}
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in FLAGS:
            options.add_argument(flag)
        seconds: dict[str, list[float]] = {mode: [] for mode in modes}
        with contextlib.ExitStack() as stack:
            apis = {}
            for mode, threshold in modes.items():
                env = json.loads(json.dumps(base))
                env[function_ids().upload].update(
                    {"MULTIPART_THRESHOLD_BYTES": threshold, "MULTIPART_PART_BYTES": str(args.part_mib * MIB)}
                )
                env["Parameters"]["POWERTOOLS_LOG_LEVEL"] = "ERROR"
                apis[mode] = stack.enter_context(local_api(endpoint, env, workdir, mode.replace(" ", "-")))
            driver = webdriver.Chrome(
                service=Service(executable_path="/usr/bin/chromedriver"), options=options
            )
            stack.callback(driver.quit)
            for round_number in range(args.rounds):
                order = list(modes) if round_number % 2 == 0 else list(reversed(modes))
                for mode in order:
                    seconds[mode].append(upload_seconds(driver, apis[mode], path))
    rates = {mode: args.object_mib / statistics.median(values) for mode, values in seconds.items()}
    print(
        f"store moto (its own process), the page in headless Chromium: {args.object_mib} MiB, "
        f"parts of {args.part_mib} MiB, 4 in flight"
    )
    for mode, rate in rates.items():
        print(f"  {mode:<15} {rate:8.1f} MiB/s (median of {args.rounds}, the page's hashing included)")
    print(f"  parallel parts / single PUT: {rates['parallel parts'] / rates['single PUT']:.2f}x")


if __name__ == "__main__":
    main()
