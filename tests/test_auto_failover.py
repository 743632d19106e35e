"""Automatic failover: only with autoFailover; health check -> us-east-1 alarm -> EventBridge ->
state machine in the secondary that switches the secondary's state item to failover."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from components.auto_failover import TRANSACT_WRITE_ITEMS, failover_definition
from components.contract import AUTO_FAILOVER_ACTOR, FailoverOut, Out, StateItem, Table, switch_transaction
from components.settings import ConfigError, load_settings
from harness.fake_cloud import ACCOUNT
from harness.program import PROVIDER_TYPE, ProgramRun, Registration
from tests.conftest import PRIMARY, SECONDARY, run_with

PREFIX = "multi-region-app-prod"
COMPONENT = "multi-region-app:failover:AutoFailover"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
TOPIC = "aws:sns/topic:Topic"
APP_CONFIG_TABLE = f"{PREFIX}-app-config"
AUDIT_TABLE = f"{PREFIX}-state-audit"
FAILOVER_TYPES = (HEALTH_CHECK, STATE_MACHINE, RULE, TARGET)


@pytest.fixture(scope="module")
def enabled() -> ProgramRun:
    """Pulumi.prod.yaml's regions (primary us-east-1, secondary ap-northeast-1) with autoFailover."""
    return run_with({"autoFailover": "true"})


# -- helpers ----------------------------------------------------------------------------------------
def children(run: ProgramRun) -> list[Registration]:
    return run.children(run.one(COMPONENT))


def child(run: ProgramRun, type_: str, name_contains: str = "") -> Registration:
    found = [r for r in children(run) if r.type == type_ and name_contains in r.name]
    assert len(found) == 1, (type_, name_contains, [r.name for r in found])
    return found[0]


def provider_named(run: ProgramRun, name: str) -> str:
    """The "<urn>::<id>" resources of that provider carry."""
    provider = next(r for r in run.of_type(PROVIDER_TYPE) if r.name == name)
    return f"{provider.urn}::{provider.id}"


def primary_routing_api(run: ProgramRun) -> tuple[Registration, Registration]:
    api = next(r for r in run.of_type(REST_API) if r.region == PRIMARY and r.inputs["name"].endswith("routing-primary"))
    stage = next(s for s in run.of_type(STAGE) if s.inputs["restApi"] == api.outputs["id"])
    return api, stage


def statements(policy: Registration) -> list[dict[str, Any]]:
    return json.loads(policy.inputs["policy"])["Statement"]


def policy_of(run: ProgramRun, role: Registration) -> Registration:
    found = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]
    assert len(found) == 1, role.name
    return found[0]


def definition(run: ProgramRun) -> dict[str, Any]:
    return json.loads(child(run, STATE_MACHINE).inputs["definition"])


# -- a small Amazon States Language checker ---------------------------------------------------------
TERMINAL = {"Succeed", "Fail"}
JSONPATH_ONLY = {"Parameters", "ResultPath", "ResultSelector", "InputPath", "OutputPath"}


def transitions(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices", []):
        yield rule["Next"]
    for catcher in state.get("Catch", []):
        yield catcher["Next"]


def asl_problems(machine: dict[str, Any]) -> list[str]:
    """What makes `machine` invalid States Language (empty when it is fine)."""
    problems = []
    states = machine.get("States") or {}
    if machine.get("StartAt") not in states:
        problems.append(f"StartAt {machine.get('StartAt')!r} is not a state")
    jsonata = machine.get("QueryLanguage") == "JSONata"
    for name, state in states.items():
        kind = state.get("Type")
        if kind not in {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}:
            problems.append(f"{name}: unknown Type {kind!r}")
        for target in transitions(state):
            if target not in states:
                problems.append(f"{name}: transition to missing state {target!r}")
        if kind in TERMINAL and ("Next" in state or "End" in state):
            problems.append(f"{name}: a {kind} state has no Next/End")
        if kind == "Choice" and (not state.get("Choices") or "Next" in state):
            problems.append(f"{name}: a Choice needs Choices and no Next")
        if kind not in TERMINAL | {"Choice"} and ("Next" in state) == bool(state.get("End")):
            problems.append(f"{name}: exactly one of Next and End")
        if jsonata and JSONPATH_ONLY & set(state):
            problems.append(f"{name}: JSONPath fields {sorted(JSONPATH_ONLY & set(state))} in a JSONata machine")
        if jsonata and kind == "Choice" and not all("Condition" in rule for rule in state["Choices"]):
            problems.append(f"{name}: JSONata choice rules use Condition")
        retriers = state.get("Retry", [])
        for index, retrier in enumerate(retriers):
            if "States.ALL" in retrier["ErrorEquals"] and (
                len(retrier["ErrorEquals"]) > 1 or index != len(retriers) - 1
            ):
                problems.append(f"{name}: States.ALL must be alone in the last retrier")
    reachable, todo = set(), [machine.get("StartAt")]
    while todo:
        current = todo.pop()
        if current in reachable or current not in states:
            continue
        reachable.add(current)
        todo.extend(transitions(states[current]))
    problems += [f"{name}: unreachable" for name in states if name not in reachable]
    if not any(states[name].get("Type") in TERMINAL or states[name].get("End") for name in reachable):
        problems.append("no terminal state")
    return problems


def test_the_checker_catches_broken_machines():
    assert asl_problems({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}) == [
        "A: transition to missing state 'B'",
        "no terminal state",
    ]
    assert "Orphan: unreachable" in asl_problems(
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}}
    )


