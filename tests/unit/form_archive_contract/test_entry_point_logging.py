"""The shared API entry point never logs a whole event, whatever Powertools' environment asks for."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics

from form_archive_contract.api import api_entry_point
from tests.api_events import api_event
from tools.lambda_context import LocalLambdaContext

TOKEN = "upload-token-marker-5b1e"
API_KEY = "api-key-marker-93c0"
AUTHORIZATION = "Bearer authorization-marker-c4d2"


def test_r4_item8_event_logging_stays_off_with_powertools_logger_log_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    # Its own buffer: a handler bound to pytest's captured stdout would outlive the capture.
    buffer = io.StringIO()
    logger = Logger(service="entry-point-test", level="INFO", logger_handler=logging.StreamHandler(buffer))
    metrics = Metrics(namespace="FormArchiveTest")

    @api_entry_point(logger=logger, metrics=metrics)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.info("handled")
        return {"statusCode": 200, "body": "{}"}

    event = api_event(
        f'{{"upload_token": "{TOKEN}"}}',
        headers={"x-api-key": API_KEY, "Authorization": AUTHORIZATION, "Content-Type": "application/json"},
    )
    assert handler(event, LocalLambdaContext())["statusCode"] == 200
    logs = buffer.getvalue()
    assert '"message":"handled"' in logs, "the logger does write: the test would see an event line"
    for secret in (TOKEN, API_KEY, AUTHORIZATION):
        assert secret not in logs
