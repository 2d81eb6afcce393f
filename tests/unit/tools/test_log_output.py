"""The `log_output` fixture's stream swap copes with a handler whose stream pytest has closed (a handler
made while another test's output was captured; which test ran first depends on the worker)."""

from __future__ import annotations

import io
import logging

from tests.conftest import swap_stream


def test_a_handler_on_a_closed_stream_is_pointed_at_the_buffer_and_back() -> None:
    closed = io.StringIO()
    closed.close()
    handler = logging.StreamHandler(closed)
    logger = logging.getLogger("tests.log_output.closed")
    logger.addHandler(handler)
    logger.propagate = False
    buffer = io.StringIO()
    try:
        assert swap_stream(handler, buffer) is closed  # setStream would flush the closed file and raise
        logger.warning("seen")
        assert buffer.getvalue() == "seen\n"
        assert swap_stream(handler, closed) is buffer
        assert handler.stream is closed
    finally:
        logger.removeHandler(handler)
