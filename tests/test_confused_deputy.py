"""No AWS service acts for another account through the stack's roles, keys and buckets (confused deputy).

Every statement of every policy the program registers whose principal is an AWS service (role trust, key, bucket
and topic policies) names this account or this stack's resource (`aws:SourceAccount`, `aws:SourceArn`, or an
encryption context holding the account). Then the policies are evaluated by the sandbox's IAM engine
(sandbox/iam_policy.py, AWS's evaluation logic): another account is refused; the stack's own calls pass, with the
key set and, where the service does not document that it sets it (the `...IfExists` form), without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.fake_cloud import ACCOUNT
from harness.program import ProgramRun
from sandbox.iam_policy import Caller, Decision, evaluate
from tests.conftest import run_with

OTHER_ACCOUNT = "999988887777"
# Condition keys that tie a service's request to this account or one of its resources.
ACCOUNT_BOUND_KEYS = {"aws:sourceaccount", "aws:sourcearn", "kms:encryptioncontext:aws:logs:arn"}
# type -> input holding a policy whose statements may name service principals
POLICY_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:kms/key:Key": "policy",
    "aws:kms/replicaKey:ReplicaKey": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
}


@pytest.fixture(scope="module")
def everything(prod: ProgramRun) -> ProgramRun:
    """Pulumi.prod.yaml (hardened: keys, WAF, log buckets) with automatic failover on: every service principal.
    After `prod`: the mock runtime's root stack keeps the exports of earlier runs, so the session's `prod` must
    not come after a run that exports `autoFailover` (tests/test_auto_failover.py checks it does not)."""
    return run_with(autoFailover="true")


def service_statements(run: ProgramRun) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource name, service, statement) of every statement naming a service principal."""
    for type_, field in POLICY_INPUTS.items():
        for reg in run.of_type(type_):
            document = reg.inputs.get(field)
            if not document:
                continue
            for statement in json.loads(document)["Statement"]:
                principal = statement.get("Principal")
                services = principal.get("Service", []) if isinstance(principal, dict) else []
                for service in [services] if isinstance(services, str) else services:
                    yield reg.name, service, statement


def condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key.lower() for block in statement.get("Condition", {}).values() for key in block}


def test_every_service_principal_statement_names_this_account_or_its_resource(everything: ProgramRun) -> None:
    found = list(service_statements(everything))
    services = {service for _, service, _ in found}
    assert {"apigateway.amazonaws.com", "s3.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com",
            "cloudwatch.amazonaws.com", "cloudfront.amazonaws.com"} <= services, services
    unbound = [(name, service) for name, service, statement in found
               if not condition_keys(statement) & ACCOUNT_BOUND_KEYS]
    assert unbound == []


def trust_of(run: ProgramRun, service: str) -> list[str]:
    return [reg.inputs["assumeRolePolicy"] for reg in run.of_type("aws:iam/role:Role")
            if service in reg.inputs["assumeRolePolicy"]]


def may_assume(policy: str, service: str, context: dict[str, str]) -> bool:
    decision = evaluate([policy], "sts:AssumeRole", "arn:aws:iam::123456789012:role/r", context,
                        principal=Caller(service=service))
    return decision is Decision.ALLOW


@pytest.mark.parametrize("service", ["apigateway.amazonaws.com", "s3.amazonaws.com"])
def test_another_accounts_api_or_bucket_cannot_assume_the_stacks_roles(everything: ProgramRun, service: str) -> None:
    # API Gateway and S3 replication do not document the keys: refused when named, unbroken when absent.
    policies = trust_of(everything, service)
    assert policies
    for policy in policies:
        assert not may_assume(policy, service, {"aws:SourceAccount": OTHER_ACCOUNT})
        assert may_assume(policy, service, {"aws:SourceAccount": ACCOUNT})
        assert may_assume(policy, service, {})


@pytest.mark.parametrize("service", ["states.amazonaws.com", "events.amazonaws.com"])
def test_only_the_stacks_own_state_machine_and_rules_assume_the_failover_roles(everything: ProgramRun,
                                                                             service: str) -> None:
    # Documented keys, required as they are: the right account AND the one resource.
    policies = trust_of(everything, service)
    assert policies
    for policy in policies:
        [statement] = json.loads(policy)["Statement"]
        own_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]
        assert may_assume(policy, service, {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": own_arn})
        assert not may_assume(policy, service, {"aws:SourceAccount": OTHER_ACCOUNT,
                                                "aws:SourceArn": own_arn.replace(ACCOUNT, OTHER_ACCOUNT)})
        assert not may_assume(policy, service, {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"{own_arn}-other"})
        assert not may_assume(policy, service, {})


def test_another_accounts_alarms_cannot_use_the_ops_key(everything: ProgramRun) -> None:
    keys = [reg.inputs["policy"] for type_ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")
            for reg in everything.of_type(type_) if "cloudwatch.amazonaws.com" in reg.inputs["policy"]]
    assert len(keys) >= 2  # the ops key in both regions

    def may_decrypt(policy: str, context: dict[str, str]) -> bool:
        return evaluate([policy], "kms:Decrypt", "*", context,
                        principal=Caller(service="cloudwatch.amazonaws.com")) is Decision.ALLOW

    for policy in keys:
        assert not may_decrypt(policy, {"aws:SourceAccount": OTHER_ACCOUNT})
        assert may_decrypt(policy, {"aws:SourceAccount": ACCOUNT})
        assert may_decrypt(policy, {})
