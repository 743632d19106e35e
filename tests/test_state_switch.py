"""One switch write for every writer: contract.switch_transaction, the operator API's template
(state-put.*.vtl) and its flow through DynamoDB. (ops follows it in tests/ops/test_state.py, the
state machine in tests/test_auto_failover.py.)"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import vtl
from components.contract import AuditRecord, StateItem, Table, audit_key, switch_transaction
from components.routes import ROUTING_ROUTES, fill_template, load_template, template_values

TABLES = {Table.APP_CONFIG: "t-app-config", Table.COMMENTS: "t-comments", Table.PHOTOS: "t-photos",
          Table.STATE_AUDIT: "t-state-audit"}
APP_ID = "photo-app"
EPOCH = 1767225600123
OPERATOR_ARN = "arn:aws:sts::123456789012:assumed-role/t-operator/alice"
TRICKY = ["it's a \"quote\"", "back\\slash \\' \\\"", "line\nbreak\ttab", "</script>😀 \u2028",
          '", "by": {"S": "admin"}, "x": "', "#set($x = 1) $context.requestId"]
(PUT,) = [r for r in ROUTING_ROUTES if (r.method, r.path) == ("PUT", "/state/{appId}")]


def render(name: str, body: Any, role: str = "primary", request_id: str = "req-1") -> str:
    text = fill_template(load_template(name), template_values(APP_ID, TABLES, role))
    return vtl.render(text, body=json.dumps(body), params={"path": {"appId": APP_ID}, "querystring": {}, "header": {}},
                      context={"requestId": request_id, "requestTimeEpoch": EPOCH,
                               "identity": {"userArn": OPERATOR_ARN}}).text


def expected(version: str, state: str = "fenced", role: str = "primary", reason: str | None = None,
             request_id: str = "req-1") -> dict[str, Any]:
    return switch_transaction(state_table=TABLES[Table.APP_CONFIG], audit_table=TABLES[Table.STATE_AUDIT],
                              app_id=APP_ID, to=state, expected_version=version, at=str(EPOCH), by=OPERATOR_ARN,
                              tool=AuditRecord.API_TOOL, via=role, key=f"{EPOCH}-{request_id}", reason=reason)


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_the_api_template_is_the_contracts_switch_transaction(role: str) -> None:
    request = json.loads(render("state-put.request.vtl", {"state": "fenced", "expectedVersion": 7}, role))
    assert request == expected("7", role=role)
    assert PUT.action == "TransactWriteItems"
    grants = {(action, table) for action, table in PUT.grants}
    assert grants == {("dynamodb:PutItem", Table.STATE_AUDIT), ("dynamodb:UpdateItem", Table.APP_CONFIG)}


# API Gateway does not document the Java type $input.path gives a JSON number: Integer, Double or String.
@pytest.mark.parametrize(("as_sent", "rendered"), [(7, "7"), (7.0, "7.0"), ("7", "7"), (9999999.0, "9999999.0")])
def test_the_version_is_a_dynamodb_number_under_every_reading(as_sent: Any, rendered: str) -> None:
    request = json.loads(render("state-put.request.vtl", {"state": "fenced", "expectedVersion": as_sent}))
    assert request == expected(rendered)


@pytest.mark.parametrize("reason", TRICKY)
def test_the_reason_is_kept_verbatim_and_cannot_inject_attributes(reason: str) -> None:
    request = json.loads(render("state-put.request.vtl", {"state": "active", "expectedVersion": 1, "reason": reason}))
    assert request == expected("1", state="active", reason=reason)


def test_the_answer_names_the_audit_record_and_who_switched_when() -> None:
    answer = json.loads(render("state-put.response.vtl", {}))
    assert answer == {"appId": APP_ID, "auditKey": f"{EPOCH}-req-1", "updatedAt": EPOCH, "updatedBy": OPERATOR_ARN}


def test_the_audit_key_sorts_by_time() -> None:
    assert audit_key(5, "x") == "0000000000005-x"
    assert sorted([audit_key(EPOCH + 1, "a"), audit_key(EPOCH, "z")]) == [audit_key(EPOCH, "z"),
                                                                          audit_key(EPOCH + 1, "a")]


# -- against DynamoDB (moto) ---------------------------------------------------------------------------
@pytest.fixture
def ddb() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for logical in (Table.APP_CONFIG, Table.STATE_AUDIT):
            keys = [k for k in Table.KEYS[logical] if k]
            client.create_table(
                TableName=TABLES[logical], BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys])
        client.put_item(TableName=TABLES[Table.APP_CONFIG],
                        Item={"appId": {"S": APP_ID}, "state": {"S": "active"}, "version": {"N": "1"}})
        yield client


def state_item(ddb: Any) -> dict[str, Any]:
    return ddb.get_item(TableName=TABLES[Table.APP_CONFIG], Key={"appId": {"S": APP_ID}})["Item"]


def test_every_reading_switches_the_same_way_in_dynamodb(ddb: Any) -> None:
    for n, version in enumerate((1, 2.0, "3")):
        state = ("fenced", "failover", "fenced")[n]
        request = json.loads(render("state-put.request.vtl", {"state": state, "expectedVersion": version},
                                    request_id=f"req-{n}"))
        ddb.transact_write_items(**request)
        item = state_item(ddb)
        assert (item["state"]["S"], item["version"]["N"]) == (state, str(n + 2))
    audit = ddb.query(TableName=TABLES[Table.STATE_AUDIT], KeyConditionExpression="appId = :a",
                      ExpressionAttributeValues={":a": {"S": APP_ID}})["Items"]
    # DynamoDB trims "2.0" to 2 (numbers drop trailing zeroes); moto keeps the text: compare as numbers.
    assert [(float(r["fromVersion"]["N"]), r["to"]["S"]) for r in audit] == [(1, "fenced"), (2, "failover"),
                                                                              (3, "fenced")]


def test_a_stale_version_changes_nothing_and_records_nothing(ddb: Any) -> None:
    request = json.loads(render("state-put.request.vtl", {"state": "fenced", "expectedVersion": 0}))
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(**request)
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]  # the error template's 409 CONFLICT, not READ_ONLY
    assert state_item(ddb)["state"]["S"] == "active"
    assert ddb.scan(TableName=TABLES[Table.STATE_AUDIT])["Count"] == 0


def test_the_state_item_keeps_its_size_after_any_number_of_switches(ddb: Any) -> None:
    sizes = []
    for n in range(40):
        state = ("fenced", "failover", "fenced", "active")[n % 4]
        ddb.transact_write_items(**switch_transaction(
            state_table=TABLES[Table.APP_CONFIG], audit_table=TABLES[Table.STATE_AUDIT], app_id=APP_ID, to=state,
            expected_version=str(n + 1), at=str(EPOCH + n), by=OPERATOR_ARN * 3, tool="ops", via="primary",
            key=audit_key(EPOCH + n, f"u{n}"), reason="a reason that takes some room " * 3))
        item = state_item(ddb)
        assert set(item) == set(StateItem.ATTRIBUTES)
        sizes.append(len(json.dumps(item)) - len(item["version"]["N"]) - len(item["state"]["S"]))
    assert len(set(sizes)) == 1
    assert ddb.scan(TableName=TABLES[Table.STATE_AUDIT])["Count"] == 40


def test_an_audit_record_holds_the_required_fields_and_only_known_ones() -> None:
    request = switch_transaction(state_table="s", audit_table="a", app_id="x", to="failover", expected_version="2",
                                 at="1", by="b", tool="ops", via="secondary", key="k", from_state="fenced",
                                 reason="why", forced=True)
    record = request["TransactItems"][0]["Put"]["Item"]
    assert set(AuditRecord.REQUIRED) <= set(record) <= set(AuditRecord.REQUIRED) | set(AuditRecord.OPTIONAL)
    update = request["TransactItems"][1]["Update"]
    assert update["ConditionExpression"] == "#version = :expected AND #state = :from"


# -- who may write the audit trail (program under mocks) -------------------------------------------------------
def test_the_operator_may_record_and_read_switches_in_both_regions_and_the_app_users_may_not(prod) -> None:
    policy = json.loads(prod.one("aws:iam/policy:Policy", "operator").inputs["policy"])
    (audit,) = [s for s in policy["Statement"] if s["Sid"] == "AuditSwitches"]
    table = prod.outputs["tables"][Table.STATE_AUDIT]
    assert audit["Action"] == ["dynamodb:PutItem", "dynamodb:Query"]
    assert sorted(audit["Resource"]) == sorted(f"arn:aws:dynamodb:{region}:123456789012:table/{table}"
                                               for region in ("us-east-1", "ap-northeast-1"))
    for reg in prod.of_type("aws:iam/rolePolicy:RolePolicy"):
        if "authenticated" in reg.name:
            assert table not in reg.inputs["policy"], reg.name
