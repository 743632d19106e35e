"""Alarms, one alarm topic per region and one dashboard for both regions.

A CloudWatch alarm reads only the metrics of its own region, and an alarm's SNS action must be a
topic of that region. So every alarm lives where AWS publishes its metric, and notifies the topic
of that region:

    metric (namespace)                          published in                      alarm lives in
    S3 ReplicationLatency  src -> dst           the destination bucket's region   dst
    S3 OperationsFailedReplication  src -> dst  the source bucket's region        src
    DynamoDB ReplicationLatency  src -> dst     the writing (source) replica's    src
      (dims TableName, ReceivingRegion = dst)   region
    API Gateway 5XXError / 4XXError / Count     the API's region                  the API's region

Each region is watched from the other where it matters. With every direction alarmed, the
secondary holds three alarms about the primary that keep evaluating when the primary region is
down (its own CloudWatch included):
  - photos replicating primary -> secondary lag (S3 publishes that latency in the destination);
  - table writes made in the secondary that cannot reach the primary (DynamoDB publishes
    ReplicationLatency with ReceivingRegion = primary in the secondary; it climbs when the
    receiving region is degraded, i.e. during a failover with the primary down);
  - photos uploaded in the secondary that fail to replicate into the primary bucket.
Symmetrically the primary watches the secondary. The primary's APIs cannot be watched from the
secondary's CloudWatch at all (API metrics stay in the API's region): the outside view of the
primary's routing API is the Route 53 health check of `auto_failover.py`.

Alarm notifications are why the topics exist, so they are never encrypted with the AWS-managed key
`alias/aws/sns`: CloudWatch cannot use that key (its policy cannot grant cloudwatch.amazonaws.com
kms:GenerateDataKey*/kms:Decrypt), and every notification would be dropped silently. With config
kmsEnabled each topic is encrypted with the stack's customer managed key of its region (`topic_kms_key_arns`,
the "ops" key of components/kms.py), whose policy lets CloudWatch alarms use it.

Missing data never alarms (no traffic, no replication, no failure metric published).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.kms import check_region_keys
from components.regions import Region, RegionPair
from components.settings import EMAIL_RE

API_NAMESPACE = "AWS/ApiGateway"
S3_NAMESPACE = "AWS/S3"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
MINUTE = 60
FIVE_MINUTES = 300
# An API's error rate counts only once a minute has this many requests: one failed call of
# two is not an outage. Below it the rate reads 0.
MIN_REQUESTS_PER_MINUTE = 5
# API error rates: 3 bad minutes out of the last 5.
API_EVALUATION_PERIODS, API_DATAPOINTS_TO_ALARM = 5, 3
# Table replication latency: two 5-minute averages in a row above the threshold.
TABLE_EVALUATION_PERIODS = 2
MAX_ALARM_NAME = 255
_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
WIDGET_WIDTH, WIDGET_HEIGHT, GRID_WIDTH = 12, 6, 24


@dataclass
class WatchedApi:
    """One REST API stage in one region."""

    kind: str
    """What the API serves, part of the alarm names ("routing", "photos"); required."""
    region: Region
    """The API's region, where its metrics and alarms live; required."""
    api_name: pulumi.Input[str]
    """The RestApi's name: the metrics' ApiName dimension; required."""
    stage: pulumi.Input[str]
    """The stage name: the metrics' Stage dimension; required."""


@dataclass
class AlarmThresholds:
    """When an alarm fires (config keys alarmApi5xxPercent ... in Pulumi.yaml)."""

    api_5xx_percent: int = 5
    """5xx answers, % of an API's requests (3 of 5 minutes); default 5."""
    api_4xx_percent: int = 25
    """4xx answers, % of an API's requests (3 of 5 minutes); default 25."""
    bucket_replication_seconds: int = 900
    """Maximum S3 replication latency over 5 minutes; default 900 (the RTC promise)."""
    table_replication_seconds: int = 60
    """Average DynamoDB replication latency, two 5-minute periods in a row; default 60."""


