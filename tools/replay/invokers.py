"""Invoking the notify function with a parked message body: the deployed one through Lambda `Invoke`, or
the local one in this process through the Docker-free runner."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.local_invoke import LocalInvokeError, invoke
from tools.project import TEMPLATE_PATH, function_ids
from tools.replay.errors import ReplayError
from tools.replay.record import error_text

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

NOTIFY_FUNCTION = function_ids().notify


@dataclass(frozen=True)
class Invocation:
    ok: bool
    reason: str = ""
    result: Any = None


Invoker = Callable[[str], Invocation]


def lambda_invoker(client: LambdaClient, function: str) -> Invoker:
    """Lambda `Invoke` (RequestResponse) of the deployed function with the message body as payload."""

    def call(body: str) -> Invocation:
        try:
            answer = client.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=body.encode("utf-8")
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise ReplayError(f"function {function} cannot be invoked: {code}: {error}") from None
        except BotoCoreError as error:
            raise ReplayError(f"function {function} cannot be reached: {error}") from None
        raw = answer["Payload"].read() if "Payload" in answer else b""
        try:
            payload: Any = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        if answer.get("FunctionError"):
            reason = error_text(payload) or f"function error ({answer['FunctionError']})"
            return Invocation(ok=False, reason=reason, result=payload)
        return Invocation(ok=True, result=payload)

    return call


def local_invoker(
    env_overrides: Mapping[str, Mapping[str, Any]],
    *,
    log_level: str = "WARNING",
    template_path: Path | None = None,
) -> Invoker:
    """The notify function in this process through the Docker-free runner; its output goes to stderr."""
    overrides: dict[str, dict[str, Any]] = {name: dict(values) for name, values in env_overrides.items()}
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = log_level
    overrides.setdefault(NOTIFY_FUNCTION, {})["POWERTOOLS_LOG_LEVEL"] = log_level
    template = template_path or TEMPLATE_PATH

    def call(body: str) -> Invocation:
        event = json.loads(body)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                result = invoke(NOTIFY_FUNCTION, event, overrides, template_path=template)
        except LocalInvokeError as error:
            raise ReplayError(f"local function {NOTIFY_FUNCTION} cannot run: {error}") from None
        except Exception as error:  # reported the way Lambda reports a function error
            error_object = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return Invocation(ok=False, reason=error_text(error_object))
        return Invocation(ok=True, result=result)

    return call
