"""Bring the sandbox up: a LocalCloud, the program deployed into it, a demo user, the web app.

    sandbox = start_sandbox(SandboxOptions(web_port=8080))
    sandbox.session()        # what .sandbox/session.json holds (ops --sandbox, tests, the drill)
    sandbox.stop()

The program is `__main__.py` itself, run under the mock runtime with `Pulumi.sandbox.yaml`
(sandbox/deploy.py creates each resource in moto). What the cloud does at runtime and moto
lacks is wired here: global-table replication for the declared replicas, identity-pool
credentials, execute-api, and the operator's keys.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.contract import PROJECT, REGION_ROLES, Out, RegionOut, ui_config
from harness.program import ROOT, stack_config
from sandbox.apigateway import ExecuteApi
from sandbox.cloud import ACCOUNT, LocalCloud
from sandbox.credentials import CredentialsBroker
from sandbox.deploy import Deployment, MotoCloud
from sandbox.outage import SESSION_TOKEN_KEY
from sandbox.web import WebServer

STACK = "sandbox"
DEFAULT_WEB_PORT = 8080
DEFAULT_AWS_PORT = 4566
DEFAULT_SESSION_FILE = ROOT / ".sandbox" / "session.json"
DEFAULT_DIST = ROOT / "webapp" / "dist"
DEMO_USERNAME = "demo"
OPERATOR_SESSION = "ops-cli"



@dataclass
class SandboxOptions:
    web_port: int = DEFAULT_WEB_PORT  # 0 = any free port
    aws_port: int = DEFAULT_AWS_PORT  # region ports follow it (+1, +2); 0 = any free ports
    replication_lag: float = 1.0
    dist_dir: Path = DEFAULT_DIST
    serve_web: bool = True
    config: dict[str, str] = field(default_factory=lambda: stack_config(STACK))
    allow_origins: list[str] = field(default_factory=list)
    """Extra browser origins (e.g. a Vite dev server) the AWS endpoints and the buckets' CORS answer."""


@dataclass
class Sandbox:
    """A running sandbox; see the module docstring."""

    cloud: LocalCloud
    broker: CredentialsBroker
    execute_api: ExecuteApi
    deployer: MotoCloud
    outputs: dict[str, Any]
    ui_config: dict[str, Any]
    demo_user: dict[str, str]
    operator: dict[str, str]
    web: WebServer | None
    started_in: float  # seconds from start_sandbox() to ready

    @property
    def web_url(self) -> str | None:
        return self.web.url if self.web else None

    def session(self) -> dict[str, Any]:
        return {
            "webUrl": self.web_url,
            "awsEndpoint": self.cloud.endpoint,
            "regionEndpoints": {r: self.cloud.region_endpoint(r) for r in self.cloud.regions},
            "uiConfig": self.ui_config,
            "outputs": self.outputs,
            "demoUser": self.demo_user,
            "operator": self.operator,
            "allowedOrigins": self.cloud.cors.origins,
            SESSION_TOKEN_KEY: self.cloud.control_token,
        }

    def write_session(self, path: Path = DEFAULT_SESSION_FILE) -> Path:
        return write_private_json(path, self.session())

    @property
    def deployment(self) -> Deployment:
        return self.deployer.deployment

    def client(self, service: str, region: str) -> Any:
        """A boto3 client on the generic endpoint, signed as the sandbox's deployer."""
        return self.deployer.client(service, region)

    def stop(self) -> None:
        if self.web:
            self.web.stop()
        self.cloud.stop()


