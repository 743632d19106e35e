"""Monitoring: a topic per region, each alarm where its metric is published, one dashboard."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from components.contract import Out
from components.settings import ConfigError, load_settings
from harness.fake_cloud import ACCOUNT, FakeCloud
from harness.program import ProgramRun, Registration, run_program
from tests.conftest import PRIMARY, SECONDARY, run_with

PREFIX = "multi-region-app-prod"
COMPONENT = "multi-region-app:monitoring:Monitoring"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
BUCKET = "aws:s3/bucket:Bucket"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
TABLE = "aws:dynamodb/table:Table"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
OTHER = {PRIMARY: SECONDARY, SECONDARY: PRIMARY}


@pytest.fixture(scope="module")
def configured() -> ProgramRun:
    """The program with an alarm e-mail and every threshold changed from its default."""
    return run_with(
        {
            "alarmEmail": "ops@example.com",
            "alarmApi5xxPercent": "10",
            "alarmApi4xxPercent": "40",
            "alarmBucketReplicationSeconds": "600",
            "alarmTableReplicationSeconds": "5",
        }
    )


# -- helpers ----------------------------------------------------------------------------------------
def alarms(run: ProgramRun) -> list[Registration]:
    return [r for r in run.children(run.one(COMPONENT)) if r.type == ALARM]


def topics(run: ProgramRun) -> dict[str, Registration]:
    """Region -> the alarm topic there."""
    return {r.region: r for r in run.children(run.one(COMPONENT)) if r.type == TOPIC}


def find(run: ProgramRun, namespace: str, metric: str, **dimensions: str) -> Registration:
    """The one alarm on `metric` whose dimensions are exactly `dimensions`."""
    found = [
        r for r in alarms(run)
        if r.inputs.get("namespace") == namespace and r.inputs.get("metricName") == metric
        and r.inputs.get("dimensions") == dimensions
    ]
    assert len(found) == 1, (metric, dimensions, [r.name for r in found])
    return found[0]


def photo_bucket(run: ProgramRun, region: str) -> str:
    return next(r.inputs["bucket"] for r in run.of_type(BUCKET) if r.region == region and r.name.startswith("photos-"))


def rule_id_from(run: ProgramRun, region: str) -> str:
    """The id of the replication rule the photo bucket of `region` really has."""
    config = next(r for r in run.of_type(REPLICATION) if r.inputs["bucket"] == photo_bucket(run, region))
    (rule,) = config.inputs["rules"]
    return rule["id"]


def table_names(run: ProgramRun) -> list[str]:
    return sorted(r.inputs["name"] for r in run.of_type(TABLE))


def api_stages(run: ProgramRun) -> list[tuple[str, str, str]]:
    """(region, ApiName, Stage) of every deployed API stage."""
    apis = {r.outputs["id"]: r for r in run.of_type(REST_API)}
    return [(s.region, apis[s.inputs["restApi"]].inputs["name"], s.inputs["stageName"]) for s in run.of_type(STAGE)]


def api_alarm(run: ProgramRun, region: str, api_name: str, stage: str, status: str) -> Registration:
    found = []
    for alarm in alarms(run):
        metrics = [q["metric"] for q in alarm.inputs.get("metricQueries", []) if "metric" in q]
        if {m["metricName"] for m in metrics} == {f"{status}Error", "Count"} and all(
            m["dimensions"] == {"ApiName": api_name, "Stage": stage} and m["namespace"] == "AWS/ApiGateway"
            for m in metrics
        ):
            found.append(alarm)
    assert len(found) == 1, (api_name, status, [r.name for r in found])
    assert found[0].region == region
    return found[0]


# -- topics and actions -----------------------------------------------------------------------------
def test_each_region_has_its_own_alarm_topic(baseline):
    found = topics(baseline)
    assert set(found) == {PRIMARY, SECONDARY}
    for region, topic in found.items():
        assert topic.outputs["arn"].startswith(f"arn:aws:sns:{region}:")
        assert topic.inputs["name"] == f"{PREFIX}-alarms-{'primary' if region == PRIMARY else 'secondary'}"
        # CloudWatch cannot publish to a topic under the AWS-managed key alias/aws/sns: unencrypted in baseline,
        # the stack's own key in hardened (tests/test_hardened.py).
        assert topic.inputs.get("kmsMasterKeyId") in (None, "")


def test_every_alarm_notifies_and_clears_on_the_topic_of_its_own_region(prod):
    found = topics(prod)
    assert len(alarms(prod)) == 20  # 4 bucket, 2 x 4 tables, 8 API
    for alarm in alarms(prod):
        assert alarm.region in (PRIMARY, SECONDARY)
        own = [found[alarm.region].outputs["arn"]]
        assert alarm.inputs["alarmActions"] == own, alarm.name
        assert alarm.inputs["okActions"] == own, alarm.name
        assert alarm.inputs["treatMissingData"] == "notBreaching", alarm.name
        assert alarm.provider == found[alarm.region].provider


def test_no_email_subscription_without_alarm_email(prod):
    assert prod.of_type(SUBSCRIPTION) == []


def test_alarm_email_subscribes_to_the_topic_of_each_region(configured):
    subscriptions = configured.of_type(SUBSCRIPTION)
    assert sorted(s.region for s in subscriptions) == sorted([PRIMARY, SECONDARY])
    for subscription in subscriptions:
        assert subscription.inputs["protocol"] == "email"
        assert subscription.inputs["endpoint"] == "ops@example.com"
        assert subscription.inputs["topic"] == topics(configured)[subscription.region].outputs["arn"]


# -- replication alarms -----------------------------------------------------------------------------
@pytest.mark.parametrize("source", [PRIMARY, SECONDARY])
def test_photo_replication_latency_is_alarmed_in_the_destination_region(prod, source):
    destination = OTHER[source]
    alarm = find(
        prod, "AWS/S3", "ReplicationLatency",
        SourceBucket=photo_bucket(prod, source),
        DestinationBucket=photo_bucket(prod, destination),
        RuleId=rule_id_from(prod, source),
    )
    assert alarm.region == destination  # S3 publishes replication latency where the copies land
    assert alarm.inputs["statistic"] == "Maximum"
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm.inputs["threshold"] == 900.0  # seconds: the RTC promise


@pytest.mark.parametrize("source", [PRIMARY, SECONDARY])
def test_photo_replication_failures_are_alarmed_in_the_source_region(prod, source):
    alarm = find(
        prod, "AWS/S3", "OperationsFailedReplication",
        SourceBucket=photo_bucket(prod, source),
        DestinationBucket=photo_bucket(prod, OTHER[source]),
        RuleId=rule_id_from(prod, source),
    )
    assert alarm.region == source  # S3 publishes failed operations where they start
    assert (alarm.inputs["statistic"], alarm.inputs["threshold"]) == ("Sum", 0.0)
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("source", [PRIMARY, SECONDARY])
def test_every_global_table_has_a_replication_latency_alarm_in_the_writing_region(prod, source):
    names = table_names(prod)
    assert len(names) == 4
    for table in names:
        alarm = find(prod, "AWS/DynamoDB", "ReplicationLatency", TableName=table, ReceivingRegion=OTHER[source])
        assert alarm.region == source  # DynamoDB publishes it in the source replica's region
        assert alarm.inputs["statistic"] == "Average"
        assert alarm.inputs["threshold"] == 60_000.0  # milliseconds


def test_the_secondary_holds_alarms_about_the_primary_that_fire_while_the_primary_is_down(prod):
    """What the secondary's CloudWatch can see of the primary: replication into it and out of it."""
    in_secondary = [a for a in alarms(prod) if a.region == SECONDARY]
    dims = [a.inputs.get("dimensions", {}) for a in in_secondary]
    primary_bucket, secondary_bucket = photo_bucket(prod, PRIMARY), photo_bucket(prod, SECONDARY)
    # photos from the primary arriving late
    assert {"SourceBucket": primary_bucket, "DestinationBucket": secondary_bucket,
            "RuleId": rule_id_from(prod, PRIMARY)} in dims
    # photos the secondary cannot deliver to the primary
    assert {"SourceBucket": secondary_bucket, "DestinationBucket": primary_bucket,
            "RuleId": rule_id_from(prod, SECONDARY)} in dims
    # table writes made in the secondary that cannot reach the primary
    assert {d["TableName"] for d in dims if d.get("ReceivingRegion") == PRIMARY} == set(table_names(prod))


