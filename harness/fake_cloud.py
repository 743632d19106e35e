"""A cloud that invents plausible, deterministic ids and ARNs for every resource.

Used by the unit tests and `make preview`. Every output the program reads must be
answered here, or it would silently resolve to None; unknown invokes raise.

`FakeCloud()` is an account in which whatever the program imports exists (a random id, such as a
key's or a user pool's, is the import id). `FakeCloud.after_keep_data_destroy(run)` is the account a
keep-data `pulumi destroy` of `run` leaves: only what `run` registered with retain_on_delete. There
an import must name a kept resource by the id the provider imports it with, creating a kept named
resource again fails ("already exists") as AWS refuses it, and the lookups (user pools by name, key
aliases) answer from what was kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from harness.program import PROVIDER_TYPE, ProgramRun, Registration

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


def _main_table(global_table_arn: str) -> tuple[str, str]:
    """(name, region) of the table an ARN arn:aws:dynamodb:<region>:<account>:table/<name> names."""
    return global_table_arn.rsplit("/", 1)[-1], global_table_arn.split(":")[3]


def _table_replica(reg: Registration, region: str) -> dict[str, Any]:
    name, main_region = _main_table(reg.inputs["globalTableArn"])
    # The provider's id (and import id) names the main table's region, not the replica's.
    return {"id": f"{name}:{main_region}", "arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"}


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
    pool_id = reg.options.get("import") or f"{region}_{_token(reg.urn, length=9)}"
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
    key_id = reg.options.get("import") or ("mrk-" if reg.inputs.get("multiRegion") else "") + _token(reg.urn, length=32)
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


# -- what `pulumi import` takes: the id each kept type is imported by (pulumi-aws 7.51, "## Import" of each type) --
def _table_item_import_id(reg: Registration, outputs: dict[str, Any]) -> str:
    # "table name,hash key value"
    value = json.loads(reg.inputs["item"])[reg.inputs["hashKey"]]
    return f"{reg.inputs['tableName']},{next(iter(value.values()))}"


def _replica_import_id(reg: Registration, outputs: dict[str, Any]) -> str:
    return "{}:{}".format(*_main_table(reg.inputs["globalTableArn"]))


ImportId = Callable[[Registration, dict[str, Any]], str]
_BY_BUCKET_NAME: ImportId = lambda reg, outputs: reg.inputs["bucket"]  # noqa: E731
_BY_NAME: ImportId = lambda reg, outputs: reg.inputs["name"]  # noqa: E731
_BY_ID: ImportId = lambda reg, outputs: outputs["id"]  # noqa: E731
IMPORT_IDS: dict[str, ImportId] = {
    "aws:s3/bucket:Bucket": _BY_BUCKET_NAME,
    **dict.fromkeys((
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
        "aws:s3/bucketNotification:BucketNotification",
    ), _BY_BUCKET_NAME),
    "aws:dynamodb/table:Table": _BY_NAME,
    "aws:dynamodb/tableReplica:TableReplica": _replica_import_id,
    "aws:dynamodb/tableItem:TableItem": _table_item_import_id,
    "aws:kms/alias:Alias": _BY_NAME,
    # Random ids: found by a lookup (user pools by name, a key through its alias; a replica key has its primary's).
    "aws:cognito/userPool:UserPool": _BY_ID,
    "aws:kms/key:Key": _BY_ID,
    "aws:kms/replicaKey:ReplicaKey": _BY_ID,
}
# What AWS (or the provider) refuses to create again while the kept one exists: a name taken in the account.
NAMED_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:dynamodb/table:Table", "aws:dynamodb/tableReplica:TableReplica",
                         "aws:dynamodb/tableItem:TableItem", "aws:kms/alias:Alias"})

Kept = tuple[str, str | None, str]  # (type, region, import id)


class ImportNotFoundError(LookupError):
    """An import id that names nothing kept (the provider fails the import)."""


class AlreadyExistsError(RuntimeError):
    """A create of a named resource that a keep-data destroy kept (AWS refuses it)."""


class FakeCloud:
    """Answers every registration with the inputs plus synthesized outputs; see the module docstring."""

    def __init__(self, account: str = ACCOUNT, kept: list[Registration] | None = None):
        """`kept`: None for an account where every import exists, else what the account holds (see
        `after_keep_data_destroy`)."""
        self.account = account
        self._kept: dict[Kept, Registration] | None = None
        self.unadopted: dict[Kept, Registration] = {}
        if kept is not None:
            self._kept = {}
            for reg in kept:
                if reg.type not in IMPORT_IDS:
                    raise ValueError(f"{reg.type} {reg.name} is kept but harness.fake_cloud.IMPORT_IDS does not say "
                                     "how the provider imports it")
                key = (reg.type, reg.region, IMPORT_IDS[reg.type](reg, reg.outputs))
                if key in self._kept:
                    raise ValueError(f"{reg.name} and {self._kept[key].name} are one resource: {key}")
                self._kept[key] = reg
            self.unadopted = dict(self._kept)

    @classmethod
    def after_keep_data_destroy(cls, run: ProgramRun, account: str = ACCOUNT) -> FakeCloud:
        """The account as a keep-data `pulumi destroy` of `run` leaves it: what `run` registered with
        retain_on_delete, nothing else. `unadopted` lists what no import has claimed yet."""
        return cls(account, kept=[r for r in run.resources if r.custom and r.options.get("retain_on_delete")])

    def create(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        outputs = dict(reg.inputs)
        if reg.type == PROVIDER_TYPE or not reg.custom:
            return f"{reg.name}-id", outputs
        if self._kept is not None and reg.options.get("import"):
            return self._adopt(reg, reg.options["import"])
        region = reg.region or "us-east-1"
        synth = SYNTHS.get(reg.type)
        if synth:
            outputs.update(synth(reg, region))
        else:
            outputs.setdefault("id", f"{reg.name}-{_token(reg.urn, length=8)}")
            outputs.setdefault(
                "arn", f"arn:aws:{_service(reg.type)}:{region}:{self.account}:{reg.name}"
            )
        if self._kept is not None and reg.type in NAMED_TYPES:
            taken = (reg.type, reg.region, IMPORT_IDS[reg.type](reg, outputs))
            if taken in self._kept:
                raise AlreadyExistsError(f"creating {reg.type} {reg.name}: {taken[2]} already exists in {reg.region} "
                                         "(kept by a keep-data destroy: adopt it)")
        return outputs["id"], outputs

    def _adopt(self, reg: Registration, import_id: str) -> tuple[str, dict[str, Any]]:
        """Import: the kept resource's state, with the program's inputs except those it ignores (as `pulumi up`
        with the import option then updates the resource to the program's inputs)."""
        assert self._kept is not None
        key = (reg.type, reg.region, import_id)
        found = self._kept.get(key)
        if found is None:
            raise ImportNotFoundError(f"importing {reg.type} {reg.name} in {reg.region}: no resource has the id "
                                      f"{import_id!r}")
        if self.unadopted.pop(key, None) is None:
            raise ImportNotFoundError(f"importing {reg.type} {reg.name}: {import_id!r} is already imported")
        computed = {k: v for k, v in found.outputs.items() if k not in found.inputs}
        ignored = {k: found.outputs[k] for k in reg.options.get("ignore_changes") or [] if k in found.outputs}
        assert found.id is not None
        return found.id, {**reg.inputs, **computed, **ignored}

    def _kept_of(self, type_: str, region: str | None) -> list[Registration]:
        assert self._kept is not None
        return [r for (t, where, _), r in self._kept.items() if t == type_ and where == region]

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
            name, where = args["name"], region or "us-east-1"
            if self._kept is None:  # one pool of that name exists, with a plausible id
                pool_ids = [f"{where}_{_token(where, name, length=9)}"]
            else:
                pool_ids = [str(p.id) for p in self._kept_of("aws:cognito/userPool:UserPool", region)
                            if p.inputs.get("name") == name]
            return {"id": where, "name": name, "ids": pool_ids,
                    "arns": [f"arn:aws:cognito-idp:{where}:{self.account}:userpool/{i}" for i in pool_ids]}
        if token == "aws:kms/getAlias:getAlias":
            name, where = args["name"], region or "us-east-1"
            if self._kept is None:  # the alias exists and names a multi-Region key
                key_id = f"mrk-{_token(name, length=32)}"
            else:
                found = [a for a in self._kept_of("aws:kms/alias:Alias", region) if a.inputs["name"] == name]
                if not found:
                    raise ImportNotFoundError(f"reading KMS Alias ({name}) in {where}: not found")
                key_id = found[0].inputs["targetKeyId"]
            return {"id": name, "name": name, "arn": f"arn:aws:kms:{where}:{self.account}:{name}",
                    "targetKeyId": key_id, "targetKeyArn": f"arn:aws:kms:{where}:{self.account}:key/{key_id}"}
        raise NotImplementedError(f"FakeCloud does not answer invoke {token} {json.dumps(args)[:200]}")
