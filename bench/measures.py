"""The measurements of `make bench` (bench/__main__.py prints them).

`bench_replication_lag(cloud, service=...)` writes in one region, alternating directions,
and polls the other region's endpoint until the write shows; each sample is the time from
the write's acknowledgement to its first sighting. `bench_drills` runs failover drills in a row
on one sandbox and counts the ones that pass.
"""

from __future__ import annotations

import gzip
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ops.appclient import AppUser
from ops.drill_model import DrillResult
from sandbox.cloud import LocalCloud

ROOT = Path(__file__).resolve().parent.parent
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
    """Versioned buckets in both regions replicating the photo prefix into each other, each direction as a role
    with exactly the program's replication permissions (the sandbox replicates as that role)."""
    from components.contract import PHOTO_PREFIX
    from components.object_store import replication_policy

    buckets = {region: f"sandbox-bench-{region}" for region in clients}
    for region, bucket in buckets.items():
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            clients[region].create_bucket(Bucket=bucket, **extra)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        clients[region].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=cloud.endpoint,
                       config=Config(retries={"max_attempts": 1}), **BENCH_KEYS)
    for region, bucket in buckets.items():
        other = next(b for r, b in buckets.items() if r != region)
        role = _replication_role(iam, f"sandbox-bench-repl-{region}",
                                 replication_policy(f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{other}"))
        rule = {"ID": "bench", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": PHOTO_PREFIX},
                "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{other}"}}
        clients[region].put_bucket_replication(Bucket=bucket,
                                               ReplicationConfiguration={"Role": role, "Rules": [rule]})

    def write(region: str, token: str) -> None:
        clients[region].put_object(Bucket=buckets[region], Key=f"{PHOTO_PREFIX}bench/{token}", Body=token.encode())

    def visible(region: str, token: str) -> bool:
        try:
            clients[region].head_object(Bucket=buckets[region], Key=f"{PHOTO_PREFIX}bench/{token}")
        except ClientError:
            return False
        return True

    return write, visible


def _replication_role(iam: Any, name: str, policy: str) -> str:
    """The ARN of role `name`, trusted by S3, with `policy` inline (created or updated)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="replicate", PolicyDocument=policy)
    return str(arn)


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


def demo_user(sandbox: Any) -> AppUser:
    """The sandbox's demo user, signed in: the writer of the app-level benchmarks."""
    return AppUser.sign_in(sandbox.ui_config, sandbox.demo_user["username"], sandbox.demo_user["password"])


def bench_cold_start(runs: int = 3, timeout: float = 120.0) -> list[float]:
    """Seconds from `python -m sandbox up` (a new process) to its session file: everything deployed."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            session = Path(tmp) / "session.json"
            began = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-m", "sandbox", "up", "--port", "0", "--aws-port", "0",
                                        "--session", str(session)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
            try:
                while not session.exists():
                    if process.poll() is not None:
                        raise RuntimeError(f"sandbox up failed: {process.stderr.read()[-500:]}")  # type: ignore[union-attr]
                    if time.perf_counter() - began > timeout:
                        raise TimeoutError(f"sandbox not ready after {timeout}s")
                    time.sleep(0.02)
                times.append(time.perf_counter() - began)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    return times


def bench_failover_switch(sandbox: Any, samples: int = 5, timeout: float = 10.0) -> list[float]:
    """Seconds from `ops state set failover` (through the secondary, from fenced) until the secondary's
    API accepts a signed write; the state goes back to active between samples."""
    from ops.factory import Factory
    from ops.state import Via, set_state

    with tempfile.TemporaryDirectory() as tmp:
        factory = Factory(session_file=sandbox.write_session(Path(tmp) / "session.json"))
        target = factory.sandbox_target()
        user = demo_user(sandbox)
        times = []
        for i in range(samples):
            set_state(factory, target, "fenced", via=Via.primary)
            sandbox.cloud.wait_replication_idle(timeout)
            began = time.perf_counter()
            set_state(factory, target, "failover", via=Via.secondary)
            while user.send_comment("secondary", f"bench-switch-{i}", "switch").status != 200:
                if time.perf_counter() - began > timeout:
                    raise TimeoutError(f"the secondary did not accept writes {timeout}s after failover")
                time.sleep(POLL_SECONDS)
            times.append(time.perf_counter() - began)
            set_state(factory, target, "fenced", via=Via.secondary)
            sandbox.cloud.wait_replication_idle(timeout)
            set_state(factory, target, "active", via=Via.primary)
            sandbox.cloud.wait_replication_idle(timeout)
    return times


def bench_app_replication(sandbox: Any, samples: int = 5) -> dict[str, list[float]]:
    """`ops smoke` as a benchmark: seconds until a comment, a photo record and its bytes show in the other region."""
    from ops.smoke import run_smoke

    user = demo_user(sandbox)
    lags: dict[str, list[float]] = {}
    for _ in range(samples):
        for check in run_smoke(user, "primary", timeout=30):
            if not check.replicated:
                raise TimeoutError(f"{check.what} not replicated within 30 s")
            lags.setdefault(check.what, []).append(check.lagMs / 1000)
    return lags


def bench_drills(sandbox: Any, count: int, report_dir: Path, steady: float = 2.0) -> list[tuple[DrillResult, float]]:
    """`count` failover drills in a row (ops drill --sandbox, primary outage included), each starting where
    the last one left the application: (result, seconds) per drill. The last report goes to `report_dir`."""
    from ops.drill import DrillPlan, run_drill, sandbox_outage
    from ops.drill_report import write_report
    from ops.errors import OpsError
    from ops.factory import Factory

    results: list[tuple[DrillResult, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        factory = Factory(session_file=sandbox.write_session(Path(tmp) / "session.json"))
        target = factory.sandbox_target()
        user = demo_user(sandbox)
        plan = DrillPlan.for_target(target, steady=steady)
        for n in range(count):
            began = time.perf_counter()
            try:
                result = run_drill(factory, target, user, plan, sandbox_outage(factory))
            except OpsError as refused:  # pre-flight: the last drill left the application switched
                result = DrillResult(target=target.label, rate=plan.rate, outage=True, duration=0.0, events=[],
                                     attempts=[], windows=[], drains={}, rpo_missing={},
                                     aborted=f"pre-flight refused: {refused}")
            results.append((result, time.perf_counter() - began))
            print(f"drill {n + 1:>2}/{count}: {'pass' if result.passed else 'FAIL'} in {results[-1][1]:.1f} s, "
                  f"RTO {result.rto:.2f} s{', ' + result.aborted if result.aborted else ''}", flush=True)
    if results:
        write_report(results[-1][0], report_dir)
    return results


def webapp_js_gzip_bytes(dist: Path = ROOT / "webapp" / "dist") -> int | None:
    """Total gzipped size of the built web app's JavaScript, or None when it is not built."""
    scripts = sorted(dist.rglob("*.js")) if dist.is_dir() else []
    if not scripts:
        return None
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in scripts)
