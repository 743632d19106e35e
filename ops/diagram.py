"""`diagram`: the architecture drawn from the program's own resource graph, as PNG or SVG.

The repo's program runs offline under the mock runtime (`harness.program.run_program` with the fake
cloud) with the stack's `Pulumi.<stack>.yaml` config, exactly as `make preview` does. Nothing is drawn
from a hand-written list:

- nodes are the registrations of the types in `NODE_TYPES` (buckets, tables and their replicas, REST
  APIs, Cognito pools, the CloudFront distribution) plus every IAM role that people assume (its trust
  policy names an AWS account principal, not a service or an identity provider): the operator role;
- edges come from the inputs: a BucketReplicationConfig's bucket -> its rules' destination bucket ARN,
  a TableReplica's globalTableArn -> the replica, an API integration's DynamoDB action and the
  `TableName`s of its request template -> the table in the integration's region, a distribution's
  origins -> the buckets whose domain they name, an identity pool's providers -> user pools, and the
  Allow statements of the policies of the identity pools' roles and of the operator role -> the APIs,
  tables and buckets their resource ARNs name.

Rendering needs graphviz's `dot` on PATH (apt-get install graphviz).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import graphviz
import typer

from components.contract import PROJECT, REGION_ROLES, RegionOut
from ops.context import cli_of
from ops.errors import OpsError, UsageError
from ops.output import JsonOption, emit_json, say

if TYPE_CHECKING:
    from harness.program import ProgramRun, Registration

DEFAULT_OUTPUT = Path("docs") / "architecture.png"  # under the repo root
FORMATS = {".png": "png", ".svg": "svg"}
NO_DOT = "graphviz's `dot` is not installed: install graphviz (apt-get install graphviz, brew install graphviz)"

# Resource types.
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION_CONFIG = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
TABLE = "aws:dynamodb/table:Table"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
REST_API = "aws:apigateway/restApi:RestApi"
API_RESOURCE = "aws:apigateway/resource:Resource"
API_METHOD = "aws:apigateway/method:Method"
API_INTEGRATION = "aws:apigateway/integration:Integration"
USER_POOL = "aws:cognito/userPool:UserPool"
IDENTITY_POOL = "aws:cognito/identityPool:IdentityPool"
IDENTITY_POOL_ROLES = "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


class Kind:
    """Node kinds."""

    SITE_BUCKET = "site-bucket"  # a bucket that a CloudFront distribution serves
    OBJECT_BUCKET = "object-bucket"
    TABLE = "table"
    TABLE_REPLICA = "table-replica"
    API = "api"
    USER_POOL = "user-pool"
    IDENTITY_POOL = "identity-pool"
    CDN = "cdn"
    OPERATOR_ROLE = "operator-role"


class Link:
    """Edge kinds."""

    S3_REPLICATION = "s3-replication"  # source bucket -> destination bucket
    TABLE_REPLICA = "table-replica"  # global table -> its replica in another region
    INTEGRATION = "integration"  # REST API -> the table its integrations call
    ORIGIN = "origin"  # distribution -> site bucket
    SIGN_IN = "sign-in"  # identity pool -> the user pool it federates
    GRANT = "grant"  # identity pool (its signed-in users' role) -> what the role may use
    OPERATE = "operate"  # operator role -> what it may use


# Node types of one resource each (buckets become SITE_ or OBJECT_BUCKET once the origins are known).
NODE_TYPES = {
    TABLE: Kind.TABLE,
    TABLE_REPLICA: Kind.TABLE_REPLICA,
    REST_API: Kind.API,
    USER_POOL: Kind.USER_POOL,
    IDENTITY_POOL: Kind.IDENTITY_POOL,
    DISTRIBUTION: Kind.CDN,
}
GLOBAL_KINDS = {Kind.CDN, Kind.OPERATOR_ROLE}  # CloudFront and IAM have no region


@dataclass(frozen=True)
class Node:
    id: str  # the resource's URN
    kind: str
    type: str
    name: str  # the program's logical name
    region: str | None  # None for global services
    physical: str | None = None  # the name the program gave it in AWS, if it names it
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class Graph:
    stack: str
    regions: dict[str, str]  # role -> region name, primary first
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def nodes_of(self, kind: str, region: str | None = None) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind and (region is None or n.region == region)]

    def edges_of(self, kind: str) -> list[Edge]:
        return [e for e in self.edges if e.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "regions": self.regions, "nodes": [asdict(n) for n in self.nodes],
                "edges": [asdict(e) for e in self.edges]}


# --------------------------------------------------------------------------------------------- graph


def build_graph(run: ProgramRun, stack: str) -> Graph:
    """The architecture of one run of the program: see the module docstring."""
    regions = {role: str(run.outputs[role][RegionOut.REGION]) for role in REGION_ROLES if run.outputs.get(role)}
    graph = Graph(stack=stack, regions=regions)
    index = _Index(run)
    origins = _origins(run, index)
    site_buckets = {bucket for _, bucket, _ in origins}
    # Access-log buckets (the hardened profile's) receive logs; they are not part of the architecture.
    log_buckets = {r.inputs.get("targetBucket") for r in run.of_type(BUCKET_LOGGING)}
    for reg in run.resources:
        if reg.type == BUCKET and reg.id in log_buckets:
            continue
        if reg.type == BUCKET:
            kind = Kind.SITE_BUCKET if reg.urn in site_buckets else Kind.OBJECT_BUCKET
            graph.nodes.append(_node(reg, kind, physical=_bucket_name(reg)))
        elif reg.type in NODE_TYPES:
            graph.nodes.append(_node(reg, NODE_TYPES[reg.type], physical=_physical(reg), details=_details(run, reg)))
        elif reg.type == ROLE and _assumed_by_people(reg):
            graph.nodes.append(_node(reg, Kind.OPERATOR_ROLE, physical=_physical(reg)))
    edges = _Edges()
    for distribution, bucket, label in origins:
        edges.add(distribution, bucket, Link.ORIGIN, label)
    _replication_edges(run, index, edges)
    _integration_edges(run, index, edges)
    _identity_edges(run, index, edges)
    for node in graph.nodes_of(Kind.OPERATOR_ROLE):
        for target, actions in _grants(run, index, index.by_urn[node.id]):
            edges.add(node.id, target, Link.OPERATE, actions)
    graph.edges = edges.list()
    return graph


class _Index:
    """Lookups from what inputs name (ARNs, names, ids) to the URNs of the node resources."""

    def __init__(self, run: ProgramRun):
        self.by_urn = {r.urn: r for r in run.resources}
        self.arn: dict[str, str] = {}
        self.bucket: dict[str, str] = {}  # bucket name -> urn
        self.bucket_domain: dict[str, str] = {}
        self.api: dict[str, str] = {}  # rest api id -> urn
        self.table: dict[tuple[str | None, str], str] = {}  # (region, table name) -> urn
        self.user_pool: dict[str, str] = {}  # endpoint or id -> urn
        self.identity_pool: dict[str, str] = {}  # id -> urn
        self.role: dict[str, Registration] = {}  # role name and arn -> registration
        for reg in run.resources:
            arn = reg.outputs.get("arn")
            if arn:
                self.arn[str(arn)] = reg.urn
            if reg.type == BUCKET:
                self.bucket[_bucket_name(reg)] = reg.urn
                for key in ("bucketRegionalDomainName", "bucketDomainName"):
                    if reg.outputs.get(key):
                        self.bucket_domain[str(reg.outputs[key])] = reg.urn
            elif reg.type == REST_API and reg.id:
                self.api[reg.id] = reg.urn
            elif reg.type == TABLE:
                self.table[(reg.region, str(reg.inputs.get("name")))] = reg.urn
            elif reg.type == USER_POOL:
                for key in (reg.id, reg.outputs.get("endpoint")):
                    if key:
                        self.user_pool[str(key)] = reg.urn
            elif reg.type == IDENTITY_POOL and reg.id:
                self.identity_pool[reg.id] = reg.urn
            elif reg.type == ROLE:
                for key in (reg.inputs.get("name"), reg.outputs.get("name"), reg.id, arn):
                    if key:
                        self.role[str(key)] = reg
        for reg in run.of_type(TABLE_REPLICA):  # a replica has its table's name
            table = self.by_urn.get(self.arn.get(str(reg.inputs.get("globalTableArn")), ""))
            if table is not None:
                self.table[(reg.region, str(table.inputs.get("name")))] = reg.urn

    def bucket_of_domain(self, domain: str) -> str | None:
        if domain in self.bucket_domain:
            return self.bucket_domain[domain]
        return self.bucket.get(domain.split(".s3.", 1)[0].split(".s3-", 1)[0])

    def resource(self, arn: str) -> str | None:
        """The node a policy's resource ARN names: a REST API, a table (or replica), a bucket."""
        parts = arn.split(":", 5)
        if len(parts) < 6:
            return None
        service, region, rest = parts[2], parts[3], parts[5]
        if service == "execute-api":
            return self.api.get(rest.split("/", 1)[0])
        if service == "dynamodb" and rest.startswith("table/"):
            return self.table.get((region, rest.split("/")[1]))
        if service == "s3":
            return self.bucket.get(rest.split("/", 1)[0])
        return None


