"""The region a tool's AWS clients use: `AWS_REGION` first, as the AWS CLI and Lambda read it, then boto3's
own chain (`AWS_DEFAULT_REGION`, the profile's `region`). boto3 alone ignores `AWS_REGION`, which the docs
name, so every tool asks here instead."""

from __future__ import annotations

import os

import boto3


class NoRegion(Exception):
    """No region anywhere: the message says where to set one."""

    def __init__(self) -> None:
        super().__init__("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)")


def aws_region(default: str | None = None) -> str:
    """The region to use; `default` when none is set, else `NoRegion`."""
    region = os.environ.get("AWS_REGION") or boto3.session.Session().region_name or default
    if not region:
        raise NoRegion
    return region
