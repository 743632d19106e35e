"""The monkey-patches of `patches.py` still fit the libraries they patch.

A new moto or airspeed-ext may rename or reshape what we replace, a new jsonpath-ng may reshape the
parsed paths vtl/engine.py reads; these tests fail first, by name, so that a version bump is a
reviewed change (re-read each patch against the new code, then move the pin) and never a strange
failure far away.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from jsonpath_ng import jsonpath as jp
from jsonpath_ng.ext import parse as parse_jsonpath

import patches
from vtl import engine

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {**patches.MOTO_TARGETS, **patches.AIRSPEED_TARGETS}


def normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): airspeed_ext is airspeed-ext."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_in_constraints(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if match and normalized(match[1]) == normalized(package):
            return match[2]
    raise AssertionError(f"{package} is not pinned in constraints.txt")


@pytest.mark.parametrize("package", sorted(patches.PINNED))
def test_the_installed_version_is_the_one_the_patches_were_written_for(package: str) -> None:
    installed, pinned = version(package), patches.PINNED[package]
    assert installed == pinned, (
        f"{package} {installed} is installed but patches.py was written against {pinned}: re-read every patch of "
        f"the '{package}' section against the new code, then update patches.PINNED"
    )
    assert pinned_in_constraints(package) == pinned, f"constraints.txt pins another {package} than patches.PINNED"


def test_the_targets_of_the_two_sections_never_share_a_purpose() -> None:
    assert len(TARGETS) == len(patches.MOTO_TARGETS) + len(patches.AIRSPEED_TARGETS)


@pytest.mark.parametrize("purpose", sorted(TARGETS))
def test_every_patched_attribute_still_exists_where_the_patch_replaces_it(purpose: str) -> None:
    owner, name = patches.resolve(TARGETS[purpose])
    assert name in owner.__dict__, f"{owner.__name__}.{name} ({purpose}) is gone: patches.py must follow"


def original(purpose: str):
    """The library's own attribute: airspeed's are replaced for good once vtl is imported."""
    owner, name = patches.resolve(TARGETS[purpose])
    if purpose in patches.AIRSPEED_TARGETS:
        return engine.AIRSPEED_PATCHES.original(owner, name)
    return owner.__dict__[name]


# The parameters each patch relies on (bound by name or passed through positionally).
EXPECTED_PARAMETERS = {
    "s3 put_object": ["self", "bucket_name", "key_name", "value"],
    "s3 delete_object": ["self", "bucket_name", "key_name", "version_id"],
    "s3 put_object_tagging": ["self", "key", "tags"],
    "s3 delete_object_tagging": ["self", "bucket_name", "key_name", "version_id"],
    "s3 bucket policy check": ["self", "action", "resource"],
    "dynamodb stream record": ["self", "old", "new"],
    "cognito lookup by client id": ["self", "client_id"],
    "text runs stop before #$": ["self"],
    "method calls and properties": ["self", "current_object", "loader", "top_namespace"],
    "values rendered as text": ["value"],
    "#if truthiness": ["self", "namespace", "loader"],
    "! truthiness": ["self", "namespace", "loader"],
    "#set": ["self", "stream", "namespace", "loader"],
    "#foreach": ["self", "stream", "namespace", "loader"],
}


@pytest.mark.parametrize("purpose", sorted(EXPECTED_PARAMETERS))
def test_patched_functions_keep_the_parameters_the_patches_use(purpose: str) -> None:
    parameters = list(inspect.signature(original(purpose)).parameters)
    expected = EXPECTED_PARAMETERS[purpose]
    assert parameters == expected if purpose in patches.AIRSPEED_TARGETS else parameters[: len(expected)] == expected, (
        f"{purpose}: {TARGETS[purpose]} now takes {parameters}")


def test_the_object_headers_patch_wraps_a_property() -> None:
    assert isinstance(original("s3 object response headers"), property)


def test_airspeeds_operators_are_a_table_with_every_operator_the_engine_redefines() -> None:
    table = original("binary operators")
    assert isinstance(table, dict)
    assert set(engine._JAVA_OPERATORS) <= set(table), set(engine._JAVA_OPERATORS) - set(table)


def test_airspeeds_text_pattern_is_the_one_the_patch_extends() -> None:
    # AIRSPEED_TEXT_PLAIN is airspeed's Text.PLAIN plus `#(?=\$)` and `\$` excluded after `#`: re-derive on a bump.
    owner, _ = patches.resolve(patches.AIRSPEED_TARGETS["text runs stop before #$"])
    assert owner.PLAIN.pattern == (r"((?:[^\\\$#]+|\\[\$#])+|\$[^!\{a-z0-9_]|\$$|#$"
                                   r"|#[^\{\}a-zA-Z0-9#\*]+|\\.)(.*)$")


@pytest.mark.parametrize("purpose", sorted(patches.AIRSPEED_TARGETS))
def test_the_engines_airspeed_patches_are_in_place(purpose: str) -> None:
    owner, name = patches.resolve(patches.AIRSPEED_TARGETS[purpose])
    replaced = owner.__dict__[name]
    functions = replaced.values() if isinstance(replaced, dict) else [replaced]
    assert any(fn.__module__ == patches.__name__ for fn in functions), f"{purpose}: not patched"


def test_the_parsed_jsonpath_shapes_the_engine_reads_are_unchanged() -> None:
    # vtl/engine.py tells definite paths ($.a.b[0]) from the others by these classes and attributes.
    path = parse_jsonpath("$.a.b[0]")
    assert isinstance(path, jp.Child) and isinstance(path.right, jp.Index) and path.right.indices == (0,)
    assert isinstance(path.left.right, jp.Fields) and path.left.right.fields == ("b",)
    assert isinstance(path.left.left.left, jp.Root)
    # Every other shape (wildcards, descendants, slices, filters, unions) parses into classes it does not accept.
    for other, definite in {"$": True, "$.a[*]": False, "$..a": False, "$.a[0:2]": False, "$.a[?(@.b)]": False,
                            "$['a','b']": False, "$.*": False}.items():
        assert engine._definite(parse_jsonpath(other)) is definite, other


def test_patches_are_reversible() -> None:
    owner, name = patches.resolve(patches.MOTO_TARGETS["s3 bucket policy check"])
    before = owner.__dict__[name]
    applied = patches.Patches()
    patches.defer_s3_bucket_policies(applied, lambda _action, _resource: False)
    assert owner.__dict__[name] is not before
    applied.restore()
    assert owner.__dict__[name] is before


def test_motos_bucket_policy_check_answers_only_what_the_front_door_denied() -> None:
    from moto.iam.access_control import PermissionResult

    owner, name = patches.resolve(patches.MOTO_TARGETS["s3 bucket policy check"])
    applied = patches.Patches()
    patches.defer_s3_bucket_policies(applied, lambda action, resource: (action, resource) == ("s3:DeleteObject",
                                                                                              "arn:aws:s3:::b/k"))
    try:
        check = owner.__dict__[name]
        assert check(None, "s3:DeleteObject", "arn:aws:s3:::b/k") is PermissionResult.DENIED
        assert check(None, "s3:DeleteObject", "arn:aws:s3:::b/other") is PermissionResult.NEUTRAL
        assert check(None, "s3:GetObject", "arn:aws:s3:::b/k") is PermissionResult.NEUTRAL
    finally:
        applied.restore()


def test_airspeed_patches_are_reversible_too() -> None:
    owners = {purpose: patches.resolve(target) for purpose, target in patches.AIRSPEED_TARGETS.items()}
    before = {purpose: owner.__dict__[name] for purpose, (owner, name) in owners.items()}
    applied = patches.Patches()
    patches.velocity_semantics_on_airspeed(applied, patches.VelocitySemantics(
        invoke=getattr, get_property=getattr, get_index=lambda v, i: v[i], to_string=str, truthy=bool,
        operators={}), active=lambda: False)
    assert all(owner.__dict__[name] is not before[p] for p, (owner, name) in owners.items())
    applied.restore()
    assert all(owner.__dict__[name] is before[p] for p, (owner, name) in owners.items())


def test_vtl_renders_without_moto_installed() -> None:
    # The VTL engine imports patches.py; moto is the sandbox's, imported only when a moto patch is applied.
    script = ("import sys; sys.modules['moto'] = None\n"
              "import vtl\n"
              "assert vtl.render('#set($n = $input.path(\"$.n\"))$n#if($n > 1) many#end', body='{\"n\": 2}').text"
              " == '2 many'\n"
              "assert not [m for m in sys.modules if m.startswith('moto.')]\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# -- DynamoDB transactions: a journal in place of moto's table copies ---------------------------------------------

@pytest.fixture
def journaled_dynamodb():
    """A moto DynamoDB with the journal applied: a (pk, sk) table with a stream and a pk-only table, seeded."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        client.create_table(TableName="pairs", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        client.create_table(TableName="singles", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client.put_item(TableName="pairs", Item={"pk": {"S": "p"}, "sk": {"S": "kept"}, "n": {"N": "1"}})
        client.put_item(TableName="pairs", Item={"pk": {"S": "p"}, "sk": {"S": "doomed"}, "n": {"N": "1"}})
        client.put_item(TableName="singles", Item={"pk": {"S": "state"}, "state": {"S": "fenced"}})
        applied = patches.Patches()
        patches.journal_dynamodb_transactions(applied)
        try:
            yield client
        finally:
            applied.restore()


