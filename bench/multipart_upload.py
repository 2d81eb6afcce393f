"""The page's way of sending a large file against one presigned PUT of the same file, on the same store,
side by side in one run (printed, never asserted).

Both go through the upload function in this process (`POST /uploads`, and for multipart `parts` and
`complete`) and send the bytes over HTTP with `requests`, as web/upload.html does: the single PUT hashes
the whole file and sends it in one request; the multipart upload hashes each part, asks for part URLs in
batches of 8 and keeps 4 part PUTs in flight (the page's PRESIGN_BATCH and PARALLEL_PARTS). Rounds
alternate the order. The store is moto's server in its own process, or Ceph RGW (`--rgw-env`, the file
`tools/rgw.sh start` prints).

python -m bench.multipart_upload --object-mib 64 --part-mib 8 --rounds 3
python -m bench.multipart_upload --rgw-env /tmp/rgw/rgw.env
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.measure import MIB
from bench.server import moto_server
from tools.environment import patched_environ
from tools.lambda_context import LocalLambdaContext
from tools.rest_event import json_post_event

BUCKET = "form-archive-bench"
PARALLEL_PARTS = 4
PRESIGN_BATCH = 8


def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
    from upload_url.app import lambda_handler  # noqa: PLC0415 - after the environment is set

    answer = lambda_handler(
        json_post_event(path, body, stage="bench"), LocalLambdaContext(function_name="bench")
    )
    if answer["statusCode"] not in {200, 201}:
        raise RuntimeError(f"POST {path}: {answer['statusCode']} {answer['body']}")
    return dict(json.loads(answer["body"]))


def request_for(content: bytes, key: str, sha256: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "datapack_identifier": "bench",
        "filename": key,
        "content_type": "application/octet-stream",
        "size": len(content),
        "uploader_name": "Bench",
        "uploader_email": "bench@example.org",
    }
    if sha256:
        document["sha256"] = sha256
    return document


def single_put(content: bytes, key: str) -> None:
    answer = call("/uploads", request_for(content, key, hashlib.sha256(content).hexdigest()))
    upload = answer["upload"]
    assert upload["method"] == "PUT", upload["method"]
    headers = {k: v for k, v in upload["headers"].items() if k.lower() != "content-length"}
    response = requests.put(upload["url"], data=content, headers=headers, timeout=600)
    response.raise_for_status()


def multipart(content: bytes, key: str) -> None:
    upload = call("/uploads", request_for(content, key, None))["upload"]
    assert upload["method"] == "MULTIPART", upload["method"]
    token, size = upload["upload_token"], upload["part_size"]
    chunks = {n: content[(n - 1) * size : n * size] for n in range(1, upload["part_count"] + 1)}

    def send(item: dict[str, Any]) -> dict[str, Any]:
        headers = {k: v for k, v in item["headers"].items() if k.lower() != "content-length"}
        response = requests.put(item["url"], data=chunks[item["part_number"]], headers=headers, timeout=600)
        response.raise_for_status()
        return {"part_number": item["part_number"], "etag": response.headers["ETag"]}

    done: list[dict[str, Any]] = []
    digests: dict[int, str] = {}
    numbers = sorted(chunks)
    with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
        futures = []
        for start in range(0, len(numbers), PRESIGN_BATCH):
            batch = numbers[start : start + PRESIGN_BATCH]
            digests.update({n: hashlib.sha256(chunks[n]).hexdigest() for n in batch})
            listed = [{"part_number": n, "sha256": digests[n]} for n in batch]
            futures += [
                pool.submit(send, item)
                for item in call("/uploads/parts", {"upload_token": token, "parts": listed})["parts"]
            ]
        done = [future.result() for future in futures]
    parts = [{**part, "sha256": digests[part["part_number"]]} for part in done]
    call("/uploads/complete", {"upload_token": token, "parts": parts})


@contextlib.contextmanager
def store(rgw_env: Path | None) -> Iterator[tuple[str, str, str, str]]:
    """(name, endpoint, access key, secret key)."""
    if rgw_env is None:
        with moto_server() as endpoint:
            yield "moto", endpoint, "testing", "testing"
        return
    values = dict(line.split("=", 1) for line in rgw_env.read_text().splitlines() if "=" in line)
    yield "rgw", values["RGW_ENDPOINT"], values["RGW_ACCESS_KEY"], values["RGW_SECRET_KEY"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.multipart_upload")
    parser.add_argument("--object-mib", type=int, default=64)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rgw-env", type=Path)
    args = parser.parse_args()
    content = os.urandom(args.object_mib * MIB)
    with store(args.rgw_env) as (name, endpoint, access_key, secret_key):
        variables = {
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "ARCHIVE_BUCKET": BUCKET,
            "UPLOAD_TOKEN_KEY": "testing-bench-upload-token-key",
            "MULTIPART_PART_BYTES": str(args.part_mib * MIB),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        with patched_environ(set=variables):
            s3 = boto3.client("s3", endpoint_url=endpoint)
            with contextlib.suppress(Exception):
                s3.create_bucket(Bucket=BUCKET)
            seconds: dict[str, list[float]] = {"single PUT": [], "multipart": []}
            for round_number in range(args.rounds):
                order = ["single PUT", "multipart"] if round_number % 2 == 0 else ["multipart", "single PUT"]
                for mode in order:
                    os.environ["MULTIPART_THRESHOLD_BYTES"] = str(5 * 1024**3 if mode == "single PUT" else 0)
                    started = time.perf_counter()
                    (single_put if mode == "single PUT" else multipart)(content, f"{mode}-{round_number}.bin")
                    seconds[mode].append(time.perf_counter() - started)
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
                for item in page.get("Versions", []):
                    s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
    rates = {mode: args.object_mib / statistics.median(values) for mode, values in seconds.items()}
    print(f"store {name}: {args.object_mib} MiB, parts of {args.part_mib} MiB, {PARALLEL_PARTS} in flight")
    for mode, rate in rates.items():
        print(f"  {mode:<11} {rate:8.1f} MiB/s (median of {args.rounds}, hashing included)")
    print(f"  multipart / single PUT: {rates['multipart'] / rates['single PUT']:.2f}x")


if __name__ == "__main__":
    main()
