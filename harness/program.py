"""Run the Pulumi program in-process under the SDK's mock runtime, without the CLI.

One runner serves the unit tests, `make preview` and the sandbox: each passes a
`Cloud` that answers resource registrations and invokes (a fake that invents ids,
or the local moto cloud that really creates them). The runner records every
registration with its region (from the provider it was given), its resource options
and its resolved outputs, and the stack's exports.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_TYPE = "pulumi:providers:aws"


@dataclass
class Registration:
    """One resource the program registered."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    region: str | None  # None for components and for anything on a default provider
    provider: str  # "<urn>::<id>" of the explicit provider, '' if none
    options: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


class Cloud(Protocol):
    """What answers the mock runtime."""

    def create(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        """Create the resource; return its id and every output the program may read."""

    def invoke(self, token: str, args: dict[str, Any], region: str | None) -> dict[str, Any]:
        """Answer a data-source call such as aws:index/getCallerIdentity:getCallerIdentity."""


@dataclass
class ProgramRun:
    """What one run of the program registered and exported."""

    resources: list[Registration]
    outputs: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_contains: str = "") -> Registration:
        found = [r for r in self.of_type(type_) if name_contains in r.name]
        if len(found) != 1:
            names = [r.name for r in found]
            raise AssertionError(f"expected one {type_} named *{name_contains}*, found {names}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: Registration) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent.urn]

    def in_region(self, region: str) -> list[Registration]:
        return [r for r in self.resources if r.region == region]


class _Recorder(pulumi_mocks.Mocks):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.resources: list[Registration] = []
        self.provider_regions: dict[str, str] = {}  # "<urn>::<id>" -> region
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[Exception] = []  # what the cloud refused (the run raises the first)

    def register(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        if reg.provider:
            reg.region = self.provider_regions.get(reg.provider)
        if reg.type == PROVIDER_TYPE:
            reg.region = reg.inputs.get("region")
        try:
            id_, outputs = self.cloud.create(reg)
        except Exception as error:
            self.errors.append(error)
            raise
        reg.id, reg.outputs = id_, outputs
        if reg.type == PROVIDER_TYPE:
            self.provider_regions[f"{reg.urn}::{id_}"] = reg.region or ""
        self.resources.append(reg)
        return id_, outputs

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        raise AssertionError("registrations go through _Monitor.RegisterResource")

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
        region = self.provider_regions.get(args.provider) if args.provider else None
        self.invokes.append((args.token, dict(args.args)))
        return self.cloud.invoke(args.token, dict(args.args), region), []


class _Monitor(pulumi_mocks.MockMonitor):
    """Like MockMonitor.RegisterResource, but also records the resource options
    (not part of MockResourceArgs) and serializes registrations (the SDK sends them
    from worker threads; a cloud answering them need not be thread-safe)."""

    def __init__(self, recorder: _Recorder):
        super().__init__(recorder)
        self.recorder = recorder
        self.lock = threading.Lock()

    def RegisterResource(self, request):  # noqa: N802 (gRPC name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        reg = Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=rpc.deserialize_properties(request.object),
            region=None,
            provider=request.provider,
            options={
                "ignore_changes": list(request.ignoreChanges),
                "retain_on_delete": bool(request.retainOnDelete),
                "protect": bool(request.protect),
                "depends_on": list(request.dependencies),
                "replace_on_changes": list(request.replaceOnChanges),
                "delete_before_replace": bool(request.deleteBeforeReplace),
                # Former names (alias specs or URNs, whichever the SDK sent): the resource moves, not replaced.
                "aliases": [str(a) for a in (*request.aliases, *request.aliasURNs)],
                "import": request.importId,  # the `import_` option ('' when not importing)
            },
        )
        with self.lock:
            id_, state = self.recorder.register(reg)
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)


def stack_config(stack: str, root: Path = ROOT) -> dict[str, str]:
    """The config of `Pulumi.<stack>.yaml` as the flat string map the runtime takes."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return {key: _config_string(value) for key, value in config.items()}


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def run_program(
    cloud: Cloud,
    config: Mapping[str, str],
    *,
    stack: str = "prod",
    project: str = "multi-region-app",
    program: Path = ROOT / "__main__.py",
) -> ProgramRun:
    """Run `program` once under mocks with `config` ({"ns:key": "value"}).

    Raises what the program raises (e.g. ConfigError for bad config).
    """
    recorder = _Recorder(cloud)
    pulumi.runtime.set_all_config(dict(config))
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, monitor=_Monitor(recorder))
    root = str(program.parent)
    if root not in sys.path:
        sys.path.insert(0, root)

    stack_resource = pulumi.runtime.get_root_resource()
    # The mock runtime keeps one root stack per process: forget the exports of an earlier run.
    if stack_resource is not None and getattr(stack_resource, "outputs", None):
        stack_resource.outputs.clear()
    exports: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        runpy.run_path(str(program), run_name="__main__")
        # pulumi.export stores on the root stack resource; resolve them here.
        exports.update(getattr(stack_resource, "outputs", {}) or {})
        return pulumi.Output.from_input(exports).apply(lambda resolved: exports.update(resolved))

    try:
        run()
    except Exception:
        _report_once(recorder.errors)
        raise
    finally:
        pulumi.runtime.set_all_config({})
    return ProgramRun(resources=list(recorder.resources), outputs=dict(exports), invokes=recorder.invokes)


def _report_once(errors: list[Exception]) -> None:
    """The run raises what the cloud refused; every other pending output that carries the same errors must not
    print it again ("Future exception was never retrieved") when asyncio collects it."""
    if not errors:
        return
    loop = asyncio.get_event_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if any(context.get("exception") is error for error in errors):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def format_tree(run: ProgramRun, regions: Iterable[str]) -> str:
    """A readable per-region listing of the custom resources of a run."""
    lines = []
    for region in regions:
        regs = [r for r in run.in_region(region) if r.type != PROVIDER_TYPE]
        lines.append(f"{region}  ({len(regs)} resources)")
        for reg in sorted(regs, key=lambda r: (r.type, r.name)):
            lines.append(f"  {reg.type:<60} {reg.name}")
    orphans = [r for r in run.resources if r.custom and r.region is None]
    if orphans:
        lines.append(f"no region (default provider!)  ({len(orphans)})")
        lines += [f"  {r.type:<60} {r.name}" for r in orphans]
    return "\n".join(lines)