# -- only when enabled ------------------------------------------------------------------------------
def test_nothing_of_auto_failover_exists_when_it_is_off(prod):
    assert prod.of_type(COMPONENT) == []
    assert [r.type for r in prod.resources if r.type in FAILOVER_TYPES] == []
    assert [r.name for r in prod.resources if "failover" in r.name] == []
    assert Out.AUTO_FAILOVER not in prod.outputs


def test_outputs_name_the_state_machine_the_health_check_and_the_alarm(enabled):
    assert enabled.outputs[Out.AUTO_FAILOVER] == {
        FailoverOut.STATE_MACHINE_ARN: child(enabled, STATE_MACHINE).outputs["arn"],
        FailoverOut.HEALTH_CHECK_ID: child(enabled, HEALTH_CHECK, "primary").outputs["id"],
        FailoverOut.ALARM_NAME: f"{PREFIX}-primary-unhealthy",
        FailoverOut.ALARM_REGION: "us-east-1",
    }


# -- the health check -------------------------------------------------------------------------------
def test_health_check_probes_the_primary_routing_api_host_over_tcp(enabled):
    api, _ = primary_routing_api(enabled)
    tcp = child(enabled, HEALTH_CHECK, "endpoint")
    assert tcp.inputs["type"] == "TCP"  # the unsigned state URL answers 403: HTTP(S) checks cannot pass
    assert tcp.inputs["fqdn"] == f"{api.outputs['id']}.execute-api.{PRIMARY}.amazonaws.com"
    assert tcp.inputs["port"] == 443.0


def test_health_check_follows_the_primary_routing_api_5xx_rate(enabled):
    api, stage = primary_routing_api(enabled)
    metric_check = child(enabled, HEALTH_CHECK, "api-errors")
    alarm = child(enabled, ALARM, "routing-api-health")
    assert metric_check.inputs["type"] == "CLOUDWATCH_METRIC"
    assert metric_check.inputs["cloudwatchAlarmName"] == alarm.inputs["name"]
    assert metric_check.inputs["cloudwatchAlarmRegion"] == PRIMARY == alarm.region
    assert metric_check.inputs["insufficientDataHealthStatus"] == "LastKnownStatus"
    # Route 53 reads single-metric alarms only: the Average of 5XXError is the error rate.
    assert "metricQueries" not in alarm.inputs
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"], alarm.inputs["statistic"]) == (
        "AWS/ApiGateway", "5XXError", "Average")
    assert alarm.inputs["dimensions"] == {"ApiName": api.inputs["name"], "Stage": stage.inputs["stageName"]}
    assert alarm.inputs["threshold"] == 0.5  # autoFailoverErrorPercent 50


def test_primary_is_healthy_only_while_both_checks_are(enabled):
    calculated = child(enabled, HEALTH_CHECK, "primary")
    assert calculated.inputs["type"] == "CALCULATED"
    children_ids = [child(enabled, HEALTH_CHECK, kind).outputs["id"] for kind in ("endpoint", "api-errors")]
    assert sorted(calculated.inputs["childHealthchecks"]) == sorted(children_ids)
    assert calculated.inputs["childHealthThreshold"] == 2.0


