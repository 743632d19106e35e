"""STUB (to be replaced): object store."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Optional, Sequence
import pulumi
from components.regions import RegionPair


@dataclass
class ObjectStoreArgs:
    prefix: str
    regions: RegionPair
    account_id: pulumi.Input[str]
    cors_origins: Sequence[pulumi.Input[str]]
    noncurrent_version_days: int = 30
    retain_data: bool = True


class ObjectStore(pulumi.ComponentResource):
    def __init__(self, name: str, args: ObjectStoreArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:storage:ObjectStore", name, None, opts)
        self.bucket_names = {r.role: pulumi.Output.from_input(f"{args.prefix}-photos-{r.name}") for r in args.regions}
        self.bucket_arns = {k: v.apply(lambda n: f"arn:aws:s3:::{n}") for k, v in self.bucket_names.items()}
        self.register_outputs({})
