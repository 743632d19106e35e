"""Test program: one DynamoRestApi per region with a fixture route table, independent of the real routes.

Config `multi-region-app:testRestApiVariant` (default "base") changes one thing at a time
(see fixture_routes.py): "route-changed", "value-changed", "duplicate-route".
Exports per region role: <role>ApiId, <role>AppInvokeArns, <role>OperatorInvokeArns, <role>Hash.
"""

import pulumi

from components.regions import create_region_pair
from components.rest_api import ApiGatewayAccount, DynamoRestApi, DynamoRestApiArgs
from components.routes import template_values
from components.settings import settings_from_pulumi
from tests.programs.rest_api.fixture_routes import fixture_routes, fixture_tables

ACCOUNT = "123456789012"
ORIGIN = "https://app.example.com"

variant = pulumi.Config().get("testRestApiVariant") or "base"
routes = fixture_routes(variant)
tables = fixture_tables(variant)

settings = settings_from_pulumi()
for region in create_region_pair(settings):
    account = ApiGatewayAccount(f"fixture-account-{region.role}", prefix="fixture", region=region, account_id=ACCOUNT)
    api = DynamoRestApi(
        f"fixture-{region.role}",
        DynamoRestApiArgs(
            api_name=f"fixture-{region.role}",
            region=region,
            account_id=ACCOUNT,
            routes=routes,
            template_values=template_values("fixture-app", tables, region.role),
            table_arns={k: f"arn:aws:dynamodb:{region.name}:{ACCOUNT}:table/{v}" for k, v in tables.items()},
            cors_origin=ORIGIN,
            throttle_rate_limit=7,
            throttle_burst_limit=11,
            log_retention_days=14,
        ),
        opts=pulumi.ResourceOptions(depends_on=[account]),
    )
    pulumi.export(f"{region.role}ApiId", api.api_id)
    pulumi.export(f"{region.role}AppInvokeArns", api.app_invoke_arns)
    pulumi.export(f"{region.role}OperatorInvokeArns", api.operator_invoke_arns)
    pulumi.export(f"{region.role}Hash", api.redeployment_hash)
