"""Starting and stopping the local cloud: ports, clear errors, clean shutdown.

These tests start their own LocalCloud (one at a time per process), not the module fixture.
"""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest

from sandbox.cloud import LocalCloud, PortInUseError
from sandbox.outage import TOKEN_HEADER
from tests.sandbox.cloud_support import PRIMARY, SECONDARY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_taken_port_fails_start_with_one_clear_line_and_binds_nothing() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    generic = free_port()
    try:
        cloud = LocalCloud(port=generic, region_ports={PRIMARY: 0, SECONDARY: port})
        with pytest.raises(PortInUseError) as error:
            cloud.start()
    finally:
        taken.close()

    message = str(error.value)
    assert "\n" not in message and f"port {port}" in message and SECONDARY in message and "already in use" in message
    with socket.socket() as probe:  # the generic port bound first was released
        probe.bind(("127.0.0.1", generic))


def test_region_ports_default_to_the_ports_after_the_generic_one() -> None:
    base = free_port()
    while any(_taken(base + i) for i in (1, 2)):
        base = free_port()
    with LocalCloud(regions=[PRIMARY, SECONDARY], port=base) as cloud:
        assert cloud.endpoint == f"http://127.0.0.1:{base}"
        assert cloud.region_endpoint(PRIMARY) == f"http://127.0.0.1:{base + 1}"
        assert cloud.region_endpoint(SECONDARY) == f"http://127.0.0.1:{base + 2}"


def test_stop_closes_the_ports_and_joins_the_threads() -> None:
    before = {t.name for t in threading.enumerate()}
    cloud = LocalCloud(port=0).start()
    health = urllib.request.Request(f"{cloud.endpoint}/_sandbox/health", headers={TOKEN_HEADER: cloud.control_token})
    assert urllib.request.urlopen(health, timeout=5).status == 200
    cloud.stop()

    with pytest.raises(OSError):
        urllib.request.urlopen(health, timeout=2)
    leftover = {t.name for t in threading.enumerate()} - before
    assert not {n for n in leftover if n.startswith(("sandbox-", "s3-replication", "dynamodb-replication"))}


def test_only_one_cloud_runs_per_process_because_moto_state_is_shared() -> None:
    with LocalCloud(port=0):
        with pytest.raises(RuntimeError, match="already running"):
            LocalCloud(port=0).start()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"host": "0.0.0.0"}, "host: the sandbox listens on loopback only"),
        ({"regions": []}, "regions: expected distinct region names"),
        ({"region_ports": {PRIMARY: 0}}, "region_ports: expected a port for each of"),
        ({"replication_lag": -1}, "replication_lag: expected seconds >= 0"),
    ],
)
def test_invalid_arguments_are_refused_naming_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LocalCloud(**{"port": 0, **kwargs})


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
