"""STUB (to be replaced): DynamoDB-backed REST API."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence
import pulumi
from components.regions import Region
from components.route import Route


class ApiGatewayAccount(pulumi.ComponentResource):
    def __init__(self, name: str, prefix: str, region: Region, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:api:ApiGatewayAccount", name, None, opts)
        self.register_outputs({})


@dataclass
class DynamoRestApiArgs:
    api_name: str
    region: Region
    account_id: pulumi.Input[str]
    routes: Sequence[Route]
    template_values: Mapping[str, pulumi.Input[str]]
    table_arns: Mapping[str, pulumi.Input[str]]
    cors_origin: pulumi.Input[str]
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    log_retention_days: int = 30


class DynamoRestApi(pulumi.ComponentResource):
    def __init__(self, name: str, args: DynamoRestApiArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:api:DynamoRestApi", name, None, opts)
        self.api_id = pulumi.Output.from_input(f"{name}-id")
        self.invoke_url = pulumi.Output.from_input(f"https://{name}.execute-api.{args.region.name}.amazonaws.com/prod")
        self.app_invoke_arns = []
        self.operator_invoke_arns = []
        self.register_outputs({})
