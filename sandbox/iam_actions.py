"""What an AWS API call is, and which IAM actions on which resources it needs, as AWS maps them.

    call = classify(method, path, query_string, headers, body, signing_service)
    permissions(call, region, account)   # [Permission(action, resource, context, bucket)] or raises UnmappedError

Sources (Service Authorization Reference and each service's guide):
- S3: "Required permissions for Amazon S3 API operations" (AmazonS3/latest/userguide/
  using-with-s3-policy-actions.html): HeadObject needs s3:GetObject, ListObjects(V2) and HeadBucket
  s3:ListBucket on the bucket, DeleteObjects s3:DeleteObject per key, a versioned request the
  `...Version` action, CopyObject s3:PutObject on the target and s3:GetObject on the source, multipart
  parts s3:PutObject; condition keys s3:prefix, s3:delimiter, s3:max-keys, s3:if-none-match,
  s3:if-match, s3:ObjectCreationOperation, s3:x-amz-copy-source, s3:x-amz-acl...
- DynamoDB: "DynamoDB API permissions reference": one action per operation on the table, the index
  ARN for Query/Scan on an index, BatchGetItem/BatchWriteItem on every table named, and for
  TransactWriteItems/TransactGetItems the per-item action (PutItem, UpdateItem, DeleteItem,
  ConditionCheckItem, GetItem) on each item's table.
- Cognito: user pool operations need cognito-idp:<Operation> on the pool ARN, identity pool ones
  cognito-identity:<Operation> on the identity pool ARN; the operations Cognito serves unsigned
  (InitiateAuth, GetId, ...) are authorised by their tokens, not IAM ("Signed versus unsigned APIs").
- STS GetCallerIdentity needs no permission.

An operation not listed here raises `UnmappedError`: the front door refuses it for credentials the
sandbox issued, rather than let it through unchecked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

from sandbox.aws_errors import Protocol
from sandbox.iam_policy import ContextValue

# X-Amz-Target prefixes of the JSON services the sandbox serves, and their signing names.
TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodb",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSCognitoIdentityService": "cognito-identity",
}
QUERY_VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam"}

# Operations AWS serves without SigV4: they carry their own proof (a token, a session, a client id).
PUBLIC_OPERATIONS = {
    "cognito-idp": frozenset({
        "InitiateAuth", "RespondToAuthChallenge", "SignUp", "ConfirmSignUp", "ForgotPassword",
        "ConfirmForgotPassword", "ResendConfirmationCode", "GetUser", "GlobalSignOut", "ChangePassword",
        "RevokeToken", "DeleteUser", "UpdateUserAttributes", "DeleteUserAttributes",
        "GetUserAttributeVerificationCode", "VerifyUserAttribute", "SetUserMFAPreference", "SetUserSettings",
        "AssociateSoftwareToken", "VerifySoftwareToken", "ConfirmDevice", "ForgetDevice", "GetDevice",
        "ListDevices", "UpdateDeviceStatus", "GetTokensFromRefreshToken", "GetUserAuthFactors",
        "ListWebAuthnCredentials", "DeleteWebAuthnCredential", "StartWebAuthnRegistration",
        "CompleteWebAuthnRegistration", "GetJwks",
    }),
    "cognito-identity": frozenset({"GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "UnlinkIdentity"}),
}
NO_PERMISSION_NEEDED = {"sts": frozenset({"GetCallerIdentity"})}
JWKS_PATH = re.compile(r"^/[\w-]+_[0-9A-Za-z]+/\.well-known/(jwks\.json|openid-configuration)$")


class UnmappedError(Exception):
    """The sandbox does not know which IAM permissions this operation needs."""


@dataclass(frozen=True)
class Permission:
    """One IAM action on one resource, with the request's condition keys for it."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    bucket: str | None = None  # S3: the bucket whose policy takes part in the decision


