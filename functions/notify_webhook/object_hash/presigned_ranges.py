"""Ranged GETs of one pinned object through one presigned URL: signed once per object, not once per range.

A botocore call costs about 3.5 ms of CPU whatever it carries (serialising, the user agent, signing,
event hooks, parsing the answer's headers). A 256 MiB object read as 5 MiB ranges paid that 51 times, a
third of the CPU per GiB behind a capped store (`make bench-remote`). Here the function's own client
presigns the pinned GetObject once (its credentials, endpoint and addressing); each range is a plain GET
on that URL with `Range` and `If-Match` headers, sent through botocore's own HTTP session (its
certificates, proxies, timeouts and error types) and read through botocore's `StreamingBody`. The
client's `before-send` handlers see each request and may answer it, as for any of its calls (moto's
in-process mock does, so nothing leaves the process there).
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError
from botocore.hooks import first_non_none_response
from botocore.httpsession import URLLib3Session
from botocore.response import StreamingBody
from botocore.utils import get_environ_proxies

from form_archive_contract.s3 import MAX_POOL_CONNECTIONS

if TYPE_CHECKING:
    from botocore.awsrequest import AWSResponse
    from mypy_boto3_s3 import S3Client

# Longer than any one invocation (Lambda's maximum is 900 s): the URL never expires mid-read.
PRESIGNED_SECONDS = 3600
# An error answer is a short XML document: only this much of it is read, for its `<Code>`.
_ERROR_BYTES = 4 * 1024
HIDDEN_QUERY = "<presigned query hidden>"
_ERROR_FIELD = re.compile(rb"<(Code|Message)>([^<]{1,256})</\1>")
PARTIAL_CONTENT = 206


class RangeIgnored(Exception):
    """The store answered a ranged GET with the whole object (200): ranges cannot be read from it."""


class PresignedRanges:
    """Ranges of the object `request` pins (`ranges.pinned_request`), each answered like
    `get_object(..., Range=...)`: a dict with `ContentLength`, `ContentRange` and `Body`. Any answer but
    206 raises botocore's `ClientError` with S3's error code (`PreconditionFailed` for a replaced object,
    `SlowDown` or `InternalError` from a struggling store), or `RangeIgnored` for a 2xx, neither body read
    beyond `_ERROR_BYTES`; an unreachable store raises botocore's own connection errors, without the URL."""

    def __init__(self, client: S3Client, url: str, if_match: str | None) -> None:
        self.url = url
        self.if_match = if_match
        self.events = client.meta.events
        self.session = _session_for(client, url)

    def get_range(self, first: int, last: int) -> dict[str, Any]:
        headers = {"Range": f"bytes={first}-{last}"}
        if self.if_match:
            headers["If-Match"] = self.if_match
        request = AWSRequest(method="GET", url=self.url, headers=headers, stream_output=True).prepare()
        answer: AWSResponse | None = first_non_none_response(
            self.events.emit("before-send.s3.GetObject", request=request)
        )
        if answer is None:
            try:
                answer = self.session.send(request)
            except BotoCoreError as error:
                raise without_url(error, self.url) from None
        if answer.status_code != PARTIAL_CONTENT:
            raise _unread(answer, first, last)
        length = int(answer.headers.get("Content-Length", -1))
        return {
            "ContentLength": length,
            "ContentRange": answer.headers.get("Content-Range"),
            "Body": _BodyWithoutUrl(answer.raw, length, self.url),
        }


class _BodyWithoutUrl(StreamingBody):
    """botocore's `StreamingBody`, whose read errors never carry the presigned URL (botocore puts the
    request's path and query, signature included, into `ReadTimeoutError`)."""

    def __init__(self, raw_stream: Any, content_length: int, url: str) -> None:
        super().__init__(raw_stream, content_length)
        self._url = url

    def read(self, amt: int | None = None) -> bytes:
        try:
            return super().read(amt)
        except BotoCoreError as error:
            raise without_url(error, self._url) from None


