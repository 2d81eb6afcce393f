"""The upload page itself in headless Chromium: the same file as one presigned PUT and as parallel parts,
through the same proxy capping each connection (32 MiB/s each way, 20 ms to each answer's first byte, as
S3 seen from a browser far from it), side by side in one run (printed, never asserted).

The store is Ceph RGW (`tools/rgw.sh`, C++: it takes parts as fast as the capped connections bring them;
moto's server, Python, is CPU-bound well below that) or moto's server (`--store moto`), behind the
throttling proxy (bench/throttle.py), each in its own processes. Two local APIs (`python -m tools.local_api
--endpoint <proxy>`, as `make api` runs the upload function) presign for the proxy's address and differ
only in `MULTIPART_THRESHOLD_BYTES`; the bucket answers the browser with the template's CORS rule for
their two origins. The page is opened from each, the file chosen, and the time from the click to
"Uploaded." is taken, the page's hashing included, after one small upload from each (the functions' cold
start is not the upload's); each object is deleted after its upload. While it runs
the tab's JS heap and the progress bar are sampled (bench/page_browser.py).

python -m bench.page_upload      (defaults: RGW, 256 MiB, parts of 16 MiB, 2 rounds; --rate-mib 0: no proxy)
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from bench.measure import MIB
from bench.page_browser import Upload, chromium, upload
from bench.remote import DEFAULT_RGW_SCRIPT, Store, moto_store, rgw_store
from bench.throttle import throttle_proxy
from tools.project import PROJECT_ROOT, function_ids
from tools.template_bucket import template_cors_rule

BUCKET = "form-archive-local"  # events/env.json's ARCHIVE_BUCKET
MODES = {"single PUT": str(5 * 1024**3), "parallel parts": "0"}  # MULTIPART_THRESHOLD_BYTES
GOAL_RATIO = 3.5
HEAP_BOUND_MIB = 32.0  # the tab's JS heap never holds the file: parts are read one at a time, as Blobs
TEST_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto takes any key


@contextlib.contextmanager
def local_api(proxy: str, store: Store, env: dict[str, Any], workdir: Path, name: str) -> Iterator[str]:
    """`python -m tools.local_api --endpoint <proxy>` with `env`; yields the upload page's address."""
    env_file = workdir / f"{name}.json"
    env_file.write_text(json.dumps(env), encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    child_env.update({**TEST_KEYS, "AWS_DEFAULT_REGION": "us-east-1", **store.environ})
    command = ["-m", "tools.local_api", "--endpoint", proxy, "--port", "0", "--env-vars", str(env_file)]
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield str(json.loads(process.stdout.readline())["page"])
    finally:
        process.terminate()
        process.wait(timeout=20)


def s3_client(store: Store) -> Any:
    keys = {**TEST_KEYS, **store.environ}
    return boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        config=Config(request_checksum_calculation="when_required"),  # RGW 16 knows no checksum trailers
    )


def origin(page: str) -> str:
    parts = urlsplit(page)
    return f"{parts.scheme}://{parts.netloc}"


@contextlib.contextmanager
def chosen_store(name: str, writes_mib: int) -> Iterator[Store]:
    if name == "moto":
        with moto_store() as store:
            yield store
        return
    with rgw_store(DEFAULT_RGW_SCRIPT, writes_mib * MIB) as store:
        yield store


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.page_upload")
    parser.add_argument("--store", choices=("rgw", "moto"), default="rgw")
    parser.add_argument("--object-mib", type=int, default=256)
    parser.add_argument("--part-mib", type=int, default=16, help="MULTIPART_PART_BYTES (the template's: 16)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate-mib", type=float, default=32.0, help="per connection, each way; 0: no proxy")
    parser.add_argument("--first-byte-ms", type=float, default=20.0)
    args = parser.parse_args()
    # RGW keeps a deleted object's data until its garbage collection (hours): room for every upload.
    writes_mib = 2 * len(MODES) * args.rounds * args.object_mib
    with tempfile.TemporaryDirectory() as temporary, chosen_store(args.store, writes_mib) as store:
        workdir = Path(temporary)
        path = workdir / "bench.bin"
        path.write_bytes(os.urandom(args.object_mib * MIB))
        with contextlib.ExitStack() as stack:
            proxy = store.endpoint
            if args.rate_mib > 0:
                proxy = stack.enter_context(throttle_proxy(store.endpoint, args.rate_mib, args.first_byte_ms))
            results = _run(args, store, proxy, path, workdir)
    _report(args, results)