@dataclass
class AwsCall:
    """One request to the AWS endpoint, as the front door understands it."""

    service: str  # signing name ("s3", "dynamodb", "cognito-idp"...) or "" when unknown
    protocol: Protocol
    operation: str  # API operation name ("PutObject", "PutItem"...), "" when unknown
    method: str
    path: str  # decoded
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    params: Mapping[str, Any] = field(default_factory=dict)  # JSON body or form parameters

    @property
    def public(self) -> bool:
        return self.operation in PUBLIC_OPERATIONS.get(self.service, ())

    @property
    def needs_no_permission(self) -> bool:
        return self.operation in NO_PERMISSION_NEEDED.get(self.service, ())

    @property
    def bucket(self) -> str:
        return self.path.lstrip("/").split("/", 1)[0] if self.service == "s3" else ""

    @property
    def key(self) -> str:
        parts = self.path.lstrip("/").split("/", 1)
        return parts[1] if self.service == "s3" and len(parts) == 2 else ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def classify(
    method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes, signing_service: str = ""
) -> AwsCall:
    """Which service and operation a request is, from its shape (target, form, path), as the endpoint sees it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    query = parse_qsl(query_string, keep_blank_values=True)
    target = lowered.get("x-amz-target", "")
    if target:
        prefix, _, operation = target.partition(".")
        service = TARGETS.get(prefix, "")
        params = _json(body)
        return AwsCall(service, Protocol.JSON, operation if service else "", method, path, query, lowered, body, params)
    form = dict(query)
    if method == "POST" and lowered.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "Action" in form and path in ("", "/"):
        service = signing_service or QUERY_VERSIONS.get(form.get("Version", ""), "")
        return AwsCall(service, Protocol.QUERY, form["Action"], method, path, query, lowered, body, form)
    if method == "GET" and JWKS_PATH.match(path):
        return AwsCall("cognito-idp", Protocol.JSON, "GetJwks", method, path, query, lowered, body)
    call = AwsCall("s3", Protocol.REST_XML, "", method, path, query, lowered, body)
    call.operation = _s3_operation(call)
    return call


def permissions(call: AwsCall, region: str, account: str) -> list[Permission]:
    """The permissions `call` needs; [] when it needs none; `UnmappedError` when the sandbox does not know."""
    if call.public or call.needs_no_permission:
        return []
    if call.service == "s3":
        return _s3(call)
    if call.service == "dynamodb":
        return _dynamodb(call, region, account)
    if call.service in ("cognito-idp", "cognito-identity"):
        return _cognito(call, region, account)
    raise UnmappedError(f"{call.service or 'unknown service'}:{call.operation or call.method}")


# -- S3 -----------------------------------------------------------------------------------------------------------
# bucket subresource -> (GET action, PUT action, DELETE action)
_S3_BUCKET_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", ""),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "policyStatus": ("GetBucketPolicyStatus", "", ""),
    "cors": ("GetBucketCORS", "PutBucketCORS", "PutBucketCORS"),
    "replication": ("GetReplicationConfiguration", "PutReplicationConfiguration", "PutReplicationConfiguration"),
    "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "PutBucketTagging"),
    "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration", "PutEncryptionConfiguration"),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls", "PutBucketOwnershipControls"),
    "acl": ("GetBucketAcl", "PutBucketAcl", ""),
    "notification": ("GetBucketNotification", "PutBucketNotification", ""),
    "website": ("GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"),
    "logging": ("GetBucketLogging", "PutBucketLogging", ""),
    "location": ("GetBucketLocation", "", ""),
    "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration", ""),
    "accelerate": ("GetAccelerateConfiguration", "PutAccelerateConfiguration", ""),
    "requestPayment": ("GetBucketRequestPayment", "PutBucketRequestPayment", ""),
}
# object subresource -> (GET, PUT, DELETE) actions; "Version" is inserted for a request with versionId.
_S3_OBJECT_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    "tagging": ("GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"),
    "acl": ("GetObjectAcl", "PutObjectAcl", ""),
    "retention": ("GetObjectRetention", "PutObjectRetention", ""),
    "legal-hold": ("GetObjectLegalHold", "PutObjectLegalHold", ""),
}
_VERSIONED = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion",
              "GetObjectTagging": "GetObjectVersionTagging", "PutObjectTagging": "PutObjectVersionTagging",
              "DeleteObjectTagging": "DeleteObjectVersionTagging", "GetObjectAcl": "GetObjectVersionAcl",
              "PutObjectAcl": "PutObjectVersionAcl"}
# Request headers S3 exposes as condition keys of the same name (s3:if-none-match, s3:x-amz-acl...).
_PUT_CONDITION_HEADERS = ("if-none-match", "if-match", "x-amz-acl", "x-amz-copy-source", "x-amz-server-side-encryption",
                          "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-storage-class",
                          "x-amz-metadata-directive")
_GRANT_HEADERS = ("x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
                  "x-amz-grant-write-acp", "x-amz-grant-full-control")


def _s3_operation(call: AwsCall) -> str:
    """The S3 API operation a path-style request is (enough to name it in errors and logs)."""
    keys = {k for k, _ in call.query}
    method = call.method
    if not call.bucket:
        return "ListBuckets" if method == "GET" else ""
    if not call.key:
        if method == "GET":
            if "list-type" in keys:
                return "ListObjectsV2"
            if "versions" in keys:
                return "ListObjectVersions"
            if "uploads" in keys:
                return "ListMultipartUploads"
            sub = next((k for k in keys if k in _S3_BUCKET_SUBRESOURCES), None)
            return _S3_BUCKET_SUBRESOURCES[sub][0] if sub else "ListObjects"
        if method == "HEAD":
            return "HeadBucket"
        if method == "POST" and "delete" in keys:
            return "DeleteObjects"
        if method in ("PUT", "DELETE"):
            sub = next((k for k in keys if k in _S3_BUCKET_SUBRESOURCES), None)
            if sub is None:
                return "CreateBucket" if method == "PUT" else "DeleteBucket"
            return f"{'Put' if method == 'PUT' else 'Delete'}Bucket{sub[0].upper()}{sub[1:]}"
        return ""
    if "uploadId" in keys:
        return {"GET": "ListParts", "PUT": "UploadPartCopy" if call.header("x-amz-copy-source") else "UploadPart",
                "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(method, "")
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in keys else ("RestoreObject" if "restore" in keys else "")
    sub = next((k for k in keys if k in _S3_OBJECT_SUBRESOURCES or k == "attributes"), None)
    if sub == "attributes":
        return "GetObjectAttributes" if method == "GET" else ""
    if sub is not None:
        prefix = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, "")
        return f"{prefix}Object{sub.title().replace('-', '')}" if prefix else ""
    if method == "PUT":
        return "CopyObject" if call.header("x-amz-copy-source") else "PutObject"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, "")


def _s3(call: AwsCall) -> list[Permission]:
    query = dict(call.query)
    keys = set(query)
    bucket, key, method = call.bucket, call.key, call.method
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not bucket:
        if method == "GET":
            return [Permission("s3:ListAllMyBuckets", "*")]
        raise UnmappedError(f"s3:{method} /")
    if not key:
        return _s3_bucket(call, bucket_arn, query, keys)
    object_arn = f"{bucket_arn}/{key}"
    versioned = bool(query.get("versionId"))

    def on_object(action: str, context: Mapping[str, ContextValue] | None = None) -> Permission:
        if versioned:
            action = _VERSIONED.get(action, action)
        return Permission(f"s3:{action}", object_arn, {**(context or {}), **_version_context(query)}, bucket)

    operation = call.operation
    if operation in ("GetObject", "HeadObject"):
        return [on_object("GetObject")]
    if operation == "GetObjectAttributes":
        return [on_object("GetObject"), on_object("GetObjectAttributes")]
    if operation == "DeleteObject":
        return [on_object("DeleteObject")]
    if operation in ("PutObject", "CopyObject", "CompleteMultipartUpload"):
        wanted = [Permission("s3:PutObject", object_arn, _put_context(call, creation=True), bucket)]
        if operation == "PutObject":
            wanted += _put_extras(call, object_arn, bucket)
        return wanted + _copy_source(call)
    if operation in ("CreateMultipartUpload", "UploadPart", "UploadPartCopy"):
        wanted = [Permission("s3:PutObject", object_arn, _put_context(call, creation=False), bucket)]
        if operation == "CreateMultipartUpload":
            wanted += _put_extras(call, object_arn, bucket)
        return wanted + _copy_source(call)
    if operation == "AbortMultipartUpload":
        return [Permission("s3:AbortMultipartUpload", object_arn, {}, bucket)]
    if operation == "ListParts":
        return [Permission("s3:ListMultipartUploadParts", object_arn, {}, bucket)]
    if operation == "RestoreObject":
        return [Permission("s3:RestoreObject", object_arn, {}, bucket)]
    for sub, actions in _S3_OBJECT_SUBRESOURCES.items():
        if sub in keys:
            action = actions[("GET", "PUT", "DELETE").index(method)] if method in ("GET", "PUT", "DELETE") else ""
            if action:
                return [on_object(action)]
    raise UnmappedError(f"s3:{operation or method} on an object")


def _s3_bucket(call: AwsCall, bucket_arn: str, query: Mapping[str, str], keys: set[str]) -> list[Permission]:
    bucket, method = call.bucket, call.method

    def on_bucket(action: str, context: Mapping[str, ContextValue] | None = None) -> Permission:
        return Permission(f"s3:{action}", bucket_arn, dict(context or {}), bucket)

    listing = {name: query[param] for name, param in (("s3:prefix", "prefix"), ("s3:delimiter", "delimiter"),
                                                       ("s3:max-keys", "max-keys")) if param in query}
    if method == "GET" and "versions" in keys:
        return [on_bucket("ListBucketVersions", listing)]
    if method == "GET" and "uploads" in keys:
        return [on_bucket("ListBucketMultipartUploads", listing)]
    sub = next((k for k in keys if k in _S3_BUCKET_SUBRESOURCES), None)
    if method == "GET" and sub is None:
        return [on_bucket("ListBucket", listing)]
    if method == "HEAD":
        return [on_bucket("ListBucket")]
    if method == "POST" and "delete" in keys:
        return _delete_objects(call, bucket_arn)
    if method in ("GET", "PUT", "DELETE"):
        if sub is None:
            return [on_bucket("CreateBucket" if method == "PUT" else "DeleteBucket")]
        action = _S3_BUCKET_SUBRESOURCES[sub][("GET", "PUT", "DELETE").index(method)]
        if action:
            return [on_bucket(action)]
    raise UnmappedError(f"s3:{call.operation or method} on a bucket")


def _delete_objects(call: AwsCall, bucket_arn: str) -> list[Permission]:
    """DeleteObjects is authorised per key: s3:DeleteObject (or DeleteObjectVersion with a version id)."""
    try:
        root = ElementTree.fromstring(call.body or b"<Delete/>")
    except ElementTree.ParseError:
        raise UnmappedError("s3:DeleteObjects with a body that is not XML") from None
    wanted = []
    for element in root.iter():
        if not element.tag.endswith("Object"):
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in element}
        if "Key" not in fields:
            continue
        action = "s3:DeleteObjectVersion" if fields.get("VersionId") else "s3:DeleteObject"
        context = {"s3:versionid": fields["VersionId"]} if fields.get("VersionId") else {}
        wanted.append(Permission(action, f"{bucket_arn}/{fields['Key']}", context, call.bucket))
    return wanted


def _version_context(query: Mapping[str, str]) -> dict[str, ContextValue]:
    return {"s3:versionid": query["versionId"]} if query.get("versionId") else {}


def _put_context(call: AwsCall, *, creation: bool) -> dict[str, ContextValue]:
    """Condition keys of an object write. `s3:ObjectCreationOperation` is true for the requests that can
    carry a conditional header (PutObject, CopyObject, CompleteMultipartUpload), false for the parts."""
    context: dict[str, ContextValue] = {"s3:ObjectCreationOperation": "true" if creation else "false"}
    for header in _PUT_CONDITION_HEADERS:
        if call.header(header):
            context[f"s3:{header}"] = call.header(header)
    if call.header("x-amz-tagging"):
        tags = dict(parse_qsl(call.header("x-amz-tagging"), keep_blank_values=True))
        context["s3:RequestObjectTagKeys"] = sorted(tags)
        for name, value in tags.items():
            context[f"s3:RequestObjectTag/{name}"] = value
    return context


def _put_extras(call: AwsCall, object_arn: str, bucket: str) -> list[Permission]:
    """Tags or an ACL set along with the object need their own permissions."""
    extras = []
    if call.header("x-amz-tagging"):
        extras.append(Permission("s3:PutObjectTagging", object_arn, {}, bucket))
    if any(call.header(h) for h in _GRANT_HEADERS):
        extras.append(Permission("s3:PutObjectAcl", object_arn, {}, bucket))
    return extras


def _copy_source(call: AwsCall) -> list[Permission]:
    """A copy reads its source: s3:GetObject (or GetObjectVersion) on it."""
    source = call.header("x-amz-copy-source")
    if not source:
        return []
    path, _, version = unquote(source).lstrip("/").partition("?versionId=")
    source_bucket = path.split("/", 1)[0]
    action = "s3:GetObjectVersion" if version else "s3:GetObject"
    return [Permission(action, f"arn:aws:s3:::{path}", {}, source_bucket)]


# -- DynamoDB -------------------------------------------------------------------------------------------------
_TRANSACT_ACTIONS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem",
                     "Delete": "DeleteItem", "Get": "GetItem"}
_ACCOUNT_LEVEL = frozenset({"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables",
                            "ListExports", "ListImports", "ListStreams"})
_PARTIQL = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


def _dynamodb(call: AwsCall, region: str, account: str) -> list[Permission]:
    op, params = call.operation, call.params

    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def with_keys(values: list[str] | None) -> Mapping[str, ContextValue]:
        # dynamodb:LeadingKeys: the partition key values the call touches (item operations and Query).
        return {**context, LEADING_KEYS: values} if values is not None else context

    def leading(name: str, kind: str, request: Mapping[str, Any]) -> list[str] | None:
        return _leading_keys(kind, request, partition_key(account, region, name))

    context = {f"dynamodb:{param}": str(params[param]) for param in ("Select", "ReturnValues", "ReturnConsumedCapacity")
               if isinstance(params.get(param), str)}
    if not op or op in _PARTIQL:
        raise UnmappedError(f"dynamodb:{op or 'unknown operation'}")
    if op in _ACCOUNT_LEVEL:
        return [Permission(f"dynamodb:{op}", "*", context)]
    if op in ("BatchGetItem", "BatchWriteItem"):
        tables = params.get("RequestItems") or {}
        if not isinstance(tables, Mapping) or not tables:
            raise UnmappedError(f"dynamodb:{op} without RequestItems")
        return [Permission(f"dynamodb:{op}", table(name), with_keys(_batch_leading_keys(
            op, requests, partition_key(account, region, name)))) for name, requests in tables.items()]
    if op in ("TransactWriteItems", "TransactGetItems"):
        wanted = []
        for item in params.get("TransactItems") or []:
            for kind, request in (item or {}).items():
                action = _TRANSACT_ACTIONS.get(kind)
                if action is None or not isinstance(request, Mapping) or not request.get("TableName"):
                    raise UnmappedError(f"dynamodb:{op} item {kind}")
                name = str(request["TableName"])
                wanted.append(Permission(f"dynamodb:{action}", table(name), with_keys(leading(name, kind, request))))
        if not wanted:
            raise UnmappedError(f"dynamodb:{op} without TransactItems")
        return wanted
    if op in ("DescribeStream", "GetShardIterator") and params.get("StreamArn"):
        return [Permission(f"dynamodb:{op}", str(params["StreamArn"]), context)]
    if op in ("TagResource", "UntagResource", "ListTagsOfResource") and params.get("ResourceArn"):
        return [Permission(f"dynamodb:{op}", str(params["ResourceArn"]), context)]
    if isinstance(params.get("TableName"), str) and params["TableName"]:
        index = params.get("IndexName") if op in ("Query", "Scan") else None
        index = index if isinstance(index, str) else None
        # An index's partition key is not the table's: LeadingKeys are only worked out for the table itself.
        keys = None if index else leading(params["TableName"], op, params)
        return [Permission(f"dynamodb:{op}", table(params["TableName"], index), with_keys(keys))]
    raise UnmappedError(f"dynamodb:{op}")


# -- dynamodb:LeadingKeys ----------------------------------------------------------------------------------
# "the partition key values" of the items a request reads or writes (DynamoDB developer guide, "Using IAM
# policy conditions for fine-grained access control"). Item operations carry them in Item/Key; Query in its
# key condition (the partition key is always compared with `=`). Scan and the rest have none: absent.
LEADING_KEYS = "dynamodb:LeadingKeys"
_ITEM_FIELD = {"PutItem": "Item", "Put": "Item", "GetItem": "Key", "Get": "Key", "UpdateItem": "Key",
               "Update": "Key", "DeleteItem": "Key", "Delete": "Key", "ConditionCheck": "Key"}
_EQUALS = re.compile(r"(#?[A-Za-z0-9_.\-]+)\s*=\s*(:[A-Za-z0-9_]+)")


def partition_key(account: str, region: str, table: str) -> str | None:
    """The table's partition key attribute, from the local DynamoDB (None for a table it does not hold)."""
    from moto.backends import get_backend  # lazy: the mapping itself needs no moto

    try:
        found = get_backend("dynamodb")[account][region].tables.get(table.rsplit("/", 1)[-1])
    except Exception:  # an unknown account or region: no table, no key
        return None
    return getattr(found, "hash_key_attr", None) if found is not None else None


