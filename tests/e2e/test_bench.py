"""The benchmark's measurements work on a deployed sandbox (their numbers are for `make bench`, not asserted)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bench.measures import (
    bench_app_replication,
    bench_drills,
    bench_failover_switch,
    bench_replication_lag,
    webapp_js_gzip_bytes,
)
from sandbox.up import Sandbox
from tests.e2e.conftest import WAIT


def test_failover_switch_is_measured_and_the_state_ends_active(sandbox: Sandbox) -> None:
    [seconds] = bench_failover_switch(sandbox, samples=1)
    assert 0 < seconds < 10
    assert sandbox.cloud.wait_replication_idle(5)


def test_app_replication_is_measured_for_comments_records_and_bytes(sandbox: Sandbox) -> None:
    lags = bench_app_replication(sandbox, samples=1)
    assert set(lags) == {"comment", "photo record", "photo bytes"}
    assert all(lag[0] >= sandbox.cloud.replication_lag * 0.9 for lag in lags.values())


def test_webapp_size_is_the_gzip_of_every_script(tmp_path: Path) -> None:
    assert webapp_js_gzip_bytes(tmp_path) is None
    (tmp_path / "assets").mkdir()
    scripts = [b"console.log(1);" * 50, b"export const x = 2;" * 10]
    for i, body in enumerate(scripts):
        (tmp_path / "assets" / f"s{i}.js").write_bytes(body)
    assert webapp_js_gzip_bytes(tmp_path) == sum(len(gzip.compress(b, compresslevel=9)) for b in scripts)


def test_bench_drills_run_in_a_row_and_count_the_passes(sandbox: Sandbox, tmp_path: Path) -> None:
    results = bench_drills(sandbox, 2, tmp_path, steady=0.5)
    assert [r.passed for r, _ in results] == [True, True], [r.aborted for r, _ in results]
    assert all(seconds > 0 for _, seconds in results)
    assert (tmp_path / "drill.json").exists()  # the last drill's report


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_replication_lag_is_measured_where_replication_acts_as_its_role(sandbox: Sandbox, service: str) -> None:
    """On the sandbox that checks the replication role's permissions, as `make bench` runs it."""
    lags = bench_replication_lag(sandbox.cloud, samples=2, service=service, timeout=WAIT)
    assert len(lags) == 2 and all(lag >= sandbox.cloud.replication_lag * 0.9 for lag in lags)
