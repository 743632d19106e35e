"""--sandbox over real HTTP: the session's endpoint and operator keys, regions told apart by SigV4
scope (moto in server mode, in a thread), and real connection failures classified as unreachable."""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from components.contract import Out, RegionOut, Table
from harness.program import ProgramRun
from ops.cli import app
from ops.factory import Factory

KEYS = {"accessKeyId": "AKIAOPERATOR", "secretAccessKey": "operator-secret"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    yield endpoint
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    moto.stop()


def write_session(path: Path, endpoint: str, outputs: dict) -> Path:
    path.write_text(json.dumps({"webUrl": "http://127.0.0.1:8080", "awsEndpoint": endpoint, "uiConfig": {},
                                "outputs": outputs, "demoUser": {"username": "demo", "password": "x"},
                                "operator": KEYS}))
    return path


@pytest.fixture
def sandbox(server: str, prod: ProgramRun, tmp_path: Path) -> tuple[Path, dict, dict]:
    requests.post(f"{server}/moto-api/reset", timeout=10)
    outputs = copy.deepcopy(prod.outputs)
    clients = {}
    for role in ("primary", "secondary"):
        region = outputs[role][RegionOut.REGION]
        ddb = boto3.client("dynamodb", region_name=region, endpoint_url=server,
                           aws_access_key_id=KEYS["accessKeyId"], aws_secret_access_key=KEYS["secretAccessKey"])
        for logical in (Table.APP_CONFIG, Table.STATE_AUDIT):
            keys = [k for k in Table.KEYS[logical] if k]
            ddb.create_table(TableName=outputs[Out.TABLES][logical], BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"),
                                                                                             strict=False)],
                             AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys])
        ddb.put_item(TableName=outputs[Out.TABLES][Table.APP_CONFIG], Item={
            "appId": {"S": outputs[Out.APP_ID]}, "state": {"S": "active"}, "version": {"N": "1"}})
        clients[role] = ddb
    return write_session(tmp_path / "session.json", server, outputs), outputs, clients


def invoke(session: Path, *args: str):
    return CliRunner().invoke(app, ["--sandbox", *args], obj=Factory(session_file=session))


def test_sandbox_switch_goes_to_the_session_endpoint_in_the_primary_region(sandbox):
    session, outputs, clients = sandbox
    result = invoke(session, "state", "set", "fenced", "--json")
    assert result.exit_code == 0, result.output
    key = {"appId": {"S": outputs[Out.APP_ID]}}
    table = outputs[Out.TABLES][Table.APP_CONFIG]
    assert clients["primary"].get_item(TableName=table, Key=key)["Item"]["state"]["S"] == "fenced"
    # The secondary region is a different backend in moto (SigV4 scope): untouched.
    assert clients["secondary"].get_item(TableName=table, Key=key)["Item"]["state"]["S"] == "active"

    got = invoke(session, "state", "get", "--json")
    data = json.loads(got.stdout)
    assert (data["regions"]["primary"]["state"], data["regions"]["secondary"]["state"]) == ("fenced", "active")
    assert data["consistent"] is False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_session_whose_endpoint_refuses_connections_is_no_sandbox_running_exit_5(prod, tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    session = write_session(tmp_path / "session.json", endpoint, prod.outputs)
    result = invoke(session, "state", "set", "fenced")
    assert result.exit_code == 5
    assert result.stderr == (f"error: no sandbox answers at {endpoint} (a stale session file?): start it with "
                             "make demo\n")


class _Unavailable(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_503_answer_is_unreachable_exit_4(prod, tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        session = write_session(tmp_path / "session.json", f"http://127.0.0.1:{httpd.server_port}", prod.outputs)
        result = invoke(session, "state", "get")
        assert result.exit_code == 4
        assert "warning: primary region us-east-1 unreachable: 503" in result.stderr
    finally:
        httpd.shutdown()
