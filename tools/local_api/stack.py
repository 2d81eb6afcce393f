"""Everything `make api` runs, started in order and stopped in reverse: the HTTP server (first, so a
taken port is reported before anything else starts), the embedded S3, the bucket, the announcer."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from tools.environment import patched_environ
from tools.local_api.announcer import NOTIFY_FUNCTION, Announcer
from tools.local_api.embedded_s3 import EmbeddedS3, prepare_bucket
from tools.local_api.server import LocalApi, LocalApiConfig
from tools.local_invoke import EnvOverrides, read_function
from tools.project import function_ids

UPLOAD_FUNCTION = function_ids().upload
DEFAULT_BUCKET = "form-archive-local"
# moto accepts any credentials; these are used unless the shell has some. The access key id is drawn per
# run: the embedded S3 lets through only requests signed with it (`store_gate`), and a page on another
# origin cannot name it.
FAKE_AWS = (
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
)


def local_access_key_id() -> str:
    return "LOCAL" + secrets.token_hex(8).upper()


def function_variable(env: EnvOverrides | None, logical_id: str, name: str) -> str | None:
    section = (env or {}).get(logical_id) or {}
    value = section.get(name)
    return str(value) if value else None


def with_overrides(env: EnvOverrides | None, logical_id: str, values: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {name: dict(section) for name, section in (env or {}).items()}
    result.setdefault(logical_id, {}).update(values)
    return result


@contextlib.contextmanager
def local_stack(
    config: LocalApiConfig,
    *,
    embedded_s3: bool,
    endpoint: str | None,
    webhook_url: str | None,
    allowed_origins: list[str] | None = None,
) -> Iterator[LocalApi]:
    """The local API with its S3 (embedded or given) and, with `webhook_url`, the announcements."""
    say = config.say
    with contextlib.ExitStack() as stack:
        api = LocalApi(config)  # binds the port: a taken one stops everything here
        stack.callback(api.stop)
        variables: dict[str, str] = {}
        if embedded_s3:
            if not os.environ.get("AWS_ACCESS_KEY_ID"):
                variables["AWS_ACCESS_KEY_ID"] = local_access_key_id()
                variables.update(FAKE_AWS)
            s3 = EmbeddedS3(variables.get("AWS_ACCESS_KEY_ID") or os.environ["AWS_ACCESS_KEY_ID"])
            endpoint = s3.start()
            stack.callback(s3.stop)
            variables.update((name, value) for name, value in FAKE_AWS if not os.environ.get(name))
            say(f"embedded S3 (moto) on {endpoint}")
        if endpoint:
            # The functions reach S3 through boto3's standard variable, as in the tests.
            variables["AWS_ENDPOINT_URL_S3"] = endpoint
        # Set before any function worker starts: each worker takes this environment with it.
        stack.enter_context(patched_environ(set=variables))
        if webhook_url:
            config.env_overrides = with_overrides(
                config.env_overrides,
                NOTIFY_FUNCTION,
                {"WEBHOOK_URL": webhook_url, "WEBHOOK_ALLOW_HTTP": "true"},
            )
        bucket = function_variable(config.env_overrides, UPLOAD_FUNCTION, "ARCHIVE_BUCKET") or DEFAULT_BUCKET
        if embedded_s3 and endpoint:
            origins = allowed_origins or [api.url]
            prepare_bucket(endpoint, bucket, origins)
            say(f"bucket s3://{bucket}: versioned, SSE-S3, CORS for {', '.join(origins)}")
            if webhook_url:
                announcer = Announcer(api, endpoint, bucket)
                # Before the first call: the function workers take this environment with them.
                work = announcer.work_variables()
                stack.enter_context(patched_environ(set=work))
                declared = read_function(NOTIFY_FUNCTION, template_path=config.template_path).environment
                config.env_overrides = with_overrides(
                    config.env_overrides, NOTIFY_FUNCTION, {k: v for k, v in work.items() if k in declared}
                )
                announcer.start()
                stack.callback(announcer.stop)
                # Workers first: the announcer's thread may be waiting on a notify call, which ends here.
                stack.callback(api.workers.stop)
                say(f"new objects are announced to {webhook_url} (S3 -> SQS -> {NOTIFY_FUNCTION})")
        api.start()
        for route in api.routes:
            key_note = " (x-api-key)" if route.api_key_required else ""
            say(f"route {route.method} {api.url}{route.path} -> {route.logical_id}{key_note}")
        yield api
