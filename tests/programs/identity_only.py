"""Test program: Identity and OperatorAccess with known ARNs, independent of the API component.

Config: multi-region-app:testInvokeArns / testOperatorInvokeArns / testOwnerInvokeArns (JSON lists of
execute-api ARNs).
"""

import json

import pulumi

from components.identity import Identity, IdentityArgs
from components.operator import OperatorAccess, OperatorAccessArgs
from components.regions import create_region_pair
from components.settings import settings_from_pulumi

BUCKET_ARNS = ["arn:aws:s3:::photos-primary", "arn:aws:s3:::photos-secondary"]
TABLE_ARNS = [
    "arn:aws:dynamodb:us-east-1:123456789012:table/app-config",
    "arn:aws:dynamodb:ap-northeast-1:123456789012:table/app-config",
]

settings = settings_from_pulumi()
regions = create_region_pair(settings)
config = pulumi.Config()
for region in regions:
    Identity(
        f"identity-{region.role}",
        IdentityArgs(
            prefix=settings.prefix,
            region=region,
            bucket_arns=BUCKET_ARNS,
            invoke_arns=json.loads(config.require("testInvokeArns")),
            owner_invoke_arns=json.loads(config.get("testOwnerInvokeArns") or "[]"),
            retain_data=settings.retain_data,
        ),
    )
OperatorAccess(
    "operator",
    OperatorAccessArgs(
        prefix=settings.prefix,
        region=regions.primary,
        invoke_arns=json.loads(config.require("testOperatorInvokeArns")),
        app_config_table_arns=TABLE_ARNS,
        trusted_principals=settings.operator_principals,
        require_mfa=settings.operator_require_mfa,
    ),
)
