"""`diagram`: the architecture graph comes from the program's registrations, and is drawn as PNG or SVG."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from components.contract import Out, RegionOut
from harness.program import ProgramRun
from ops import diagram
from ops.cli import app
from ops.diagram import REST_API, Graph, Kind, Link, Node, build_graph
from ops.factory import Factory
from tests.conftest import PRIMARY, SECONDARY


@pytest.fixture(scope="module")
def graph(prod: ProgramRun) -> Graph:
    return build_graph(prod, "prod")


def run(*args: str, factory: Factory | None = None):
    return CliRunner().invoke(app, list(args), obj=factory or Factory(session_file=Path("/nonexistent/session.json")))


def api(graph: Graph, prod: ProgramRun, role: str, key: str) -> Node:
    reg = next(r for r in prod.of_type(REST_API) if r.id == prod.outputs[role][key])
    return graph.node(reg.urn)


def targets(graph: Graph, source: Node, kind: str) -> set[str]:
    return {graph.node(e.target).name for e in graph.edges_of(kind) if e.source == source.id}


def only(nodes: list[Node]) -> Node:
    assert len(nodes) == 1, [n.name for n in nodes]
    return nodes[0]


def test_graph_of_prod_has_both_regions_and_the_global_services(graph):
    assert graph.regions == {"primary": PRIMARY, "secondary": SECONDARY}
    assert {n.region for n in graph.nodes} == {PRIMARY, SECONDARY, None}
    assert {n.kind for n in graph.nodes if n.region is None} == {Kind.CDN, Kind.OPERATOR_ROLE}


def test_object_buckets_replicate_both_ways(graph, prod):
    primary = only(graph.nodes_of(Kind.OBJECT_BUCKET, PRIMARY))
    secondary = only(graph.nodes_of(Kind.OBJECT_BUCKET, SECONDARY))
    assert (primary.physical, secondary.physical) == (prod.outputs[Out.PRIMARY][RegionOut.BUCKET],
                                                      prod.outputs[Out.SECONDARY][RegionOut.BUCKET])
    edges = {(e.source, e.target): e.label for e in graph.edges_of(Link.S3_REPLICATION)}
    assert edges == {(primary.id, secondary.id): "public/*", (secondary.id, primary.id): "public/*"}


def test_each_global_table_has_a_replica_in_the_secondary(graph, prod):
    tables = graph.nodes_of(Kind.TABLE, PRIMARY)
    assert sorted(t.physical for t in tables) == sorted(prod.outputs[Out.TABLES].values())
    replicas = {e.source: graph.node(e.target) for e in graph.edges_of(Link.TABLE_REPLICA)}
    assert set(replicas) == {t.id for t in tables}
    assert {(r.kind, r.region) for r in replicas.values()} == {(Kind.TABLE_REPLICA, SECONDARY)}
    assert len({r.id for r in replicas.values()}) == len(prod.outputs[Out.TABLES]) == 4
    assert graph.nodes_of(Kind.TABLE, SECONDARY) == []  # the secondary holds replicas only


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("secondary", SECONDARY)])
def test_both_apis_in_each_region_call_the_tables_of_their_own_region(graph, prod, role, region):
    assert len(graph.nodes_of(Kind.API, region)) == 2
    routing = api(graph, prod, role, RegionOut.ROUTING_API_ID)
    photos = api(graph, prod, role, RegionOut.PHOTOS_API_ID)
    assert {routing.region, photos.region} == {region}
    assert routing.details == ("GET PUT /state/{appId}",)
    suffix = "" if role == "primary" else "-secondary"
    # GET /state reads the state item; PUT /state switches it and records the switch (one transaction).
    assert targets(graph, routing, Link.INTEGRATION) == {f"tables-app-config{suffix}", f"tables-state-audit{suffix}"}
    assert targets(graph, photos, Link.INTEGRATION) == {f"tables-{t}{suffix}" for t in ("app-config", "comments",
                                                                                          "photos")}
    calls = {graph.node(e.target).name: e.label for e in graph.edges_of(Link.INTEGRATION) if e.source == routing.id}
    assert calls == {f"tables-app-config{suffix}": "GetItem, TransactWriteItems",
                     f"tables-state-audit{suffix}": "TransactWriteItems"}


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
def test_each_region_has_its_own_cognito_identity(graph, region):
    pool = only(graph.nodes_of(Kind.IDENTITY_POOL, region))
    users = only(graph.nodes_of(Kind.USER_POOL, region))
    assert targets(graph, pool, Link.SIGN_IN) == {users.name}
    granted = [graph.node(e.target) for e in graph.edges_of(Link.GRANT) if e.source == pool.id]
    assert {(n.kind, n.region) for n in granted} == {(kind, r) for kind in (Kind.API, Kind.OBJECT_BUCKET)
                                                     for r in (PRIMARY, SECONDARY)}


def test_cloudfront_serves_the_site_bucket_of_each_region_primary_first(graph, prod):
    cdn = only(graph.nodes_of(Kind.CDN))
    origins = {graph.node(e.target).physical: e.label for e in graph.edges_of(Link.ORIGIN) if e.source == cdn.id}
    assert origins == {prod.outputs[Out.PRIMARY][RegionOut.SITE_BUCKET]: "primary origin",
                       prod.outputs[Out.SECONDARY][RegionOut.SITE_BUCKET]: "failover origin"}


def test_operator_role_reaches_every_api_and_every_table_in_both_regions(graph):
    operator = only(graph.nodes_of(Kind.OPERATOR_ROLE))
    reached = [graph.node(e.target) for e in graph.edges_of(Link.OPERATE) if e.source == operator.id]
    assert sorted((n.kind, n.region) for n in reached if n.kind == Kind.API) == sorted(
        [(Kind.API, PRIMARY)] * 2 + [(Kind.API, SECONDARY)] * 2)
    # The state and audit tables to switch the state; the data tables to count items (ops status); the photo
    # buckets to sweep unregistered objects (ops photos sweep).
    assert {n.name for n in reached if n.kind != Kind.API} == {
        f"tables-{t}{suffix}" for t in ("app-config", "comments", "photos", "state-audit")
        for suffix in ("", "-secondary")} | {"photos-primary", "photos-secondary"}


def test_diagram_writes_an_svg_naming_both_regions(tmp_path):
    out = tmp_path / "architecture.svg"
    result = run("diagram", "--stack", "prod", "-o", str(out), "--json")  # target options after the command too
    assert result.exit_code == 0, result.output
    text = " ".join(ElementTree.parse(out).getroot().itertext())  # the drawn text, entities decoded
    assert f"primary — {PRIMARY}" in text and f"secondary — {SECONDARY}" in text
    graph = json.loads(result.stdout)
    assert (graph["file"], graph["stack"], graph["regions"]["secondary"]) == (str(out), "prod", SECONDARY)
    assert result.stderr.startswith(f"wrote {out}: stack prod, ")


def test_sandbox_target_draws_the_sandbox_stack_config(tmp_path, monkeypatch, prod):
    seen = []
    monkeypatch.setattr(diagram, "program_run", lambda stack, root: seen.append(stack) or prod)
    monkeypatch.setattr(diagram, "render", lambda graph, path: path.write_text(graph.stack))
    out = tmp_path / "a.png"
    result = run("--sandbox", "diagram", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert seen == ["sandbox"] and out.read_text() == "sandbox"


def test_unsupported_extension_is_a_usage_error(tmp_path):
    result = run("--stack", "prod", "diagram", "-o", str(tmp_path / "architecture.pdf"))
    assert result.exit_code == 2
    assert result.stderr == "error: cannot draw architecture.pdf: -o must end in .png or .svg\n"
    assert not (tmp_path / "architecture.pdf").exists()


def test_missing_stack_config_is_a_usage_error(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    result = run("--stack", "staging", "diagram", "-o", str(tmp_path / "a.svg"), factory=Factory(root=tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (f"error: no stack config Pulumi.staging.yaml in {tmp_path} "
                             "(stacks with a config: dev)\n")


def test_missing_graphviz_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    result = run("--stack", "prod", "diagram", "-o", str(tmp_path / "a.png"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {diagram.NO_DOT}\n"
    assert "apt-get install graphviz" in result.stderr


@pytest.mark.parametrize("args", [["diagram"], ["--sandbox", "diagram", "--stack", "prod"],
                                  ["--stack", "prod", "diagram", "--stack", "dev"]])
def test_exactly_one_target_is_needed(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(("error: no target: ", "error: choose one target: "))
    assert result.stderr.count("\n") == 1
