"""Docker-free `sam local invoke`: run a function of template.yaml in this Python process.

    python -m tools.local_invoke ArchiveSubmissionFunction --event events/submission.json \\
        --env-vars events/env.json

What it takes from the template: `Handler`, `CodeUri`, `Timeout`, `MemorySize` and the environment
(`Globals.Function.Environment` merged with the function's own), intrinsics resolved as described in
`tools.sam_template`. The environment is then built the way `sam local invoke` builds it:

1. each variable declared in the template starts with its template value ("" when that value cannot
   be known locally, e.g. a `!GetAtt`);
2. a variable of the same name in the shell environment replaces it;
3. the env-vars file replaces it again: first its `"Parameters"` object (for every function), then the
   object keyed by the function's logical id (or its `FunctionName`).

Only declared variables are overridden; other keys in the env-vars file are ignored with a warning,
as SAM CLI ignores them. Unlike SAM CLI, the handler runs in this process, so it also sees the rest of
the shell environment: that is where `AWS_ENDPOINT_URL_S3` (e.g. a moto server), region and
credentials come from. The variables are set for the duration of the call and restored afterwards.
Modules stay imported between calls in one process, like a warm Lambda container.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tools.environment import patched_environ
from tools.function_spec import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_SECONDS,
    FUNCTION_TYPES,
    EnvOverrides,
    FunctionSpec,
    LocalInvokeError,
    env_text,
    read_function,
)
from tools.lambda_context import LocalLambdaContext
from tools.project import TEMPLATE_PATH

# What the runner's users import from here (the template reading lives in tools.function_spec).
__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT_SECONDS",
    "FUNCTION_TYPES",
    "EnvOverrides",
    "FunctionSpec",
    "LocalInvokeError",
    "function_environment",
    "invoke",
    "load_env_file",
    "load_handler",
    "local_endpoint",
    "main",
    "read_function",
    "server_error",
]

logger = logging.getLogger("tools.local_invoke")


def load_env_file(path: Path) -> dict[str, dict[str, Any]]:
    """An env-vars file in SAM CLI's format: `{"Parameters": {...}, "<LogicalId>": {...}, ...}`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LocalInvokeError(f"cannot read env-vars file {path}: {error}") from None
    if not isinstance(document, dict) or not all(isinstance(value, dict) for value in document.values()):
        raise LocalInvokeError(f"{path}: every top-level value must be an object of variables")
    return document


def function_environment(
    spec: FunctionSpec,
    env_overrides: EnvOverrides | None = None,
    shell: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The declared variables after shell and env-file overrides, as `sam local invoke` computes them."""
    shell = os.environ if shell is None else shell
    overrides: dict[str, Any] = {}
    if env_overrides:
        overrides.update(env_overrides.get("Parameters") or {})
        specific = env_overrides.get(spec.logical_id) or (
            env_overrides.get(spec.function_name) if spec.function_name else None
        )
        overrides.update(specific or {})
    ignored = sorted(set(overrides) - set(spec.environment))
    if ignored:
        logger.warning(
            "%s: not declared in the template, so ignored (as sam local invoke does): %s",
            spec.logical_id,
            ", ".join(ignored),
        )
    result: dict[str, str] = {}
    for name, value in spec.environment.items():
        chosen: Any = value
        if name in shell:
            chosen = shell[name]
        if name in overrides:
            chosen = overrides[name]
        result[name] = env_text(chosen)
    return result


def _runtime_variables(spec: FunctionSpec) -> dict[str, str]:
    """The AWS_LAMBDA_* variables SAM CLI adds; region defaults to us-east-1 like SAM CLI."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return {
        "AWS_SAM_LOCAL": "true",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name or spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_seconds)),
        "AWS_LAMBDA_FUNCTION_HANDLER": spec.handler,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or region,
    }