def test_the_unhealthy_alarm_lives_in_us_east_1_where_route53_publishes(enabled):
    alarm = child(enabled, ALARM, "primary-unhealthy")
    assert alarm.region == "us-east-1"
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/Route53", "HealthCheckStatus")
    assert alarm.inputs["dimensions"] == {"HealthCheckId": child(enabled, HEALTH_CHECK, "primary").outputs["id"]}
    assert (alarm.inputs["statistic"], alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == (
        "Minimum", "LessThanThreshold", 1.0)
    assert alarm.inputs["evaluationPeriods"] == alarm.inputs["datapointsToAlarm"] == 3.0  # autoFailoverMinutes
    assert alarm.inputs["treatMissingData"] == "notBreaching"  # no data never fails over
    us_east_1_topic = next(t for t in enabled.of_type(TOPIC) if t.region == "us-east-1")
    assert alarm.inputs["alarmActions"] == [us_east_1_topic.outputs["arn"]]


# -- the state machine, its roles and its trigger ---------------------------------------------------
def test_state_machine_runs_in_the_secondary_through_the_secondary_provider(enabled):
    machine = child(enabled, STATE_MACHINE)
    assert machine.region == SECONDARY
    assert machine.provider == provider_named(enabled, "aws-secondary")
    assert machine.inputs["type"] == "STANDARD"
    assert machine.inputs["name"] == f"{PREFIX}-auto-failover"


def test_state_machine_role_may_only_switch_the_secondary_state_item_record_it_and_notify(enabled):
    role = next(r for r in children(enabled) if r.type == ROLE and r.outputs["arn"] == child(
        enabled, STATE_MACHINE).inputs["roleArn"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    secondary_topic = next(t for t in enabled.of_type(TOPIC) if t.region == SECONDARY)
    table = f"arn:aws:dynamodb:{SECONDARY}:{ACCOUNT}:table/{APP_CONFIG_TABLE}"
    audit = f"arn:aws:dynamodb:{SECONDARY}:{ACCOUNT}:table/{AUDIT_TABLE}"
    # Pulumi.prod.yaml is hardened: the topic is encrypted, publishing needs its key, through SNS only.
    key = secondary_topic.inputs["kmsMasterKeyId"]
    assert key.startswith(f"arn:aws:kms:{SECONDARY}:")
    granted = statements(policy_of(enabled, role))
    # TransactWriteItems is authorised per item: UpdateItem on the state item, PutItem for its record.
    assert [(s["Action"], s["Resource"]) for s in granted] == [
        (["dynamodb:GetItem", "dynamodb:UpdateItem"], table),
        (["dynamodb:PutItem"], audit),
        (["sns:Publish"], secondary_topic.outputs["arn"]),
        (["kms:GenerateDataKey*", "kms:Decrypt"], key),
    ]
    assert granted[3]["Condition"] == {"StringEquals": {"kms:ViaService": f"sns.{SECONDARY}.amazonaws.com"}}


def test_only_this_accounts_state_machine_and_rules_may_assume_the_failover_roles(enabled):
    """Confused deputy: Step Functions and EventBridge document aws:SourceAccount and aws:SourceArn for the roles
    they assume (the state machine's ARN, the rule's ARN), so both are required as they are."""
    def trust_of(role_arn: str) -> dict:
        role = next(r for r in children(enabled) if r.type == ROLE and r.outputs["arn"] == role_arn)
        [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        return statement

    machine = child(enabled, STATE_MACHINE)
    assert trust_of(machine.inputs["roleArn"])["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": machine.outputs["arn"]}}
    targets = {t.inputs["rule"]: t for t in children(enabled) if t.type == TARGET}
    for rule in (child(enabled, RULE, "forward"), child(enabled, RULE, "start")):
        assert trust_of(targets[rule.outputs["name"]].inputs["roleArn"])["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": rule.outputs["arn"]}}


def test_the_alarm_entering_alarm_reaches_the_machine_through_the_secondary_default_bus(enabled):
    alarm = child(enabled, ALARM, "primary-unhealthy")
    machine = child(enabled, STATE_MACHINE)
    forward, start = child(enabled, RULE, "forward"), child(enabled, RULE, "start")
    assert (forward.region, start.region) == ("us-east-1", SECONDARY)
    for rule in (forward, start):
        assert json.loads(rule.inputs["eventPattern"]) == {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm.outputs["arn"]],
            "detail": {"state": {"value": ["ALARM"]}},
        }
    targets = {t.inputs["rule"]: t for t in children(enabled) if t.type == TARGET}
    bus = f"arn:aws:events:{SECONDARY}:{ACCOUNT}:event-bus/default"
    assert targets[forward.outputs["name"]].inputs["arn"] == bus
    assert targets[start.outputs["name"]].inputs["arn"] == machine.outputs["arn"]
    for rule, action, resource in ((forward, "events:PutEvents", bus),
                                   (start, "states:StartExecution", machine.outputs["arn"])):
        target = targets[rule.outputs["name"]]
        role = next(r for r in children(enabled) if r.type == ROLE and r.outputs["arn"] == target.inputs["roleArn"])
        assert [s["Principal"] for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]] == [
            {"Service": "events.amazonaws.com"}]
        assert [(s["Action"], s["Resource"]) for s in statements(policy_of(enabled, role))] == [([action], resource)]


