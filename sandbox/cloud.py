"""LocalCloud: moto in-process as a two-region AWS on 127.0.0.1, with what moto lacks.

    cloud = LocalCloud(regions=["us-east-1", "ap-northeast-1"], port=4566, replication_lag=1.0)
    cloud.start()
    cloud.endpoint                       # http://127.0.0.1:4566: region from each request's SigV4 scope
    cloud.region_endpoint("us-east-1")   # http://127.0.0.1:4567: everything here is us-east-1
    cloud.set_outage("us-east-1", True)  # that region's endpoints answer 503
    cloud.mount("/execute-api/", app)    # on every port; environ["sandbox.region"] on region ports
    cloud.set_principals(broker)         # keys it issued are checked (SigV4, IAM); any other key is admin
    cloud.allow_origin("http://127.0.0.1:8080")  # a browser origin the AWS endpoints answer (CORS)
    cloud.control_token                  # what /_sandbox/... calls must send (X-Sandbox-Token)
    cloud.replicate_table("Comments", ["us-east-1", "ap-northeast-1"])
    cloud.wait_replication_idle(10)
    cloud.stop()

Pieces, one job each: `server` (ports, the Host check), `frontdoor` (the order of the stages),
`access` (SigV4 and IAM on every call), `cors` (which origins), `outage` (switch and control API),
`s3_replication`, `ddb_replication`, `replication` (the lagged queue they share), `user_pools` and
`s3_rules` (what Cognito and S3 refuse and moto allows); moto patches live in the root module `patches`. moto's state is
process-wide, so one LocalCloud runs at a time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

import patches
from sandbox.access import AccessControl, Principals
from sandbox.cors import CorsPolicy
from sandbox.ddb_replication import DynamoReplicator
from sandbox.frontdoor import (
    FrontDoor,
    Mount,
    RegionOf,
    RegionPin,
    Router,
    WsgiApp,
    buffer_body,
    denied_by_access_check,
    incoming_request,
    refusing,
)
from sandbox.outage import CONTROL_SERVICE, TOKEN_HEADER, Outages, control_app
from sandbox.s3_replication import S3Replicator
from sandbox.s3_rules import S3Rules
from sandbox.server import HttpServer, PortInUseError, bind, check_loopback
from sandbox.user_pools import UserPoolRules

__all__ = ["ACCOUNT", "LocalCloud", "PortInUseError"]

ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGIONS = ("us-east-1", "ap-northeast-1")

_running_lock = threading.Lock()
_running: LocalCloud | None = None


class LocalCloud:
    """A local multi-region AWS endpoint built on moto; see the module docstring."""

    def __init__(
        self,
        regions: Sequence[str] = DEFAULT_REGIONS,
        host: str = "127.0.0.1",
        port: int = 4566,
        region_ports: dict[str, int] | None = None,
        replication_lag: float = 1.0,
        account: str = ACCOUNT,
        allowed_origins: Sequence[str] = (),
    ) -> None:
        """`region_ports`: {region: port}, 0 = any free port; default port+1, port+2... (all 0 when port is 0)."""
        regions = list(regions)
        if not regions or len(set(regions)) != len(regions):
            raise ValueError(f"regions: expected distinct region names, got {regions}")
        check_loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port: expected 0-65535, got {port}")
        if region_ports is None:
            region_ports = {r: (port + 1 + i if port else 0) for i, r in enumerate(regions)}
        unknown = set(region_ports) - set(regions)
        if unknown or set(region_ports) != set(regions):
            raise ValueError(f"region_ports: expected a port for each of {regions}, got {sorted(region_ports)}")
        if replication_lag < 0:
            raise ValueError(f"replication_lag: expected seconds >= 0, got {replication_lag}")
        self.regions = regions
        self.host = host
        self.account = account
        self._port = port
        self._region_ports = dict(region_ports)
        self.lock = threading.RLock()  # held by every backend call and every replication write
        self.outages = Outages(regions)
        self.s3 = S3Replicator(replication_lag, self.lock, self.outages.is_up)
        self.dynamodb = DynamoReplicator(replication_lag, self.lock, self.outages.is_up, account)
        self.control_token = secrets.token_urlsafe(32)
        self.access = AccessControl(account)
        self.cors = CorsPolicy(allowed_origins)
        self._router = Router(
            DomainDispatcherApplication(create_backend_app),
            self.outages,
            self.lock,
            control_app(self.outages, self._status, self._control_authorized),
            account,
            self.access,
            self.cors,
        )
        self._router.wrap(refusing(UserPoolRules(account).refusal))  # what user pools refuse and moto allows
        self._router.wrap(refusing(S3Rules(account).refusal))  # conditional writes never overwrite
        self._region_pin = RegionPin()
        self._patches = patches.Patches()
        self._servers: dict[str | None, HttpServer] = {}

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LocalCloud:
        """Bind every port (PortInUseError if one is taken), then serve and replicate."""
        global _running
        with _running_lock:
            if _running is not None:
                raise RuntimeError("a LocalCloud is already running in this process (moto's state is process-wide)")
            sockets = {}
            try:
                sockets[None] = bind(self.host, self._port, "generic AWS endpoint")
                for region in self.regions:
                    sockets[region] = bind(self.host, self._region_ports[region], f"{region} endpoint")
            except PortInUseError:
                for sock in sockets.values():
                    sock.close()
                raise
            for region, sock in sockets.items():
                name = f"sandbox-{region or 'generic'}"
                self._servers[region] = HttpServer(sock, FrontDoor(self._router, region), name)
            self.s3.start()
            # Before the replicator wraps transactions, so that it is restored after it (patches undo LIFO).
            patches.journal_dynamodb_transactions(self._patches)
            self.dynamodb.start()
            self._region_pin.start()
            patches.defer_s3_bucket_policies(self._patches, denied_by_access_check)  # decided by sandbox.access
            for server in self._servers.values():
                server.start()
            _running = self
        return self

    def stop(self) -> None:
        """Stop serving and replicating (pending replication is dropped); moto's state stays."""
        global _running
        with _running_lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()
            self.s3.stop()
            self.dynamodb.stop()
            self._region_pin.stop()
            self._patches.restore()
            if _running is self:
                _running = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- endpoints ---------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """The generic AWS endpoint: each request's region comes from its SigV4 scope (as in moto)."""
        return self._server(None).url

    def region_endpoint(self, region: str) -> str:
        """The endpoint that serves everything as `region`, unsigned browser calls included."""
        if region not in self.regions:
            raise ValueError(f"region: unknown region {region!r}; expected one of {', '.join(self.regions)}")
        return self._server(region).url

    def _server(self, region: str | None) -> HttpServer:
        server = self._servers.get(region)
        if server is None:
            raise RuntimeError("the LocalCloud is not started")
        return server

    # -- outages -----------------------------------------------------------------------------------------
    def set_outage(self, region: str, down: bool) -> None:
        """Make every endpoint of `region` (or "primary"/"secondary") answer 503, or bring it back."""
        self.outages.set(region, down)

    def is_down(self, region: str) -> bool:
        return self.outages.is_down(self.outages.resolve(region))

    # -- the doors ---------------------------------------------------------------------------------------------
    def set_principals(self, principals: Principals) -> None:
        """Who issued keys belong to (the credentials broker): their calls are verified and authorised, and
        S3 replication acts as each configuration's role (its policies decide what is copied)."""
        self.access.principals = principals
        self.s3.authorize = self.access.role_may

    def allow_origin(self, origin: str) -> None:
        """Let a browser origin (scheme://host:port) call the AWS endpoints (CORS); S3 also needs the bucket's rules."""
        self.cors.allow(origin)

    def _control_authorized(self, environ: dict[str, Any]) -> bool:
        token = environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), "")
        if token and hmac.compare_digest(token.encode(), self.control_token.encode()):
            return True
        buffer_body(environ)
        return self.access.signed_by_operator(incoming_request(environ, None), CONTROL_SERVICE, self.regions)

    # -- extension points --------------------------------------------------------------------------------
    def mount(self, prefix: str, wsgi_app: WsgiApp, region_of: RegionOf | None = None) -> None:
        """Serve paths under `prefix` with `wsgi_app` on every port (longest prefix wins).

        The app gets environ["sandbox.region"] on region ports; `region_of(environ)` tells which
        region a request on the generic port belongs to, for outages (default: its SigV4 scope).
        """
        if not prefix.startswith("/") or not prefix.endswith("/") or prefix.startswith("/_sandbox/"):
            raise ValueError(f"prefix: expected '/name/' outside /_sandbox/, got {prefix!r}")
        self._router.mount(Mount(prefix, wsgi_app, region_of))

    def add_middleware(self, middleware: Callable[[WsgiApp], WsgiApp]) -> None:
        """Wrap the AWS app (moto) on every port, e.g. the credentials broker's `middleware`.

        It runs after outages, the access check and region routing, under the backend lock."""
        self._router.wrap(middleware)

    # -- replication ---------------------------------------------------------------------------------------
    @property
    def replication_lag(self) -> float:
        return self.s3.queue.lag

    @replication_lag.setter
    def replication_lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"replication_lag: expected seconds >= 0, got {seconds}")
        self.s3.queue.lag = self.dynamodb.queue.lag = seconds

    def replicate_table(self, table_name: str, regions: Iterable[str]) -> None:
        """Declare a DynamoDB global table: `table_name` exists in each of `regions` and replicates."""
        regions = list(regions)
        unknown = set(regions) - set(self.regions)
        if unknown:
            raise ValueError(f"regions: not regions of this cloud: {sorted(unknown)}")
        self.dynamodb.add_table(table_name, regions)

    def wait_replication_idle(self, timeout: float = 10.0) -> bool:
        """Block until neither replicator has anything pending; False if `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        queues = (self.s3.queue, self.dynamodb.queue)
        while True:  # one queue may refill while we wait for the other
            for queue in queues:
                if not queue.wait_idle(max(0.0, deadline - time.monotonic())):
                    return False
            if all(queue.pending == 0 for queue in queues):
                return True

    def replication_stats(self) -> dict[str, Any]:
        return {
            "s3": self.s3.queue.stats(),
            "dynamodb": {**self.dynamodb.queue.stats(), **self.dynamodb.counters},
            "globalTables": {name: sorted(regions) for name, regions in self.dynamodb.tables.items()},
        }

    def _status(self) -> dict[str, Any]:
        return {"endpoints": self._endpoints(), "replication": self.replication_stats()}

    def _endpoints(self) -> dict[str, str]:
        return {(region or "generic"): server.url for region, server in self._servers.items()}