class _Edges:
    """Edges in order of discovery, one per (source, target, kind), their labels merged."""

    def __init__(self) -> None:
        self.labels: dict[tuple[str, str, str], list[str]] = {}

    def add(self, source: str | None, target: str | None, kind: str, label: str = "") -> None:
        if not source or not target or source == target:
            return
        labels = self.labels.setdefault((source, target, kind), [])
        for part in (p.strip() for p in label.split(",")):
            if part and part not in labels:
                labels.append(part)

    def list(self) -> list[Edge]:
        return [Edge(s, t, k, ", ".join(sorted(labels))) for (s, t, k), labels in self.labels.items()]


def _node(reg: Registration, kind: str, *, physical: str | None = None, details: Iterable[str] = ()) -> Node:
    region = None if kind in GLOBAL_KINDS else reg.region
    return Node(id=reg.urn, kind=kind, type=reg.type, name=reg.name, region=region, physical=physical,
                details=tuple(details))


def _bucket_name(reg: Registration) -> str:
    return str(reg.inputs.get("bucket") or reg.outputs.get("bucket") or reg.id or reg.name)


def _physical(reg: Registration) -> str | None:
    for key in ("name", "identityPoolName"):
        if reg.inputs.get(key):
            return str(reg.inputs[key])
    return None


