"""DynamoDB global tables in the local cloud: every write replicates, last writer wins, no echo.

GIVEN a table created in both regions (with streams, as the program creates them) and
declared with `replicate_table`,
WHEN items are written over HTTP in either region (put, update, delete, batch, transactions),
THEN the other region converges on the same items after the lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench.measures import bench_replication_lag
from sandbox.cloud import LocalCloud
from tests.sandbox.cloud_support import LAG, MARGIN, PRIMARY, SECONDARY, eventually, unique

REGIONS = (PRIMARY, SECONDARY)
OTHER = {PRIMARY: SECONDARY, SECONDARY: PRIMARY}


class GlobalTable:
    def __init__(self, cloud: LocalCloud, aws_client: Callable[..., Any], stream: bool = True, declare: bool = True):
        self.name = unique("Comments")
        self.ddb = {region: aws_client("dynamodb", region) for region in REGIONS}
        for client in self.ddb.values():
            extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
            client.create_table(
                TableName=self.name,
                KeySchema=[{"AttributeName": "photoId", "KeyType": "HASH"},
                           {"AttributeName": "commentKey", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "photoId", "AttributeType": "S"},
                                      {"AttributeName": "commentKey", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                **(extra if stream else {}),
            )
        if declare:
            cloud.replicate_table(self.name, REGIONS)

    @staticmethod
    def key(photo: str, comment: str = "c1") -> dict[str, Any]:
        return {"photoId": {"S": photo}, "commentKey": {"S": comment}}

    def get(self, region: str, photo: str, comment: str = "c1") -> dict[str, Any] | None:
        key = self.key(photo, comment)
        return self.ddb[region].get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item")

    def put(self, region: str, photo: str, message: str, comment: str = "c1") -> None:
        item = {**self.key(photo, comment), "message": {"S": message}}
        self.ddb[region].put_item(TableName=self.name, Item=item)


@pytest.fixture()
def table(local_cloud: LocalCloud, aws_client: Callable[..., Any]) -> GlobalTable:
    return GlobalTable(local_cloud, aws_client)


def settle(cloud: LocalCloud) -> None:
    assert cloud.wait_replication_idle(LAG + MARGIN), "replication did not go idle"


@pytest.mark.parametrize("region", REGIONS)
def test_put_in_either_region_shows_up_in_the_other_after_the_lag(table: GlobalTable, region: str) -> None:
    written = time.monotonic()
    table.put(region, "p1", "hello 👋 \"quoted\"")
    assert table.get(OTHER[region], "p1") is None  # asynchronous

    item = eventually(lambda: table.get(OTHER[region], "p1"))
    assert time.monotonic() - written >= LAG * 0.9
    assert item == {**table.key("p1"), "message": {"S": "hello 👋 \"quoted\""}}


@pytest.mark.parametrize("region", REGIONS)
def test_update_and_delete_replicate(table: GlobalTable, local_cloud: LocalCloud, region: str) -> None:
    table.put(region, "p2", "v1")
    table.ddb[region].update_item(
        TableName=table.name, Key=table.key("p2"), UpdateExpression="SET message = :m, likes = :n",
        ExpressionAttributeValues={":m": {"S": "v2"}, ":n": {"N": "3"}},
    )
    settle(local_cloud)
    assert table.get(OTHER[region], "p2") == {**table.key("p2"), "message": {"S": "v2"}, "likes": {"N": "3"}}

    table.ddb[region].delete_item(TableName=table.name, Key=table.key("p2"))
    settle(local_cloud)
    assert table.get(OTHER[region], "p2") is None


@pytest.mark.parametrize("region", REGIONS)
def test_transact_write_items_replicate(table: GlobalTable, local_cloud: LocalCloud, region: str) -> None:
    table.put(region, "p3", "to delete", comment="old")
    table.ddb[region].transact_write_items(TransactItems=[
        {"Put": {"TableName": table.name, "Item": {**table.key("p3", "new"), "message": {"S": "t"}},
                 "ConditionExpression": "attribute_not_exists(commentKey)"}},
        {"Delete": {"TableName": table.name, "Key": table.key("p3", "old")}},
    ])
    settle(local_cloud)

    assert table.get(OTHER[region], "p3", "new") == {**table.key("p3", "new"), "message": {"S": "t"}}
    assert table.get(OTHER[region], "p3", "old") is None


def test_a_cancelled_transaction_replicates_nothing(table: GlobalTable, local_cloud: LocalCloud) -> None:
    with pytest.raises(ClientError) as error:
        table.ddb[PRIMARY].transact_write_items(TransactItems=[
            {"Put": {"TableName": table.name, "Item": {**table.key("p4", "a"), "message": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": table.name, "Key": table.key("p4", "missing"),
                                "ConditionExpression": "attribute_exists(commentKey)"}},
        ])
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    settle(local_cloud)

    assert table.get(PRIMARY, "p4", "a") is None
    assert table.get(SECONDARY, "p4", "a") is None


def test_batch_writes_replicate(table: GlobalTable, local_cloud: LocalCloud) -> None:
    table.ddb[SECONDARY].batch_write_item(RequestItems={table.name: [
        {"PutRequest": {"Item": {**table.key("p5", f"c{i}"), "message": {"S": str(i)}}}} for i in range(5)
    ]})
    settle(local_cloud)

    items = table.ddb[PRIMARY].query(
        TableName=table.name, KeyConditionExpression="photoId = :p",
        ExpressionAttributeValues={":p": {"S": "p5"}},
    )["Items"]
    assert sorted(i["message"]["S"] for i in items) == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("first,last", [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)])
def test_concurrent_writes_converge_on_the_last_writer(
    table: GlobalTable, local_cloud: LocalCloud, first: str, last: str
) -> None:
    table.put(first, "p6", f"from {first}")
    table.put(last, "p6", f"from {last}")  # before the first write replicated
    settle(local_cloud)

    for region in REGIONS:
        assert table.get(region, "p6")["message"] == {"S": f"from {last}"}
    assert local_cloud.replication_stats()["dynamodb"]["skippedOlder"] >= 1


def test_a_write_replicates_once_without_echo(table: GlobalTable, local_cloud: LocalCloud) -> None:
    before = local_cloud.replication_stats()["dynamodb"]
    table.put(PRIMARY, "p7", "once")
    settle(local_cloud)
    time.sleep(LAG * 2)  # an echo would have been captured and queued by now
    settle(local_cloud)

    after = local_cloud.replication_stats()["dynamodb"]
    assert after["captured"] - before["captured"] == 1
    assert after["queued"] - before["queued"] == 1
    assert table.get(SECONDARY, "p7")["message"] == {"S": "once"}


def test_undeclared_tables_are_not_replicated(local_cloud: LocalCloud, aws_client: Callable[..., Any]) -> None:
    local = GlobalTable(local_cloud, aws_client, declare=False)
    local.put(PRIMARY, "p8", "stays here")
    settle(local_cloud)
    time.sleep(LAG * 1.5)

    assert local.get(SECONDARY, "p8") is None


def test_declaring_replicas_turns_the_stream_on_as_aws_does(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    table = GlobalTable(local_cloud, aws_client, stream=False)
    stream = table.ddb[SECONDARY].describe_table(TableName=table.name)["Table"]["StreamSpecification"]
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

    table.put(PRIMARY, "p9", "streamed")
    assert eventually(lambda: table.get(SECONDARY, "p9"))


def test_declaring_a_table_missing_in_a_region_is_refused(local_cloud: LocalCloud) -> None:
    with pytest.raises(ValueError, match="regions: table 'NoSuchTable' does not exist in"):
        local_cloud.replicate_table("NoSuchTable", REGIONS)
    with pytest.raises(ValueError, match="regions: not regions of this cloud"):
        local_cloud.replicate_table("NoSuchTable", [PRIMARY, "eu-west-1"])


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_bench_reports_one_observed_lag_per_sample_no_shorter_than_the_configured_lag(
    local_cloud: LocalCloud, service: str
) -> None:
    lags = bench_replication_lag(local_cloud, samples=3, service=service, timeout=LAG + MARGIN)

    assert len(lags) == 3
    assert all(LAG * 0.8 <= lag < LAG + MARGIN for lag in lags)
