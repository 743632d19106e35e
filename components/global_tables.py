"""The application's data: four DynamoDB global tables and the initial routing state.

Each table is created in the primary region and replicated to the secondary with a
`TableReplica` (global tables version 2019.11.21): no Lambda, no legacy CreateGlobalTable.
The AppConfig table holds the routing state item, `active` at first deployment; the
stateAudit table one record per switch (contract.StateItem, contract.AuditRecord).

With `adopt_retained`, the tables, replicas and state item a keep-data `pulumi destroy` left
behind are imported (Pulumi's `import` option, ids from their deterministic names) instead of
created: the next `pulumi up` of the same stack takes them over, data and state as they are.

With customer managed keys (`kms_key_arns`, config kmsEnabled) each table and each replica encrypts with its
region's key; DynamoDB uses them through grants made on the deployer's behalf, so the roles that read and write
the tables need no KMS permission (AWS KMS guide, "How Amazon DynamoDB uses AWS KMS").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.contract import STATES, StateItem, Table
from components.kms import check_region_keys
from components.regions import Region, RegionPair

# logical name (stack output key) -> physical suffix after the prefix
PHYSICAL_SUFFIX = {
    Table.APP_CONFIG: "app-config",
    Table.COMMENTS: "comments",
    Table.PHOTOS: "photos",
    Table.STATE_AUDIT: "state-audit",
}
INITIAL_STATE = STATES[0]  # "active": the primary serves reads and writes
INITIAL_VERSION = 1  # the state item's version, raised by every switch (optimistic locking)
MAX_TABLE_NAME = 255


@dataclass
class GlobalTablesArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """Tables live in the primary, replicas in the secondary; required."""
    app_id: str
    """Key of the routing state item in the AppConfig table; required."""
    retain_data: bool = True
    """Keep tables and replicas on `pulumi destroy` and turn on deletion protection; default True."""
    kms_key_arns: Mapping[str, pulumi.Input[str]] | None = None
    """Region role -> customer managed key of that region (kms.MultiRegionKey.arns); default None: the AWS owned
    key."""
    adopt_retained: bool = False
    """Import the tables, replicas and state item kept by an earlier keep-data destroy; default False."""


def table_name(prefix: str, logical: str) -> str:
    """Physical name of a table, the same in both regions."""
    return f"{prefix}-{PHYSICAL_SUFFIX[logical]}"


def initial_state_item(app_id: str) -> str:
    """The routing state at first deployment, in DynamoDB JSON."""
    return json.dumps(
        {
            StateItem.APP_ID: {"S": app_id},
            StateItem.STATE: {"S": INITIAL_STATE},
            StateItem.VERSION: {"N": str(INITIAL_VERSION)},
        }
    )


def replica_import_id(table: str, primary_region: str) -> str:
    """A TableReplica's import id: the table name and the region of the main table (not the replica's)."""
    return f"{table}:{primary_region}"


def item_import_id(table: str, hash_key_value: str) -> str:
    """A TableItem's import id: the table name and the item's hash key value."""
    return f"{table},{hash_key_value}"


def _validate(args: GlobalTablesArgs) -> None:
    if not args.prefix:
        raise ValueError("GlobalTablesArgs.prefix must not be empty")
    if not args.app_id:
        raise ValueError("GlobalTablesArgs.app_id must not be empty")
    if set(PHYSICAL_SUFFIX) != set(Table.KEYS):
        raise ValueError(f"GlobalTables knows {sorted(PHYSICAL_SUFFIX)}, contract.Table.KEYS has {sorted(Table.KEYS)}")
    check_region_keys("GlobalTablesArgs.kms_key_arns", args.kms_key_arns, args.regions)
    too_long = [t for t in Table.KEYS if len(table_name(args.prefix, t)) > MAX_TABLE_NAME]
    if too_long:
        raise ValueError(f"GlobalTablesArgs.prefix makes table names longer than {MAX_TABLE_NAME}: {too_long}")


class GlobalTables(pulumi.ComponentResource):
    """AppConfig, comments and photos, each a global table over both regions."""

    tables: dict[str, aws.dynamodb.Table]
    replicas: dict[str, aws.dynamodb.TableReplica]
    names: dict[str, pulumi.Output[str]]
    state_item: aws.dynamodb.TableItem

    def __init__(self, name: str, args: GlobalTablesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:data:GlobalTables", name, None, opts)
        _validate(args)
        primary, secondary = args.regions.primary, args.regions.secondary
        keys = args.kms_key_arns
        self.tables, self.replicas = {}, {}
        adopt = args.adopt_retained
        for logical, (hash_key, range_key) in Table.KEYS.items():
            child = f"{name}-{PHYSICAL_SUFFIX[logical]}"
            key_names = [k for k in (hash_key, range_key) if k]
            physical = table_name(args.prefix, logical)
            table = aws.dynamodb.Table(
                child,
                name=physical,
                hash_key=hash_key,
                range_key=range_key,
                attributes=[aws.dynamodb.TableAttributeArgs(name=k, type="S") for k in key_names],
                billing_mode="PAY_PER_REQUEST",
                # Global tables replicate through the stream; it must carry both images.
                stream_enabled=True,
                stream_view_type="NEW_AND_OLD_IMAGES",
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=keys[primary.role] if keys else None
                ),
                deletion_protection_enabled=args.retain_data,
                # The replica is its own resource (TableReplica): the table must not fight it.
                opts=primary.opts(self, retain_on_delete=args.retain_data, ignore_changes=["replicas"],
                                  import_=physical if adopt else None),
            )
            self.tables[logical] = table
            self.replicas[logical] = aws.dynamodb.TableReplica(
                f"{child}-{secondary.role}",
                global_table_arn=table.arn,
                point_in_time_recovery=True,
                deletion_protection_enabled=args.retain_data,
                kms_key_arn=keys[secondary.role] if keys else None,
                opts=secondary.opts(self, retain_on_delete=args.retain_data,
                                    import_=replica_import_id(physical, primary.name) if adopt else None),
            )

        app_config = self.tables[Table.APP_CONFIG]
        # The state item is written once, at creation. Afterwards the operators own it
        # (ops CLI or the operator API switch it to fenced/failover, in either region):
        # ignoring `item` means a later `pulumi up` never reverts a failover to `active` (and an adopted
        # item keeps the state it has: an import copies ignored inputs from the real item).
        app_config_name = table_name(args.prefix, Table.APP_CONFIG)
        self.state_item = aws.dynamodb.TableItem(
            f"{name}-state",
            table_name=app_config.name,
            hash_key=Table.KEYS[Table.APP_CONFIG][0],
            item=initial_state_item(args.app_id),
            # Written after the replica exists, so the secondary has the state from the start.
            opts=primary.opts(
                self,
                depends_on=[self.replicas[Table.APP_CONFIG]],
                ignore_changes=["item"],
                retain_on_delete=args.retain_data,
                import_=item_import_id(app_config_name, args.app_id) if adopt else None,
            ),
        )

        self.names = {logical: table.name for logical, table in self.tables.items()}
        self.register_outputs({"names": self.names})

    def arns_in(self, region: Region, account_id: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
        """The regional ARN of every table (the replica's in the secondary), for IAM policies."""
        return {
            logical: pulumi.Output.concat("arn:aws:dynamodb:", region.name, ":", account_id, ":table/", name)
            for logical, name in self.names.items()
        }
