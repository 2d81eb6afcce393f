"""Tracing without an SDK in the functions: Lambda's Tracing: Active always, an OpenTelemetry layer only when
asked for (OpenTelemetryLayerArn), and no X-Ray SDK left in the functions' requirements."""

from __future__ import annotations

from typing import Any

import pytest

from tools.local_invoke import read_function
from tools.project import PROJECT_ROOT
from tools.sam_template import NOTHING, Resolver, load_template

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
LAYER = "arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-python-arm64-ver-1-32-0:2"
FUNCTIONS = ("ArchiveSubmissionFunction", "NotifyWebhookFunction", "UploadUrlFunction")


def global_layers(overrides: dict[str, str] | None) -> Any:
    template = load_template(TEMPLATE_PATH)
    return Resolver(template, overrides).resolve(template["Globals"]["Function"]["Layers"])


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_by_default_no_layer_and_no_wrapper(logical_id: str) -> None:
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in read_function(logical_id, template_path=TEMPLATE_PATH).environment
    assert global_layers(None) is NOTHING  # `AWS::NoValue`: the property is gone


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_layer_arn_adds_the_layer_and_its_wrapper(logical_id: str) -> None:
    overrides = {"OpenTelemetryLayerArn": LAYER}
    spec = read_function(logical_id, template_path=TEMPLATE_PATH, parameter_overrides=overrides)
    assert spec.environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-instrument"
    assert global_layers(overrides) == [LAYER]


def test_tracing_stays_active_and_needs_no_sdk_in_the_functions() -> None:
    assert load_template(TEMPLATE_PATH)["Globals"]["Function"]["Tracing"] == "Active"
    requirements = (PROJECT_ROOT / "functions" / "requirements.txt").read_text(encoding="utf-8")
    assert "aws-xray-sdk" not in requirements
    for source in (PROJECT_ROOT / "functions").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "aws_xray_sdk" not in text and "Tracer" not in text, source