def _details(run: ProgramRun, reg: Registration) -> list[str]:
    if reg.type == TABLE:
        keys = [f"{label} {reg.inputs[key]}" for key, label in (("hashKey", "hash"), ("rangeKey", "range"))
                if reg.inputs.get(key)]
        return [" · ".join(keys)] if keys else []
    if reg.type == REST_API:
        return _routes(run, reg)
    if reg.type == DISTRIBUTION:
        groups = reg.inputs.get("originGroups") or []
        codes = sorted({int(c) for g in groups for c in (g.get("failoverCriteria") or {}).get("statusCodes") or []})
        return [f"origin failover on {', '.join(map(str, codes))}"] if codes else []
    return []


def _routes(run: ProgramRun, api: Registration) -> list[str]:
    """'GET PUT /state/{appId}' per resource path of the API (OPTIONS, the CORS preflight, left out)."""
    resources = {r.id: r for r in run.of_type(API_RESOURCE) if r.inputs.get("restApi") == api.id}

    def path(resource_id: str) -> str:
        parts, seen = [], set()
        while resource_id in resources and resource_id not in seen:
            seen.add(resource_id)
            parts.append(str(resources[resource_id].inputs.get("pathPart", "")))
            resource_id = str(resources[resource_id].inputs.get("parentId"))
        return "/" + "/".join(reversed(parts))

    methods: dict[str, list[str]] = {}
    for method in run.of_type(API_METHOD):
        verb = str(method.inputs.get("httpMethod", ""))
        if method.inputs.get("restApi") == api.id and verb != "OPTIONS":
            methods.setdefault(path(str(method.inputs.get("resourceId"))), []).append(verb)
    return [f"{' '.join(sorted(set(verbs)))} {p}" for p, verbs in sorted(methods.items())]


