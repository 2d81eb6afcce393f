"""The Powertools plumbing both API functions share: JSON answers, the two resolvers, the dispatch.

Each function declares its routes once on a Powertools `Router`; `api_resolvers` includes them in a REST
API resolver and an HTTP API / Function URL (payload 2.0) resolver, and `resolve_api_event` hands each
event to the one its format needs. Only the API functions import this module (the resolver comes from
its submodule: `aws_lambda_powertools.event_handler` would import every resolver Powertools has).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    Router,
)
from aws_lambda_powertools.logging import correlation_paths

from .api_events import api_event_format, plain_response

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

ApiResolvers = tuple[APIGatewayRestResolver, APIGatewayHttpResolver]
FaultBody = Callable[[str], dict[str, Any]]


def json_response(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status_code, content_type="application/json", body=json.dumps(body), headers=headers
    )


def api_resolvers(router: Router) -> ApiResolvers:
    """A REST API and an HTTP API resolver holding `router`'s routes and exception handlers.

    Call it after every route and handler is registered: `include_router` copies them."""
    rest_resolver = APIGatewayRestResolver()
    http_resolver = APIGatewayHttpResolver()
    rest_resolver.include_router(router)
    http_resolver.include_router(router)
    return rest_resolver, http_resolver


def resolve_api_event(
    event: dict[str, Any],
    context: LambdaContext,
    resolvers: ApiResolvers,
    *,
    logger: Logger,
    fault_body: FaultBody,
) -> dict[str, Any]:
    """Answer `event` with the resolver for its format: a 400 for an event that is neither format, and a
    500 carrying `fault_body(request id)` for a fault outside any route; never raise."""
    event_format = api_event_format(event)
    if event_format is None:
        logger.warning("event is not an API Gateway proxy request (REST or payload 2.0)")
        return plain_response(400, {"error": "not an API Gateway proxy request"})
    rest_resolver, http_resolver = resolvers
    resolver = http_resolver if event_format == "http" else rest_resolver
    try:
        return resolver.resolve(event, context)
    except Exception as error:  # a fault outside any route (e.g. an unparsable event): answer, never raise
        logger.error("unexpected failure", extra={"error_type": type(error).__name__})  # noqa: TRY400
        return plain_response(500, fault_body(context.aws_request_id))


def api_entry_point(
    *, logger: Logger, metrics: Metrics
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., Any]]:
    """Decorate a function's `lambda_handler`: the request id in every log line and the metrics flushed
    after each invocation. Traces come from Lambda (`Tracing: Active`), not from an SDK in the function."""

    def decorate(handler: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        flushed = metrics.log_metrics(handler)
        # log_event=False pinned: POWERTOOLS_LOGGER_LOG_EVENT=true would log tokens, keys and bodies.
        return logger.inject_lambda_context(
            correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
        )(flushed)

    return decorate
