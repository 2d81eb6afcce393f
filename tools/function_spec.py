"""A function of template.yaml as the template defines it: Handler, CodeUri, Timeout, MemorySize and the
declared environment with its template values (intrinsics resolved as `tools.sam_template` describes).
Nothing here comes from an env-vars file or the shell; `tools.local_invoke` applies those."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.project import TEMPLATE_PATH
from tools.sam_template import NOTHING, Resolver, TemplateError, Unresolvable, load_template

# Lambda's own defaults, used when neither the function nor Globals set a value.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
FUNCTION_TYPES = frozenset({"AWS::Serverless::Function"})

EnvOverrides = Mapping[str, Mapping[str, Any]]


class LocalInvokeError(Exception):
    """The template, the function or the env-vars file is unusable; the message says which and why."""


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: Path
    timeout_seconds: float
    memory_mb: int
    function_name: str | None
    # Declared variables with their template values ("" where an intrinsic cannot be resolved locally).
    environment: dict[str, str] = field(default_factory=dict)


def env_text(value: Any) -> str:
    """SAM CLI's stringification of an environment value: lists/dicts/None → "", bools lower-case."""
    if value is None or isinstance(value, dict | list | tuple):
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _resolve_or_blank(resolver: Resolver, value: Any) -> str:
    try:
        return env_text(resolver.resolve(value))
    except (Unresolvable, ValueError, TypeError, IndexError):
        return ""


def _number(logical_id: str, name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LocalInvokeError(f"{logical_id}: {name} must be a number, got {value!r}") from None


def _property(
    resolver: Resolver, properties: Mapping[str, Any], globals_: Mapping[str, Any], name: str
) -> Any:
    """The function's value, else the Globals one; `LocalInvokeError` when only a deployed stack has it."""
    source = properties if name in properties else globals_ if name in globals_ else None
    if source is None:
        return None
    try:
        return resolver.resolve(source[name])
    except (Unresolvable, ValueError, TypeError, IndexError) as error:
        raise LocalInvokeError(f"{name} cannot be resolved without a deployed stack ({error})") from None


@functools.lru_cache(maxsize=4)
def _parsed_template(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """The template, parsed once per version of the file (read only): a local API calls a function many
    times, and parsing template.yaml costs about 100 ms a call (an upload in parts makes a dozen)."""
    del mtime_ns, size  # the cache key: an edited template is parsed again
    return load_template(path)


def read_function(
    logical_id: str,
    *,
    template_path: Path = TEMPLATE_PATH,
    parameter_overrides: Mapping[str, str] | None = None,
) -> FunctionSpec:
    """The function `logical_id` as the template defines it (nothing from env files or the shell)."""
    try:
        stat = template_path.stat()
        template = _parsed_template(template_path, stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        raise LocalInvokeError(f"cannot read {template_path}: {error}") from None
    except TemplateError as error:
        raise LocalInvokeError(str(error)) from None
    resource = template["Resources"].get(logical_id)
    if not isinstance(resource, dict) or resource.get("Type") not in FUNCTION_TYPES:
        functions = sorted(
            name
            for name, item in template["Resources"].items()
            if isinstance(item, dict) and item.get("Type") in FUNCTION_TYPES
        )
        raise LocalInvokeError(f"{logical_id} is not a function in {template_path}; functions: {functions}")
    resolver = Resolver(template, parameter_overrides)
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    globals_: Mapping[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    handler = _property(resolver, properties, globals_, "Handler")
    code_uri = _property(resolver, properties, globals_, "CodeUri")
    if not isinstance(handler, str) or "." not in handler:
        raise LocalInvokeError(f"{logical_id}: Handler must be 'module.function', got {handler!r}")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise LocalInvokeError(f"{logical_id}: CodeUri must be a local folder, got {code_uri!r}")
    code_path = (template_path.parent / code_uri).resolve()
    if not code_path.is_dir():
        raise LocalInvokeError(f"{logical_id}: CodeUri {code_uri!r} is not a folder next to the template")

    declared: dict[str, Any] = {}
    for source in (globals_, properties):
        variables = (source.get("Environment") or {}).get("Variables") or {}
        if isinstance(variables, dict):
            declared.update(variables)
    environment: dict[str, str] = {}
    for variable, value in declared.items():
        try:
            resolved = resolver.resolve(value)
        except (Unresolvable, ValueError, TypeError, IndexError):
            resolved = ""
        if resolved is not NOTHING:  # `!Ref AWS::NoValue` removes the variable, as in a deployed stack
            environment[variable] = env_text(resolved)

    timeout = _property(resolver, properties, globals_, "Timeout")
    memory = _property(resolver, properties, globals_, "MemorySize")
    name = properties.get("FunctionName")
    return FunctionSpec(
        logical_id=logical_id,
        handler=handler,
        code_uri=code_path,
        timeout_seconds=_number(logical_id, "Timeout", timeout, DEFAULT_TIMEOUT_SECONDS),
        memory_mb=int(_number(logical_id, "MemorySize", memory, DEFAULT_MEMORY_MB)),
        function_name=(_resolve_or_blank(resolver, name) or None) if name is not None else None,
        environment=environment,
    )
