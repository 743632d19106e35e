"""The program as a whole: regions, providers, names, outputs, and no Lambda anywhere."""

from __future__ import annotations

import json
from typing import Any

from components.contract import Out, RegionOut, Table, ui_config
from harness.fake_cloud import ACCOUNT, FakeCloud
from harness.program import PROVIDER_TYPE, Registration, run_program, stack_config
from tests.conftest import PRIMARY, SECONDARY


def custom(run):
    return [r for r in run.resources if r.custom and r.type != PROVIDER_TYPE]


def test_two_explicit_providers_tag_project_stack_and_role(prod):
    providers = {r.name: r for r in prod.of_type(PROVIDER_TYPE)}
    assert set(providers) == {"aws-primary", "aws-secondary"}
    assert providers["aws-primary"].inputs["region"] == PRIMARY
    assert providers["aws-secondary"].inputs["region"] == SECONDARY
    for role, provider in (("primary", providers["aws-primary"]), ("secondary", providers["aws-secondary"])):
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert tags == {"project": "multi-region-app", "stack": "prod", "region-role": role}


def test_every_resource_is_placed_in_a_region_through_an_explicit_provider(prod):
    unplaced = [(r.type, r.name) for r in custom(prod) if r.region not in (PRIMARY, SECONDARY)]
    assert unplaced == []
    assert prod.in_region(PRIMARY) and prod.in_region(SECONDARY)


def test_every_resource_belongs_to_a_component(prod):
    top_level = [r.name for r in custom(prod) if r.parent.endswith("pulumi:pulumi:Stack::multi-region-app-prod")]
    assert top_level == []


def test_no_lambda_anywhere(prod):
    assert [r.type for r in prod.resources if r.type.startswith("aws:lambda/")] == []
    assert [r for r in prod.resources if "lambda" in json.dumps(r.inputs, default=str).lower()] == []


KEY_POLICY_TYPES = {"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"}


def wildcard_findings(resources: list[Registration], account: str = ACCOUNT) -> tuple[list[Any], int]:
    """(what breaks the rule, statements checked). Identity, trust and bucket policies name exact actions and
    resources. In a key policy "Resource": "*" means "this key" (the only value KMS accepts there): instead no
    principal is "*", only the account root gets kms:* (AWS's delegation to IAM), services get named actions."""
    findings, checked = [], 0
    for reg in resources:
        for key in ("policy", "assumeRolePolicy"):
            document = reg.inputs.get(key)
            if not isinstance(document, str) or not document.startswith("{"):
                continue
            for statement in json.loads(document)["Statement"]:
                if statement.get("Effect") == "Deny":  # a Deny (TLS-only) removes rights, it grants none
                    continue
                checked += 1
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                resources_ = statement.get("Resource", [])
                resources_ = [resources_] if isinstance(resources_, str) else resources_
                if reg.type in KEY_POLICY_TYPES and key == "policy":
                    principal = statement.get("Principal")
                    if principal == "*" or "*" in json.dumps(principal) or resources_ != ["*"]:
                        findings.append((reg.name, statement))
                    elif any(a in ("*", "kms:*") for a in actions) and principal != {
                        "AWS": f"arn:aws:iam::{account}:root"
                    }:
                        findings.append((reg.name, statement))
                    continue
                if any(a == "*" or a.endswith(":*") for a in actions) or "*" in resources_:
                    findings.append((reg.name, statement))
    return findings, checked


def test_no_iam_statement_grants_a_wildcard_action_or_resource(prod, baseline):
    for run in (prod, baseline):
        findings, checked = wildcard_findings(run.resources)
        assert findings == []
        assert checked > 10
    assert len([r for r in prod.resources if r.type in KEY_POLICY_TYPES]) == 6  # the rule did read key policies


