"""`make demo`'s multipart step: a generated file of three parts through the upload function's multipart
routes, S3's event, the announcement with the whole file's SHA-256; checked independently.

1. UploadUrlFunction gets `POST /uploads` for the file, with the threshold and part size lowered to S3's
   5 MiB minimum (environment, as a test or a user may set them), and answers a multipart upload;
2. `POST /uploads/parts` presigns each part with its SHA-256 signed in; the parts are PUT (real HTTP);
3. `POST /uploads/status` lists what S3 holds, `POST /uploads/complete` completes with every checksum;
4. the S3 event from the queue runs NotifyWebhookFunction, which hashes the object and announces it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import requests

from tools.demo.model import DemoFailed, DemoOptions, DemoResult, Say
from tools.demo.servers import DemoServers, s3_event_for
from tools.demo.steps import notify, read_env_vars, signing_secret
from tools.demo.upload import UPLOAD_FUNCTION, UPLOADER_EMAIL, UPLOADER_NAME
from tools.local_invoke import invoke
from tools.rest_event import json_post_event

PART_BYTES = 5 * 1024 * 1024  # S3's smallest part
DATAPACK = "demo-datapack"
FOLDER = "/recordings"
FILENAME = "Langzeitmessung.bin"


def multipart_file() -> bytes:
    """Two full parts and a short third, the same bytes on every run (a SHA-256 counter stream)."""
    blocks = (
        hashlib.sha256(n.to_bytes(8, "big")).digest() for n in range((2 * PART_BYTES + 54_321) // 32 + 1)
    )
    return b"".join(blocks)[: 2 * PART_BYTES + 54_321]


class _Routes:
    """The upload function's routes through the Docker-free runner, as API Gateway would call them."""

    def __init__(self, options: DemoOptions, bucket: str) -> None:
        self.env = copy.deepcopy(read_env_vars(options))
        self.env.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = options.log_level
        self.env.setdefault(UPLOAD_FUNCTION, {}).update(
            {
                "ARCHIVE_BUCKET": bucket,
                "MULTIPART_THRESHOLD_BYTES": str(PART_BYTES),
                "MULTIPART_PART_BYTES": str(PART_BYTES),
            }
        )
        self.template = options.template

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = invoke(
            UPLOAD_FUNCTION,
            json_post_event(path, body, stage="demo", request_id="demo-upload"),
            self.env,
            template_path=self.template,
        )
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        if status not in {200, 201}:
            raise DemoFailed(f"POST {path} answered {status}: {str(answer)[:300]}")
        return dict(json.loads(answer["body"]))


def _put_parts(routes: _Routes, token: str, content: bytes, part_size: int, say: Say) -> list[dict[str, Any]]:
    chunks = [content[i : i + part_size] for i in range(0, len(content), part_size)]
    digests = [hashlib.sha256(chunk).hexdigest() for chunk in chunks]
    listed = [{"part_number": n, "sha256": digest} for n, digest in enumerate(digests, 1)]
    presigned = routes.post("/uploads/parts", {"upload_token": token, "parts": listed})["parts"]
    done = []
    for item, chunk, digest in zip(presigned, chunks, digests, strict=True):
        headers = {name: value for name, value in item["headers"].items() if name.lower() != "content-length"}
        response = requests.put(item["url"], data=chunk, headers=headers, timeout=60)
        if response.status_code != 200:
            raise DemoFailed(
                f"S3 refused part {item['part_number']}: {response.status_code} {response.text[:200]}"
            )
        etag = response.headers["ETag"]
        say(f"  part {item['part_number']}    {len(chunk)} bytes, sha256 {digest[:16]}..., ETag {etag}")
        done.append({"part_number": item["part_number"], "etag": response.headers["ETag"], "sha256": digest})
    return done


def run_multipart(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """Fills `result.multipart`; raises `DemoFailed` with the reason when a step fails."""
    content = multipart_file()
    digest = hashlib.sha256(content).hexdigest()
    routes = _Routes(options, servers.bucket)
    say(f"[multipart 1/4] {UPLOAD_FUNCTION} <- POST /uploads for {FILENAME!r} ({len(content)} bytes)")
    request = {
        "datapack_identifier": DATAPACK,
        "path": FOLDER,
        "filename": FILENAME,
        "content_type": "application/octet-stream",
        "size": len(content),
        "uploader_name": UPLOADER_NAME,
        "uploader_email": UPLOADER_EMAIL,
    }
    answer = routes.post("/uploads", request)
    upload, key = answer["upload"], answer["key"]
    if upload.get("method") != "MULTIPART":
        raise DemoFailed(f"POST /uploads answered a {upload.get('method')} upload, not MULTIPART")
    shape = f"{upload['part_count']} parts of {upload['part_size']} bytes"
    say(f"  answer    201 MULTIPART s3://{answer['bucket']}/{key}: {shape}")
    say("[multipart 2/4] POST /uploads/parts (each URL signs its part's SHA-256), then the parts, PUT")
    parts = _put_parts(routes, upload["upload_token"], content, upload["part_size"], say)
    say("[multipart 3/4] POST /uploads/status, then POST /uploads/complete with every part's checksum")
    held = routes.post("/uploads/status", {"upload_token": upload["upload_token"]})["parts"]
    say(f"  status    S3 holds parts {[part['part_number'] for part in held]}")
    completed = routes.post("/uploads/complete", {"upload_token": upload["upload_token"], "parts": parts})
    say(f"  complete  {json.dumps(completed, ensure_ascii=False)}")

    say("[multipart 4/4] S3 event from the queue -> NotifyWebhookFunction (hashes the whole object)")
    env_vars = read_env_vars(options)
    already = len(servers.receiver.deliveries)
    try:
        notify(
            s3_event_for(servers, key, say), env_vars, options, servers.receiver.url, signing_secret(env_vars)
        )
    except Exception as error:  # raised so Lambda would retry: for the demo, the reason
        raise DemoFailed(
            f"the notify function failed on the multipart upload: {type(error).__name__}: {error}"
        ) from None
    deliveries = servers.receiver.deliveries[already:]
    payload = (deliveries[-1].payload() if deliveries else None) or {}
    stored = servers.s3().get_object(Bucket=answer["bucket"], Key=key)["Body"].read()
    result.multipart = {
        "key": key,
        "size": len(content),
        "parts": len(parts),
        "sha256": digest,
        "announced_sha256": payload.get("sha256"),
        "signature_valid": deliveries[-1].signature_valid if deliveries else None,
    }
    if stored != content:
        raise DemoFailed("the stored object is not the file that was uploaded")
    if payload.get("sha256") != digest or not deliveries or not deliveries[-1].signature_valid:
        raise DemoFailed(f"the multipart upload was not announced as expected: {result.multipart}")
    say(f"  checked   bytes; announced sha256 {digest} = SHA-256 of the file; signature valid")
