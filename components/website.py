"""STUB (to be replaced): website."""
from __future__ import annotations
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
import pulumi
from components.regions import RegionPair


@dataclass
class SiteHostingArgs:
    prefix: str
    regions: RegionPair
    account_id: pulumi.Input[str]
    domain: str = ""
    certificate_arn: str = ""


class SiteHosting(pulumi.ComponentResource):
    def __init__(self, name: str, args: SiteHostingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:web:SiteHosting", name, None, opts)
        self.url = pulumi.Output.from_input("https://d123.cloudfront.net")
        self.distribution_id = pulumi.Output.from_input("E123")
        self.bucket_names = {r.role: pulumi.Output.from_input(f"{args.prefix}-site-{r.name}") for r in args.regions}
        self.register_outputs({})


@dataclass
class SiteContentArgs:
    hosting: SiteHosting
    ui_config: pulumi.Input[dict[str, Any]]
    dist_dir: Path


class SiteContent(pulumi.ComponentResource):
    def __init__(self, name: str, args: SiteContentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:web:SiteContent", name, None, opts)
        self.register_outputs({})