def _assumed_by_people(role: Registration) -> bool:
    """Its trust policy lets IAM principals (an account, users, roles) assume it, not services or IdPs."""
    principals = [s.get("Principal") for s in _statements(role.inputs.get("assumeRolePolicy"))]
    return bool(principals) and all(isinstance(p, dict) and set(p) == {"AWS"} for p in principals)


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    statements = (document or {}).get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements or [] if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _origins(run: ProgramRun, index: _Index) -> list[tuple[str, str, str]]:
    """(distribution, bucket, label) per S3 origin; labels say primary/failover of an origin group."""
    found = []
    for dist in run.of_type(DISTRIBUTION):
        roles: dict[str, str] = {}
        for group in dist.inputs.get("originGroups") or []:
            for position, member in enumerate(group.get("members") or []):
                roles.setdefault(str(member.get("originId")), "primary origin" if position == 0 else "failover origin")
        for origin in dist.inputs.get("origins") or []:
            bucket = index.bucket_of_domain(str(origin.get("domainName", "")))
            if bucket:
                found.append((dist.urn, bucket, roles.get(str(origin.get("originId")), "origin")))
    return found


def _replication_edges(run: ProgramRun, index: _Index, edges: _Edges) -> None:
    for config in run.of_type(REPLICATION_CONFIG):
        source = index.bucket.get(str(config.inputs.get("bucket")))
        for rule in config.inputs.get("rules") or []:
            if rule.get("status", "Enabled") != "Enabled":
                continue
            destination = index.arn.get(str((rule.get("destination") or {}).get("bucket")))
            prefix = (rule.get("filter") or {}).get("prefix") or rule.get("prefix")
            edges.add(source, destination, Link.S3_REPLICATION, f"{prefix}*" if prefix else "all objects")
    for replica in run.of_type(TABLE_REPLICA):
        table = index.arn.get(str(replica.inputs.get("globalTableArn")))
        edges.add(table, replica.urn, Link.TABLE_REPLICA, "global table")


DYNAMODB_ACTION = re.compile(r"^arn:aws:apigateway:([a-z0-9-]+):dynamodb:action/(\w+)$")
TABLE_NAME = re.compile(r'"TableName"\s*:\s*"([A-Za-z0-9_.-]+)"')


def _integration_edges(run: ProgramRun, index: _Index, edges: _Edges) -> None:
    """REST API -> each table its DynamoDB integrations name (in the request templates), in the
    region of the integration's DynamoDB endpoint."""
    for integration in run.of_type(API_INTEGRATION):
        match = DYNAMODB_ACTION.match(str(integration.inputs.get("uri", "")))
        api = index.api.get(str(integration.inputs.get("restApi")))
        if not match or not api:
            continue
        region, action = match.groups()
        templates = integration.inputs.get("requestTemplates") or {}
        for name in sorted({n for t in templates.values() for n in TABLE_NAME.findall(str(t))}):
            edges.add(api, index.table.get((region, name)), Link.INTEGRATION, action)


