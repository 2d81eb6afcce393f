"""Whether a request's `Host` header names the loopback interface: the check every local listener makes.

A tool that listens on 127.0.0.1 is still reachable from every page a browser on this machine opens: a
DNS name that resolves to 127.0.0.1 (DNS rebinding) makes a page "same-origin" with it, and the browser
then sends that name as `Host`. Answering only to loopback names closes that door.
"""

from __future__ import annotations

import re

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::[0-9]{1,5})?")
REFUSAL = "this server answers only to loopback Host names: 127.0.0.1, localhost, [::1]"


def is_loopback_host(host: str | None) -> bool:
    """True when `host` (a `Host` header, any port) is 127.0.0.1, localhost or [::1]."""
    found = _HOST.fullmatch((host or "").strip())
    return found is not None and found.group(1).lower() in LOOPBACK_HOSTS
