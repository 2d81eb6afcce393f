"""The library call against in-process moto: the right place, the right object, never an exception."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from archive_submission import write_s3_bucket
from form_archive_contract.s3 import get_s3_client
from tests.s3_stores import ARCHIVE_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SAMPLE = {"company": "City of Austin", "first_name": "John", "age": 28, "registered": True}


def all_keys(client: S3Client, bucket: str = ARCHIVE_BUCKET) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def config(**fields: Any) -> dict[str, Any]:
    return {"aws_s3_bucket": {"bucket_name": ARCHIVE_BUCKET, **fields}}


@pytest.mark.parametrize(
    ("bucket_path", "folder"),
    [
        ("forms", "forms/"),
        ("/forms/contact/", "forms/contact/"),
        ("forms//contact", "forms/contact/"),
        ("", ""),
        (None, ""),
    ],
)
def test_payload_is_saved_to_the_bucket_and_folder(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], bucket_path: str | None, folder: str
) -> None:
    assert write_s3_bucket(config(bucket_path=bucket_path), SAMPLE) is True

    [key] = all_keys(mocked_s3)
    assert key.startswith(folder)
    remainder = key.removeprefix(folder).split("/")
    assert [len(part) for part in remainder[:3]] == [4, 2, 2]
    assert remainder[3].endswith(".json")
    stored = mocked_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read()
    assert json.loads(stored) == SAMPLE
    assert capsys.readouterr().out == ""


def test_object_attributes(mocked_s3: S3Client) -> None:
    assert write_s3_bucket({"awss3bucket": {"bucket_name": ARCHIVE_BUCKET, "bucket_path": "f"}}, SAMPLE)
    [key] = all_keys(mocked_s3)
    head = mocked_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=key, ChecksumMode="ENABLED")
    body = mocked_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read()
    assert head["ContentType"] == "application/json"
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    metadata = head["Metadata"]
    assert metadata["uploaded-by"] == "archive-submission"
    assert key.endswith(f"/{metadata['submission-id']}.json")
    assert metadata["received-at"].startswith(key.split("/")[1])


def test_unicode_payload_is_stored_as_utf8(mocked_s3: S3Client) -> None:
    assert write_s3_bucket(config(), {"name": "Zoë Ångström", "city": "東京"})
    [key] = all_keys(mocked_s3)
    raw = mocked_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read()
    assert "Zoë".encode() in raw
    assert json.loads(raw.decode("utf-8"))["city"] == "東京"


@pytest.mark.parametrize(
    ("bad_config", "named"),
    [
        (None, "config is missing"),
        ({"aws_s3_bucket": {}}, "bucket_name"),
        ({"aws_s3_bucket": {"bucket_name": ""}}, "bucket_name"),
        ({"aws_s3_bucket": {"bucket_name": ["x"]}}, "bucket_name"),
        ({"aws_s3_bucket": "not-a-dict"}, "must be a dict"),
        ({"aws_s3_bucket": {"bucket_name": ARCHIVE_BUCKET, "bucket_path": "../up"}}, "bucket_path"),
        ({"aws_s3_bucket": {"bucket_name": ARCHIVE_BUCKET, "aws_access_key_id": "testing"}}, "both"),
    ],
)
def test_faulty_config_shows_an_error_and_writes_nothing(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], bad_config: Any, named: str
) -> None:
    assert write_s3_bucket(bad_config, SAMPLE) is False
    out = capsys.readouterr().out
    assert out.startswith("Error: ")
    assert named in out
    assert all_keys(mocked_s3) == []


def test_missing_bucket_reports_the_s3_error_code(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write_s3_bucket({"aws_s3_bucket": {"bucket_name": "no-such-bucket-here"}}, SAMPLE) is False
    assert (
        capsys.readouterr().out
        == "Error: S3 rejected the write to bucket 'no-such-bucket-here': NoSuchBucket\n"
    )


@pytest.mark.parametrize("payload", [[1, 2], "text", 42, None])
def test_payload_must_be_a_dict(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], payload: Any
) -> None:
    assert write_s3_bucket(config(), payload) is False
    assert "payload must be a dict" in capsys.readouterr().out
    assert all_keys(mocked_s3) == []


@pytest.mark.parametrize("payload", [{"when": object()}, {"n": float("nan")}, {"s": {1, 2}}])
def test_unserialisable_payload_is_an_error(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], payload: dict[str, Any]
) -> None:
    assert write_s3_bucket(config(), payload) is False
    assert "not JSON-serialisable" in capsys.readouterr().out
    assert all_keys(mocked_s3) == []


def test_oddities_warn_but_still_write(mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]) -> None:
    assert write_s3_bucket(config(colour="blue"), {}) is True
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Warning: ignoring unknown config key 'aws_s3_bucket.colour'",
        "Warning: payload is empty; archiving an empty object '{}'",
    ]
    [key] = all_keys(mocked_s3)
    assert mocked_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read() == b"{}"


def test_explicit_credentials_are_used_and_never_printed(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "testing-secret-never-printed"
    explicit = config(
        aws_access_key_id="testing-key", aws_secret_access_key=secret, aws_region_name="us-east-1"
    )
    assert write_s3_bucket(explicit, SAMPLE) is True
    bad = {
        "aws_s3_bucket": {
            "bucket_name": "absent-bucket-x",
            "aws_access_key_id": "k",
            "aws_secret_access_key": secret,
        }
    }
    assert write_s3_bucket(bad, SAMPLE) is False
    assert secret not in capsys.readouterr().out


def test_an_existing_key_is_never_overwritten(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archive_submission.library.new_submission_id", lambda: "FIXEDID")
    assert write_s3_bucket(config(), {"first": 1}) is True
    assert write_s3_bucket(config(), {"second": 2}) is False
    assert "already exists" in capsys.readouterr().out
    [key] = all_keys(mocked_s3)
    assert json.loads(mocked_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read()) == {"first": 1}


def test_unexpected_failure_is_reported_not_raised(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("archive_submission.library.put_submission", explode)
    assert write_s3_bucket(config(), SAMPLE) is False
    assert (
        capsys.readouterr().out
        == f"Error: unexpected failure writing to bucket '{ARCHIVE_BUCKET}': RuntimeError\n"
    )


def test_deeply_nested_payload_is_reported_not_raised(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    payload: dict[str, Any] = {}
    inner = payload
    for _ in range(100_000):  # deeper than any interpreter's JSON encoder allows (3.13 manages 5,000)
        inner["next"] = {}
        inner = inner["next"]
    assert write_s3_bucket(config(), payload) is False
    assert capsys.readouterr().out == "Error: payload is nested too deeply to serialise\n"
    assert all_keys(mocked_s3) == []


def test_an_invalid_bucket_name_is_a_config_error(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write_s3_bucket({"aws_s3_bucket": {"bucket_name": "bad name/x"}}, SAMPLE) is False
    out = capsys.readouterr().out
    assert out == "Error: 'bucket_name' 'bad name/x' is not a valid S3 bucket name\n"
    assert all_keys(mocked_s3) == []


def test_unknown_top_level_keys_warn(mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]) -> None:
    assert write_s3_bucket({**config(), "aws_s3_buckets": {}}, SAMPLE) is True
    assert capsys.readouterr().out == "Warning: ignoring unknown config key 'aws_s3_buckets'\n"
    assert len(all_keys(mocked_s3)) == 1


def test_explicit_credentials_and_region_reach_the_client(
    mocked_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto accepts any credentials, so the test looks at the client the library built."""
    built: list[S3Client] = []
    original = get_s3_client.__wrapped__

    def recording(*args: Any) -> S3Client:
        client = original(*args)
        built.append(client)
        return client

    monkeypatch.setattr("archive_submission.library.get_s3_client", recording)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    explicit = config(
        aws_access_key_id="testing-key-id",
        aws_secret_access_key="testing-secret",
        aws_region_name="us-east-1",
    )
    assert write_s3_bucket(explicit, SAMPLE) is True
    [client] = built
    credentials = client._request_signer._credentials  # type: ignore[attr-defined]
    assert (credentials.access_key, credentials.secret_key) == ("testing-key-id", "testing-secret")
    assert client.meta.region_name == "us-east-1"