def _identity_edges(run: ProgramRun, index: _Index, edges: _Edges) -> None:
    for pool in run.of_type(IDENTITY_POOL):
        for provider in pool.inputs.get("cognitoIdentityProviders") or []:
            name = str(provider.get("providerName", ""))
            edges.add(pool.urn, index.user_pool.get(name) or index.user_pool.get(name.rsplit("/", 1)[-1]),
                      Link.SIGN_IN, "sign-in")
    for attachment in run.of_type(IDENTITY_POOL_ROLES):
        pool = index.identity_pool.get(str(attachment.inputs.get("identityPoolId")))
        for role_arn in (attachment.inputs.get("roles") or {}).values():
            role = index.role.get(str(role_arn))
            if pool and role:
                for target, actions in _grants(run, index, role):
                    edges.add(pool, target, Link.GRANT, actions)


def _grants(run: ProgramRun, index: _Index, role: Registration) -> list[tuple[str, str]]:
    """(node, actions) that the role's inline and attached policies allow on the nodes."""
    names = {str(role.inputs.get("name") or ""), str(role.id or "")} - {""}
    documents = [p.inputs.get("policy") for p in run.of_type(ROLE_POLICY) if p.inputs.get("role") in names]
    attached = {str(a.inputs.get("policyArn")) for a in run.of_type(ROLE_POLICY_ATTACHMENT)
                if a.inputs.get("role") in names}
    documents += [p.inputs.get("policy") for p in run.of_type(POLICY) if str(p.outputs.get("arn")) in attached]
    grants: list[tuple[str, str]] = []
    for document in documents:
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = ", ".join(sorted({str(a).split(":")[-1] for a in _as_list(statement.get("Action"))}))
            for arn in _as_list(statement.get("Resource")):
                target = index.resource(str(arn))
                if target:
                    grants.append((target, actions))
    return grants


# ------------------------------------------------------------------------------------------ drawing

# (title, border colour, fill colour) per node kind, in AWS's service colours.
STYLE = {
    Kind.SITE_BUCKET: ("S3 site bucket", "#3F8624", "#EEF6E8"),
    Kind.OBJECT_BUCKET: ("S3 photo bucket", "#3F8624", "#EEF6E8"),
    Kind.TABLE: ("DynamoDB global table", "#2E27AD", "#ECEBFA"),
    Kind.TABLE_REPLICA: ("DynamoDB replica", "#2E27AD", "#ECEBFA"),
    Kind.API: ("API Gateway REST API", "#8C4FFF", "#F3EDFF"),
    Kind.USER_POOL: ("Cognito user pool", "#DD344C", "#FCECEE"),
    Kind.IDENTITY_POOL: ("Cognito identity pool", "#DD344C", "#FCECEE"),
    Kind.CDN: ("CloudFront distribution", "#8C4FFF", "#F3EDFF"),
    Kind.OPERATOR_ROLE: ("IAM role for operators", "#DD344C", "#FFFFFF"),
}
# Graphviz attributes per edge kind.
EDGE_STYLE: dict[str, dict[str, str]] = {
    # Between the regions: not ranking constraints, so both regions are laid out alike, one above the other.
    Link.S3_REPLICATION: {"color": "#3F8624", "fontcolor": "#3F8624", "penwidth": "2.5", "style": "bold",
                          "constraint": "false"},
    Link.TABLE_REPLICA: {"color": "#2E27AD", "fontcolor": "#2E27AD", "penwidth": "2.5", "style": "bold",
                         "dir": "both", "constraint": "false"},
    Link.INTEGRATION: {"color": "#555555", "fontcolor": "#555555"},
    Link.ORIGIN: {"color": "#8C4FFF", "fontcolor": "#8C4FFF", "penwidth": "1.5"},
    Link.SIGN_IN: {"color": "#DD344C", "fontcolor": "#DD344C", "style": "dashed"},
    Link.OPERATE: {"color": "#D86613", "fontcolor": "#D86613", "style": "dashed"},
}
# Order in which a region's nodes are declared (dot's starting order): who signs in, what is called, the data.
RANK = {Kind.USER_POOL: 0, Kind.IDENTITY_POOL: 1, Kind.SITE_BUCKET: 1, Kind.API: 2, Kind.TABLE: 3,
        Kind.TABLE_REPLICA: 3, Kind.OBJECT_BUCKET: 3}