# -- API alarms -------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["5XX", "4XX"])
def test_both_apis_error_rates_are_alarmed_in_both_regions(prod, status):
    stages = api_stages(prod)
    assert len(stages) == 4 and {region for region, _, _ in stages} == {PRIMARY, SECONDARY}
    for region, api_name, stage in stages:
        alarm = api_alarm(prod, region, api_name, stage, status)
        queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
        returned = [q for q in queries.values() if q["returnData"]]
        assert len(returned) == 1 and "expression" in returned[0]
        expression = returned[0]["expression"]
        errors = next(i for i, q in queries.items() if q.get("metric", {}).get("metricName") == f"{status}Error")
        requests = next(i for i, q in queries.items() if q.get("metric", {}).get("metricName") == "Count")
        assert f"100 * {errors} / {requests}" in expression
        assert queries[errors]["metric"]["stat"] == "Sum"
        assert alarm.inputs["threshold"] == (5.0 if status == "5XX" else 25.0)
        assert (alarm.inputs["datapointsToAlarm"], alarm.inputs["evaluationPeriods"]) == (3.0, 5.0)


def test_thresholds_come_from_the_stack_config(configured):
    for region, api_name, stage in api_stages(configured):
        assert api_alarm(configured, region, api_name, stage, "5XX").inputs["threshold"] == 10.0
        assert api_alarm(configured, region, api_name, stage, "4XX").inputs["threshold"] == 40.0
    by_metric = Counter()
    for alarm in alarms(configured):
        metric = (alarm.inputs.get("namespace"), alarm.inputs.get("metricName"))
        if metric == ("AWS/S3", "ReplicationLatency"):
            assert alarm.inputs["threshold"] == 600.0
        elif metric == ("AWS/DynamoDB", "ReplicationLatency"):
            assert alarm.inputs["threshold"] == 5000.0
        by_metric[metric] += 1
    assert by_metric[("AWS/S3", "ReplicationLatency")] == 2
    assert by_metric[("AWS/DynamoDB", "ReplicationLatency")] == 8  # 4 tables, both directions


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("alarmApi5xxPercent", "0", "alarmApi5xxPercent = 0 must be between 1 and 100"),
        ("alarmApi4xxPercent", "101", "alarmApi4xxPercent = 101 must be between 1 and 100"),
        ("alarmBucketReplicationSeconds", "30", "alarmBucketReplicationSeconds = 30 must be between 60"),
        ("alarmTableReplicationSeconds", "soon", "alarmTableReplicationSeconds must be a whole number"),
    ],
)
def test_bad_threshold_config_is_refused_naming_the_key(key, value, message):
    values = {"secondaryRegion": "eu-west-1", key: value}
    with pytest.raises(ConfigError, match=message):
        load_settings(values.get, "us-east-1", "multi-region-app", "prod")