@dataclass
class MonitoringArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """The two regions; each gets a topic and the alarms whose metrics it publishes; required."""
    bucket_names: Mapping[str, pulumi.Input[str]]
    """Region role -> photo bucket name (ObjectStore.bucket_names); required, both roles."""
    replication_rule_ids: Mapping[str, pulumi.Input[str]]
    """Source region role -> id of its replication rule (see replication_rule_ids()); required, both roles."""
    table_names: Mapping[str, pulumi.Input[str]]
    """Logical -> physical name of every global table (GlobalTables.names); required, at least one."""
    apis: Sequence[WatchedApi]
    """Every API stage of both regions; required, at least one."""
    alarm_email: str = ""
    """E-mail subscribed to the topic of each region; default "" (no subscription)."""
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    """When the alarms fire; default AlarmThresholds()."""
    dashboard_name: str = ""
    """Name of the stack's dashboard (account-wide); default "" means the prefix."""
    topic_kms_key_arns: Mapping[str, pulumi.Input[str]] | None = None
    """Region role -> customer managed key encrypting that region's topic (its policy must let CloudWatch alarms
    use it: kms.alarms_statement); default None: unencrypted topics."""


def replication_rule_ids(replications: Mapping[str, aws.s3.BucketReplicationConfig]) -> dict[str, pulumi.Output[str]]:
    """Source role -> the id of the one rule of its replication configuration (the metrics' RuleId)."""

    def only_rule(rules: Sequence[Any]) -> str:
        if len(rules) != 1:
            raise ValueError(f"monitoring expects one replication rule per bucket, found {len(rules)}")
        return rules[0].id

    return {role: config.rules.apply(only_rule) for role, config in replications.items()}


