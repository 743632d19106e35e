"""The hardened profile deploys into the sandbox as well: the sandbox does not emulate WAF, KMS, X-Ray or log
deliveries (docs/hardened-profile.md), it records them and the application works as in baseline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.contract import PROJECT
from harness.program import stack_config
from ops.appclient import AppUser
from sandbox.up import Sandbox, SandboxOptions, start_sandbox
from tests.sandbox.cloud_support import LAG


@pytest.fixture(scope="module")
def hardened_sandbox() -> Iterator[Sandbox]:
    config = {**stack_config("sandbox"), f"{PROJECT}:securityProfile": "hardened"}
    running = start_sandbox(SandboxOptions(web_port=0, aws_port=0, replication_lag=LAG, serve_web=False,
                                           config=config))
    try:
        yield running
    finally:
        running.stop()


def test_the_hardened_program_deploys_into_the_sandbox_and_answers_a_signed_call(hardened_sandbox):
    sandbox = hardened_sandbox
    user = AppUser.sign_in(sandbox.ui_config, sandbox.demo_user["username"], sandbox.demo_user["password"])
    # GET /photos now goes through its request validator (declared query strings), signed as the app user.
    answer = user.api("GET", "primary", "/photos?limit=5")
    assert (answer.status, answer.body) == (200, {"photos": [], "next": None})
    # What the sandbox created for real is the application; the hardened extras were planned, not emulated.
    buckets = {b["Name"] for b in sandbox.client("s3", "us-east-1").list_buckets()["Buckets"]}
    assert any("-logs-us-east-1-" in name for name in buckets)
