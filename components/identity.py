"""STUB (to be replaced): identity."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Optional, Sequence
import pulumi
from components.regions import Region


@dataclass
class IdentityArgs:
    prefix: str
    region: Region
    bucket_arns: Sequence[pulumi.Input[str]]
    invoke_arns: Sequence[pulumi.Input[str]]
    retain_data: bool = True


class Identity(pulumi.ComponentResource):
    def __init__(self, name: str, args: IdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:identity:Identity", name, None, opts)
        o = pulumi.Output.from_input
        self.user_pool_id, self.user_pool_client_id = o("pool"), o("client")
        self.identity_pool_id, self.authenticated_role_arn = o("idpool"), o("role")
        self.register_outputs({})