def _run(
    args: argparse.Namespace, store: Store, proxy: str, path: Path, workdir: Path
) -> dict[str, list[Upload]]:
    base = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    s3 = s3_client(store)
    s3.create_bucket(Bucket=BUCKET)
    results: dict[str, list[Upload]] = {mode: [] for mode in MODES}
    with contextlib.ExitStack() as stack:
        pages = {}
        for mode, threshold in MODES.items():
            env = json.loads(json.dumps(base))
            env[function_ids().upload].update(
                {"MULTIPART_THRESHOLD_BYTES": threshold, "MULTIPART_PART_BYTES": str(args.part_mib * MIB)}
            )
            env["Parameters"]["POWERTOOLS_LOG_LEVEL"] = "ERROR"
            pages[mode] = stack.enter_context(local_api(proxy, store, env, workdir, mode.replace(" ", "-")))
        rule = template_cors_rule(sorted({origin(page) for page in pages.values()}))
        s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [rule]})
        driver = stack.enter_context(chromium())
        warm_up = workdir / "warm-up.bin"
        warm_up.write_bytes(os.urandom(MIB))
        for page in pages.values():  # the functions' first calls import boto3: a cold start, not the upload's
            s3.delete_object(Bucket=BUCKET, Key=upload(driver, page, warm_up).key)
        for round_number in range(args.rounds):
            order = list(MODES) if round_number % 2 == 0 else list(reversed(MODES))
            for mode in order:
                done = upload(driver, pages[mode], path)
                s3.delete_object(Bucket=BUCKET, Key=done.key)
                results[mode].append(done)
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
    store = "Ceph RGW (tools/rgw.sh)" if args.store == "rgw" else "moto's server"
    print(
        f"method: web/upload.html in headless Chromium, {store} {where}; {args.object_mib} MiB, parts of "
        f"{args.part_mib} MiB, {_page_constant('PARALLEL_PARTS')} parts in flight; {args.rounds} rounds, "
        "order reversed every round; click to 'Uploaded.', the page's hashing included; "
        f"{os.cpu_count()} CPUs shared with the store, the proxy and Chromium"
    )
    rates = {}
    for mode, uploads in results.items():
        seconds = [item.seconds for item in uploads]
        rates[mode] = args.object_mib / statistics.median(seconds)
        per_round = ", ".join(f"{args.object_mib / value:.1f}" for value in seconds)
        heap = max(item.peak_heap_mib for item in uploads)
        print(
            f"  {mode:<15} {rates[mode]:8.1f} MiB/s median (rounds: {per_round}); tab JS heap peak "
            f"{heap:.1f} MiB (bound {HEAP_BOUND_MIB:g}: {'met' if heap <= HEAP_BOUND_MIB else 'MISSED'}); "
            f"progress bar truthful: {all(item.progress_truthful for item in uploads)}"
        )
        first_put = statistics.median(item.first_put_s for item in uploads)
        in_flight = statistics.median(item.mean_in_flight for item in uploads)
        print(f"  {'':<15} first PUT {first_put:.2f} s after the click; PUTs in flight, mean {in_flight:.1f}")
    paired = [
        one.seconds / many.seconds
        for one, many in zip(results["single PUT"], results["parallel parts"], strict=True)
    ]
    ratio = rates["parallel parts"] / rates["single PUT"]
    verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
    print(
        f"  parallel parts / single PUT: {ratio:.2f}x (per round {', '.join(f'{r:.2f}' for r in paired)}; "
        f"goal >= {GOAL_RATIO:g}x through the capped proxy: {verdict})"
    )


if __name__ == "__main__":
    main()