# -- dashboard and outputs --------------------------------------------------------------------------
def test_dashboard_is_named_after_the_stack_and_shows_both_regions_side_by_side(prod):
    dashboard = prod.one(DASHBOARD)
    assert dashboard.region == PRIMARY
    assert dashboard.inputs["dashboardName"] == PREFIX
    body = json.loads(dashboard.inputs["dashboardBody"])
    widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    assert {w["properties"]["region"] for w in widgets} == {PRIMARY, SECONDARY}
    for widget in widgets:
        region = widget["properties"]["region"]
        assert widget["x"] == (0 if region == PRIMARY else 12)  # primary left, secondary right
        for metric in widget["properties"]["metrics"]:
            assert metric[-1]["region"] == region, widget["properties"]["title"]
    text = json.dumps(body)
    names = [photo_bucket(prod, PRIMARY), photo_bucket(prod, SECONDARY), *table_names(prod)]
    names += [api_name for _, api_name, _ in api_stages(prod)]
    assert [n for n in names if json.dumps(n) not in text] == []


def test_outputs_name_the_topics_the_alarms_of_each_region_and_the_dashboard(prod):
    outputs = prod.outputs
    found = topics(prod)
    assert outputs[Out.ALARM_TOPIC_ARNS] == {
        "primary": found[PRIMARY].outputs["arn"],
        "secondary": found[SECONDARY].outputs["arn"],
    }
    for role, region in (("primary", PRIMARY), ("secondary", SECONDARY)):
        assert sorted(outputs[Out.ALARM_NAMES][role]) == sorted(a.inputs["name"] for a in alarms(prod)
                                                                if a.region == region)
    assert outputs[Out.DASHBOARD_NAME] == PREFIX
    assert outputs[Out.DASHBOARD_URL] == (
        f"https://{PRIMARY}.console.aws.amazon.com/cloudwatch/home?region={PRIMARY}#dashboards:name={PREFIX}"
    )


