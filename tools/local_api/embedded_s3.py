"""The embedded S3: moto's server on 127.0.0.1, and the bucket made as the template makes it."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from tools.local_api.store_gate import gated
from tools.template_bucket import create_template_bucket, template_cors_rule

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer


class EmbeddedS3:
    """moto's server on 127.0.0.1 answering CORS only as the bucket's CORS rule says, behind `store_gate`
    (loopback Host, no admin API, requests signed with `access_key_id`: by default the environment's).

    moto's server normally adds permissive CORS headers to every answer (`MOTO_DISABLE_GLOBAL_CORS`
    turns that off); without them the bucket's own CORS configuration decides, as on S3.
    """

    def __init__(self, access_key_id: str | None = None) -> None:
        os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
        from moto.moto_server import werkzeug_app  # noqa: PLC0415 - moto is a dev dependency, imported late

        # The setting is read when moto is first imported; a process that imported it earlier (the
        # test session) gets the same switch here.
        werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._access_key_id = access_key_id or os.environ.get("AWS_ACCESS_KEY_ID", "")
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 - imported late, as above
            DomainDispatcherApplication,
            create_backend_app,
        )
        from werkzeug.serving import make_server  # noqa: PLC0415

        app = gated(DomainDispatcherApplication(create_backend_app), self._access_key_id)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-s3", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def client(service: str, endpoint: str) -> Any:
    import boto3  # noqa: PLC0415 - only when a server starts

    return boto3.session.Session().client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def prepare_bucket(endpoint: str, bucket: str, origins: list[str]) -> None:
    """The bucket as the template makes it: versioned, SSE-S3, public access blocked, CORS for `origins`."""
    s3 = client("s3", endpoint)
    create_template_bucket(s3, bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [template_cors_rule(origins)]})
