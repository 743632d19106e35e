"""The operator API's switch (PUT /state/{appId}) in the deployed sandbox: the same transaction as `ops
state set`, so the same audit trail, in both regions."""

from __future__ import annotations

from typing import Any

from components.contract import Out, Table
from ops.appclient import AppUser
from sandbox.up import Sandbox


def audit(sandbox: Sandbox, region: str, key: str) -> dict[str, Any] | None:
    return sandbox.client("dynamodb", region).get_item(
        TableName=sandbox.outputs[Out.TABLES][Table.STATE_AUDIT],
        Key={"appId": {"S": sandbox.outputs[Out.APP_ID]}, "auditKey": {"S": key}}, ConsistentRead=True).get("Item")


def test_the_operator_api_switch_writes_its_audit_record_and_answers_where_it_is(sandbox: Sandbox,
                                                                                operator: AppUser) -> None:
    block = sandbox.outputs["secondary"]
    url, region = block["stateUrl"], block["region"]
    version = operator.call("GET", url, region).body["version"]
    answer = operator.call("PUT", url, region, {"state": "fenced", "expectedVersion": version, "reason": "api test"})
    assert answer.status == 200, answer.body
    assert set(answer.body) == {"appId", "auditKey", "updatedAt", "updatedBy"}
    record = audit(sandbox, region, answer.body["auditKey"])
    assert record is not None
    assert {k: next(iter(v.values())) for k, v in record.items() if k in ("to", "tool", "via", "reason")} == {
        "to": "fenced", "tool": "api", "via": "secondary", "reason": "api test"}
    assert operator.call("GET", url, region).body == {"state": "fenced", "version": version + 1}


def test_a_put_on_a_stale_version_is_409_and_records_nothing(sandbox: Sandbox, operator: AppUser) -> None:
    block = sandbox.outputs["primary"]
    url, region = block["stateUrl"], block["region"]
    version = operator.call("GET", url, region).body["version"]
    answer = operator.call("PUT", url, region, {"state": "fenced", "expectedVersion": version + 5})
    assert (answer.status, answer.body["code"]) == (409, "CONFLICT")
    records = sandbox.client("dynamodb", region).scan(TableName=sandbox.outputs[Out.TABLES][Table.STATE_AUDIT],
                                                      ConsistentRead=True)["Items"]
    assert not [r for r in records if r["fromVersion"]["N"] == str(version + 5)]


def test_a_put_without_the_version_it_read_is_400(sandbox: Sandbox, operator: AppUser) -> None:
    answer = operator.call("PUT", sandbox.outputs["primary"]["stateUrl"], "us-east-1", {"state": "fenced"})
    assert (answer.status, answer.body["code"]) == (400, "BAD_REQUEST_BODY")
