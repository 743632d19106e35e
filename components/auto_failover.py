"""Automatic failover (config `autoFailover`, off by default): when the primary's routing API stays
unhealthy, a state machine in the secondary writes `failover` to the secondary's replica of the
state item. No Lambda: Route 53, CloudWatch, EventBridge and a Step Functions DynamoDB integration.

    primary's routing API ──▶ Route 53 health checks (calculated) ──▶ alarm (us-east-1)
        ──▶ EventBridge rule on the alarm entering ALARM [──▶ secondary's default event bus]
        ──▶ Step Functions state machine (secondary) ──▶ UpdateItem on the secondary's AppConfig replica

Health check design. Every method of the APIs is AWS_IAM, so an unsigned GET of the state URL
answers 403, and Route 53 HTTP(S) checks count only 2xx/3xx as healthy (they cannot sign, nor
send OPTIONS to the unauthenticated preflight). So the primary is judged by two children of one
CALCULATED health check, healthy only while both are:
  - TCP on <api id>.execute-api.<primary>.amazonaws.com:443, from Route 53's checkers around the
    world: fails when the region's API endpoint is unreachable, including when the whole region
    (and its CloudWatch) is down;
  - CLOUDWATCH_METRIC on an alarm in the primary watching the routing API's 5XXError rate
    (Average = errors / requests, a single metric: Route 53 cannot use metric-math alarms): fails
    when the API answers but its DynamoDB integration does not. Without data (no traffic, or the
    primary's CloudWatch unreachable) it keeps its last status; the TCP child covers the outage.

Route 53 publishes health-check metrics only in us-east-1, so the alarm on the calculated check,
and the EventBridge rule that reacts to it, live in us-east-1 whatever the primary is: with the
primary's or the secondary's provider when one of them is us-east-1, else with a third provider
of this component. The state machine lives in the secondary (it must work while the primary is
down); when us-east-1 is not the secondary, the us-east-1 rule forwards the event to the
secondary's default event bus (EventBridge's only cross-region target), where a second rule
starts the machine.

When us-east-1 itself is down the alarm cannot evaluate and nothing switches: with a us-east-1
primary, automatic failover covers the primary's partial failures (API or DynamoDB degraded) but
not a full regional outage. Missing health-check data never fails over. Operators then switch by
hand through the secondary: `python -m ops state set failover --via secondary`.

The state machine (JSONata query language, for the epoch-millisecond timestamp):
  ReadState (consistent GetItem) -> Choice:
    failover -> AlreadySwitched (Succeed); no item or no version -> NoStateItem (Fail);
    active | fenced -> SwitchToFailover: the one switch write every writer makes
      (contract.switch_transaction, through the AWS SDK integration for TransactWriteItems): the
      state item to failover, conditional on the state and version just read (version + 1, updatedAt
      in epoch ms, updatedBy = "auto-failover"), and its audit record in the stateAudit table
      (tool and by "auto-failover", keyed by the time and the execution's name).
  TransactionCanceled (someone switched in between, or this execution's record exists: a retried
  write that had succeeded) -> Recheck: failover -> AlreadySwitched, else StateChangedConcurrently
  (Fail: automation never fights an operator). Other errors are retried with backoff, then
  SwitchFailed (Fail); a failed execution raises an alarm in the secondary. After the switch an SNS
  message goes to the secondary's alarm topic (best effort).

Automatic failover skips `fenced`: writes the primary accepted just before it failed may still be
replicating (the same risk `ops state set failover --force` takes). That is the trade-off of
turning it on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.contract import AUTO_FAILOVER_ACTOR, STATES, FailoverOut, Table, switch_transaction
from components.regions import Region, RegionPair, region_named
from components.service_principals import service_trust_policy, source_condition

ROUTE53_METRICS_REGION = "us-east-1"  # the only region where Route 53 publishes health-check metrics
# The switch is a transaction: Step Functions' AWS SDK integration (no optimized DynamoDB integration has
# TransactWriteItems). Its errors are named "<Service>.<Error>" in PascalCase.
TRANSACT_WRITE_ITEMS = "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems"
GET_ITEM = "arn:aws:states:::dynamodb:getItem"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
TRANSACTION_CANCELED = "DynamoDb.TransactionCanceledException"
HTTPS_PORT = 443
HEALTH_CHECK_INTERVAL = 30  # seconds between Route 53 checks (the standard interval)
HEALTH_CHECK_FAILURES = 3  # consecutive failed TCP checks before the child is unhealthy
API_ERROR_MINUTES = 3  # minutes of 5xx rate above the limit before the API child is unhealthy
MAX_IAM_NAME = 64
ACTIVE, FENCED, FAILOVER = STATES  # ("active", "fenced", "failover")
HASH_KEY = Table.KEYS[Table.APP_CONFIG][0]
TRANSIENT_RETRY = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 5, "BackoffRate": 2.0,
                   "JitterStrategy": "FULL"}


@dataclass
class AutoFailoverArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """The primary is watched, the secondary switched; required."""
    account_id: pulumi.Input[str]
    """AWS account id (table, bus and trust-policy ARNs); required."""
    app_id: str
    """Key of the state item; required."""
    app_config_table_name: pulumi.Input[str]
    """Physical name of the AppConfig table (same in both regions); required."""
    audit_table_name: pulumi.Input[str]
    """Physical name of the stateAudit table (same in both regions); required."""
    routing_api_id: pulumi.Input[str]
    """Id of the PRIMARY's routing REST API (its execute-api host); required."""
    routing_api_name: pulumi.Input[str]
    """Name of the primary's routing API (ApiName dimension); required."""
    routing_stage: pulumi.Input[str]
    """Stage of the primary's routing API (Stage dimension); required."""
    alarm_topic_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Region NAME -> SNS topic for alarms there (Monitoring's); default {}: the alarms notify nobody."""
    topic_kms_key_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Region NAME -> customer managed key encrypting that region's alarm topic; default {}: unencrypted topics."""
    error_percent: int = 50
    """The primary's routing API is unhealthy above this % of 5xx answers; default 50."""
    unhealthy_minutes: int = 3
    """Minutes the health check must stay unhealthy before the switch; default 3."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Default tags of the us-east-1 provider, if this component needs its own; default {}."""


def table_arn(region: str, account_id: str, table_name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{table_name}"


def default_bus_arn(region: str, account_id: str) -> str:
    return f"arn:aws:events:{region}:{account_id}:event-bus/default"


def alarm_state_pattern(alarm_arn: str) -> str:
    """EventBridge pattern: this alarm entering ALARM (the default bus of its region receives it)."""
    return json.dumps(
        {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm_arn],
            "detail": {"state": {"value": ["ALARM"]}},
        }
    )


def state_machine_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account_id}:stateMachine:{name}"