def test_a_failed_execution_raises_an_alarm_in_the_secondary(enabled):
    alarm = child(enabled, ALARM, "execution-failed")
    assert alarm.region == SECONDARY
    assert alarm.inputs["dimensions"] == {"StateMachineArn": child(enabled, STATE_MACHINE).outputs["arn"]}
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/States", "ExecutionsFailed")


def test_a_us_east_1_secondary_starts_the_machine_without_forwarding():
    run = run_with({"aws:region": "eu-west-1", "secondaryRegion": "us-east-1", "autoFailover": "true"})
    rule = child(run, RULE)
    assert rule.region == "us-east-1" and "start" in rule.name
    assert [t.inputs["arn"] for t in children(run) if t.type == TARGET] == [child(run, STATE_MACHINE).outputs["arn"]]
    assert child(run, ALARM, "primary-unhealthy").provider == provider_named(run, "aws-secondary")
    assert child(run, ALARM, "routing-api-health").region == "eu-west-1"
    assert len(run.of_type(PROVIDER_TYPE)) == 2


def test_without_us_east_1_in_the_pair_the_route53_side_gets_its_own_us_east_1_provider():
    run = run_with({"aws:region": "eu-west-1", "secondaryRegion": "ap-northeast-1", "autoFailover": "true"})
    extra = provider_named(run, "auto-failover-us-east-1")
    assert next(p for p in run.of_type(PROVIDER_TYPE) if p.name == "auto-failover-us-east-1").region == "us-east-1"
    for resource in (child(run, ALARM, "primary-unhealthy"), child(run, RULE, "forward"),
                     *[c for c in children(run) if c.type == HEALTH_CHECK]):
        assert resource.provider == extra, resource.name
    unhealthy = child(run, ALARM, "primary-unhealthy")
    assert unhealthy.inputs.get("alarmActions") in (None, [])  # no alarm topic in us-east-1
    assert child(run, STATE_MACHINE).region == "ap-northeast-1"
    assert child(run, RULE, "start").region == "ap-northeast-1"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("autoFailoverMinutes", "0", "autoFailoverMinutes = 0 must be between 1 and 60"),
        ("autoFailoverErrorPercent", "150", "autoFailoverErrorPercent = 150 must be between 1 and 100"),
    ],
)
def test_bad_auto_failover_config_is_refused_naming_the_key(key, value, message):
    values = {"secondaryRegion": "eu-west-1", key: value}
    with pytest.raises(ConfigError, match=message):
        load_settings(values.get, "us-east-1", "multi-region-app", "prod")


# -- the definition ---------------------------------------------------------------------------------
def test_state_machine_definition_is_valid_states_language(enabled):
    machine = definition(enabled)
    assert asl_problems(machine) == []
    kinds = {state["Type"] for state in machine["States"].values()}
    assert {"Succeed", "Fail", "Task", "Choice"} <= kinds


def switch_task(machine: dict[str, Any]) -> dict[str, Any]:
    (task,) = [s for s in machine["States"].values() if s.get("Resource") == TRANSACT_WRITE_ITEMS]
    return task


