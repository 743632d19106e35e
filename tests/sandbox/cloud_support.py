"""Helpers shared by the local cloud's tests."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
LAG = 0.25  # seconds: short for tests, long enough to observe that replication is asynchronous
MARGIN = 2.0  # seconds on top of the lag before a test gives up waiting
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10)
KEYS = {"aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox-secret"}  # not issued: admin
ORIGIN = "http://127.0.0.1:8080"  # the browser origin the test clouds allow
FOREIGN_ORIGIN = "https://evil.example"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def eventually(check: Callable[[], Any], timeout: float = LAG + MARGIN, interval: float = 0.02) -> Any:
    """The first truthy result of `check()` within `timeout` seconds; fails the test otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout:.2f}s")
        time.sleep(interval)


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """(status, headers, body) of a raw HTTP request; errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