def rule_arn(region: str, account_id: str, rule_name: str) -> str:
    """A rule of the region's default event bus."""
    return f"arn:aws:events:{region}:{account_id}:rule/{rule_name}"


def states_trust_policy(account_id: str, machine_arn: str) -> str:
    """Step Functions may assume the role for this account's state machine only: Step Functions documents both keys
    for its execution roles (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html)."""
    return service_trust_policy("states.amazonaws.com", source_condition(account_id, [machine_arn], documented=True))


def events_trust_policy(account_id: str, rule: str) -> str:
    """EventBridge may assume the role for this rule only: "for EventBridge event bus rule targets, the value of
    aws:SourceArn must be the rule ARN"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html)."""
    return service_trust_policy("events.amazonaws.com", source_condition(account_id, [rule], documented=True))


def allow_policy(*statements: tuple[str, list[str], str], extra: Sequence[Mapping[str, Any]] = ()) -> str:
    """One statement per (sid, actions, resource ARN): exactly these actions on exactly this ARN; then `extra`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                *({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
                  for sid, actions, resource in statements),
                *extra,
            ],
        }
    )


def topic_key_statement(key_arn: str, region: str) -> dict[str, Any]:
    """Publishing to an SSE-KMS topic: the publisher generates and checks the message's data key, through SNS of
    the topic's region only."""
    return {
        "Sid": "EncryptNotifications",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
    }