def kebab(name: str) -> str:
    """"appConfig" -> "app-config": logical names in alarm names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


def api_rate_expression(ids: tuple[str, str]) -> str:
    """Metric math: % of requests answering errors, 0 below MIN_REQUESTS_PER_MINUTE."""
    errors, requests = ids
    return f"IF({requests} >= {MIN_REQUESTS_PER_MINUTE}, 100 * {errors} / {requests}, 0)"


def _validate(args: MonitoringArgs) -> None:
    if not args.prefix:
        raise ValueError("MonitoringArgs.prefix must not be empty")
    roles = {r.role for r in args.regions}
    for label, mapping in (("bucket_names", args.bucket_names), ("replication_rule_ids", args.replication_rule_ids)):
        if set(mapping) != roles:
            raise ValueError(f"MonitoringArgs.{label} needs exactly the roles {sorted(roles)}, got {sorted(mapping)}")
    if not args.table_names:
        raise ValueError("MonitoringArgs.table_names must name at least one table")
    if not args.apis:
        raise ValueError("MonitoringArgs.apis must name at least one API")
    seen = set()
    for api in args.apis:
        if not re.match(r"^[a-z][a-z0-9-]*$", api.kind):
            raise ValueError(f"MonitoringArgs.apis: kind {api.kind!r} must be lower-case letters, digits and '-'")
        if (api.kind, api.region.role) in seen:
            raise ValueError(f"MonitoringArgs.apis: {api.kind} API of the {api.region.role} region given twice")
        seen.add((api.kind, api.region.role))
    check_region_keys("MonitoringArgs.topic_kms_key_arns", args.topic_kms_key_arns, args.regions)
    if args.alarm_email and not EMAIL_RE.match(args.alarm_email):
        raise ValueError(f"MonitoringArgs.alarm_email {args.alarm_email!r} is not an e-mail address")
    t = args.thresholds
    for label, value, low, high in (
        ("api_5xx_percent", t.api_5xx_percent, 1, 100),
        ("api_4xx_percent", t.api_4xx_percent, 1, 100),
        ("bucket_replication_seconds", t.bucket_replication_seconds, 60, 86400),
        ("table_replication_seconds", t.table_replication_seconds, 1, 86400),
    ):
        if not low <= value <= high:
            raise ValueError(f"MonitoringArgs.thresholds.{label} must be between {low} and {high}, got {value}")
    name = args.dashboard_name or args.prefix
    if not _DASHBOARD_NAME.match(name):
        raise ValueError(f"MonitoringArgs.dashboard_name {name!r} must be 1-255 letters, digits, '-' or '_'")


class Monitoring(pulumi.ComponentResource):
    """Per region: an alarm topic and the alarms of the metrics that region publishes; one dashboard."""

    topics: dict[str, aws.sns.Topic]
    subscriptions: dict[str, aws.sns.TopicSubscription]
    alarms: dict[str, list[aws.cloudwatch.MetricAlarm]]  # region role -> alarms living there
    dashboard: aws.cloudwatch.Dashboard
    topic_arns: dict[str, pulumi.Output[str]]
    alarm_names: dict[str, list[pulumi.Output[str]]]
    dashboard_name: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:monitoring:Monitoring", name, None, opts)
        _validate(args)
        self._name, self._args = name, args
        self.topics, self.subscriptions = {}, {}
        self.alarms = {region.role: [] for region in args.regions}
        for region in args.regions:
            self.topics[region.role] = aws.sns.Topic(
                f"{name}-alarms-{region.role}",
                name=f"{args.prefix}-alarms-{region.role}",
                display_name=f"{args.prefix} alarms ({region.role}, {region.name})",
                kms_master_key_id=args.topic_kms_key_arns[region.role] if args.topic_kms_key_arns else None,
                opts=region.opts(self),
            )
            if args.alarm_email:
                self.subscriptions[region.role] = aws.sns.TopicSubscription(
                    f"{name}-alarms-{region.role}-email",
                    topic=self.topics[region.role].arn,
                    protocol="email",
                    endpoint=args.alarm_email,
                    opts=region.opts(self),
                )

        for source in args.regions:
            destination = args.regions.other(source)
            self._bucket_alarms(source, destination)
            for logical, table in args.table_names.items():
                self._table_alarm(source, destination, logical, table)
        for api in args.apis:
            for status, percent in (("5XX", args.thresholds.api_5xx_percent), ("4XX", args.thresholds.api_4xx_percent)):
                self._api_alarm(api, status, percent)

        dashboard_name = args.dashboard_name or args.prefix
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name,
            dashboard_body=self._dashboard_body(),
            opts=args.regions.primary.opts(self),
        )

        self.topic_arns = {role: topic.arn for role, topic in self.topics.items()}
        self.alarm_names = {role: [alarm.name for alarm in alarms] for role, alarms in self.alarms.items()}
        self.dashboard_name = self.dashboard.dashboard_name
        self.dashboard_url = self.dashboard.dashboard_name.apply(
            lambda n: dashboard_url(args.regions.primary.name, n)
        )
        self.register_outputs(
            {
                "topicArns": self.topic_arns,
                "alarmNames": self.alarm_names,
                "dashboardName": self.dashboard_name,
                "dashboardUrl": self.dashboard_url,
            }
        )

    # -- alarms ------------------------------------------------------------------------------------
    def _alarm(self, region: Region, slug: str, description: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        """An alarm in `region` notifying (and clearing on) that region's topic."""
        alarm_name = f"{self._args.prefix}-{slug}"
        if len(alarm_name) > MAX_ALARM_NAME:
            raise ValueError(f"alarm name {alarm_name!r} is longer than {MAX_ALARM_NAME} characters")
        topic_arn = self.topics[region.role].arn
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{slug}",
            name=alarm_name,
            alarm_description=description,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            treat_missing_data="notBreaching",
            opts=region.opts(self),
            **kwargs,
        )
        self.alarms[region.role].append(alarm)
        return alarm

    def _bucket_alarms(self, source: Region, destination: Region) -> None:
        args = self._args
        direction = f"{source.role}-to-{destination.role}"
        dimensions = {
            "SourceBucket": args.bucket_names[source.role],
            "DestinationBucket": args.bucket_names[destination.role],
            "RuleId": args.replication_rule_ids[source.role],
        }
        seconds = args.thresholds.bucket_replication_seconds
        # S3 publishes replication latency in the destination's region.
        self._alarm(
            destination,
            f"photos-bucket-replication-latency-{direction}",
            f"Photos uploaded in {source.name} reach {destination.name} more than {seconds} s late "
            "(S3 replication latency, maximum over 5 minutes).",
            namespace=S3_NAMESPACE,
            metric_name="ReplicationLatency",
            dimensions=dimensions,
            statistic="Maximum",
            period=FIVE_MINUTES,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=float(seconds),
        )
        # ... and failed operations in the source's region.
        self._alarm(
            source,
            f"photos-bucket-replication-failed-{direction}",
            f"S3 failed to replicate photos from {source.name} to {destination.name} (any failure in 5 minutes).",
            namespace=S3_NAMESPACE,
            metric_name="OperationsFailedReplication",
            dimensions=dimensions,
            statistic="Sum",
            period=FIVE_MINUTES,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0.0,
        )

    def _table_alarm(self, source: Region, destination: Region, logical: str, table: pulumi.Input[str]) -> None:
        seconds = self._args.thresholds.table_replication_seconds
        # DynamoDB publishes the latency of writes made in `source` in `source`, per receiving region.
        self._alarm(
            source,
            f"{kebab(logical)}-table-replication-latency-{source.role}-to-{destination.role}",
            f"Writes to the {logical} table in {source.name} reach {destination.name} more than {seconds} s late "
            f"(DynamoDB replication latency, 5-minute average, {TABLE_EVALUATION_PERIODS} periods in a row).",
            namespace=DYNAMODB_NAMESPACE,
            metric_name="ReplicationLatency",
            dimensions={"TableName": table, "ReceivingRegion": destination.name},
            statistic="Average",
            period=FIVE_MINUTES,
            evaluation_periods=TABLE_EVALUATION_PERIODS,
            datapoints_to_alarm=TABLE_EVALUATION_PERIODS,
            comparison_operator="GreaterThanThreshold",
            threshold=float(seconds * 1000),  # the metric is in milliseconds
        )

    def _api_alarm(self, api: WatchedApi, status: str, percent: int) -> None:
        dimensions = {"ApiName": api.api_name, "Stage": api.stage}

        def metric(query_id: str, metric_name: str, stat: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=API_NAMESPACE, metric_name=metric_name, dimensions=dimensions, period=MINUTE, stat=stat
                ),
            )

        self._alarm(
            api.region,
            f"{api.kind}-api-{status.lower()}-{api.region.role}",
            f"More than {percent} % of the {api.kind} API's requests in {api.region.name} answer {status.lower()} "
            f"({API_DATAPOINTS_TO_ALARM} of {API_EVALUATION_PERIODS} minutes, from {MIN_REQUESTS_PER_MINUTE} "
            "requests a minute).",
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression=api_rate_expression(("errors", "requests")),
                    label=f"{status} rate (%)",
                    return_data=True,
                ),
                metric("errors", f"{status}Error", "Sum"),
                # API Gateway documents SampleCount as the Count metric's statistic.
                metric("requests", "Count", "SampleCount"),
            ],
            evaluation_periods=API_EVALUATION_PERIODS,
            datapoints_to_alarm=API_DATAPOINTS_TO_ALARM,
            comparison_operator="GreaterThanThreshold",
            threshold=float(percent),
        )

    # -- dashboard ---------------------------------------------------------------------------------
    def _dashboard_body(self) -> pulumi.Output[str]:
        args = self._args
        values = {
            "buckets": dict(args.bucket_names),
            "rules": dict(args.replication_rule_ids),
            "tables": dict(args.table_names),
            "apis": [{"kind": a.kind, "role": a.region.role, "name": a.api_name, "stage": a.stage} for a in args.apis],
        }
        regions = {r.role: r.name for r in args.regions}
        return pulumi.Output.from_input(values).apply(
            lambda v: json.dumps(dashboard_body(args.prefix, regions, v, args.thresholds), sort_keys=True)
        )


