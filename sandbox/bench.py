"""Sandbox benchmarks (`make bench`): replication lag as a client sees it, over HTTP.

`bench_replication_lag(cloud, service=...)` writes in one region, alternating directions,
and polls the other region's endpoint until the write shows; each sample is the time from
the write's acknowledgement to its first sighting. `python -m sandbox.bench` starts a
LocalCloud at the default lag on free ports and prints the distribution.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud

BENCH_KEYS = {"aws_access_key_id": "sandbox-bench", "aws_secret_access_key": "sandbox-bench"}
BENCH_TABLE = "sandbox-bench"
POLL_SECONDS = 0.005


def bench_replication_lag(
    cloud: LocalCloud, samples: int = 20, service: str = "s3", timeout: float = 30.0
) -> list[float]:
    """Observed replication lags in seconds (`service` "s3" or "dynamodb"), alternating directions."""
    if service not in ("s3", "dynamodb"):
        raise ValueError(f"service: expected 's3' or 'dynamodb', got {service!r}")
    if samples < 1:
        raise ValueError(f"samples: expected at least 1, got {samples}")
    first, second = cloud.regions[:2]
    clients = {r: _client(cloud, service, r) for r in (first, second)}
    write, visible = (_s3_probe if service == "s3" else _dynamodb_probe)(cloud, clients)
    lags = []
    for i in range(samples):
        source, destination = (first, second) if i % 2 == 0 else (second, first)
        token = uuid.uuid4().hex
        write(source, token)
        acknowledged = time.perf_counter()
        deadline = acknowledged + timeout
        while not visible(destination, token):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{service} write {token} from {source} not seen in {destination} after {timeout}s")
            time.sleep(POLL_SECONDS)
        lags.append(time.perf_counter() - acknowledged)
    return lags


def _client(cloud: LocalCloud, service: str, region: str) -> Any:
    config = Config(retries={"max_attempts": 1})
    return boto3.client(service, region_name=region, endpoint_url=cloud.region_endpoint(region), config=config,
                        **BENCH_KEYS)


Probe = tuple[Callable[[str, str], None], Callable[[str, str], bool]]


def _s3_probe(cloud: LocalCloud, clients: dict[str, Any]) -> Probe:
    """Versioned buckets in both regions replicating into each other."""
    buckets = {region: f"sandbox-bench-{region}" for region in clients}
    for region, bucket in buckets.items():
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            clients[region].create_bucket(Bucket=bucket, **extra)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        clients[region].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for region, bucket in buckets.items():
        other = next(b for r, b in buckets.items() if r != region)
        rule = {"ID": "bench", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{other}"}}
        clients[region].put_bucket_replication(
            Bucket=bucket, ReplicationConfiguration={"Role": "arn:aws:iam::123456789012:role/bench", "Rules": [rule]}
        )

    def write(region: str, token: str) -> None:
        clients[region].put_object(Bucket=buckets[region], Key=f"bench/{token}", Body=token.encode())

    def visible(region: str, token: str) -> bool:
        try:
            clients[region].head_object(Bucket=buckets[region], Key=f"bench/{token}")
        except ClientError:
            return False
        return True

    return write, visible


def _dynamodb_probe(cloud: LocalCloud, clients: dict[str, Any]) -> Probe:
    """A table in both regions declared as a global table."""
    for client in clients.values():
        if BENCH_TABLE not in client.list_tables()["TableNames"]:
            client.create_table(
                TableName=BENCH_TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
    cloud.replicate_table(BENCH_TABLE, list(clients))

    def write(region: str, token: str) -> None:
        clients[region].put_item(TableName=BENCH_TABLE, Item={"id": {"S": token}})

    def visible(region: str, token: str) -> bool:
        item = clients[region].get_item(TableName=BENCH_TABLE, Key={"id": {"S": token}}, ConsistentRead=True)
        return "Item" in item

    return write, visible


def summarize(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    return {
        "n": len(ordered),
        "min": ordered[0],
        "p50": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
        "max": ordered[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="writes per service (default 20)")
    parser.add_argument("--lag", type=float, default=1.0, help="configured replication lag, seconds (default 1.0)")
    args = parser.parse_args(argv)
    with LocalCloud(port=0, replication_lag=args.lag) as cloud:
        rows = [(s, summarize(bench_replication_lag(cloud, args.samples, s))) for s in ("s3", "dynamodb")]
    print(f"replication lag (configured {args.lag:.2f}s): seconds from an acknowledged write to its sighting")
    print(f"{'service':<10}{'n':>4}{'min':>9}{'p50':>9}{'p90':>9}{'max':>9}")
    for service, s in rows:
        print(f"{service:<10}{s['n']:>4}{s['min']:>9.3f}{s['p50']:>9.3f}{s['p90']:>9.3f}{s['max']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
