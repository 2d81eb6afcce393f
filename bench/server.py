"""moto's S3 server in a separate process, so its CPU and memory are not counted as ours.

`python -m bench.server` starts `ThreadedMotoServer` on 127.0.0.1 and a free port, prints its endpoint
URL on one line, and runs until its standard input closes (so it also ends when the parent dies).
The parent side is `moto_server()`, a context manager that always stops the child.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from bench.child import endpoint_process

READY_PREFIX = "MOTO_ENDPOINT "


def serve() -> None:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the child process needs moto

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)
    try:
        sys.stdin.read()  # blocks until the parent closes the pipe or exits
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Yield the endpoint URL of a fresh moto server process on 127.0.0.1; stop it on any exit."""
    env = dict(os.environ)
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with endpoint_process(["bench.server"], READY_PREFIX, "moto server", env) as endpoint:
        yield endpoint


if __name__ == "__main__":
    serve()
