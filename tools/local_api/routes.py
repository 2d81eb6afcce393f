"""The template's REST API routes: every `Api` event of every function the parameters create, and how a
request path matches one (path parameters, `{proxy+}`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from tools.local_invoke import FUNCTION_TYPES
from tools.project import TEMPLATE_PATH
from tools.sam_template import Resolver, load_template

_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case, or ANY
    path: str  # as in the template, e.g. /uploads or /items/{id}
    logical_id: str
    api_key_required: bool

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route takes the request, else None."""
        if self.method not in {"ANY", method}:
            return None
        names: list[str] = []
        pattern = ""
        position = 0
        for parameter in _PATH_PARAMETER.finditer(self.path):
            pattern += re.escape(self.path[position : parameter.start()])
            pattern += "(.+)" if parameter.group(2) else "([^/]+)"
            names.append(parameter.group(1))
            position = parameter.end()
        pattern += re.escape(self.path[position:])
        found = re.fullmatch(pattern, path)
        if found is None:
            return None
        return {name: unquote_plus(value) for name, value in zip(names, found.groups(), strict=True)}


def api_routes(
    template_path: Path = TEMPLATE_PATH, parameter_overrides: Mapping[str, str] | None = None
) -> list[ApiRoute]:
    """Every `Api` (REST) event of every function the template creates with these parameters."""
    template = load_template(template_path)
    resolver = Resolver(template, parameter_overrides)
    resources: Mapping[str, Any] = template["Resources"]
    routes: list[ApiRoute] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in FUNCTION_TYPES:
            continue
        condition = resource.get("Condition")
        if isinstance(condition, str) and not resolver.condition(condition):
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if not isinstance(event, dict) or event.get("Type") != "Api":
                continue
            properties = event.get("Properties") or {}
            routes.append(
                ApiRoute(
                    method=str(properties.get("Method", "ANY")).upper(),
                    path=str(properties["Path"]),
                    logical_id=logical_id,
                    api_key_required=_api_key_required(resources, properties),
                )
            )
    return routes


def _api_key_required(resources: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """The event's own `Auth.ApiKeyRequired`, else its API's default."""
    auth = properties.get("Auth") or {}
    if "ApiKeyRequired" in auth:
        return bool(auth["ApiKeyRequired"])
    api_ref = properties.get("RestApiId")
    api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
    api = resources.get(api_id) if isinstance(api_id, str) else None
    api_auth = ((api or {}).get("Properties") or {}).get("Auth") or {}
    return bool(api_auth.get("ApiKeyRequired", False))