def _scalar(value: Any) -> str | None:
    """The text of a DynamoDB attribute value ({"S": "x"}, {"N": "1"}, {"B": "..."})."""
    if isinstance(value, Mapping) and len(value) == 1:
        inner = next(iter(value.values()))
        return inner if isinstance(inner, str) else None
    return None


def _leading_keys(kind: str, request: Mapping[str, Any], key: str | None) -> list[str] | None:
    if not key:
        return None
    field_name = _ITEM_FIELD.get(kind)
    if field_name:
        item = request.get(field_name)
        value = _scalar(item.get(key)) if isinstance(item, Mapping) else None
        return [value] if value is not None else []
    if kind == "Query":
        return _query_leading_keys(request, key)
    return None


def _query_leading_keys(request: Mapping[str, Any], key: str) -> list[str]:
    legacy = request.get("KeyConditions")
    if isinstance(legacy, Mapping) and isinstance(legacy.get(key), Mapping):
        values = legacy[key].get("AttributeValueList") or []
        return [v for v in (_scalar(x) for x in values) if v is not None][:1]
    expression = request.get("KeyConditionExpression")
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    if not isinstance(expression, str) or not isinstance(names, Mapping) or not isinstance(values, Mapping):
        return []
    for name, placeholder in _EQUALS.findall(expression):
        if names.get(name, name) == key:
            value = _scalar(values.get(placeholder))
            return [value] if value is not None else []
    return []