def failover_definition(table_name: str, app_id: str, region: str, topic_arn: str | None = None,
                        audit_table_name: str = "") -> dict[str, Any]:
    """The state machine (Amazon States Language, JSONata): switch the state item to failover once,
    with its audit record (`audit_table_name`).

    `region` is where it runs (the secondary), for the notification text.
    """
    if not audit_table_name:
        raise ValueError("audit_table_name: the stateAudit table's name is required")
    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", app_id):
        raise ValueError(f"app_id {app_id!r} must be 1..64 characters of A-Z a-z 0-9 _ . -")
    key = {HASH_KEY: {"S": app_id}}
    read = {"TableName": table_name, "Key": key, "ConsistentRead": True}
    current_state = "{% $states.input.Item.state.S %}"
    now_ms = "{% $string($toMillis($states.context.State.EnteredTime)) %}"
    # contract.audit_key: 13-digit epoch ms, then the execution's name (unique per state machine).
    key_of_switch = "{% $string($toMillis($states.context.State.EnteredTime)) & '-' & $states.context.Execution.Name %}"
    after_switch = "Notify" if topic_arn else "Switched"
    states: dict[str, Any] = {
        "ReadState": {
            "Type": "Task",
            "Comment": "The state item as the secondary sees it (strongly consistent).",
            "Resource": GET_ITEM,
            "Arguments": read,
            "Retry": [TRANSIENT_RETRY],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "SwitchFailed"}],
            "Next": "DecideSwitch",
        },
        "DecideSwitch": {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $not($exists($states.input.Item.state.S)) "
                    "or $not($exists($states.input.Item.version.N)) %}",
                    "Next": "NoStateItem",
                },
                {"Condition": f"{{% $states.input.Item.state.S = '{FAILOVER}' %}}", "Next": "AlreadySwitched"},
                {
                    "Condition": f"{{% $states.input.Item.state.S in ['{ACTIVE}', '{FENCED}'] %}}",
                    "Next": "SwitchToFailover",
                },
            ],
            "Default": "UnknownState",
        },
        "SwitchToFailover": {
            "Type": "Task",
            "Comment": "contract.switch_transaction: the state item (on the state and version just read) and its "
            "audit record, in one transaction.",
            "Resource": TRANSACT_WRITE_ITEMS,
            "Arguments": switch_transaction(
                state_table=table_name,
                audit_table=audit_table_name,
                app_id=app_id,
                to=FAILOVER,
                expected_version="{% $states.input.Item.version.N %}",
                at=now_ms,
                by=AUTO_FAILOVER_ACTOR,
                tool=AUTO_FAILOVER_ACTOR,
                via="secondary",
                key=key_of_switch,
                from_state=current_state,
            ),
            # The next state reads the item this one read (a transaction answers no item).
            "Output": "{% $states.input %}",
            # A lost answer to a successful write is retried, fails its condition (version moved, record
            # exists) and ends in AlreadySwitched through Recheck.
            "Retry": [{"ErrorEquals": [TRANSACTION_CANCELED], "MaxAttempts": 0}, TRANSIENT_RETRY],
            "Catch": [
                {"ErrorEquals": [TRANSACTION_CANCELED], "Next": "Recheck"},
                {"ErrorEquals": ["States.ALL"], "Next": "SwitchFailed"},
            ],
            "Next": after_switch,
        },
        "Recheck": {
            "Type": "Task",
            "Comment": "The condition failed: did someone else switch to failover already?",
            "Resource": GET_ITEM,
            "Arguments": read,
            "Retry": [TRANSIENT_RETRY],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "SwitchFailed"}],
            "Next": "ConfirmSwitched",
        },
        "ConfirmSwitched": {
            "Type": "Choice",
            "Choices": [
                {"Condition": f"{{% $states.input.Item.state.S = '{FAILOVER}' %}}", "Next": "AlreadySwitched"}
            ],
            "Default": "StateChangedConcurrently",
        },
        "Switched": {"Type": "Succeed", "Comment": f"The secondary now holds state {FAILOVER}."},
        "AlreadySwitched": {"Type": "Succeed", "Comment": f"The state was already {FAILOVER}: nothing written."},
        "NoStateItem": {
            "Type": "Fail",
            "Error": "NoStateItem",
            "Cause": f"no state item (or no version) for appId {app_id} in {table_name}",
        },
        "UnknownState": {
            "Type": "Fail",
            "Error": "UnknownState",
            "Cause": f"the state item holds a state other than {', '.join(STATES)}",
        },
        "StateChangedConcurrently": {
            "Type": "Fail",
            "Error": "StateChangedConcurrently",
            "Cause": "the state changed between the read and the write, and not to failover: left to the operators",
        },
        "SwitchFailed": {
            "Type": "Fail",
            "Error": "SwitchFailed",
            "Cause": "DynamoDB kept failing after retries: switch by hand (ops state set failover --via secondary)",
        },
    }
    if topic_arn:
        states["Notify"] = {
            "Type": "Task",
            "Comment": "Best effort: the switch is done whatever SNS answers.",
            "Resource": SNS_PUBLISH,
            "Arguments": {
                "TopicArn": topic_arn,
                "Subject": f"Auto failover: {app_id} -> {FAILOVER}",  # SNS allows 100 characters
                "Message": f"{{% 'The primary region failed its health check. State of {app_id} switched to "
                f"{FAILOVER} in {region} (version ' & $string($number($states.input.Item.version.N) + 1) & ').' %}}",
            },
            "Retry": [TRANSIENT_RETRY],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Switched"}],
            "Next": "Switched",
        }
    return {
        "Comment": f"Automatic failover of {app_id}: write state {FAILOVER} in {region} (components/auto_failover.py)",
        "QueryLanguage": "JSONata",
        "StartAt": "ReadState",
        "States": states,
    }


