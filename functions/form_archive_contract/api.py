"""The Powertools plumbing the API packages share: JSON answers, the two resolvers, the dispatch, the faults.

Each function declares its routes once on a Powertools `Router`; `api_resolvers` includes them in a REST
API resolver and an HTTP API / Function URL (payload 2.0) resolver, and `resolve_api_event` hands each
event to the one its format needs. Only the API functions import this module (the resolver comes from
its submodule: `aws_lambda_powertools.event_handler` would import every resolver Powertools has).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    Router,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from .api_events import RequestRejected, api_event_format, plain_response
from .settings import ServerMisconfigured

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


class Counted(NamedTuple):
    """One kind of answer as a function counts and words it: the metric's name, and the text."""

    metric: str
    text: str


@dataclass(frozen=True)
class ApiFaults:
    """How one API function answers what goes wrong: its metrics, its log wording, what a client learns."""

    router: Router
    logger: Logger
    metrics: Metrics
    post_path: str  # the function's own route, named in a 404 and a 405
    rejected: Counted  # per 4xx: the metric, and the log line's message
    failed: Counted  # per 5xx: the metric, and all a client learns beside the request id

    def request_id(self) -> str:
        context = getattr(self.router, "lambda_context", None)
        return str(getattr(context, "aws_request_id", "unknown"))

    def fault_body(self, request_id: str) -> dict[str, Any]:
        """Count a server fault and say what the client learns of it: the id to quote, no internals."""
        self.metrics.add_metric(name=self.failed.metric, unit=MetricUnit.Count, value=1)
        return {"error": self.failed.text, "request_id": request_id}

    def reject(self, status_code: int, message: str) -> Response[str]:
        self.metrics.add_metric(name=self.rejected.metric, unit=MetricUnit.Count, value=1)
        self.logger.info(self.rejected.text, extra={"status_code": status_code, "reason": message})
        return json_response(status_code, {"error": message})

    def server_fault(self, status_code: int, log_message: str, **details: str) -> Response[str]:
        self.logger.error(log_message, extra=details)
        return json_response(status_code, self.fault_body(self.request_id()))


def add_fault_handlers(
    router: Router, logger: Logger, metrics: Metrics, post_path: str, *, rejected: Counted, failed: Counted
) -> ApiFaults:
    """The answers every API function gives alike, registered on its router: a `RequestRejected` as its
    4xx, a misconfiguration or any unexpected exception as a counted 500, an unknown route as a 404 and
    another method on the function's route as a 405. A function adds handlers for its own faults with
    the `ApiFaults` returned."""
    faults = ApiFaults(router, logger, metrics, post_path, rejected, failed)

    @router.exception_handler(RequestRejected)
    def handle_rejected(error: RequestRejected) -> Response[str]:
        return faults.reject(error.status_code, error.message)

    @router.exception_handler(ServerMisconfigured)
    def handle_misconfigured(error: ServerMisconfigured) -> Response[str]:
        return faults.server_fault(500, "function misconfigured", problem=str(error))

    @router.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response[str]:
        """The last resort: a proper 500 with the request id instead of an unhandled exception."""
        return faults.server_fault(500, "unexpected failure", error_type=type(error).__name__)

    @router.exception_handler(NotFoundError)
    def handle_not_found(_error: NotFoundError) -> Response[str]:
        return json_response(404, {"error": f"not found; POST {faults.post_path}"})

    @router.route(faults.post_path, method=["GET", "PUT", "PATCH", "DELETE"])
    def method_not_allowed() -> Response[str]:
        return json_response(405, {"error": "method not allowed; use POST"}, headers={"Allow": "POST"})

    return faults


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