EDGE_LABELS = {Link.S3_REPLICATION: "S3 replication\n{}", Link.TABLE_REPLICA: "replica"}
# Drawn as a line of their source's label, not as arrows (each identity pool grants on every API and bucket).
SUMMARIZED = {Link.GRANT}
FONT = "Helvetica"


def to_dot(graph: Graph) -> graphviz.Digraph:
    """The graph as graphviz source: one cluster per region, global services on the left."""
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    dot = graphviz.Digraph("architecture")
    dot.attr(rankdir="LR", fontname=FONT, fontsize="20", labelloc="t", newrank="true", nodesep="0.3",
             ranksep="1.0", pad="0.3", splines="spline",
             label=f"{PROJECT}, stack {graph.stack}: "
                   + " / ".join(f"{role} {region}" for role, region in graph.regions.items()))
    dot.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="11", margin="0.15,0.06")
    dot.attr("edge", fontname=FONT, fontsize="9")

    def add_nodes(target: graphviz.Digraph, nodes: list[Node], reverse: bool = False) -> None:
        for node in sorted(nodes, key=lambda n: (RANK.get(n.kind, 9), n.kind, n.name), reverse=reverse):
            _title, border, fill = STYLE[node.kind]
            target.node(ids[node.id], label=_label(node, _summary(graph, node)), color=border, fillcolor=fill)

    with dot.subgraph(name="cluster_global") as cluster:
        cluster.attr(label="global (CloudFront, IAM)", style="rounded,dashed", color="#888888", fontsize="14")
        add_nodes(cluster, [n for n in graph.nodes if n.region is None])
    for position, (role, region) in enumerate(graph.regions.items()):
        with dot.subgraph(name=f"cluster_{role}") as cluster:
            cluster.attr(label=f"{role} — {region}", style="rounded,filled", fillcolor="#F7F9FC", color="#5A6B86",
                         fontsize="16")
            add_nodes(cluster, [n for n in graph.nodes if n.region == region], reverse=position > 0)
    others = [n for n in graph.nodes if n.region is not None and n.region not in graph.regions.values()]
    add_nodes(dot, others)

    drawn: set[tuple[str, str, str]] = set()
    for edge in graph.edges:
        if edge.kind in SUMMARIZED or (edge.source, edge.target, edge.kind) in drawn:
            continue
        attrs = dict(EDGE_STYLE.get(edge.kind, {}))
        label = EDGE_LABELS.get(edge.kind, "{}").format(edge.label)
        back = next((e for e in graph.edges if (e.source, e.target, e.kind) == (edge.target, edge.source, edge.kind)),
                    None)
        if back is not None:  # a two-way pair is one double-headed arrow
            attrs["dir"] = "both"
            drawn.add((back.source, back.target, back.kind))
        dot.edge(ids[edge.source], ids[edge.target], label=label, **attrs)
        drawn.add((edge.source, edge.target, edge.kind))
    _legend(dot)
    return dot


def _summary(graph: Graph, node: Node) -> list[str]:
    """'users may use 4 APIs, 2 photo buckets', 'in 2 regions': the summarized edges leaving `node`."""
    targets = [graph.node(e.target) for e in graph.edges if e.source == node.id and e.kind in SUMMARIZED]
    if not targets:
        return []
    counts: dict[str, int] = {}
    for target in targets:
        counts[target.kind] = counts.get(target.kind, 0) + 1
    what = ", ".join(f"{n} {NOUNS.get(kind, kind)}{'s' if n > 1 else ''}" for kind, n in counts.items())
    regions = len({t.region for t in targets if t.region})
    return [f"users may use {what}", f"in {regions} region{'s' if regions > 1 else ''}"]


NOUNS = {Kind.API: "API", Kind.OBJECT_BUCKET: "photo bucket", Kind.SITE_BUCKET: "site bucket", Kind.TABLE: "table",
         Kind.TABLE_REPLICA: "table"}