def write_private_json(path: Path, data: Any) -> Path:
    """Write `data` as JSON to `path`, readable by its owner only from the moment it exists: it holds the
    operator's keys, the control token and the demo password. A temporary file created 0600 (never an
    existing one, which could carry wider permissions) replaces `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(json.dumps(data, indent=2))
    tmp.replace(path)
    return path


def regions_of(config: dict[str, str]) -> list[str]:
    """[primary, secondary] from a stack config; the program validates the rest."""
    primary, secondary = config.get("aws:region"), config.get("multi-region-app:secondaryRegion")
    if not primary or not secondary or primary == secondary:
        raise ValueError("the sandbox stack config needs aws:region and a different multi-region-app:secondaryRegion")
    return [primary, secondary]


def start_sandbox(options: SandboxOptions | None = None) -> Sandbox:
    """Start everything and return once the sandbox answers; PortInUseError if a port is taken."""
    options = options or SandboxOptions()
    began = time.monotonic()
    regions = regions_of(options.config)
    _fresh_moto()
    web = None
    if options.serve_web:  # bind first: a taken web port must fail before anything is deployed
        web = WebServer(options.dist_dir, {}, port=options.web_port)
    origins = [*([web.url] if web else []), *options.allow_origins]
    cloud = LocalCloud(regions=regions, port=options.aws_port, replication_lag=options.replication_lag,
                       allowed_origins=origins)
    broker = CredentialsBroker(ACCOUNT)
    execute_api = ExecuteApi(broker, account=ACCOUNT)
    cloud.set_principals(broker)
    cloud.add_middleware(broker.middleware)
    cloud.mount("/execute-api/", execute_api)
    try:
        cloud.start()
    except BaseException:
        if web:
            web.server.server_close()
        raise
    try:
        from harness.program import run_program  # imports pulumi: only once ports are ours

        region_endpoints = {r: cloud.region_endpoint(r) for r in regions}
        deployer = MotoCloud(cloud.endpoint, region_endpoints, ACCOUNT)
        config = dict(options.config)
        if web:  # the page is served from here, not CloudFront: the APIs must allow this origin
            config[f"{PROJECT}:apiOrigin"] = web.url
        if options.allow_origins:  # and the buckets' CORS the dev server's
            extra = json.loads(config.get(f"{PROJECT}:siteOrigins") or "[]")
            config[f"{PROJECT}:siteOrigins"] = json.dumps(list(dict.fromkeys([*extra, *options.allow_origins])))
        run = run_program(deployer, config, stack=STACK)
        outputs = run.outputs
        _declare_global_tables(cloud, deployer)
        for pool_id, roles in deployer.deployment.identity_pool_roles.items():
            broker.set_identity_pool_roles(pool_id, roles)
        for (pool_id, provider), (tags, use_defaults) in deployer.deployment.principal_tags.items():
            broker.set_principal_tags(pool_id, provider, tags, use_defaults)
        demo_user = _create_demo_user(deployer, outputs)
        operator = _operator_keys(broker, outputs)
        ui = local_ui_config(outputs, region_endpoints)
        if web:
            web.set_ui_config(ui)
            web.start()
    except BaseException:
        if web:
            web.server.server_close()
        cloud.stop()
        raise
    return Sandbox(cloud=cloud, broker=broker, execute_api=execute_api, deployer=deployer, outputs=outputs,
                   ui_config=ui, demo_user=demo_user, operator=operator, web=web,
                   started_in=time.monotonic() - began)


def _fresh_moto() -> None:
    """Start from empty backends: moto's state is process-wide and the program's names are fixed."""
    from moto.moto_api._internal.models import moto_api_backend

    from sandbox import cloud

    if cloud._running is not None:
        raise RuntimeError("a LocalCloud is already running in this process (moto's state is process-wide)")
    moto_api_backend.reset()


def local_ui_config(outputs: dict[str, Any], region_endpoints: dict[str, str]) -> dict[str, Any]:
    """uiConfig.json of the sandbox: the stack's, plus each region's local AWS endpoint."""
    config = ui_config(outputs)
    for role in REGION_ROLES:
        config[role]["endpoint"] = region_endpoints[config[role][RegionOut.REGION]]
    return config


def _declare_global_tables(cloud: LocalCloud, deployer: MotoCloud) -> None:
    """Replicate every table declared with replicas; items written before (the state item) are copied
    first, as DynamoDB does when a replica is added to a table that holds data."""
    for name, regions in deployer.deployment.global_tables.items():
        if len(regions) < 2:
            continue
        ordered = sorted(regions)
        for source in ordered:
            items = _scan(deployer.client("dynamodb", source), name)
            for target in ordered:
                if target != source:
                    client = deployer.client("dynamodb", target)
                    for item in items:
                        client.put_item(TableName=name, Item=item)
        cloud.replicate_table(name, ordered)


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def demo_password() -> str:
    """Random, and valid under any Cognito password policy (upper, lower, digit, symbol, 20 chars)."""
    return f"Demo-{secrets.token_urlsafe(12)}-7a"


def _create_demo_user(deployer: MotoCloud, outputs: dict[str, Any]) -> dict[str, str]:
    """The same user and password in both pools (a real stack would run `ops sync-users`), confirmed and
    with a permanent password, so the first sign-in needs no password change."""
    password = demo_password()
    for role in REGION_ROLES:
        region_out = outputs[role]
        idp = deployer.client("cognito-idp", region_out[RegionOut.REGION])
        pool = region_out[RegionOut.USER_POOL_ID]
        idp.admin_create_user(UserPoolId=pool, Username=DEMO_USERNAME, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "demo@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=DEMO_USERNAME, Password=password, Permanent=True)
    return {"username": DEMO_USERNAME, "password": password}


def _operator_keys(broker: CredentialsBroker, outputs: dict[str, Any]) -> dict[str, str]:
    """Long-lived keys acting as the program's operator role (the sandbox has no STS AssumeRole step)."""
    role_arn = outputs[Out.OPERATOR_ROLE_ARN]
    access_key = "AKIA" + secrets.token_hex(8).upper()
    secret = secrets.token_urlsafe(30)
    role_name = role_arn.rsplit("/", 1)[-1]
    broker.add_static_principal(access_key, secret, role_arn,
                                f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{OPERATOR_SESSION}")
    return {"accessKeyId": access_key, "secretAccessKey": secret, "roleArn": role_arn}
