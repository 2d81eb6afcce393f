"""What the webhook receiver records and answers: a request as it arrived, the verdict on it, a reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MASK = "***"


@dataclass(frozen=True)
class Reply:
    """One answer: a status with headers, after an optional delay, or a dropped connection."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_seconds: float = 0.0
    drop_connection: bool = False


def json_reply(status: int, document: Any) -> Reply:
    body = json.dumps(document, indent=2).encode("utf-8") + b"\n"
    return Reply(status=status, headers={"Content-Type": "application/json"}, body=body)


@dataclass(frozen=True)
class RecordedRequest:
    """A request exactly as it arrived."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def payload(self) -> Any:
        """The JSON body, or None when it is not JSON."""
        try:
            return self.json()
        except ValueError:
            return None


@dataclass(frozen=True)
class Delivery(RecordedRequest):
    """A request with the receiver's verdict and answer."""

    number: int
    signature_valid: bool | None  # None: no secret to check with
    status: int  # what the receiver answered; 0 for a dropped connection

    def summary(self) -> dict[str, Any]:
        """What GET /deliveries shows: the payload with `secret_token` masked, never the secret itself."""
        payload = self.payload()
        if isinstance(payload, dict) and "secret_token" in payload:
            payload = {**payload, "secret_token": MASK}
        return {
            "number": self.number,
            "path": self.path,
            "status": self.status,
            "signature_valid": self.signature_valid,
            "headers": {name: self.headers.get(name) for name in SIGNATURE_HEADERS},
            "payload": payload,
        }

    def line(self) -> str:
        """One line for a log: verdict, answer, webhook-id and the masked payload."""
        verdict = {True: "signature valid", False: "SIGNATURE INVALID", None: "not verified"}
        summary = self.summary()
        return (
            f"delivery {self.number}: {self.method} {self.path} {verdict[self.signature_valid]}, "
            f"answered {self.status or 'nothing (connection dropped)'}; "
            f"webhook-id {summary['headers']['webhook-id']}; payload {json.dumps(summary['payload'])}"
        )