@pytest.mark.parametrize("auto_failover", ["false", "true"])
def test_no_two_resources_of_the_program_share_a_name(auto_failover):
    """Mocks accept duplicate names; the engine would refuse the whole update."""
    run = run_with({"autoFailover": auto_failover, "alarmEmail": "ops@example.com"})
    duplicates = [urn for urn, count in Counter(r.urn for r in run.resources).items() if count > 1]
    assert duplicates == []
    alarm_names = [(r.region, r.inputs["name"]) for r in run.of_type(ALARM)]
    assert len(alarm_names) == len(set(alarm_names))


# -- arguments --------------------------------------------------------------------------------------
def run_monitoring(tmp_path: Path, **overrides: str) -> ProgramRun:
    """A program holding only Monitoring, with `overrides` as Python source of MonitoringArgs fields."""
    fields = {
        "prefix": "'app-test'",
        "regions": "regions",
        "bucket_names": "{'primary': 'b1', 'secondary': 'b2'}",
        "replication_rule_ids": "{'primary': 'to-2', 'secondary': 'to-1'}",
        "table_names": "{'appConfig': 'app-test-app-config'}",
        "apis": "[WatchedApi('routing', regions.primary, 'api-1', 'prod')]",
        **overrides,
    }
    program = tmp_path / "__main__.py"
    program.write_text(
        textwrap.dedent(
            """
            import pulumi_aws as aws
            from components.monitoring import AlarmThresholds, Monitoring, MonitoringArgs, WatchedApi
            from components.regions import Region, RegionPair

            regions = RegionPair(
                Region("primary", "eu-west-1", aws.Provider("p", region="eu-west-1")),
                Region("secondary", "eu-central-1", aws.Provider("s", region="eu-central-1")),
            )
            """
        )
        + "Monitoring('monitoring', MonitoringArgs("
        + ", ".join(f"{k}={v}" for k, v in fields.items())
        + "))\n"
    )
    return run_program(FakeCloud(), {}, program=program)


def test_a_minimal_monitoring_alarms_what_it_is_given(tmp_path):
    run = run_monitoring(tmp_path)
    names = sorted(r.inputs["name"] for r in run.of_type(ALARM))
    assert names == sorted(
        [
            "app-test-photos-bucket-replication-latency-primary-to-secondary",
            "app-test-photos-bucket-replication-latency-secondary-to-primary",
            "app-test-photos-bucket-replication-failed-primary-to-secondary",
            "app-test-photos-bucket-replication-failed-secondary-to-primary",
            "app-test-app-config-table-replication-latency-primary-to-secondary",
            "app-test-app-config-table-replication-latency-secondary-to-primary",
            "app-test-routing-api-5xx-primary",
            "app-test-routing-api-4xx-primary",
        ]
    )
    assert f"arn:aws:sns:eu-central-1:{ACCOUNT}:app-test-alarms-secondary" in {
        r.outputs["arn"] for r in run.of_type(TOPIC)
    }


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"replication_rule_ids": "{'primary': 'to-2'}"}, "replication_rule_ids"),
        ({"bucket_names": "{}"}, "bucket_names"),
        ({"apis": "[]"}, "apis"),
        ({"alarm_email": "'nobody'"}, "alarm_email"),
        ({"thresholds": "AlarmThresholds(api_5xx_percent=0)"}, "api_5xx_percent"),
        ({"dashboard_name": "'has space'"}, "dashboard_name"),
    ],
)
def test_invalid_arguments_fail_naming_the_argument(tmp_path, overrides, named):
    with pytest.raises(ValueError, match=named):
        run_monitoring(tmp_path, **overrides)