def test_the_wildcard_rule_bans_star_resources_in_identity_policies_but_reads_star_as_this_key_in_key_policies():
    def reg(type_: str, statement: dict[str, Any]) -> Registration:
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        return Registration(type=type_, name=type_, urn="", parent="", custom=True, inputs={"policy": document},
                            region=PRIMARY, provider="")

    root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    allowed = [
        reg("aws:kms/key:Key", {"Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"}),
        reg("aws:kms/replicaKey:ReplicaKey", {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                                              "Action": "kms:Decrypt", "Resource": "*"}),
    ]
    refused = [
        reg("aws:iam/rolePolicy:RolePolicy", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),
        reg("aws:iam/rolePolicy:RolePolicy", {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
        reg("aws:kms/key:Key", {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                                "Resource": "*"}),
        reg("aws:kms/key:Key", {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                                "Action": "kms:*", "Resource": "*"}),
    ]
    assert wildcard_findings(allowed) == ([], 2)
    assert len(wildcard_findings(refused)[0]) == len(refused)


def test_outputs_hold_everything_the_web_app_and_operators_need(prod):
    outputs = prod.outputs
    for role, region in (("primary", PRIMARY), ("secondary", SECONDARY)):
        values = outputs[role]
        assert values[RegionOut.REGION] == region
        missing = [k for k, v in vars(RegionOut).items() if k.isupper() and not values.get(v)]
        assert missing == [], role
        assert values[RegionOut.STATE_URL] == f"{values[RegionOut.ROUTING_API]}/state/{outputs[Out.APP_ID]}"
    assert outputs[Out.OPERATOR_ROLE_ARN].startswith("arn:aws:iam::")
    assert set(outputs[Out.TABLES]) == set(Table.KEYS)
    assert outputs[Out.SITE_URL].startswith("https://")


def test_ui_config_output_is_a_superset_of_the_original_shape(prod):
    config = prod.outputs[Out.UI_CONFIG]
    assert config == ui_config(prod.outputs)
    for key in ("identityPoolId", "userPoolClientId", "userPoolId", "uiRegion"):
        assert config[key]
    for role in ("primary", "secondary"):
        for key in ("stateUrl", "objectStoreBucketName", "photosApi", "region", "userPoolId", "identityPoolId"):
            assert config[role][key], (role, key)
    assert config["primary"]["identityPoolId"] != config["secondary"]["identityPoolId"]


def physical_names(run) -> set[str]:
    names = set()
    for reg in custom(run):
        # Model names are per API (alphanumeric only); execution log groups embed the unique API id.
        if reg.type == "aws:apigateway/model:Model" or str(reg.inputs.get("name", "")).startswith(
            "API-Gateway-Execution-Logs_"
        ):
            continue
        for key in ("bucket", "name"):
            value = reg.inputs.get(key)
            if isinstance(value, str) and reg.type.split(":")[1].split("/")[0] in {
                "s3",
                "dynamodb",
                "iam",
                "apigateway",
                "cognito",
                "cloudwatch",
                "sns",
            }:
                names.add(f"{reg.type}|{reg.region if reg.type != 'aws:iam/role:Role' else 'global'}|{value}")
    return names


def test_two_stacks_in_one_account_share_no_physical_name(prod):
    dev = run_program(FakeCloud(), stack_config("prod"), stack="dev")
    prod_names, dev_names = physical_names(prod), physical_names(dev)
    assert prod_names and dev_names
    assert prod_names.isdisjoint(dev_names)
    assert all("multi-region-app-prod" in name.split("|")[2] for name in prod_names)


def test_a_run_reports_only_its_own_exports_not_an_earlier_runs():
    # The mock runtime keeps one root stack per process; the harness must not carry exports over.
    with_failover = run_program(FakeCloud(), {**stack_config("prod"), "multi-region-app:autoFailover": "true"})
    assert Out.AUTO_FAILOVER in with_failover.outputs
    without = run_program(FakeCloud(), stack_config("prod"))
    assert Out.AUTO_FAILOVER not in without.outputs