def without_url(error: BotoCoreError, url: str) -> BotoCoreError:
    """The same botocore error with the presigned URL's query (its signature) left out of every field:
    botocore's connection errors carry the endpoint URL, and a message may reach a log."""
    query = urlsplit(url).query

    def hidden(value: Any) -> Any:
        if value is None or isinstance(value, (int, float)):
            return value
        text = str(value)
        return text.replace(query, HIDDEN_QUERY) if query and query in text else value

    fields = {
        name: hidden(value) for name, value in error.kwargs.items() if name not in {"request", "response"}
    }
    try:
        return type(error)(**fields)
    except (TypeError, KeyError):  # an error class with other required fields: keep its name only
        return BotoCoreError(msg=f"{type(error).__name__} on a presigned range")


def _unread(answer: AWSResponse, first: int, last: int) -> Exception:
    """The error for an answer other than 206, read as little as possible and its connection dropped: a
    2xx (a store or proxy that ignores `Range`, sending the whole object) is not read at all; an error
    answer only up to `_ERROR_BYTES`, for S3's `<Code>`. Memory stays bounded whatever the store sends."""
    try:
        if 200 <= answer.status_code < 300:
            return RangeIgnored(
                f"asked for bytes {first}-{last}, the store answered {answer.status_code} (it ignores "
                "Range); nothing read, connection dropped"
            )
        try:
            start = answer.raw.read(_ERROR_BYTES)
        except Exception:  # a broken error body: the status alone tells what happened
            start = b""
        return _client_error(answer.status_code, start if isinstance(start, bytes) else b"")
    finally:
        answer.raw.close()  # dropped, not returned to the pool: the rest of the body is never read


# One HTTP session per client, kept as long as the client: a warm container reuses its connections.
_SESSIONS: weakref.WeakKeyDictionary[Any, URLLib3Session] = weakref.WeakKeyDictionary()
_SESSIONS_LOCK = threading.Lock()


def _session_for(client: S3Client, url: str) -> URLLib3Session:
    """An HTTP session set up as the client's own: its timeouts, pool size and proxy settings."""
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(client)
        if session is None:
            config: Any = client.meta.config  # botocore's stubs leave out these settings
            options: dict[str, Any] = {  # botocore takes a bundle path for `verify`, a pair for `timeout`
                "verify": _verify_setting(),
                "proxies": config.proxies or get_environ_proxies(url),
                "timeout": (config.connect_timeout, config.read_timeout),
                "max_pool_connections": MAX_POOL_CONNECTIONS,
                "proxies_config": config.proxies_config,
            }
            session = URLLib3Session(**options)
            _SESSIONS[client] = session
        return session


def presigned_ranges(client: S3Client, request: dict[str, str]) -> PresignedRanges | None:
    """Ranges through one URL when `client` is a botocore client that presigns with SigV4 (the
    contract's `CLIENT_CONFIG` says so; botocore may otherwise still presign with SigV2 in us-east-1,
    which S3 refuses for newer buckets). None: read each range with a call of its own."""
    candidate: object = client  # test doubles stand in for S3Client too
    if not isinstance(candidate, BaseClient):
        return None
    signed = {name: value for name, value in request.items() if name != "IfMatch"}
    url = client.generate_presigned_url("get_object", Params=signed, ExpiresIn=PRESIGNED_SECONDS)
    if "X-Amz-Signature=" not in url:
        return None
    return PresignedRanges(client, url, request.get("IfMatch"))


def _verify_setting() -> bool | str:
    """The certificate bundle boto3 takes from the environment (`AWS_CA_BUNDLE`), else its default one."""
    return os.environ.get("AWS_CA_BUNDLE") or True


def _client_error(status: int, start: bytes) -> ClientError:
    """The error as botocore reports a failed call: S3's `<Code>` from the body's start, else the status."""
    fields = {name.decode(): value.decode("utf-8", "replace") for name, value in _ERROR_FIELD.findall(start)}
    error = {"Code": fields.get("Code", str(status)), "Message": fields.get("Message", "")}
    metadata = {"HTTPStatusCode": status}
    return ClientError({"Error": error, "ResponseMetadata": metadata}, "GetObject")  # type: ignore[typeddict-item]


def is_server_error(error: ClientError) -> bool:
    """A 5xx answer: the store's fault, worth asking again (botocore's own retries would have)."""
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500