def test_the_switch_task_is_the_contracts_one_transaction_on_the_state_and_version_read(enabled):
    machine = definition(enabled)
    entered = "{% $string($toMillis($states.context.State.EnteredTime)) %}"
    assert switch_task(machine)["Arguments"] == switch_transaction(
        state_table=APP_CONFIG_TABLE,
        audit_table=AUDIT_TABLE,
        app_id=enabled.outputs[Out.APP_ID],
        to="failover",
        expected_version="{% $states.input.Item.version.N %}",
        at=entered,
        by=AUTO_FAILOVER_ACTOR,
        tool=AUTO_FAILOVER_ACTOR,
        via="secondary",
        key="{% $string($toMillis($states.context.State.EnteredTime)) & '-' & $states.context.Execution.Name %}",
        from_state="{% $states.input.Item.state.S %}",
    )
    assert enabled.outputs[Out.TABLES][Table.STATE_AUDIT] == AUDIT_TABLE
    # Only active and fenced reach the switch: the Choice before it routes everything else away.
    decide = machine["States"]["DecideSwitch"]
    assert {"Condition": "{% $states.input.Item.state.S in ['active', 'fenced'] %}", "Next": "SwitchToFailover"} in \
        decide["Choices"]


def test_a_cancelled_transaction_ends_as_already_switched_and_other_errors_fail_after_retries(enabled):
    machine = definition(enabled)
    states = machine["States"]
    update = switch_task(machine)
    cancelled = "DynamoDb.TransactionCanceledException"  # AWS SDK integration errors: "<Service>.<Error>"
    assert update["Retry"][0] == {"ErrorEquals": [cancelled], "MaxAttempts": 0}
    assert update["Retry"][-1]["ErrorEquals"] == ["States.ALL"] and update["Retry"][-1]["MaxAttempts"] >= 3
    catchers = {tuple(c["ErrorEquals"]): c["Next"] for c in update["Catch"]}
    assert states[catchers[("States.ALL",)]]["Type"] == "Fail"
    recheck = states[catchers[(cancelled,)]]
    assert recheck["Resource"] == "arn:aws:states:::dynamodb:getItem"
    confirm = states[recheck["Next"]]
    (rule,) = confirm["Choices"]
    assert rule["Condition"] == "{% $states.input.Item.state.S = 'failover' %}"
    assert states[rule["Next"]]["Type"] == "Succeed" and rule["Next"] == "AlreadySwitched"
    assert states[confirm["Default"]]["Type"] == "Fail"
    # a state already failover never reaches the update
    decide = states[states[machine["StartAt"]]["Next"]]
    assert {"Condition": "{% $states.input.Item.state.S = 'failover' %}", "Next": "AlreadySwitched"} in decide[
        "Choices"]


def test_without_a_topic_the_machine_does_not_notify():
    machine = failover_definition("t", "app-1", SECONDARY, audit_table_name="a")
    assert asl_problems(machine) == []
    assert "Notify" not in machine["States"]
    assert not any(s.get("Resource", "").startswith("arn:aws:states:::sns") for s in machine["States"].values())


# -- the write itself, against DynamoDB (moto) -------------------------------------------------------
JSONATA = re.compile(r"^\{%\s*(.*?)\s*%\}$")
EXECUTION = "3f0c1c7e-5b8f-4b0e-9a41-2f1d1e9c0b7a"


def render(value: Any, item: dict[str, Any], entered_ms: int) -> Any:
    """Evaluate the few JSONata expressions of the switch's Arguments, as Step Functions would.

    Knows exactly the expressions the definition uses; any other one fails the test."""
    if isinstance(value, dict):
        return {k: render(v, item, entered_ms) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, item, entered_ms) for v in value]
    match = JSONATA.match(value) if isinstance(value, str) else None
    if not match:
        return value
    known = {
        "$states.input.Item.state.S": item["state"]["S"],
        "$states.input.Item.version.N": item["version"]["N"],
        "$string($toMillis($states.context.State.EnteredTime))": str(entered_ms),
        "$string($toMillis($states.context.State.EnteredTime)) & '-' & $states.context.Execution.Name":
            f"{entered_ms}-{EXECUTION}",
    }
    assert match.group(1) in known, f"unknown JSONata expression {match.group(1)!r}"
    return known[match.group(1)]


@pytest.fixture
def state_table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=SECONDARY, aws_access_key_id="t", aws_secret_access_key="t")
        for name, logical in ((APP_CONFIG_TABLE, Table.APP_CONFIG), (AUDIT_TABLE, Table.STATE_AUDIT)):
            keys = [k for k in Table.KEYS[logical] if k]
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        yield client