def _batch_leading_keys(op: str, requests: Any, key: str | None) -> list[str] | None:
    if not key:
        return None
    items: list[Any] = []
    if op == "BatchGetItem" and isinstance(requests, Mapping):
        items = list(requests.get("Keys") or [])
    elif op == "BatchWriteItem" and isinstance(requests, list):
        for entry in requests:
            if isinstance(entry, Mapping):
                put, delete = entry.get("PutRequest") or {}, entry.get("DeleteRequest") or {}
                items.append(put.get("Item") if isinstance(put, Mapping) and put else
                             delete.get("Key") if isinstance(delete, Mapping) else None)
    values = [_scalar(item.get(key)) if isinstance(item, Mapping) else None for item in items]
    return sorted({v for v in values if v is not None})


# -- Cognito --------------------------------------------------------------------------------------------------
_COGNITO_ACCOUNT_LEVEL = {"cognito-idp": frozenset({"ListUserPools", "CreateUserPool"}),
                          "cognito-identity": frozenset({"ListIdentityPools", "CreateIdentityPool"})}


def _cognito(call: AwsCall, region: str, account: str) -> list[Permission]:
    op, params, service = call.operation, call.params, call.service
    if not op:
        raise UnmappedError(f"{service}:unknown operation")
    action = f"{service}:{op}"
    if op in _COGNITO_ACCOUNT_LEVEL[service]:
        return [Permission(action, "*")]
    if service == "cognito-idp" and isinstance(params.get("UserPoolId"), str):
        return [Permission(action, f"arn:aws:cognito-idp:{region}:{account}:userpool/{params['UserPoolId']}")]
    if service == "cognito-identity" and isinstance(params.get("IdentityPoolId"), str):
        pool = params["IdentityPoolId"]
        return [Permission(action, f"arn:aws:cognito-identity:{region}:{account}:identitypool/{pool}")]
    raise UnmappedError(action)


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
