"""One deployed sandbox for the end-to-end tests: the program deployed into the local cloud, reached
over real HTTP with real signatures, as `make demo` runs it (shorter replication lag).

Every test starts from state `active` in both regions, no outage and replication drained.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from components.contract import REGION_ROLES, Out, RegionOut, Table
from ops.appclient import AppUser
from ops.factory import Factory
from ops.users import sync_users
from sandbox.up import Sandbox, SandboxOptions, demo_password, start_sandbox

LAG = 0.3  # seconds: short, yet long enough that replication is visibly asynchronous
DEV_ORIGIN = "http://localhost:5173"  # a dev server's origin, allowed like `python -m sandbox up --allow-origin`
WAIT = LAG + 3.0  # how long a test waits for replication before failing
MALLORY = "mallory"  # a second app user (a valid username: components.contract.USERNAME_PATTERN)


@pytest.fixture(scope="package")
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(SandboxOptions(web_port=0, aws_port=0, replication_lag=LAG, allow_origins=[DEV_ORIGIN]))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def session_file(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox.write_session(tmp_path_factory.mktemp("sandbox") / "session.json")


@pytest.fixture(scope="package")
def user(sandbox: Sandbox) -> AppUser:
    return AppUser.sign_in(sandbox.ui_config, sandbox.demo_user["username"], sandbox.demo_user["password"])


@pytest.fixture(scope="package")
def other_user(sandbox: Sandbox, session_file: Path) -> AppUser:
    """A second signed-in user, MALLORY, made as on a real stack: created in the primary's pool, copied to the
    secondary's by `ops sync-users` (the operator's keys), a password set in each pool by an administrator."""
    password = demo_password()
    pools = {role: (sandbox.ui_config[role][RegionOut.REGION], sandbox.ui_config[role][RegionOut.USER_POOL_ID])
             for role in REGION_ROLES}
    region, pool = pools["primary"]
    sandbox.client("cognito-idp", region).admin_create_user(
        UserPoolId=pool, Username=MALLORY, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": f"{MALLORY}@example.com"}])
    factory = Factory(session_file=session_file)
    synced = sync_users(factory, factory.sandbox_target(), dry_run=False, suppress_invite=True)
    assert MALLORY in synced.created, synced
    for region, pool in pools.values():
        sandbox.client("cognito-idp", region).admin_set_user_password(UserPoolId=pool, Username=MALLORY,
                                                                      Password=password, Permanent=True)
    return AppUser.sign_in(sandbox.ui_config, MALLORY, password)


@pytest.fixture(scope="package")
def operator(sandbox: Sandbox) -> AppUser:
    """The operator's long-lived keys, calling the APIs like `curl --aws-sigv4` would."""
    keys = sandbox.operator
    return AppUser(identity_id="", credentials=Credentials(keys["accessKeyId"], keys["secretAccessKey"]),
                   regions=user_regions(sandbox), endpoints={})


def user_regions(sandbox: Sandbox) -> dict[str, Any]:
    return {role: sandbox.ui_config[role] for role in ("primary", "secondary")}


@pytest.fixture(autouse=True)
def clean_slate(sandbox: Sandbox) -> Iterator[None]:
    yield
    for region in sandbox.cloud.regions:
        sandbox.cloud.set_outage(region, False)
    set_state_everywhere(sandbox, "active")


def set_state_everywhere(sandbox: Sandbox, state: str) -> None:
    """Write the state item in both regions directly (test setup, not the product's way)."""
    sandbox.cloud.wait_replication_idle(WAIT)
    table, app_id = sandbox.outputs[Out.TABLES][Table.APP_CONFIG], sandbox.outputs[Out.APP_ID]
    for region in sandbox.cloud.regions:
        sandbox.client("dynamodb", region).update_item(
            TableName=table, Key={"appId": {"S": app_id}}, UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":s": {"S": state}})
    sandbox.cloud.wait_replication_idle(WAIT)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