def switch(client: Any, machine: dict[str, Any], read: dict[str, Any], entered_ms: int) -> dict[str, Any]:
    """TransactWriteItems with the Arguments the switch task would send after reading `read`; the item after."""
    client.transact_write_items(**render(switch_task(machine)["Arguments"], read, entered_ms))
    return client.get_item(TableName=APP_CONFIG_TABLE, Key={"appId": {"S": "app-1"}})["Item"]


def records(client: Any) -> list[dict[str, Any]]:
    return client.scan(TableName=AUDIT_TABLE)["Items"]


@pytest.mark.parametrize("start", ["active", "fenced"])
def test_the_switch_writes_the_item_shape_ops_reads_and_one_audit_record(state_table, start):
    machine = failover_definition(APP_CONFIG_TABLE, "app-1", SECONDARY, "arn:aws:sns:x:1:t", AUDIT_TABLE)
    item = {"appId": {"S": "app-1"}, "state": {"S": start}, "version": {"N": "4"}}
    state_table.put_item(TableName=APP_CONFIG_TABLE, Item=item)
    written = switch(state_table, machine, item, 1_790_000_000_123)
    assert written == {
        "appId": {"S": "app-1"},
        "state": {"S": "failover"},
        "version": {"N": "5"},
        "updatedAt": {"N": "1790000000123"},
        "updatedBy": {"S": "auto-failover"},
    }
    assert set(written) == set(StateItem.ATTRIBUTES)
    assert records(state_table) == [{
        "appId": {"S": "app-1"}, "auditKey": {"S": f"1790000000123-{EXECUTION}"}, "from": {"S": start},
        "to": {"S": "failover"}, "fromVersion": {"N": "4"}, "at": {"N": "1790000000123"},
        "by": {"S": "auto-failover"}, "tool": {"S": "auto-failover"}, "via": {"S": "secondary"},
    }]


def test_the_switch_leaves_a_legacy_history_list_for_ops_state_migrate(state_table):
    machine = failover_definition(APP_CONFIG_TABLE, "app-1", SECONDARY, audit_table_name=AUDIT_TABLE)
    earlier = {"M": {"to": {"S": "fenced"}, "via": {"S": "api"}}}
    item = {"appId": {"S": "app-1"}, "state": {"S": "fenced"}, "version": {"N": "2"}, "history": {"L": [earlier]}}
    state_table.put_item(TableName=APP_CONFIG_TABLE, Item=item)
    assert switch(state_table, machine, item, 1)["history"] == {"L": [earlier]}


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ({"state": "fenced", "version": "6"}, {"state": "active", "version": "5"}),  # changed since the read
        ({"state": "active", "version": "6"}, {"state": "active", "version": "5"}),  # a lost, retried write
    ],
)
def test_the_switch_is_refused_unless_the_item_is_still_what_was_read(state_table, stored, read):
    machine = failover_definition(APP_CONFIG_TABLE, "app-1", SECONDARY, audit_table_name=AUDIT_TABLE)
    item = {"appId": {"S": "app-1"}, "state": {"S": stored["state"]}, "version": {"N": stored["version"]}}
    state_table.put_item(TableName=APP_CONFIG_TABLE, Item=item)
    seen = {"appId": {"S": "app-1"}, "state": {"S": read["state"]}, "version": {"N": read["version"]}}
    with pytest.raises(ClientError) as raised:
        switch(state_table, machine, seen, 1)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    after = state_table.get_item(TableName=APP_CONFIG_TABLE, Key={"appId": {"S": "app-1"}})["Item"]
    assert after == item
    assert records(state_table) == []  # nothing recorded either: one transaction


def test_a_retried_execution_cannot_record_the_same_switch_twice(state_table):
    machine = failover_definition(APP_CONFIG_TABLE, "app-1", SECONDARY, audit_table_name=AUDIT_TABLE)
    item = {"appId": {"S": "app-1"}, "state": {"S": "active"}, "version": {"N": "1"}}
    state_table.put_item(TableName=APP_CONFIG_TABLE, Item=item)
    switch(state_table, machine, item, 7)
    with pytest.raises(ClientError) as raised:
        switch(state_table, machine, item, 7)  # the same execution and state entry, retried
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(records(state_table)) == 1
