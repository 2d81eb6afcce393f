"""`make demo`'s upload flow: POST /uploads, the presigned PUT, the announcement; checked independently."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from standardwebhooks import Webhook

from form_archive_contract.metadata import decode_metadata_value
from tools.demo import DemoOptions, demo_session
from tools.demo.upload import DATAPACK, FILENAME, FOLDER, UPLOADER_NAME, demo_file, run_upload
from tools.project import PROJECT_ROOT, function_ids

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [pytest.mark.moto_only("`make demo` runs its own moto server (S3 + SQS)"), pytest.mark.slow]

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks published test secret


@pytest.fixture
def whsec_env_vars(tmp_path: Path) -> Path:
    document = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    document[function_ids().notify]["WEBHOOK_SECRET_TOKEN"] = WHSEC
    path = tmp_path / "env.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def own_client(endpoint: str) -> S3Client:
    """Our own S3 client, not the demo's: what it reads is checked independently."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_demo_uploads_a_file_and_announces_it(whsec_env_vars: Path) -> None:
    content = demo_file()
    digest = hashlib.sha256(content).hexdigest()
    lines: list[str] = []
    with demo_session(DemoOptions(env_vars=whsec_env_vars), lines.append) as (result, servers):
        assert result.ok, (result.error, lines)
        assert servers is not None
        document = result.document()
        s3 = own_client(servers.endpoint)
        key = document["uploaded"]["key"]
        head = s3.head_object(Bucket=document["uploaded"]["bucket"], Key=key, ChecksumMode="ENABLED")
        stored = s3.get_object(Bucket=document["uploaded"]["bucket"], Key=key)["Body"].read()
        deliveries = servers.receiver.deliveries

    assert key == f"{DATAPACK}{FOLDER}/{FILENAME}"
    assert stored == content
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == digest
    assert head["Metadata"]["uploaded-by"] == "presigned-url"
    assert decode_metadata_value(head["Metadata"]["uploader-name"]) == UPLOADER_NAME
    assert document["uploaded"] == {
        "bucket": "form-archive-local",
        "key": key,
        "size": len(content),
        "sha256": digest,
        "webhook": {
            "status": 200,
            "signature_valid": True,
            "sha256": digest,
            "submitter_name": UPLOADER_NAME,
        },
    }
    # The multipart step's delivery follows; this flow's is the one naming its file.
    upload_delivery = [d for d in deliveries if (d.payload() or {}).get("display") == FILENAME][-1]
    Webhook(WHSEC).verify(upload_delivery.body, upload_delivery.headers)  # raises on a bad signature
    sent = json.loads(upload_delivery.body)
    assert (sent["datapack_identifier"], sent["path"], sent["display"]) == (DATAPACK, FOLDER, FILENAME)
    assert sent["sha256"] == digest
    assert sent["length"] == len(content)
    assert any(line.startswith("[upload 3/3]") for line in lines)


def test_upload_flow_alone_reports_a_refusal(tmp_path: Path) -> None:
    """The upload function's 400 stops the flow with its reason (here: the env file's bucket is fine, the
    size limit is not)."""
    document = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    document[function_ids().upload]["MAX_UPLOAD_BYTES"] = "10"
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps(document), encoding="utf-8")
    with demo_session(DemoOptions(env_vars=env_vars), lambda _line: None, flow=run_upload) as (result, _):
        assert not result.ok
    assert result.uploaded is None
    assert result.error == "the upload function answered 413: size: at most 10 bytes"


def test_demo_uploads_a_file_of_three_parts_and_announces_its_sha256(whsec_env_vars: Path) -> None:
    from tools.demo.multipart import FILENAME as MULTIPART_FILENAME  # noqa: PLC0415
    from tools.demo.multipart import multipart_file  # noqa: PLC0415

    content = multipart_file()
    with demo_session(DemoOptions(env_vars=whsec_env_vars), lambda _line: None) as (result, servers):
        assert result.ok, result.error
        assert servers is not None
        multipart = result.document()["multipart"]
        s3 = own_client(servers.endpoint)
        head = s3.head_object(Bucket="form-archive-local", Key=multipart["key"])
        stored = s3.get_object(Bucket="form-archive-local", Key=multipart["key"])["Body"].read()
        delivery = [
            d for d in servers.receiver.deliveries if (d.payload() or {}).get("display") == MULTIPART_FILENAME
        ]

    assert stored == content
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three parts
    assert head["Metadata"]["uploaded-by"] == "presigned-url"
    assert multipart["parts"] == 3
    assert multipart["announced_sha256"] == hashlib.sha256(content).hexdigest()
    assert delivery and delivery[-1].signature_valid
    Webhook(WHSEC).verify(delivery[-1].body, delivery[-1].headers)
