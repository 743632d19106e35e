"""Deploy the Pulumi program into the local cloud: the program itself, not a copy of it.

`__main__.py` runs under Pulumi's mock runtime (harness/program.py); every resource it
registers is created here in moto through boto3, and the real ids, ARNs and URLs go back
to the program as outputs. Change a component and the sandbox follows.

Types with no runtime role locally (CloudFront, alarms, log groups, stage settings...) get
plausible synthesized outputs, like `make preview`; `DEPLOYED` lists the ones created for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from harness.fake_cloud import FakeCloud
from harness.program import PROVIDER_TYPE, Registration

ACCOUNT = "123456789012"
SANDBOX_KEYS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}

Handler = Callable[["MotoCloud", Registration], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(type_: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[type_] = fn
        return fn

    return register


@dataclass
class Deployment:
    """What the deployer learned that the sandbox's runtime pieces need."""

    global_tables: dict[str, set[str]] = field(default_factory=dict)  # table name -> regions
    role_policies: dict[str, list[str]] = field(default_factory=dict)  # role name -> policy documents
    managed_policies: dict[str, str] = field(default_factory=dict)  # policy ARN -> document
    role_arns: dict[str, str] = field(default_factory=dict)  # role name -> ARN
    identity_pool_roles: dict[str, dict[str, str]] = field(default_factory=dict)  # pool id -> {auth type: role ARN}
    # (identity pool id, provider name) -> (tag key -> claim name, use defaults)
    principal_tags: dict[tuple[str, str], tuple[dict[str, str], bool]] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)  # pool id -> region