def load_handler(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    """Import `spec.handler` with the function's CodeUri first on sys.path."""
    code_uri = str(spec.code_uri)
    if code_uri not in sys.path:
        sys.path.insert(0, code_uri)
    module_name, _, attribute = spec.handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        message = f"{spec.logical_id}: cannot import {module_name} from {code_uri}: {error}"
        raise LocalInvokeError(message) from None
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise LocalInvokeError(f"{spec.logical_id}: {spec.handler} is not a callable")
    return handler  # type: ignore[no-any-return]


def invoke(
    logical_id: str,
    event: Any,
    env_overrides: EnvOverrides | None = None,
    *,
    template_path: Path = TEMPLATE_PATH,
    parameter_overrides: Mapping[str, str] | None = None,
    context: LocalLambdaContext | None = None,
) -> Any:
    """Call the handler of `logical_id` with `event`, as Lambda would; returns what the handler returns.

    `env_overrides` has the env-vars file's shape (`{"Parameters": {...}, "<LogicalId>": {...}}`).
    Exceptions from the handler propagate unchanged.
    """
    spec = read_function(logical_id, template_path=template_path, parameter_overrides=parameter_overrides)
    variables = {**_runtime_variables(spec), **function_environment(spec, env_overrides)}
    if context is None:
        name = spec.function_name or logical_id
        context = LocalLambdaContext(
            function_name=name,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
            log_group_name=f"/aws/lambda/{name}",
        )
    with patched_environ(set=variables):
        handler = load_handler(spec)
        return handler(event, context)


def _parameter_overrides(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise LocalInvokeError(f"--parameter-overrides takes Name=Value, got {item!r}")
        result[name] = value
    return result


LOCAL_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
NO_LOCAL_ENDPOINT = (
    "no local S3 endpoint: set AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) to a local S3 such as moto's server "
    "(docs/local.md shows how), or pass --aws (make invoke AWS=1) to use the AWS account of your credentials"
)


def local_endpoint(environ: Mapping[str, str]) -> str | None:
    """The S3 endpoint the handler will use instead of AWS, if the environment names one."""
    return next((environ[name] for name in LOCAL_ENDPOINT_VARIABLES if environ.get(name)), None)


def server_error(result: Any) -> bool:
    """An API function's answer with a 5xx status: the run failed, even though the handler returned."""
    status = result.get("statusCode") if isinstance(result, dict) else None
    return isinstance(status, int) and not isinstance(status, bool) and status >= 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_invoke",
        description="Run a function of template.yaml in-process, like `sam local invoke` without Docker. "
        "It runs only against a local S3 (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) unless --aws is given. "
        "Exit 0 with the result on stdout; 1 when the function raised or answered a 5xx; 2 for a problem "
        "with the template, the event, the env-vars file or the environment.",
    )
    parser.add_argument(
        "--aws", action="store_true", help="allow a run without a local endpoint: the AWS of your credentials"
    )
    parser.add_argument("function", help="logical id, e.g. ArchiveSubmissionFunction")
    parser.add_argument("-e", "--event", required=True, help="event JSON file, or - for stdin")
    parser.add_argument("-n", "--env-vars", help="env-vars JSON file in SAM CLI's format (events/env.json)")
    parser.add_argument("-t", "--template", default=str(TEMPLATE_PATH), help="SAM template")
    parser.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE", help="template parameter values"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stdout = sys.stdout
    try:
        raw_event = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
        event = json.loads(raw_event)
        env_overrides = load_env_file(Path(args.env_vars)) if args.env_vars else None
        parameter_overrides = _parameter_overrides(args.parameter_overrides)
        template_path = Path(args.template).resolve()
        spec = read_function(
            args.function, template_path=template_path, parameter_overrides=parameter_overrides
        )
    except (LocalInvokeError, OSError, ValueError) as error:
        print(f"local_invoke: {error}", file=sys.stderr)
        return 2
    if not args.aws and local_endpoint(os.environ) is None:
        print(f"local_invoke: {NO_LOCAL_ENDPOINT}", file=sys.stderr)
        return 2
    try:
        # The function's own output (Powertools logs, prints) goes to stderr, the result to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = invoke(
                spec.logical_id,
                event,
                env_overrides,
                template_path=template_path,
                parameter_overrides=parameter_overrides,
            )
    except LocalInvokeError as error:
        print(f"local_invoke: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # reported the way Lambda reports an unhandled error
        print(json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}), file=stdout)
        return 1
    print(json.dumps(result, indent=2, default=str), file=stdout)
    if server_error(result):
        print(f"local_invoke: {spec.logical_id} answered {result['statusCode']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
