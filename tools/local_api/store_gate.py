"""What the embedded S3 (moto's server behind `make api`) lets through: the local API's rules for a store.

moto's server answers any `Host`, accepts any credentials, and has an admin API (`/moto-api/`: `reset`
wipes every bucket, `data.json` dumps them) that any page in the browser can reach with a plain form
POST. In front of it: loopback `Host` names only (a DNS-rebinding page gets 403), `/moto-api/` refused,
and every request other than a CORS preflight must be signed with this run's access key id (in its
`Authorization` header or a presigned URL's query), which a page on another origin cannot name.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from tools.loopback_host import REFUSAL, is_loopback_host

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ADMIN_PREFIX = "/moto-api"
_HEADER_KEY = re.compile(r"(?:Credential=([^/,\s]+)/|^AWS ([^:\s]+):)")


def access_key_of(authorization: str, query: str) -> str:
    """The access key id a request was signed with (header or presigned query, SigV4 or SigV2); "" if none."""
    found = _HEADER_KEY.search(authorization or "")
    if found:
        return found.group(1) or found.group(2) or ""
    fields = parse_qs(query or "", keep_blank_values=True)
    credential = (fields.get("X-Amz-Credential") or [""])[0]
    return credential.split("/", 1)[0] if credential else (fields.get("AWSAccessKeyId") or [""])[0]


def refusal(environ: dict[str, Any], access_key_id: str) -> str | None:
    """Why the request is refused, or None to let it through."""
    if not is_loopback_host(environ.get("HTTP_HOST")):
        return REFUSAL
    if str(environ.get("PATH_INFO", "")).startswith(ADMIN_PREFIX):
        return "moto's admin API is not served here"
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        return None  # a CORS preflight carries no credentials; the bucket's CORS rule answers it
    key = access_key_of(str(environ.get("HTTP_AUTHORIZATION", "")), str(environ.get("QUERY_STRING", "")))
    if not access_key_id or not hmac.compare_digest(key.encode(), access_key_id.encode()):
        return "sign the request with this server's access key"
    return None


def gated(app: WsgiApp, access_key_id: str) -> WsgiApp:
    """`app` behind `refusal`: a refused request gets 403 and never reaches moto."""

    def gate(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reason = refusal(environ, access_key_id)
        if reason is None:
            return app(environ, start_response)
        body = json.dumps({"message": reason}).encode()
        start_response(
            "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return gate