def _validate(args: AutoFailoverArgs) -> None:
    if not args.prefix:
        raise ValueError("AutoFailoverArgs.prefix must not be empty")
    if len(f"{args.prefix}-failover-forward") > MAX_IAM_NAME:
        raise ValueError(f"AutoFailoverArgs.prefix {args.prefix!r} makes IAM role names longer than {MAX_IAM_NAME}")
    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", args.app_id or ""):
        raise ValueError(f"AutoFailoverArgs.app_id {args.app_id!r} must be 1..64 characters of A-Z a-z 0-9 _ . -")
    if not 1 <= args.error_percent <= 100:
        raise ValueError(f"AutoFailoverArgs.error_percent must be between 1 and 100, got {args.error_percent}")
    if not 1 <= args.unhealthy_minutes <= 60:
        raise ValueError(f"AutoFailoverArgs.unhealthy_minutes must be between 1 and 60, got {args.unhealthy_minutes}")


class AutoFailover(pulumi.ComponentResource):
    """Health check of the primary -> alarm (us-east-1) -> EventBridge -> state machine (secondary)."""

    metrics_region: Region  # us-east-1: where the health-check alarm and its first rule live
    api_health_alarm: aws.cloudwatch.MetricAlarm
    endpoint_check: aws.route53.HealthCheck
    api_check: aws.route53.HealthCheck
    health_check: aws.route53.HealthCheck
    unhealthy_alarm: aws.cloudwatch.MetricAlarm
    state_machine: aws.sfn.StateMachine
    rules: list[aws.cloudwatch.EventRule]
    outputs: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AutoFailoverArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:failover:AutoFailover", name, None, opts)
        _validate(args)
        primary, secondary = args.regions.primary, args.regions.secondary
        account = pulumi.Output.from_input(args.account_id)
        self.metrics_region = self._metrics_region(name, args)
        metrics = self.metrics_region

        # 1. The primary's routing API, judged from outside (TCP) and by its own 5xx rate.
        self.api_health_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-routing-api-health",
            name=f"{args.prefix}-routing-api-health-{primary.role}",
            alarm_description=f"Route 53 health check input: more than {args.error_percent} % of the primary's "
            f"routing API requests answer 5xx for {API_ERROR_MINUTES} minutes.",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions={"ApiName": args.routing_api_name, "Stage": args.routing_stage},
            statistic="Average",  # 5XXError's Average is the share of requests answering 5xx
            period=60,
            evaluation_periods=API_ERROR_MINUTES,
            datapoints_to_alarm=API_ERROR_MINUTES,
            comparison_operator="GreaterThanThreshold",
            threshold=args.error_percent / 100,
            treat_missing_data="notBreaching",
            opts=primary.opts(self),
        )
        host = pulumi.Output.concat(args.routing_api_id, ".execute-api.", primary.name, ".amazonaws.com")
        self.endpoint_check = aws.route53.HealthCheck(
            f"{name}-endpoint",
            type="TCP",
            fqdn=host,
            port=HTTPS_PORT,
            request_interval=HEALTH_CHECK_INTERVAL,
            failure_threshold=HEALTH_CHECK_FAILURES,
            tags={"Name": f"{args.prefix}-routing-api-{primary.role}-tcp"},
            opts=metrics.opts(self),
        )
        self.api_check = aws.route53.HealthCheck(
            f"{name}-api-errors",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=self.api_health_alarm.name,
            cloudwatch_alarm_region=primary.name,
            insufficient_data_health_status="LastKnownStatus",
            tags={"Name": f"{args.prefix}-routing-api-{primary.role}-5xx"},
            opts=metrics.opts(self),
        )
        self.health_check = aws.route53.HealthCheck(
            f"{name}-primary",
            type="CALCULATED",
            child_healthchecks=[self.endpoint_check.id, self.api_check.id],
            child_health_threshold=2,  # healthy only while both children are
            tags={"Name": f"{args.prefix}-primary-health"},
            opts=metrics.opts(self),
        )

        # 2. The alarm that starts the switch, where Route 53 publishes: us-east-1.
        metrics_topic = args.alarm_topic_arns.get(metrics.name)
        self.unhealthy_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-primary-unhealthy",
            name=f"{args.prefix}-primary-unhealthy",
            alarm_description=f"The primary ({primary.name}) failed its health check for {args.unhealthy_minutes} "
            f"minutes: the state machine in {secondary.name} switches the state to failover.",
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": self.health_check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=args.unhealthy_minutes,
            datapoints_to_alarm=args.unhealthy_minutes,
            comparison_operator="LessThanThreshold",
            threshold=1.0,
            treat_missing_data="notBreaching",  # no data is no evidence: never fail over on it
            alarm_actions=[metrics_topic] if metrics_topic else None,
            ok_actions=[metrics_topic] if metrics_topic else None,
            opts=metrics.opts(self),
        )

        # 3. The state machine in the secondary, allowed exactly its table and topic.
        secondary_topic = args.alarm_topic_arns.get(secondary.name)
        secondary_table = pulumi.Output.all(account, args.app_config_table_name).apply(
            lambda v: table_arn(secondary.name, v[0], v[1])
        )
        secondary_audit = pulumi.Output.all(account, args.audit_table_name).apply(
            lambda v: table_arn(secondary.name, v[0], v[1])
        )
        machine_name = f"{args.prefix}-auto-failover"
        states_role = aws.iam.Role(
            f"{name}-states-role",
            name=f"{args.prefix}-failover-states",
            description=f"The auto-failover state machine writes the state item in {secondary.name}",
            assume_role_policy=account.apply(
                lambda a: states_trust_policy(a, state_machine_arn(secondary.name, a, machine_name))),
            opts=secondary.opts(self),
        )
        states_policy = aws.iam.RolePolicy(
            f"{name}-states-policy",
            role=states_role.name,
            # TransactWriteItems is authorised per item: UpdateItem on the state item, PutItem for the record.
            policy=pulumi.Output.all(
                secondary_table, secondary_audit, secondary_topic, args.topic_kms_key_arns.get(secondary.name)
            ).apply(
                lambda v: allow_policy(
                    ("SwitchStateItem", ["dynamodb:GetItem", "dynamodb:UpdateItem"], v[0]),
                    ("RecordTheSwitch", ["dynamodb:PutItem"], v[1]),
                    *([("NotifyOperators", ["sns:Publish"], v[2])] if v[2] else []),
                    extra=[topic_key_statement(v[3], secondary.name)] if v[2] and v[3] else [],
                )
            ),
            opts=secondary.opts(self),
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            name=machine_name,
            type="STANDARD",  # execution history kept 90 days: the audit trail of every attempt
            role_arn=states_role.arn,
            definition=pulumi.Output.all(args.app_config_table_name, secondary_topic, args.audit_table_name).apply(
                lambda v: json.dumps(failover_definition(v[0], args.app_id, secondary.name, v[1], v[2]), indent=2)
            ),
            opts=secondary.opts(self, depends_on=[states_policy]),
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-execution-failed",
            name=f"{args.prefix}-auto-failover-failed",
            alarm_description="The automatic failover did not switch the state: switch by hand "
            "(python -m ops state set failover --via secondary).",
            namespace="AWS/States",
            metric_name="ExecutionsFailed",
            dimensions={"StateMachineArn": self.state_machine.arn},
            statistic="Sum",
            period=60,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0.0,
            treat_missing_data="notBreaching",
            alarm_actions=[secondary_topic] if secondary_topic else None,
            opts=secondary.opts(self),
        )

        # 4. EventBridge: the alarm entering ALARM starts the machine (through the secondary's bus if needed).
        pattern = self.unhealthy_alarm.arn.apply(alarm_state_pattern)
        self.rules = [
            self._alarm_rule(
                f"{name}-start", secondary, pattern, account,
                rule_name=f"{args.prefix}-auto-failover-start",
                description=f"{args.prefix}-primary-unhealthy entered ALARM: start the failover in {secondary.name}",
                role_name=f"{args.prefix}-failover-start",
                role_description="EventBridge starts the auto-failover state machine",
                target_arn=self.state_machine.arn,
                grant=("StartFailover", ["states:StartExecution"]),
            )
        ]
        if metrics.name != secondary.name:
            self.rules.insert(0, self._alarm_rule(
                f"{name}-forward", metrics, pattern, account,
                rule_name=f"{args.prefix}-auto-failover-forward",
                description=f"{args.prefix}-primary-unhealthy entered ALARM: forward to {secondary.name}",
                role_name=f"{args.prefix}-failover-forward",
                role_description=f"EventBridge forwards the primary-unhealthy alarm from {metrics.name} to "
                                 f"{secondary.name}",
                target_arn=account.apply(lambda a: default_bus_arn(secondary.name, a)),
                grant=("ForwardToSecondary", ["events:PutEvents"]),
            ))

        self.outputs = {
            FailoverOut.STATE_MACHINE_ARN: self.state_machine.arn,
            FailoverOut.HEALTH_CHECK_ID: self.health_check.id,
            FailoverOut.ALARM_NAME: self.unhealthy_alarm.name,
            FailoverOut.ALARM_REGION: pulumi.Output.from_input(metrics.name),
        }
        self.register_outputs(self.outputs)

    def _alarm_rule(self, name: str, region: Region, pattern: pulumi.Input[str], account: pulumi.Output[str], *,
                    rule_name: str, description: str, role_name: str, role_description: str,
                    target_arn: pulumi.Input[str], grant: tuple[str, list[str]]) -> aws.cloudwatch.EventRule:
        """An EventBridge rule in `region` on the alarm pattern, whose target is called through a role that
        only this rule may use and that may do exactly `grant` (sid, actions) on the target. Children:
        <name>-role, -policy, the rule, -target."""
        trust = account.apply(lambda a: events_trust_policy(a, rule_arn(region.name, a, rule_name)))
        role = aws.iam.Role(f"{name}-role", name=role_name, description=role_description,
                            assume_role_policy=trust, opts=region.opts(self))
        sid, actions = grant
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.name,
            policy=pulumi.Output.from_input(target_arn).apply(lambda arn: allow_policy((sid, actions, arn))),
            opts=region.opts(self),
        )
        rule = aws.cloudwatch.EventRule(name, name=rule_name, description=description, event_pattern=pattern,
                                        opts=region.opts(self))
        aws.cloudwatch.EventTarget(f"{name}-target", rule=rule.name, arn=target_arn, role_arn=role.arn,
                                   opts=region.opts(self, depends_on=[policy]))
        return rule

    def _metrics_region(self, name: str, args: AutoFailoverArgs) -> Region:
        """us-east-1 through the stack's provider when one region is us-east-1, else a provider of its own."""
        return region_named(args.regions, ROUTE53_METRICS_REGION, resource_name=f"{name}-{ROUTE53_METRICS_REGION}",
                            role="route53-metrics", tags=args.tags, parent=self)