def dashboard_body(
    title: str, regions: Mapping[str, str], values: Mapping[str, Any], thresholds: AlarmThresholds
) -> dict[str, Any]:
    """The dashboard: one row per metric family, the primary's widget left, the secondary's right.

    `regions` maps role -> region name (primary first); `values` holds resolved names: buckets and
    rules by role, tables by logical name, apis as [{kind, role, name, stage}]. Every widget and
    every metric carries its region, so the one dashboard reads both regions' CloudWatch.
    """
    roles = list(regions)
    other = {roles[0]: roles[1], roles[1]: roles[0]}
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": GRID_WIDTH,
            "height": 2,
            "properties": {
                "markdown": f"# {title}\nLeft: **{roles[0]}** ({regions[roles[0]]}). "
                f"Right: **{roles[1]}** ({regions[roles[1]]}). Each widget shows what its region's CloudWatch "
                "publishes: replication latency in the receiving region, failures and table latency in the sending one."
            },
        }
    ]
    rows: list[dict[str, dict[str, Any]]] = []  # one {role: properties} per row

    for kind in dict.fromkeys(a["kind"] for a in values["apis"]):
        row = {}
        for api in (a for a in values["apis"] if a["kind"] == kind):
            region = regions[api["role"]]
            dims = ["ApiName", api["name"], "Stage", api["stage"]]
            metrics: list[list[Any]] = [
                [API_NAMESPACE, "Count", *dims, {"id": "n", "stat": "SampleCount", "visible": False, "region": region}]
            ]
            for status in ("5XX", "4XX"):
                errors = f"e{status[0]}"
                metrics.append(
                    [API_NAMESPACE, f"{status}Error", *dims,
                     {"id": errors, "stat": "Sum", "visible": False, "region": region}]
                )
                metrics.append(
                    [{"expression": api_rate_expression((errors, "n")), "label": f"{status} %",
                      "id": f"r{status[0]}", "region": region}]
                )
            row[api["role"]] = {
                "title": f"{kind} API errors (% of requests), {api['role']} {region}",
                "region": region,
                "metrics": metrics,
                "period": MINUTE,
                "yAxis": {"left": {"min": 0, "max": 100, "label": "%"}},
                "annotations": {"horizontal": [
                    {"label": "5xx alarm", "value": thresholds.api_5xx_percent},
                    {"label": "4xx alarm", "value": thresholds.api_4xx_percent},
                ]},
            }
        rows.append(row)

    def bucket_metric(metric: str, source: str, stat: str, region: str) -> list[Any]:
        destination = other[source]
        return [S3_NAMESPACE, metric, "SourceBucket", values["buckets"][source],
                "DestinationBucket", values["buckets"][destination], "RuleId", values["rules"][source],
                {"stat": stat, "region": region, "label": f"{source} -> {destination}"}]

    latency_row, failed_row, table_row = {}, {}, {}
    for role in roles:
        region = regions[role]
        latency_row[role] = {
            "title": f"Photo replication latency into {role} {region} (s)",
            "region": region,
            "metrics": [bucket_metric("ReplicationLatency", other[role], "Maximum", region)],
            "period": FIVE_MINUTES,
            "annotations": {"horizontal": [{"label": "alarm", "value": thresholds.bucket_replication_seconds}]},
        }
        failed_row[role] = {
            "title": f"Photo replication failures out of {role} {region}",
            "region": region,
            "metrics": [bucket_metric("OperationsFailedReplication", role, "Sum", region)],
            "period": FIVE_MINUTES,
        }
        table_row[role] = {
            "title": f"Table replication latency, writes made in {role} {region} (ms)",
            "region": region,
            "metrics": [
                [DYNAMODB_NAMESPACE, "ReplicationLatency", "TableName", table, "ReceivingRegion", regions[other[role]],
                 {"stat": "Average", "region": region, "label": f"{logical} -> {other[role]}"}]
                for logical, table in values["tables"].items()
            ],
            "period": FIVE_MINUTES,
            "annotations": {"horizontal": [{"label": "alarm", "value": thresholds.table_replication_seconds * 1000}]},
        }
    rows += [latency_row, failed_row, table_row]

    for index, row in enumerate(rows):
        for column, role in enumerate(roles):
            if role not in row:
                continue
            widgets.append(
                {
                    "type": "metric",
                    "x": column * WIDGET_WIDTH,
                    "y": 2 + index * WIDGET_HEIGHT,
                    "width": WIDGET_WIDTH,
                    "height": WIDGET_HEIGHT,
                    "properties": {"view": "timeSeries", "stacked": False, **row[role]},
                }
            )
    return {"widgets": widgets}
