"""STUB (to be replaced): operator access."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Optional, Sequence
import pulumi
from components.regions import Region


@dataclass
class OperatorAccessArgs:
    prefix: str
    region: Region
    account_id: pulumi.Input[str]
    invoke_arns: Sequence[pulumi.Input[str]]
    app_config_table_arns: Sequence[pulumi.Input[str]]


class OperatorAccess(pulumi.ComponentResource):
    def __init__(self, name: str, args: OperatorAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:identity:OperatorAccess", name, None, opts)
        self.role_arn = pulumi.Output.from_input("operator-role")
        self.register_outputs({})
