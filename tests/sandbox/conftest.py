"""Fixtures for the local cloud's tests: a LocalCloud per module on ephemeral ports, boto3 clients.

Real HTTP through boto3; botocore retries are off so an error surfaces at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox.cloud import LocalCloud
from tests.sandbox.cloud_support import KEYS, LAG, NO_RETRIES, ORIGIN, PRIMARY, SECONDARY


@pytest.fixture(scope="module")
def local_cloud() -> Iterator[LocalCloud]:
    local = LocalCloud(regions=[PRIMARY, SECONDARY], port=0, replication_lag=LAG, allowed_origins=[ORIGIN]).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def aws_client(local_cloud: LocalCloud) -> Callable[..., Any]:
    """aws_client(service, region, endpoint=None, **config): signed for `region`, generic endpoint by default."""

    def make(service: str, region: str, endpoint: str | None = None, config: Config | None = None) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint or local_cloud.endpoint,
            config=NO_RETRIES.merge(config) if config else NO_RETRIES,
            **KEYS,
        )

    return make