class MotoCloud:
    """A harness `Cloud` that creates the program's resources in the local cloud."""

    def __init__(self, endpoint: str, region_endpoints: dict[str, str], account: str = ACCOUNT):
        self.endpoint = endpoint
        self.region_endpoints = region_endpoints
        self.account = account
        self.fake = FakeCloud(account)
        self.deployment = Deployment()
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint,
                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
                **SANDBOX_KEYS,
            )
        return self._clients[key]

    # -- harness.Cloud --------------------------------------------------------------------
    def create(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        handler = HANDLERS.get(reg.type)
        if handler is None or reg.type == PROVIDER_TYPE or not reg.custom:
            return self.fake.create(reg)
        outputs = {**reg.inputs, **handler(self, reg)}
        return outputs["id"], outputs

    def invoke(self, token: str, args: dict[str, Any], region: str | None) -> dict[str, Any]:
        return self.fake.invoke(token, args, region)


def _region(reg: Registration) -> str:
    if not reg.region:
        raise RuntimeError(f"{reg.type} {reg.name} has no region: every resource needs an explicit provider")
    return reg.region


def _status(value: Any) -> str:
    return "Enabled" if str(value).lower() in ("enabled", "true") else "Disabled"


# -- S3 --------------------------------------------------------------------------------------
@handles("aws:s3/bucket:Bucket")
def _bucket(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    region = _region(reg)
    name = reg.inputs["bucket"]
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    cloud.client("s3", region).create_bucket(**kwargs)
    return cloud.fake.create(reg)[1]


@handles("aws:s3/bucketVersioning:BucketVersioning")
def _versioning(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    status = reg.inputs["versioningConfiguration"]["status"]
    cloud.client("s3", _region(reg)).put_bucket_versioning(
        Bucket=reg.inputs["bucket"], VersioningConfiguration={"Status": status}
    )
    return {"id": reg.inputs["bucket"]}


@handles("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
def _replication(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    rules = []
    for rule in reg.inputs["rules"]:
        dest = rule["destination"]
        destination: dict[str, Any] = {"Bucket": dest["bucket"]}
        if dest.get("storageClass"):
            destination["StorageClass"] = dest["storageClass"]
        if dest.get("replicationTime"):
            rt = dest["replicationTime"]
            destination["ReplicationTime"] = {"Status": rt["status"], "Time": {"Minutes": int(rt["time"]["minutes"])}}
        if dest.get("metrics"):
            m = dest["metrics"]
            destination["Metrics"] = {"Status": m["status"]}
            if m.get("eventThreshold"):
                destination["Metrics"]["EventThreshold"] = {"Minutes": int(m["eventThreshold"]["minutes"])}
        out: dict[str, Any] = {"ID": rule.get("id", reg.name), "Status": rule["status"], "Destination": destination}
        if "priority" in rule:
            out["Priority"] = int(rule["priority"])
        prefix = (rule.get("filter") or {}).get("prefix")
        out["Filter"] = {"Prefix": prefix or ""}
        dmr = rule.get("deleteMarkerReplication")
        out["DeleteMarkerReplication"] = {"Status": _status(dmr["status"]) if dmr else "Disabled"}
        ssc = rule.get("sourceSelectionCriteria") or {}
        if ssc.get("replicaModifications"):
            out["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": ssc["replicaModifications"]["status"]}}
        rules.append(out)
    cloud.client("s3", _region(reg)).put_bucket_replication(
        Bucket=reg.inputs["bucket"], ReplicationConfiguration={"Role": reg.inputs["role"], "Rules": rules}
    )
    return {"id": reg.inputs["bucket"]}


@handles("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
def _cors(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    rules = [
        {
            key: rule[src]
            for key, src in (
                ("AllowedOrigins", "allowedOrigins"),
                ("AllowedMethods", "allowedMethods"),
                ("AllowedHeaders", "allowedHeaders"),
                ("ExposeHeaders", "exposeHeaders"),
            )
            if rule.get(src)
        }
        | ({"MaxAgeSeconds": int(rule["maxAgeSeconds"])} if rule.get("maxAgeSeconds") else {})
        for rule in reg.inputs["corsRules"]
    ]
    cloud.client("s3", _region(reg)).put_bucket_cors(
        Bucket=reg.inputs["bucket"], CORSConfiguration={"CORSRules": rules}
    )
    return {"id": reg.inputs["bucket"]}


@handles("aws:s3/bucketPolicy:BucketPolicy")
def _bucket_policy(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    # Stored as written: the front door evaluates it, conditions included (sandbox/access.py).
    cloud.client("s3", _region(reg)).put_bucket_policy(Bucket=reg.inputs["bucket"], Policy=reg.inputs["policy"])
    return {"id": reg.inputs["bucket"]}


@handles("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
def _public_access_block(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    configuration = {key[0].upper() + key[1:]: bool(reg.inputs.get(key)) for key in flags}
    cloud.client("s3", _region(reg)).put_public_access_block(
        Bucket=reg.inputs["bucket"], PublicAccessBlockConfiguration=configuration
    )
    return {"id": reg.inputs["bucket"]}


@handles("aws:s3/bucketObjectv2:BucketObjectv2")
def _object(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    inputs = reg.inputs
    if "content" in inputs:
        body: bytes = inputs["content"].encode()
    else:
        source = inputs.get("source")
        body = Path(getattr(source, "path", source)).read_bytes()
    kwargs: dict[str, Any] = {"Bucket": inputs["bucket"], "Key": inputs["key"], "Body": body}
    if inputs.get("contentType"):
        kwargs["ContentType"] = inputs["contentType"]
    if inputs.get("cacheControl"):
        kwargs["CacheControl"] = inputs["cacheControl"]
    result = cloud.client("s3", _region(reg)).put_object(**kwargs)
    return {"id": inputs["key"], "etag": result["ETag"].strip('"'), "versionId": result.get("VersionId", "")}


# -- DynamoDB ----------------------------------------------------------------------------------
def _create_table(cloud: MotoCloud, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
    key_schema = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        key_schema.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    kwargs: dict[str, Any] = {
        "TableName": inputs["name"],
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if inputs.get("streamEnabled"):
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": inputs.get("streamViewType", "NEW_AND_OLD_IMAGES"),
        }
    table = cloud.client("dynamodb", region).create_table(**kwargs)["TableDescription"]
    return {"id": inputs["name"], "arn": table["TableArn"], "streamArn": table.get("LatestStreamArn", "")}


@handles("aws:dynamodb/table:Table")
def _table(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    region = _region(reg)
    outputs = _create_table(cloud, region, reg.inputs)
    cloud.deployment.global_tables.setdefault(reg.inputs["name"], set()).add(region)
    return outputs


@handles("aws:dynamodb/tableReplica:TableReplica")
def _table_replica(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    # Global tables 2019.11.21: the replica is the same table in another region.
    arn = reg.inputs["globalTableArn"]
    source_region, name = arn.split(":")[3], arn.rsplit("/", 1)[-1]
    described = cloud.client("dynamodb", source_region).describe_table(TableName=name)["Table"]
    keys = {k["KeyType"]: k["AttributeName"] for k in described["KeySchema"]}
    inputs = {
        "name": name,
        "hashKey": keys["HASH"],
        "rangeKey": keys.get("RANGE"),
        "attributes": [
            {"name": a["AttributeName"], "type": a["AttributeType"]} for a in described["AttributeDefinitions"]
        ],
        "streamEnabled": True,
    }
    region = _region(reg)
    outputs = _create_table(cloud, region, inputs)
    cloud.deployment.global_tables.setdefault(name, {source_region}).add(region)
    return {"id": f"{name}:{region}", "arn": outputs["arn"]}


@handles("aws:dynamodb/tableItem:TableItem")
def _table_item(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    item = json.loads(reg.inputs["item"])
    cloud.client("dynamodb", _region(reg)).put_item(TableName=reg.inputs["tableName"], Item=item)
    key = item[reg.inputs["hashKey"]]
    return {"id": f"{reg.inputs['tableName']}|{next(iter(key.values()))}"}


# -- IAM -----------------------------------------------------------------------------------------
@handles("aws:iam/role:Role")
def _role(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    name = reg.inputs["name"]
    role = cloud.client("iam", "us-east-1").create_role(
        RoleName=name, AssumeRolePolicyDocument=reg.inputs["assumeRolePolicy"]
    )["Role"]
    cloud.deployment.role_arns[name] = role["Arn"]
    return {"id": name, "name": name, "arn": role["Arn"], "uniqueId": role["RoleId"]}


@handles("aws:iam/rolePolicy:RolePolicy")
def _role_policy(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    role, name = reg.inputs["role"], reg.inputs.get("name") or reg.name
    cloud.client("iam", "us-east-1").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=reg.inputs["policy"]
    )
    cloud.deployment.role_policies.setdefault(role, []).append(reg.inputs["policy"])
    return {"id": f"{role}:{name}", "name": name}


@handles("aws:iam/policy:Policy")
def _policy(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    name = reg.inputs["name"]
    arn = cloud.client("iam", "us-east-1").create_policy(PolicyName=name, PolicyDocument=reg.inputs["policy"])[
        "Policy"
    ]["Arn"]
    cloud.deployment.managed_policies[arn] = reg.inputs["policy"]
    return {"id": arn, "arn": arn, "name": name}


@handles("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    role, policy_arn = reg.inputs["role"], reg.inputs["policyArn"]
    if policy_arn in cloud.deployment.managed_policies:
        cloud.client("iam", "us-east-1").attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        cloud.deployment.role_policies.setdefault(role, []).append(cloud.deployment.managed_policies[policy_arn])
    return {"id": f"{role}-{policy_arn.rsplit('/', 1)[-1]}"}


# -- Cognito ---------------------------------------------------------------------------------------
@handles("aws:cognito/userPool:UserPool")
def _user_pool(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    region = _region(reg)
    inputs = reg.inputs
    kwargs: dict[str, Any] = {"PoolName": inputs["name"]}
    policy = inputs.get("passwordPolicy") or {}
    if policy:
        kwargs["Policies"] = {
            "PasswordPolicy": {
                "MinimumLength": int(policy.get("minimumLength", 8)),
                "RequireUppercase": bool(policy.get("requireUppercase")),
                "RequireLowercase": bool(policy.get("requireLowercase")),
                "RequireNumbers": bool(policy.get("requireNumbers")),
                "RequireSymbols": bool(policy.get("requireSymbols")),
            }
        }
    admin = inputs.get("adminCreateUserConfig") or {}
    kwargs["AdminCreateUserConfig"] = {"AllowAdminCreateUserOnly": bool(admin.get("allowAdminCreateUserOnly"))}
    pool = cloud.client("cognito-idp", region).create_user_pool(**kwargs)["UserPool"]
    cloud.deployment.user_pools[pool["Id"]] = region
    return {"id": pool["Id"], "arn": pool["Arn"], "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"}


@handles("aws:cognito/userPoolClient:UserPoolClient")
def _user_pool_client(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    inputs = reg.inputs
    client = cloud.client("cognito-idp", _region(reg)).create_user_pool_client(
        UserPoolId=inputs["userPoolId"],
        ClientName=inputs["name"],
        GenerateSecret=bool(inputs.get("generateSecret")),
        ExplicitAuthFlows=list(inputs.get("explicitAuthFlows") or []),
    )["UserPoolClient"]
    return {"id": client["ClientId"]}


@handles("aws:cognito/identityPool:IdentityPool")
def _identity_pool(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    inputs = reg.inputs
    providers = [
        {
            "ProviderName": p["providerName"],
            "ClientId": p["clientId"],
            "ServerSideTokenCheck": bool(p.get("serverSideTokenCheck")),
        }
        for p in inputs.get("cognitoIdentityProviders") or []
    ]
    pool = cloud.client("cognito-identity", _region(reg)).create_identity_pool(
        IdentityPoolName=inputs["identityPoolName"],
        AllowUnauthenticatedIdentities=bool(inputs.get("allowUnauthenticatedIdentities")),
        CognitoIdentityProviders=providers,
    )
    pool_id = pool["IdentityPoolId"]
    return {"id": pool_id, "arn": f"arn:aws:cognito-identity:{_region(reg)}:{cloud.account}:identitypool/{pool_id}"}


@handles("aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment")
def _pool_roles(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    pool_id = reg.inputs["identityPoolId"]
    cloud.deployment.identity_pool_roles[pool_id] = dict(reg.inputs["roles"])
    return {"id": pool_id}


@handles("aws:cognito/identityPoolProviderPrincipalTag:IdentityPoolProviderPrincipalTag")
def _principal_tags(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    """Attributes for access control: which token claims become session tags. `useDefaults` defaults to
    true (the provider's default), which maps `username` <- `sub` and `client` <- `aud`."""
    pool_id, provider = reg.inputs["identityPoolId"], reg.inputs["identityProviderName"]
    use_defaults = reg.inputs.get("useDefaults")
    cloud.deployment.principal_tags[(pool_id, provider)] = (
        {str(k): str(v) for k, v in (reg.inputs.get("principalTags") or {}).items()},
        True if use_defaults is None else bool(use_defaults),
    )
    return {"id": f"{pool_id}:{provider}"}


# -- API Gateway ---------------------------------------------------------------------------------------
def _apigw(cloud: MotoCloud, reg: Registration) -> Any:
    return cloud.client("apigateway", _region(reg))


@handles("aws:apigateway/restApi:RestApi")
def _rest_api(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    region = _region(reg)
    api = _apigw(cloud, reg).create_rest_api(
        name=reg.inputs["name"],
        description=reg.inputs.get("description", ""),
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    root = next(r["id"] for r in _apigw(cloud, reg).get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    return {
        "id": api["id"],
        "rootResourceId": root,
        "executionArn": f"arn:aws:execute-api:{region}:{cloud.account}:{api['id']}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api['id']}",
    }


@handles("aws:apigateway/resource:Resource")
def _api_resource(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    res = _apigw(cloud, reg).create_resource(
        restApiId=reg.inputs["restApi"], parentId=reg.inputs["parentId"], pathPart=reg.inputs["pathPart"]
    )
    return {"id": res["id"], "path": res["path"]}


@handles("aws:apigateway/model:Model")
def _model(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    model = _apigw(cloud, reg).create_model(
        restApiId=reg.inputs["restApi"],
        name=reg.inputs["name"],
        contentType=reg.inputs.get("contentType", "application/json"),
        schema=reg.inputs.get("schema", "{}"),
    )
    return {"id": model["id"]}


@handles("aws:apigateway/requestValidator:RequestValidator")
def _validator(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    validator = _apigw(cloud, reg).create_request_validator(
        restApiId=reg.inputs["restApi"],
        name=reg.inputs["name"],
        validateRequestBody=bool(reg.inputs.get("validateRequestBody")),
        validateRequestParameters=bool(reg.inputs.get("validateRequestParameters")),
    )
    return {"id": validator["id"]}


def _method_key(inputs: dict[str, Any]) -> dict[str, Any]:
    """What names a method in API Gateway's API: the API, the resource and the HTTP method."""
    return {"restApiId": inputs["restApi"], "resourceId": inputs["resourceId"], "httpMethod": inputs["httpMethod"]}


@handles("aws:apigateway/method:Method")
def _method(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    i = reg.inputs
    kwargs: dict[str, Any] = {**_method_key(i), "authorizationType": i["authorization"]}
    if i.get("requestValidatorId"):
        kwargs["requestValidatorId"] = i["requestValidatorId"]
    if i.get("requestModels"):
        kwargs["requestModels"] = i["requestModels"]
    if i.get("requestParameters"):
        kwargs["requestParameters"] = {k: bool(v) for k, v in i["requestParameters"].items()}
    _apigw(cloud, reg).put_method(**kwargs)
    return {"id": f"agm-{i['restApi']}-{i['resourceId']}-{i['httpMethod']}"}


@handles("aws:apigateway/integration:Integration")
def _integration(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    i = reg.inputs
    kwargs: dict[str, Any] = {**_method_key(i), "type": i["type"]}
    for key in ("uri", "credentials", "passthroughBehavior", "requestTemplates", "requestParameters"):
        if i.get(key):
            kwargs[key] = i[key]
    if i.get("integrationHttpMethod"):
        kwargs["integrationHttpMethod"] = i["integrationHttpMethod"]
    _apigw(cloud, reg).put_integration(**kwargs)
    return {"id": f"agi-{i['restApi']}-{i['resourceId']}-{i['httpMethod']}"}


@handles("aws:apigateway/methodResponse:MethodResponse")
def _method_response(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    i = reg.inputs
    kwargs: dict[str, Any] = {**_method_key(i), "statusCode": i["statusCode"]}
    if i.get("responseParameters"):
        kwargs["responseParameters"] = {k: bool(v) for k, v in i["responseParameters"].items()}
    if i.get("responseModels"):
        kwargs["responseModels"] = i["responseModels"]
    _apigw(cloud, reg).put_method_response(**kwargs)
    return {"id": f"agmr-{i['restApi']}-{i['resourceId']}-{i['httpMethod']}-{i['statusCode']}"}


@handles("aws:apigateway/integrationResponse:IntegrationResponse")
def _integration_response(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    i = reg.inputs
    kwargs: dict[str, Any] = {**_method_key(i), "statusCode": i["statusCode"]}
    for key in ("selectionPattern", "responseTemplates", "responseParameters"):
        if i.get(key) is not None:
            kwargs[key] = i[key]
    _apigw(cloud, reg).put_integration_response(**kwargs)
    return {"id": f"agir-{i['restApi']}-{i['resourceId']}-{i['httpMethod']}-{i['statusCode']}"}


@handles("aws:apigateway/response:Response")
def _gateway_response(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    i = reg.inputs
    kwargs: dict[str, Any] = {"restApiId": i["restApiId"], "responseType": i["responseType"]}
    for key in ("statusCode", "responseTemplates", "responseParameters"):
        if i.get(key):
            kwargs[key] = i[key]
    _apigw(cloud, reg).put_gateway_response(**kwargs)
    return {"id": f"aggr-{i['restApiId']}-{i['responseType']}"}


@handles("aws:apigateway/deployment:Deployment")
def _deployment(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    deployment = _apigw(cloud, reg).create_deployment(
        restApiId=reg.inputs["restApi"], description=reg.inputs.get("description", "")
    )
    return {"id": deployment["id"]}


@handles("aws:apigateway/stage:Stage")
def _stage(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    region = _region(reg)
    api_id, stage = reg.inputs["restApi"], reg.inputs["stageName"]
    _apigw(cloud, reg).create_stage(restApiId=api_id, stageName=stage, deploymentId=reg.inputs["deployment"])
    return {
        "id": f"ags-{api_id}-{stage}",
        "invokeUrl": f"{cloud.region_endpoints[region]}/execute-api/{api_id}/{stage}",
        "executionArn": f"arn:aws:execute-api:{region}:{cloud.account}:{api_id}/{stage}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}",
    }


# Method settings API Gateway enforces at runtime (throttling); the rest is stored as declared.
_METHOD_SETTINGS = {"throttlingRateLimit": "throttling/rateLimit", "throttlingBurstLimit": "throttling/burstLimit",
                    "metricsEnabled": "metrics/enabled", "loggingLevel": "logging/loglevel",
                    "dataTraceEnabled": "logging/dataTrace"}


@handles("aws:apigateway/methodSettings:MethodSettings")
def _method_settings(cloud: MotoCloud, reg: Registration) -> dict[str, Any]:
    """The stage's method settings (execute-api throttles by them). Undeclared throttling is -1 (none),
    as in AWS: moto would otherwise fill in limits of its own."""
    i = reg.inputs
    declared = {"throttlingRateLimit": -1, "throttlingBurstLimit": -1, **(i.get("settings") or {})}
    operations = [{"op": "replace", "path": f"/{i['methodPath']}/{path}", "value": _patch_value(declared[key])}
                  for key, path in _METHOD_SETTINGS.items() if key in declared]
    _apigw(cloud, reg).update_stage(restApiId=i["restApi"], stageName=i["stageName"], patchOperations=operations)
    return {"id": f"{i['restApi']}-{i['stageName']}-{i['methodPath']}"}


def _patch_value(value: Any) -> str:
    """A setting as API Gateway's patch operations spell it (mock inputs give numbers as floats: 100.0 -> "100")."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


DEPLOYED = sorted(HANDLERS)
