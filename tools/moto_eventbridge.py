"""Where moto 5.2.5's S3 -> EventBridge differs from AWS, and the two adjustments the demo and tests make.

- moto stores a bucket's `EventBridgeConfiguration` and sends events for it, but leaves it out of
  `GetBucketNotificationConfiguration`'s answer: `report_eventbridge_configuration()` puts it back into
  the answer of an in-process moto server, so a tool that reads the configuration back sees what S3 shows.
- moto's `Object Created` event carries the key as stored and the ETag as `eTag`. AWS's documented
  example (S3 User Guide, "EventBridge event message structure", ev-events) names the field `etag`, and
  S3 sends the key URL-encoded (docs/existing-bucket.md, "Key encoding"). `aws_shaped(event)` turns moto's
  event into that shape where the demo hands it to the function, so the function reads only AWS's shape.
  moto also writes `version-id: "null"` for an object of an unversioned bucket, and its own GetObject then
  refuses `versionId=null` (S3 accepts it): `aws_shaped` leaves that version out.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

_EVENTBRIDGE_XML = "<EventBridgeConfiguration></EventBridgeConfiguration>"
_CLOSING = "</NotificationConfiguration>"


def report_eventbridge_configuration() -> None:
    """Make this process's moto server list `EventBridgeConfiguration` when the bucket has it (idempotent)."""
    from moto.s3.responses import S3Response  # noqa: PLC0415 - moto is a dev dependency, imported late

    original = S3Response.get_bucket_notification
    if getattr(original, "reports_eventbridge", False):
        return

    def get_bucket_notification(self: S3Response) -> Any:
        answer = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None or not isinstance(answer, tuple):
            return answer
        status, headers, raw = answer
        body = raw.decode() if isinstance(raw, bytes) else str(raw)
        if _CLOSING in body:
            body = body.replace(_CLOSING, _EVENTBRIDGE_XML + _CLOSING)
        else:  # moto answers an empty result when nothing else is configured
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n<NotificationConfiguration '
                f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{_EVENTBRIDGE_XML}{_CLOSING}'
            )
        headers.pop("content-length", None)
        return status, headers, body

    get_bucket_notification.reports_eventbridge = True  # type: ignore[attr-defined]
    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


def aws_shaped(event: dict[str, Any]) -> dict[str, Any]:
    """moto's EventBridge `Object Created` event with the key URL-encoded and `etag`, as S3 sends it."""
    shaped = copy.deepcopy(event)
    obj = shaped.get("detail", {}).get("object", {})
    if isinstance(obj.get("key"), str):
        obj["key"] = quote(obj["key"], safe="/")
    if "eTag" in obj:
        obj["etag"] = obj.pop("eTag")
    if obj.get("version-id") == "null":
        del obj["version-id"]
    return shaped