def _label(node: Node, extra: Iterable[str] = ()) -> str:
    title, border, _fill = STYLE[node.kind]
    lines = [f'<FONT POINT-SIZE="9" COLOR="{border}">{escape(title)}</FONT>', f"<B>{escape(node.name)}</B>"]
    lines += [f'<FONT POINT-SIZE="9" COLOR="#444444">{escape(d)}</FONT>' for d in (*node.details, *extra)]
    return "<" + "<BR/>".join(lines) + ">"


def _legend(dot: graphviz.Digraph) -> None:
    rows = [
        (EDGE_STYLE[Link.S3_REPLICATION]["color"], "S3 / DynamoDB replication between the regions"),
        (EDGE_STYLE[Link.INTEGRATION]["color"], "API integration calls DynamoDB (actions)"),
        (EDGE_STYLE[Link.ORIGIN]["color"], "CloudFront origin (failover group)"),
        (EDGE_STYLE[Link.SIGN_IN]["color"], "Cognito identity pool federates the user pool"),
        (EDGE_STYLE[Link.OPERATE]["color"], "operator role's grants"),
    ]
    cells = "".join(f'<TR><TD><FONT COLOR="{color}">━━▶</FONT></TD><TD ALIGN="LEFT">{escape(text)}</TD></TR>'
                    for color, text in rows)
    dot.node("legend", shape="plaintext", style="", fontsize="10",
             label=f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD COLSPAN="2"><B>arrows</B></TD></TR>'
                   f"{cells}</TABLE>>")


def render(graph: Graph, path: Path) -> None:
    """Draw the graph to `path` as PNG or SVG (by its extension)."""
    fmt = output_format(path)
    try:
        data = to_dot(graph).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise UsageError(NO_DOT) from None
    except graphviz.CalledProcessError as error:
        stderr = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        raise OpsError(f"dot failed: {stderr[-1] if stderr else error}") from None
    try:
        path.write_bytes(data)
    except OSError as error:
        raise OpsError(f"cannot write {path}: {error.strerror}") from None


def output_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        allowed = " or ".join(FORMATS)
        raise UsageError(f"cannot draw {path.name}: -o must end in {allowed}")
    return fmt


# ------------------------------------------------------------------------------------------ command


def program_run(stack: str, root: Path) -> ProgramRun:
    """The repo's program run offline (fake cloud) with `Pulumi.<stack>.yaml` under `root`."""
    import pulumi  # here, not at the top: only this command runs the program

    from harness.fake_cloud import FakeCloud
    from harness.program import run_program, stack_config

    try:
        config = stack_config(stack, root)
    except FileNotFoundError:
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise UsageError(f"no stack config Pulumi.{stack}.yaml in {root} (stacks with a config: "
                         f"{', '.join(known) or 'none'})") from None
    try:
        return run_program(FakeCloud(), config, stack=stack, program=root / "__main__.py")
    except pulumi.RunError as error:  # bad config: one line, like the Pulumi CLI prints it
        raise UsageError(f"stack {stack}: {error}") from None


def diagram_command(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False,
                     help="PNG or SVG file to write, by extension (default docs/architecture.png in the repo)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Draw the architecture (both regions, replication, APIs, identity, site, operator role) from the
    program's resource graph, run offline with the target stack's config (--sandbox: Pulumi.sandbox.yaml):
    nothing is read from AWS."""
    cli = cli_of(ctx)
    stack = cli.config_stack()
    path = output if output is not None else cli.factory.root / DEFAULT_OUTPUT
    output_format(path)
    if shutil.which("dot") is None:
        raise UsageError(NO_DOT)
    graph = build_graph(program_run(stack, cli.factory.root), stack)
    render(graph, path)
    say(f"wrote {path}: stack {stack}, {len(graph.nodes)} resources, {len(graph.edges)} links")
    if as_json:
        emit_json({"file": str(path), **graph.as_json()})