def test_a_malformed_endpoint_url_is_reported(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write_s3_bucket(config(endpoint_url="not a url"), SAMPLE) is False
    assert capsys.readouterr().out == (
        "Error: could not create an S3 client from 'aws_region_name'/'endpoint_url': ValueError\n"
    )
    assert all_keys(mocked_s3) == []


def test_a_config_mapping_that_fails_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("boom")

    assert write_s3_bucket(Broken(aws_s3_bucket={"bucket_name": "b"}), SAMPLE) is False
    assert capsys.readouterr().out == "Error: config or payload could not be read: RuntimeError\n"


class _LengthFails(dict[str, Any]):
    """A mapping whose `__len__` raises: `if not payload` must not let that escape."""

    def __len__(self) -> int:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("odd_config", "payload"),
    [
        (config(bucket_name="form-archive-\ud800"), SAMPLE),
        (config(bucket_path="forms/\udfff"), SAMPLE),
        (config(aws_region_name="eu-\ud800"), SAMPLE),
        (config(endpoint_url="http://127.0.0.1:1/\ud800"), SAMPLE),
        (config(**{"bucket\ud800": "x"}), SAMPLE),  # an unknown key: a warning that names it
        (config(), {"name\ud800": "x"}),
        (config(), _LengthFails(first_name="John")),
    ],
    ids=["bucket", "path", "region", "endpoint", "unknown-key", "payload-key", "payload-len"],
)
def test_item7_write_s3_bucket_never_raises(
    mocked_s3: S3Client, capsys: pytest.CaptureFixture[str], odd_config: dict[str, Any], payload: Any
) -> None:
    """Review round 3, item 7: lone surrogates (JSON's "\\ud800") anywhere in the config or payload, and
    a payload mapping whose `__len__` raises, give False (or a write) and printable lines, never raise."""
    result = write_s3_bucket(odd_config, payload)
    printed = capsys.readouterr().out
    if result:
        assert len(all_keys(mocked_s3)) == 1
    else:
        assert printed.startswith("Error: ") or "\nError: " in printed
        assert all_keys(mocked_s3) == []
    printed.encode("utf-8")  # what was printed is text a log can carry
