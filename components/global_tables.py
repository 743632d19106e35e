"""STUB (to be replaced): global tables."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Optional
import pulumi
from components.contract import Table
from components.regions import Region, RegionPair


@dataclass
class GlobalTablesArgs:
    prefix: str
    regions: RegionPair
    app_id: str
    retain_data: bool = True


class GlobalTables(pulumi.ComponentResource):
    def __init__(self, name: str, args: GlobalTablesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("multi-region-app:data:GlobalTables", name, None, opts)
        self.names = {t: pulumi.Output.from_input(f"{args.prefix}-{t}") for t in Table.KEYS}
        self.register_outputs({"names": self.names})

    def arns_in(self, region: Region, account_id: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
        return {t: pulumi.Output.concat("arn:aws:dynamodb:", region.name, ":", account_id, ":table/", n) for t, n in self.names.items()}
