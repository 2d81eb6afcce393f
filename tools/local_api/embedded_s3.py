"""The embedded S3: moto's server on 127.0.0.1, and the bucket made as the template makes it."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from tools.template_bucket import create_template_bucket, template_cors_rule

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer


class EmbeddedS3:
    """moto's server on 127.0.0.1 answering CORS only as the bucket's CORS rule says.

    moto's server normally adds permissive CORS headers to every answer (`MOTO_DISABLE_GLOBAL_CORS`
    turns that off); without them the bucket's own CORS configuration decides, as on S3.
    """

    def __init__(self) -> None:
        os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
        from moto.moto_server import werkzeug_app  # noqa: PLC0415 - moto is a dev dependency, imported late
        from moto.server import ThreadedMotoServer  # noqa: PLC0415

        # The setting is read when moto is first imported; a process that imported it earlier (the
        # test session) gets the same switch here.
        werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server: ThreadedMotoServer = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._server.stop()


def client(service: str, endpoint: str) -> Any:
    import boto3  # noqa: PLC0415 - only when a server starts

    return boto3.session.Session().client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def prepare_bucket(endpoint: str, bucket: str, origins: list[str]) -> None:
    """The bucket as the template makes it: versioned, SSE-S3, public access blocked, CORS for `origins`."""
    s3 = client("s3", endpoint)
    create_template_bucket(s3, bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [template_cors_rule(origins)]})
