"""A cloud that invents plausible, deterministic ids and ARNs for every resource.

Used by the unit tests and `make preview`. Every output the program reads must be
answered here, or it would silently resolve to None; unknown invokes raise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from harness.program import PROVIDER_TYPE, Registration

ACCOUNT = "123456789012"


def _token(*parts: str, length: int = 10) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _service(type_: str) -> str:
    # "aws:apigateway/restApi:RestApi" -> "apigateway"
    return type_.split(":")[1].split("/")[0]


Synth = Callable[[Registration, str], dict[str, Any]]


def _bucket(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs.get("bucket") or f"{reg.name}-{_token(reg.urn, length=8)}"
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        "region": region,
    }


def _table(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs["name"]
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return {"id": name, "arn": arn, "streamArn": f"{arn}/stream/2026-11-23T00:00:00.000"}


def _table_replica(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs["globalTableArn"].rsplit("/", 1)[-1]
    return {"id": f"{name}:{region}", "arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"}


def _iam(kind: str) -> Synth:
    def synth(reg: Registration, region: str) -> dict[str, Any]:
        name = reg.inputs.get("name") or f"{reg.name}-{_token(reg.urn, length=7)}"
        return {"id": name, "name": name, "arn": f"arn:aws:iam::{ACCOUNT}:{kind}/{name}", "uniqueId": _token(name)}

    return synth


def _rest_api(reg: Registration, region: str) -> dict[str, Any]:
    api_id = _token(reg.urn)
    return {
        "id": api_id,
        "rootResourceId": _token(reg.urn, "root", length=8),
        "executionArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api_id}",
    }


def _api_resource(reg: Registration, region: str) -> dict[str, Any]:
    return {"id": _token(reg.urn, length=8), "path": "/" + reg.inputs.get("pathPart", "")}


def _stage(reg: Registration, region: str) -> dict[str, Any]:
    api_id, stage = reg.inputs["restApi"], reg.inputs["stageName"]
    return {
        "id": f"ags-{api_id}-{stage}",
        "invokeUrl": f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
        "executionArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/{stage}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}",
    }


def _user_pool(reg: Registration, region: str) -> dict[str, Any]:
    pool_id = f"{region}_{_token(reg.urn, length=9)}"
    return {
        "id": pool_id,
        "arn": f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{pool_id}",
        "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool_id}",
    }


def _identity_pool(reg: Registration, region: str) -> dict[str, Any]:
    pool_id = f"{region}:{_token(reg.urn, length=8)}-0000-4000-8000-{_token(reg.urn, length=12)}"
    return {"id": pool_id, "arn": f"arn:aws:cognito-identity:{region}:{ACCOUNT}:identitypool/{pool_id}"}


def _distribution(reg: Registration, region: str) -> dict[str, Any]:
    dist_id = "E" + _token(reg.urn, length=13).upper()
    return {
        "id": dist_id,
        "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{dist_id}",
        "domainName": f"d{_token(reg.urn, length=13)}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
    }


def _named_arn(service: str, kind: str, sep: str = ":") -> Synth:
    def synth(reg: Registration, region: str) -> dict[str, Any]:
        name = reg.inputs.get("name") or f"{reg.name}-{_token(reg.urn, length=7)}"
        return {"id": name, "name": name, "arn": f"arn:aws:{service}:{region}:{ACCOUNT}:{kind}{sep}{name}"}

    return synth


def _log_group(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs.get("name") or reg.name
    return {"id": name, "name": name, "arn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"}


def _topic(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs.get("name") or reg.name
    arn = f"arn:aws:sns:{region}:{ACCOUNT}:{name}"
    return {"id": arn, "name": name, "arn": arn}


def _state_machine(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs.get("name") or reg.name
    arn = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}"
    return {"id": arn, "name": name, "arn": arn}


def _event_rule(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs.get("name") or f"{reg.name}-{_token(reg.urn, length=7)}"
    bus = reg.inputs.get("eventBusName") or "default"
    rule = name if bus == "default" else f"{bus}/{name}"
    return {"id": rule, "name": name, "arn": f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"}


def _dashboard(reg: Registration, region: str) -> dict[str, Any]:
    name = reg.inputs["dashboardName"]
    return {"id": name, "dashboardName": name, "dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"}


def _topic_subscription(reg: Registration, region: str) -> dict[str, Any]:
    arn = f"{reg.inputs['topic']}:{_token(reg.urn, length=8)}-0000-4000-8000-{_token(reg.urn, length=12)}"
    # An e-mail subscription stays pending until the recipient confirms it.
    return {"id": arn, "arn": arn, "pendingConfirmation": reg.inputs.get("protocol") == "email"}


def _kms_key(reg: Registration, region: str) -> dict[str, Any]:
    key_id = ("mrk-" if reg.inputs.get("multiRegion") else "") + _token(reg.urn, length=32)
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"}


def _kms_replica_key(reg: Registration, region: str) -> dict[str, Any]:
    key_id = reg.inputs["primaryKeyArn"].rsplit("/", 1)[-1]  # a replica shares its primary's key id
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"}


def _web_acl(reg: Registration, region: str) -> dict[str, Any]:
    acl_id = f"{_token(reg.urn, length=8)}-0000-4000-8000-{_token(reg.urn, 'acl', length=12)}"
    scope = "global" if reg.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return {"id": acl_id, "arn": f"arn:aws:wafv2:{region}:{ACCOUNT}:{scope}/webacl/{reg.inputs['name']}/{acl_id}",
            "capacity": 0}


def _log_delivery_part(kind: str) -> Synth:
    def synth(reg: Registration, region: str) -> dict[str, Any]:
        name = reg.inputs.get("name") or _token(reg.urn, length=16)
        return {"id": name, "name": name, "arn": f"arn:aws:logs:{region}:{ACCOUNT}:{kind}:{name}"}

    return synth


SYNTHS: dict[str, Synth] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica_key,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": _log_delivery_part("delivery-source"),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": _log_delivery_part("delivery-destination"),
    "aws:cloudwatch/logDelivery:LogDelivery": _log_delivery_part("delivery"),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:dynamodb/table:Table": _table,
    "aws:dynamodb/tableReplica:TableReplica": _table_replica,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/resource:Resource": _api_resource,
    "aws:apigateway/stage:Stage": _stage,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/identityPool:IdentityPool": _identity_pool,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm"),
    "aws:sns/topic:Topic": _topic,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:route53/healthCheck:HealthCheck": lambda reg, region: {"id": _token(reg.urn, length=12)},
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
}


class FakeCloud:
    """Answers every registration with the inputs plus synthesized outputs."""

    def __init__(self, account: str = ACCOUNT):
        self.account = account

    def create(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        outputs = dict(reg.inputs)
        if reg.type == PROVIDER_TYPE or not reg.custom:
            return f"{reg.name}-id", outputs
        region = reg.region or "us-east-1"
        synth = SYNTHS.get(reg.type)
        if synth:
            outputs.update(synth(reg, region))
        else:
            outputs.setdefault("id", f"{reg.name}-{_token(reg.urn, length=8)}")
            outputs.setdefault(
                "arn", f"arn:aws:{_service(reg.type)}:{region}:{self.account}:{reg.name}"
            )
        return outputs["id"], outputs

    def invoke(self, token: str, args: dict[str, Any], region: str | None) -> dict[str, Any]:
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/preview",
                "id": self.account,
                "userId": "AIDAPREVIEW",
            }
        if token == "aws:index/getRegion:getRegion":
            name = region or "us-east-1"
            return {"name": name, "region": name, "id": name, "endpoint": f"ec2.{name}.amazonaws.com"}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:cognito/getUserPools:getUserPools":
            # One pool of that name exists (a pool kept by a keep-data destroy), with a plausible id.
            name, where = args["name"], region or "us-east-1"
            pool_id = f"{where}_{_token(where, name, length=9)}"
            return {"id": where, "name": name, "ids": [pool_id],
                    "arns": [f"arn:aws:cognito-idp:{where}:{self.account}:userpool/{pool_id}"]}
        raise NotImplementedError(f"FakeCloud does not answer invoke {token} {json.dumps(args)[:200]}")