def everything(client) -> dict[str, list[dict]]:
    return {table: sorted(client.scan(TableName=table)["Items"], key=repr) for table in ("pairs", "singles")}


def stream_length() -> int:
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends["123456789012"]["us-east-1"].tables["pairs"].stream_shard.items)


WRITES = [
    {"Put": {"TableName": "pairs", "Item": {"pk": {"S": "p"}, "sk": {"S": "new"}}}},
    {"Update": {"TableName": "pairs", "Key": {"pk": {"S": "p"}, "sk": {"S": "kept"}},
                "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    {"Delete": {"TableName": "pairs", "Key": {"pk": {"S": "p"}, "sk": {"S": "doomed"}}}},
]


def test_a_cancelled_transaction_leaves_every_item_and_stream_as_it_was(journaled_dynamodb) -> None:
    client = journaled_dynamodb
    before, records = everything(client), stream_length()
    # moto applies the writes first, then finds the condition failed: the journal must undo all three.
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=[*WRITES, {"ConditionCheck": {
            "TableName": "singles", "Key": {"pk": {"S": "state"}}, "ConditionExpression": "#s = :active",
            "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":active": {"S": "active"}}}}])
    assert everything(client) == before
    assert stream_length() == records


def test_a_refused_transaction_naming_one_item_twice_changes_nothing(journaled_dynamodb) -> None:
    client = journaled_dynamodb
    before = everything(client)
    with pytest.raises(client.exceptions.ClientError, match="ValidationException"):
        client.transact_write_items(TransactItems=[WRITES[0], WRITES[0]])
    assert everything(client) == before


def test_a_transaction_that_succeeds_writes_every_item_without_copying_the_tables(journaled_dynamodb) -> None:
    from moto.dynamodb.models import dynamodb_backends

    client = journaled_dynamodb
    tables = dict(dynamodb_backends["123456789012"]["us-east-1"].tables)
    records = stream_length()
    client.transact_write_items(TransactItems=WRITES)
    items = {item["sk"]["S"]: item for item in client.scan(TableName="pairs")["Items"]}
    assert sorted(items) == ["kept", "new"] and items["kept"]["n"] == {"N": "2"}
    assert stream_length() == records + 3
    # moto would have put its backup copies back only on failure; without a copy the tables stay the same objects.
    assert all(dynamodb_backends["123456789012"]["us-east-1"].tables[name] is table for name, table in tables.items())


def test_moto_still_backs_transactions_up_through_its_modules_copy() -> None:
    # Otherwise the journal is only extra work: moto changed how it rolls back, so re-read this patch.
    owner, name = patches.resolve(patches.MOTO_TARGETS["dynamodb transactions"])
    source = inspect.getsource(owner.__dict__[name])
    assert "copy.deepcopy(" in source and "original_table_state[table_name]" in source


def test_the_journal_patches_are_reversible() -> None:
    import copy

    module, name = patches.resolve(patches.MOTO_TARGETS["dynamodb backend's copy module"])
    applied = patches.Patches()
    patches.journal_dynamodb_transactions(applied)
    assert module.__dict__[name] is not copy
    applied.restore()
    assert module.__dict__[name] is copy
